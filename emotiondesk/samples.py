"""Synthetic clips made from a real face photo, for the bundled sample, tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emotiondesk.assets import models_dir
from emotiondesk.types import Box


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


# --- scenes with ground truth: several real faces moving, leaving, coming back (bench/tracking.py, tests) -----


def fer2013_faces(path: Path, count: int, skip: int = 0) -> list[np.ndarray]:
    """The first `count` faces of a FER2013 CSV (`emotion,pixels,Usage`; .xz read as a stream) after `skip`,
    each upscaled ×3 and padded with replicated edges (the context a detector needs), as BGR tiles."""
    import csv
    import lzma

    opener = lzma.open if Path(path).suffix == ".xz" else open
    tiles = []
    with opener(path, "rt", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            if number < skip:
                continue
            if len(tiles) >= count:
                break
            gray = np.array(row["pixels"].split(), np.uint8).reshape(48, 48)
            big = cv2.resize(gray, (144, 144), interpolation=cv2.INTER_CUBIC)
            tiles.append(
                cv2.cvtColor(cv2.copyMakeBorder(big, 40, 40, 40, 40, cv2.BORDER_REPLICATE), cv2.COLOR_GRAY2BGR)
            )
    return tiles


def recoloured(face: np.ndarray, hue_shift: int = 60) -> np.ndarray:
    """`face` with its hues rotated (a different-looking copy to the eye; the same texture in gray)."""
    hsv = cv2.cvtColor(face, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + hue_shift) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


@dataclass
class Actor:
    """One true face in a scene: its picture, where its centre is and how tall it is over time (key frames,
    linearly interpolated) and when it can be seen (`visible` intervals in seconds, end exclusive)."""

    face: np.ndarray
    keys: list[tuple[float, float, float, float]]  # (time_s, centre x, centre y, tile height), times increasing
    visible: list[tuple[float, float]] = field(default_factory=lambda: [(0.0, float("inf"))])
    hidden_frames: frozenset[int] = frozenset()  # single frames it is missing from (a detector missing frames)

    def place(self, time_s: float) -> tuple[float, float, float]:
        times = [k[0] for k in self.keys]
        return tuple(float(np.interp(time_s, times, [k[i] for k in self.keys])) for i in (1, 2, 3))

    def seen(self, time_s: float, frame: int) -> bool:
        return frame not in self.hidden_frames and any(start <= time_s < end for start, end in self.visible)


@dataclass
class Scene:
    """Actors on a plain background: `frames()` renders it, `truth` holds each frame's true face tiles."""

    actors: list[Actor]
    seconds: float
    fps: float = 10.0
    width: int = 640
    height: int = 480
    background: int = 90

    def frames(self):
        """Yield (image, [(actor number, Box of its tile)…]) per frame; later actors are drawn in front."""
        for index in range(int(round(self.seconds * self.fps))):
            time_s = index / self.fps
            image = np.full((self.height, self.width, 3), self.background, np.uint8)
            truth = []
            for number, actor in enumerate(self.actors):
                if not actor.seen(time_s, index):
                    continue
                cx, cy, tile_h = actor.place(time_s)
                scale = tile_h / actor.face.shape[0]
                tile = cv2.resize(actor.face, (max(int(actor.face.shape[1] * scale), 1), max(int(tile_h), 1)))
                h, w = tile.shape[:2]
                x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
                left, top = max(x0, 0), max(y0, 0)
                right, bottom = min(x0 + w, self.width), min(y0 + h, self.height)
                if right - left < w // 2 or bottom - top < h // 2:  # mostly outside the picture: not a true face
                    continue
                image[top:bottom, left:right] = tile[top - y0 : bottom - y0, left - x0 : right - x0]
                truth.append((number, Box(left, top, right - left, bottom - top)))
            yield image, truth

    def write(self, path: Path) -> list[list[tuple[int, Box]]]:
        """Write the clip (MJPG .avi or mp4v .mp4) and return its ground truth, one list per frame."""
        fourcc = cv2.VideoWriter_fourcc(*("MJPG" if Path(path).suffix.lower() == ".avi" else "mp4v"))
        writer = cv2.VideoWriter(str(path), fourcc, self.fps, (self.width, self.height))
        if not writer.isOpened():
            raise OSError(f"{path}: cannot write video")
        truth = []
        for image, faces in self.frames():
            writer.write(image)
            truth.append(faces)
        writer.release()
        return truth


FACE_OF_TILE = 0.45  # a detector's face box is about this fraction of a scene tile's height (FER and astronaut)


def _seated(face: np.ndarray, x: float, y: float, height: float, seconds: float, phase: float = 0.0) -> Actor:
    """A face sitting still but for a little sway (a few pixels, as people do)."""
    keys = [
        (t, x + 4 * np.sin(t * 1.3 + phase), y + 3 * np.cos(t * 1.1 + phase), height)
        for t in np.arange(0, seconds + 0.5, 0.25)
    ]
    return Actor(face, keys)


