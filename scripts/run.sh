#!/usr/bin/env bash
# Fresh set-up, then the headless main job on the bundled sample (or the window with --gui).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q "pip==26.3"
python -m pip install -q -c constraints.txt .
if [ "${1:-}" = "--gui" ]; then
  exec emotiondesk
fi
emotiondesk analyze assets/samples/three_faces.mp4 --csv session/three_faces.csv --annotated session/three_faces_annotated.mp4 \
  --overwrite  # the sample job replaces its own earlier outputs
