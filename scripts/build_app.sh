#!/usr/bin/env bash
# Standalone build: dist/emotiondesk/ (one folder, the `emotiondesk` executable inside) and
# dist/emotiondesk-<version>-<platform>.tar.gz (the folder, a .desktop file, the icon, the licences).
# Builds from its own clean venv (.venv-build/, git-ignored): never from a venv that has torch.
# Usage: bash scripts/build_app.sh [--no-archive]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV=.venv-build
PY="$VENV/bin/python"
[ "$(uname -o 2>/dev/null)" = "Msys" ] && PY="$VENV/Scripts/python.exe"  # Git Bash on Windows (the CI workflow)
if [ ! -x "$PY" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$PY" -m pip install -q "pip==26.3"
# non-editable: the app is frozen from the installed package (assets under emotiondesk/assets/, as in a wheel);
# `python -P` keeps the checkout itself off sys.path, so PyInstaller finds that installed copy
"$PY" -m pip install -q -c constraints.txt ".[build]"
if "$PY" -c "import torch" 2>/dev/null; then
  echo "build_app.sh: torch is installed in $VENV; it must not be (remove $VENV and rerun)" >&2
  exit 1
fi
start=$(date +%s)
"$PY" -P -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/emotiondesk.spec
echo "build_app.sh: dist/emotiondesk/ built in $(( $(date +%s) - start )) s"
if [ "${1:-}" != "--no-archive" ]; then
  "$PY" packaging/make_archive.py
fi
