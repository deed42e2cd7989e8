"""The annotated video: the source frames with boxes, IDs and labels drawn, written as a sink."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from emotiondesk.errors import RecordingError
from emotiondesk.sinks.base import RunStatus
from emotiondesk.sinks.drawing import draw_result
from emotiondesk.types import FrameResult


def annotated_writer(path: Path, fps: float, width: int, height: int) -> cv2.VideoWriter:
    """An mp4v (or MJPG for .avi) writer; raises RecordingError when it cannot be created."""
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RecordingError(f"{path}: cannot create folder ({error.strerror})") from None
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise RecordingError(f"{path}: cannot write video here (unwritable path or unsupported extension)")
    return writer


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
