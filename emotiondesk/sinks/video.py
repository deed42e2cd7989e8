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


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` scaled to fit `size` (width, height) with its aspect ratio kept, centred on black bars."""
    width, height = size
    scale = min(width / image.shape[1], height / image.shape[0])
    fitted = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    resized = cv2.resize(image, fitted, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.zeros((height, width, 3), np.uint8)
    left, top = (width - fitted[0]) // 2, (height - fitted[1]) // 2
    canvas[top : top + fitted[1], left : left + fitted[0]] = resized
    return canvas


class AnnotatedVideoSink:
    """The source video with boxes, IDs and labels drawn (`.mp4` = mp4v, `.avi` = MJPG); opened on the first
    frame, at that frame's size; a frame of another size (an image folder's stills) is letterboxed into it."""

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
        if (canvas.shape[1], canvas.shape[0]) != self._size:  # another size (a still of a folder, a camera change)
            canvas = letterbox(canvas, self._size)
        self._writer.write(canvas)

    def close(self, status: RunStatus | None = None) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
