#!/usr/bin/env bash
# Idempotent setup of a checkout: virtualenv, Python packages, offline map assets, translations.
# Usage: scripts/setup.sh [app|test]   ("test" also installs the dev group: pytest, playwright, esda...)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-app}
python=${PYTHON:-python3}

"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Proximité needs Python 3.11 or newer")'
[ -x .venv/bin/python ] || "$python" -m venv .venv

# Reinstall Python packages only when pyproject.toml (or the target) changed.
stamp=".venv/.setup-$target-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
  if [ "$target" = test ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[postgis,fast,sso]" --group dev
  else
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[postgis,fast,sso]"
  fi
  touch "$stamp"
fi

# Leaflet and plugins from the npm registry, copied to static/vendor (served by the app itself).
if ! .venv/bin/python -c 'import sys; from layers.assets import missing; sys.exit(1 if missing() else 0)'; then
  command -v npm >/dev/null || { echo "npm is needed once to fetch Leaflet (apt-get install npm)" >&2; exit 1; }
  (cd vendor && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  .venv/bin/python -m layers.assets
fi

.venv/bin/python -m i18n.catalogs compile >/dev/null
