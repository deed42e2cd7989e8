"""The one result type that flows through every stage: detection → crop → classification → tracking."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class Box:
    """Axis-aligned face box in source pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return max(self.w, 0) * max(self.h, 0)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def iou(self, other: Box) -> float:
        left, top = max(self.x, other.x), max(self.y, other.y)
        right = min(self.x + self.w, other.x + other.w)
        bottom = min(self.y + self.h, other.y + other.h)
        inter = max(0, right - left) * max(0, bottom - top)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass
class Face:
    """One face in one frame; each stage fills in its part."""

    box: Box
    det_score: float
    keypoints: np.ndarray | None = None  # [6,2] pixels: right eye, left eye, nose, mouth, right ear, left ear
    probabilities: np.ndarray | None = None  # [C] raw model output
    smoothed: np.ndarray | None = None  # [C] after temporal smoothing
    face_id: int = -1
    # Face details (PipelineConfig.face_details), else None; see emotiondesk/stages/face_details.py
    blendshapes: np.ndarray | None = None  # [52] scores 0–1, in face_details.BLENDSHAPE_NAMES order
    head_pose: tuple[float, float, float] | None = None  # yaw, pitch, roll in degrees (conventions: face_details)
    landmarks: np.ndarray | None = None  # [478,3] face mesh: x, y in source pixels, z in pixels (relative depth)

    @property
    def smoothed_or_raw(self) -> np.ndarray | None:
        """The smoothed probabilities when tracking produced them, else this frame's raw ones."""
        return self.smoothed if self.smoothed is not None else self.probabilities


@dataclass
class Frame:
    """A decoded frame with its position in the source."""

    index: int
    time_s: float
    image: np.ndarray  # BGR uint8 [H,W,3]
    wall_time: datetime | None = None  # when it was captured (camera) or read (file), timezone-aware
    captured: float = field(default_factory=time.monotonic)  # time.monotonic() when the source delivered it


@dataclass
class FrameResult:
    """Everything the pipeline knows about one frame."""

    index: int
    time_s: float
    width: int
    height: int
    faces: list[Face]
    labels: tuple[str, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    wall_time: datetime | None = None  # the frame's wall-clock time (see `Frame.wall_time`)
    captured: float | None = None  # time.monotonic() when the frame was read (Frame.captured)

    def label_of(self, probabilities: np.ndarray | None) -> str:
        return self.labels[int(np.argmax(probabilities))] if probabilities is not None else ""
