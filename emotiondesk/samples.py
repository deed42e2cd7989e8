"""Synthetic clips made from a real face photo, for the bundled sample, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from emotiondesk.assets import models_dir


def sample_face() -> np.ndarray:
    """The bundled head-and-shoulders photo (NASA astronaut portrait, public domain), BGR."""
    path = models_dir().parent / "samples" / "astronaut_head.png"
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"{path}: bundled sample face missing")
    return image


def face_frame(
    face: np.ndarray, faces: int, width: int = 640, height: int = 480, step: int = 0, background: int = 90
) -> np.ndarray:
    """A frame with `faces` copies of `face` in a grid, each bobbing a little with `step`."""
    frame = np.full((height, width, 3), background, np.uint8)
    if faces == 0:
        return frame
    columns = min(faces, 3)
    rows = (faces + columns - 1) // columns
    cell_w, cell_h = width // columns, height // rows
    scale = min((cell_w - 10) / face.shape[1], (cell_h - 10) / face.shape[0], 1.6 * height / 480 / rows)
    head = cv2.resize(face, (int(face.shape[1] * scale), int(face.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    h, w = head.shape[:2]
    for index in range(faces):
        row, column = divmod(index, columns)
        dx = int(4 * np.sin(step / 6 + index))
        dy = int(6 * np.cos(step / 5 + index))
        x0 = int(np.clip(column * cell_w + (cell_w - w) // 2 + dx, 0, width - w))
        y0 = int(np.clip(row * cell_h + (cell_h - h) // 2 + dy, 0, height - h))
        frame[y0 : y0 + h, x0 : x0 + w] = head
    return frame


def write_face_clip(
    path: Path,
    face: np.ndarray,
    faces: int = 3,
    frames: int = 45,
    width: int = 640,
    height: int = 480,
    fps: float = 15.0,
) -> Path:
    """An mp4v (.mp4) or MJPG (.avi) clip of `faces` moving copies of `face`."""
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if Path(path).suffix.lower() == ".avi" else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"{path}: cannot write video")
    for step in range(frames):
        writer.write(face_frame(face, faces, width, height, step))
    writer.release()
    return Path(path)
