"""Account errors on the pages speak the page's language (their code's message), not the code's English."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.security.conftest import app_store


def _login_page() -> None:
    import streamlit as st

    from views import auth

    st.session_state["lang"] = "fr"
    auth.render_login()


def test_a_short_first_administrator_password_is_refused_in_french(tmp_path: Path) -> None:
    with app_store(tmp_path / "accounts.db") as store:
        store.write({"instructor": pd.DataFrame({"name": ["Formateur"]})}, kind="test")  # no demo load
        at = AppTest.from_function(_login_page, default_timeout=60).run()
        at.text_input(key="admin_user").input("admin")
        at.text_input(key="admin_password").input("court")
        at.text_input(key="admin_password_again").input("court")
        at = [b for b in at.button if b.label == "Créer l'administrateur"][0].click().run()
        errors = [e.value for e in at.error]
        assert errors == ["Compte non créé : Le mot de passe doit compter au moins 10 caractères."], errors
        assert store.users().empty
