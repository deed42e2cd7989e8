"""`python -m training {train,evaluate,export,compare}` — see README "Training"."""

import os as _os

# export and compare run onnxruntime: its Microsoft telemetry is off here too, set before it can load
# (training does not import emotiondesk, so it sets this itself; a user's explicit value is kept).
_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