def dropout_scene(
    a: np.ndarray, b: np.ndarray, gap_s: float, times: int = 2, shift: float = 0.3, fps: float = 10.0
) -> Scene:
    """Two seated faces; `a` is gone `gap_s` seconds, `times` times (2 s seen between), and comes back
    `shift` face sides to the side of where it left (people move while turned away)."""
    seen_s = 2.0
    seconds = seen_s + times * (gap_s + seen_s)
    height = 230
    first = _seated(a, 170, 240, height, seconds)
    side = FACE_OF_TILE * height
    # back `shift` sides further right after each absence (the first one moves it, later ones keep it there)
    first.keys = [(t, x + (shift * side if t > seen_s else 0.0), y, h) for t, x, y, h in first.keys]
    first.visible = [(0.0, seen_s)] + [
        (seen_s + k * (gap_s + seen_s) + gap_s, seen_s + (k + 1) * (gap_s + seen_s)) for k in range(times)
    ]
    return Scene([first, _seated(b, 470, 240, height, seconds, phase=1.0)], seconds, fps)


def crossing_scene(a: np.ndarray, b: np.ndarray, widths_per_s: float, fps: float = 10.0, height: float = 230) -> Scene:
    """`a` walks left to right, `b` right to left (in front), at `widths_per_s` face widths a second, passing
    each other in the middle; each stands 1 s at its ends."""
    speed = widths_per_s * FACE_OF_TILE * height
    left, right = 110.0, 530.0
    walk = (right - left) / speed
    seconds = walk + 2.0
    a_keys = [
        (0.0, left, 250, height),
        (1.0, left, 250, height),
        (1.0 + walk, right, 230, height),
        (seconds, right, 230, height),
    ]
    b_keys = [
        (0.0, right, 230, height),
        (1.0, right, 230, height),
        (1.0 + walk, left, 250, height),
        (seconds, left, 250, height),
    ]
    return Scene([Actor(a, a_keys), Actor(b, b_keys)], seconds, fps)


def entering_scene(a: np.ndarray, b: np.ndarray, c: np.ndarray, fps: float = 10.0) -> Scene:
    """`a` sits left all along; `b` walks in from the right, sits, walks out, is away 3 s, comes back and
    leaves; then `c`, someone else, walks in to the same seat."""
    height, seat, out = 230, 470.0, 720.0
    b_keys = [
        (0, out, 240, height),
        (1, out, 240, height),
        (2, seat, 240, height),
        (4, seat, 240, height),
        (5, out, 240, height),
        (8, out, 240, height),
        (9, seat, 240, height),
        (11, seat, 240, height),
        (12, out, 240, height),
        (20, out, 240, height),
    ]
    c_keys = [(0, out, 240, height), (13, out, 240, height), (14, seat, 240, height), (17, seat, 240, height)]
    return Scene([_seated(a, 170, 240, height, 17.0), Actor(b, b_keys), Actor(c, c_keys)], 17.0, fps)


def bystander_scene(participant: np.ndarray, bystander: np.ndarray, fps: float = 10.0) -> Scene:
    """A participant, large and central, turns away for 3 s at 4 s; a bystander, smaller and off to the side,
    walks along the back twice (once while the participant is away)."""
    seconds = 12.0
    person = _seated(participant, 300, 250, 300, seconds)
    person.visible = [(0.0, 4.0), (7.0, seconds)]
    h, y = 200, 110
    keys = [
        (0, 760, y, h),
        (1, 760, y, h),
        (3.5, 430, y, h),
        (5.5, 560, y, h),
        (6.5, 760, y, h),
        (8, 760, y, h),
        (10.5, 460, y, h),
        (seconds, 760, y, h),
    ]
    return Scene([Actor(bystander, keys), person], seconds, fps)


def missing_frames_scene(
    faces: list[np.ndarray],
    miss: float = 0.2,
    seconds: float = 8.0,
    fps: float = 10.0,
    seed: int = 0,
    longest_s: float = 0.0,
) -> Scene:
    """Faces seated side by side, each missing from a random `miss` share of the frames (a detector missing
    frames), in runs of 1–3 frames, or up to `longest_s` seconds (a patchy detector)."""
    rng = np.random.default_rng(seed)
    frames = int(round(seconds * fps))
    count = len(faces)
    height = 230 if count <= 2 else 220
    xs = np.linspace(640 / count / 2, 640 - 640 / count / 2, count)
    actors = []
    for number, face in enumerate(faces):
        hidden: set[int] = set()
        while len(hidden) < miss * frames:
            start = int(rng.integers(0, frames))
            longest = max(3, int(round(longest_s * fps)))
            hidden.update(range(start, min(start + int(rng.integers(1, longest + 1)), frames)))
        actor = _seated(face, float(xs[number]), 240, height, seconds, phase=number)
        actor.hidden_frames = frozenset(hidden)
        actors.append(actor)
    return Scene(actors, seconds, fps)
