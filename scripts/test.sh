#!/usr/bin/env bash
# Fresh set-up and full test run: venv, install with test + train extras, ruff, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q "pip==26.3"
python -m pip install -q -c constraints.txt -e ".[test,train,docs]"
ruff check .
QT_QPA_PLATFORM=offscreen python -m pytest -q
