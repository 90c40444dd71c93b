# The two commands of the README. Both set up what they need first (idempotent).
.PHONY: app test setup bench

app:
	bash scripts/setup.sh app
	.venv/bin/streamlit run app.py

test:
	bash scripts/setup.sh test
	.venv/bin/python -m pytest -q

setup:
	bash scripts/setup.sh test
