"""Frame sources: video files, images, image folders and cameras, all yielding BGR `Frame`s."""

from __future__ import annotations

import functools
import glob
import hashlib
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
        self.folder = path if path.is_dir() else path.parent
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
            yield Frame(index, float(index), image, now_wall(), source_file=file.relative_to(self.folder).as_posix())


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


HASH_CHUNK = 1 << 20


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """The SHA-256 of a whole file (cached per path, size and modification time: one file is hashed once)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_identity(path: Path) -> dict:
    """What identifies a source file later: absolute path, size, modification time and the SHA-256 of its whole
    content (1.2–1.8 s per GiB here from the page cache: bench/source_hash.py, docs/csv-reference.md). A folder of
    images: its path, image count, total size, newest modification time and one SHA-256 over every image's name
    and SHA-256, in name order. {} for what is not a file or folder (a camera)."""
    path = Path(path).expanduser()
    try:
        absolute = path.resolve()
        if absolute.is_dir():
            files = sorted(p for p in absolute.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            stats = [p.stat() for p in files]
            digest = hashlib.sha256()
            for file, info in zip(files, stats):
                digest.update(f"{file.name}\0{_sha256(str(file), info.st_size, info.st_mtime_ns)}\n".encode())
            newest = max((info.st_mtime for info in stats), default=absolute.stat().st_mtime)
            return {
                "path": str(absolute),
                "images": len(files),
                "size_bytes": sum(info.st_size for info in stats),
                "modified": _iso(newest),
                "sha256": digest.hexdigest(),
                "hash": "sha256 over each image's 'name NUL sha256 LF', in name order",
            }
        if absolute.is_file():
            info = absolute.stat()
            return {
                "path": str(absolute),
                "size_bytes": info.st_size,
                "modified": _iso(info.st_mtime),
                "sha256": _sha256(str(absolute), info.st_size, info.st_mtime_ns),
                "hash": "sha256 of the whole file",
            }
    except OSError:
        pass
    return {}


def _iso(timestamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).astimezone().isoformat(timespec="seconds")
