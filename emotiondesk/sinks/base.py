"""Every output of a run has one shape: a `Sink` gets each frame's result, then is closed with the run's status.

The CSV recorder, the annotated video (and markers, LSL, reports) are sinks; `analyze`, the batch runner and
the window's worker drive them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from emotiondesk.types import FrameResult

RUN_STATES = ("running", "finished", "interrupted", "error")


@dataclass
class RunStatus:
    """How a run ended, as every sink records it: `finished` only when it ran to the end it was asked for."""

    state: str = "running"  # one of RUN_STATES
    frames_done: int = 0
    frames_in_source: int | None = None  # None for cameras and unknown lengths
    error: str | None = None
    summary: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "status": self.state,
            "finished": self.state == "finished",
            "interrupted": self.state == "interrupted",
            "error": self.error,
            "frames_done": self.frames_done,
            "frames_in_source": self.frames_in_source,
        }


@runtime_checkable
class Sink(Protocol):
    """An output of a run."""

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Take one frame's result (and its BGR image, for sinks that draw)."""

    def close(self, status: RunStatus | None = None) -> None:
        """Finish the output; safe to call twice and after a failure."""


class AnnotatedVideoSink:
    """The source video with boxes, IDs and labels drawn (`.mp4` = mp4v, `.avi` = MJPG); opened on the first
    frame, at that frame's size."""

    def __init__(self, path: Path, fps: float, palette: str = "okabe-ito") -> None:
        self.path = Path(path)
        self.fps = fps or 10.0
        self.palette = palette
        self._writer = None
        self._size: tuple[int, int] | None = None

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        import cv2

        from emotiondesk.drawing import draw_result
        from emotiondesk.pipeline import annotated_writer

        if image is None:
            return
        if self._writer is None:
            self._size = (result.width, result.height)
            self._writer = annotated_writer(self.path, self.fps, *self._size)
        canvas = draw_result(image, result, palette=self.palette)
        if (canvas.shape[1], canvas.shape[0]) != self._size:  # the source changed resolution mid-run
            canvas = cv2.resize(canvas, self._size)
        self._writer.write(canvas)

    def close(self, status: RunStatus | None = None) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
