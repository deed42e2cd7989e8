"""Frame sources: video files, images, image folders and cameras, all yielding BGR `Frame`s."""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotiondesk.errors import SourceError
from emotiondesk.metadata import now_wall
from emotiondesk.types import Frame

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
CAMERA_PATTERN = re.compile(r"^(?:camera:)?(\d+)$")


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Any 8-bit gray, BGR or BGRA image → contiguous BGR."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


class FrameSource:
    """Iterable of frames; `name` says where they come from for messages and sidecars."""

    name: str = ""
    kind: str = ""
    frame_count: int | None = None
    fps: float | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the device or file."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class VideoSource(FrameSource):
    """A video file read with OpenCV; `time_s` is the position in the video."""

    kind = "video"

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        if not path.exists():
            raise SourceError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise SourceError(f"{path}: file is empty (0 bytes)")
        if not os.access(path, os.R_OK):
            raise SourceError(f"{path}: permission denied")
        self.capture = cv2.VideoCapture(str(path))
        if not self.capture.isOpened():
            raise SourceError(f"{path}: not a readable video or image")
        count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.frame_count = count if count > 0 else None
        self.fps = fps if fps and fps > 0 else None
        ok, first = self.capture.read()
        if not ok or first is None:
            self.capture.release()
            raise SourceError(f"{path}: video has no decodable frames")
        self._first = first
        self._seek_to: int | None = None

    def seek(self, index: int) -> None:
        """Continue from frame `index` at the next read (call from the thread that iterates)."""
        self._seek_to = max(0, int(index))

    def __iter__(self) -> Iterator[Frame]:
        image, index = self._first, 0
        while True:
            if self._seek_to is not None:
                index, self._seek_to = self._seek_to, None
                self.capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                ok, image = self.capture.read()
                image = image if ok else None
            if image is None:
                return
            time_s = index / self.fps if self.fps else float(index)
            yield Frame(index, time_s, to_bgr(image), now_wall())
            ok, image = self.capture.read()
            image = image if ok else None
            index += 1

    def close(self) -> None:
        self.capture.release()


class ImageSource(FrameSource):
    """One still image or a folder of them (sorted by name); `time_s` is the image index."""

    kind = "images"

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        if path.is_dir():
            self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.files:
                raise SourceError(f"{path}: folder has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        else:
            self.files = [path]
            self._read(path)  # fail early on a bad single image
        self.frame_count = len(self.files)

    @staticmethod
    def _read(path: Path) -> np.ndarray:
        if not path.exists():
            raise SourceError(f"{path}: no such file")
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None or image.size == 0:
            raise SourceError(f"{path}: not a readable image")
        if image.dtype != np.uint8:
            image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
        return to_bgr(image)

    def __iter__(self) -> Iterator[Frame]:
        for index, file in enumerate(self.files):
            image = self._read(file)
            yield Frame(index, float(index), image, now_wall())


class CameraSource(FrameSource):
    """A live camera; `time_s` counts seconds since the first frame. Losing the camera raises SourceError."""

    kind = "camera"

    def __init__(self, index: int, width: int = 640, height: int = 480) -> None:
        self.index = index
        self.name = f"camera {index}"
        self.capture = cv2.VideoCapture(index)
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"camera {index}: cannot be opened (no such camera, or it is in use)")
        self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else None

    def __iter__(self) -> Iterator[Frame]:
        start = None
        index = 0
        while True:
            ok, image = self.capture.read()
            if not ok or image is None:
                raise SourceError(f"camera {self.index}: stopped delivering frames (disconnected?)")
            now, wall = time.monotonic(), now_wall()
            start = now if start is None else start
            yield Frame(index, now - start, to_bgr(image), wall)
            index += 1

    def close(self) -> None:
        self.capture.release()


def open_source(spec: str | int | Path) -> FrameSource:
    """`0`, `camera:1` → camera; a folder → its images; an image file → one frame; else a video."""
    text = str(spec)
    match = CAMERA_PATTERN.match(text)
    if match and not Path(text).exists():
        return CameraSource(int(match.group(1)))
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSource(path)
    return VideoSource(path)


@dataclass(frozen=True)
class CameraInfo:
    index: int
    name: str


def list_cameras(max_index: int = 8) -> list[CameraInfo]:
    """Cameras that open and deliver a frame, with the OS's name where it gives one (Linux sysfs)."""
    if os.path.isdir("/sys/class/video4linux"):
        candidates = sorted(int(m.group(1)) for p in glob.glob("/dev/video*") if (m := re.match(r".*/video(\d+)$", p)))
    else:
        candidates = list(range(max_index))
    found = []
    for index in candidates:
        capture = cv2.VideoCapture(index)
        try:
            if capture.isOpened() and capture.read()[0]:
                found.append(CameraInfo(index, _camera_name(index)))
        finally:
            capture.release()
    return found


def _camera_name(index: int) -> str:
    name_file = Path(f"/sys/class/video4linux/video{index}/name")
    try:
        return name_file.read_text().strip()
    except OSError:
        return f"Camera {index}"
