"""emotiondesk: real-time facial-emotion detection for the desktop (Qt-free core).

The public Python API (importable without Qt; each name loads its module on first use):

- `Pipeline`, `PipelineConfig`, `RunSummary`: detect → crop → classify → track, frame by frame;
- `Frame`, `FrameResult`, `Face`, `Box`: the one result type that flows from stage to stage and into every sink;
- `Sink`, `RunStatus` and the sinks `CsvRecorder`, `AnnotatedVideoSink`, `MarkersSink`;
- `open_source`: a video, image, image folder or camera as frames; `analyze`: one input, end to end;
- `read_session`: a session CSV as a pandas DataFrame (sidecar and markers in `.attrs`); `read_study`: many
  sessions as the study's tidy table (one row per participant × session × face × condition × emotion).
"""

from __future__ import annotations

__version__ = "0.1.0"

import os as _os
from importlib import import_module as _import_module
from typing import TYPE_CHECKING

# OpenCV prints camera-probe warnings (e.g. for a missing camera 0) that are not for users; the
# failure itself reaches them as a one-line SourceError.
_os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")

if TYPE_CHECKING:
    from emotiondesk.analysis.study import read_study
    from emotiondesk.analysis.tables import read_session
    from emotiondesk.pipeline import Pipeline, PipelineConfig, RunSummary
    from emotiondesk.runs.analyze import analyze
    from emotiondesk.sinks.base import RunStatus, Sink
    from emotiondesk.sinks.csv_sink import CsvRecorder
    from emotiondesk.sinks.markers import MarkersSink
    from emotiondesk.sinks.video import AnnotatedVideoSink
    from emotiondesk.sources import open_source
    from emotiondesk.types import Box, Face, Frame, FrameResult

_API = {
    "Pipeline": "emotiondesk.pipeline",
    "PipelineConfig": "emotiondesk.pipeline",
    "RunSummary": "emotiondesk.pipeline",
    "Frame": "emotiondesk.types",
    "FrameResult": "emotiondesk.types",
    "Face": "emotiondesk.types",
    "Box": "emotiondesk.types",
    "Sink": "emotiondesk.sinks.base",
    "RunStatus": "emotiondesk.sinks.base",
    "CsvRecorder": "emotiondesk.sinks.csv_sink",
    "AnnotatedVideoSink": "emotiondesk.sinks.video",
    "MarkersSink": "emotiondesk.sinks.markers",
    "open_source": "emotiondesk.sources",
    "analyze": "emotiondesk.runs.analyze",
    "read_session": "emotiondesk.analysis.tables",
    "read_study": "emotiondesk.analysis.study",
}
__all__ = [
    "AnnotatedVideoSink",
    "Box",
    "CsvRecorder",
    "Face",
    "Frame",
    "FrameResult",
    "MarkersSink",
    "Pipeline",
    "PipelineConfig",
    "RunStatus",
    "RunSummary",
    "Sink",
    "__version__",
    "analyze",
    "open_source",
    "read_session",
    "read_study",
]


def __getattr__(name: str):
    """Load a public name's module on first use, so `import emotiondesk` stays light (the CLI starts fast)."""
    if name in _API:
        value = getattr(_import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'emotiondesk' has no attribute {name!r}")
