"""Stable face IDs across frames (IoU + motion prediction) and temporal smoothing of probabilities."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emotiondesk.types import Box, Face


@dataclass
class Track:
    face_id: int
    box: Box
    last_seen_s: float
    velocity: tuple[float, float] = (0.0, 0.0)  # centre motion, pixels per second
    smoothed: np.ndarray | None = None
    hits: int = 1
    history: list[float] = field(default_factory=list)

    def predicted(self, time_s: float) -> Box:
        dt = time_s - self.last_seen_s
        return Box(
            int(self.box.x + self.velocity[0] * dt), int(self.box.y + self.velocity[1] * dt), self.box.w, self.box.h
        )


def match_score(track_box: Box, face_box: Box) -> float:
    """IoU, or for non-overlapping boxes a small score that falls with centre distance (fast motion)."""
    iou = track_box.iou(face_box)
    if iou > 0:
        return iou
    (tx, ty), (fx, fy) = track_box.center, face_box.center
    size = max(track_box.w, track_box.h, face_box.w, face_box.h, 1)
    distance = np.hypot(tx - fx, ty - fy) / size
    return max(0.0, 0.1 * (1.0 - distance))


class FaceTracker:
    """Greedy best-score matching of this frame's faces to live tracks.

    A track survives `max_missing_s` without a detection, so a face that turns away or leaves briefly
    keeps its ID. `smoothing_window` frames set the EMA of probabilities (1 = no smoothing).
    """

    def __init__(self, min_score: float = 0.05, max_missing_s: float = 1.0, smoothing_window: int = 5) -> None:
        self.min_score = min_score
        self.max_missing_s = max_missing_s
        self.alpha = 2.0 / (max(smoothing_window, 1) + 1)
        self.tracks: dict[int, Track] = {}
        self.next_id = 1

    def update(self, faces: list[Face], time_s: float) -> list[Face]:
        """Assign `face_id` and `smoothed` on each face; returns the same list."""
        self.tracks = {i: t for i, t in self.tracks.items() if time_s - t.last_seen_s <= self.max_missing_s}
        pairs = []
        for track in self.tracks.values():
            predicted = track.predicted(time_s)
            for index, face in enumerate(faces):
                score = match_score(predicted, face.box)
                if score >= self.min_score:
                    pairs.append((score, track.face_id, index))
        pairs.sort(reverse=True)
        used_tracks: set[int] = set()
        assigned: dict[int, int] = {}
        for _score, face_id, index in pairs:
            if face_id in used_tracks or index in assigned:
                continue
            used_tracks.add(face_id)
            assigned[index] = face_id
        for index, face in enumerate(faces):
            if index in assigned:
                track = self.tracks[assigned[index]]
                dt = time_s - track.last_seen_s
                if dt > 0:
                    (ox, oy), (nx, ny) = track.box.center, face.box.center
                    measured = ((nx - ox) / dt, (ny - oy) / dt)
                    track.velocity = tuple(0.5 * v + 0.5 * m for v, m in zip(track.velocity, measured))
                track.box, track.last_seen_s = face.box, time_s
                track.hits += 1
            else:
                track = Track(self.next_id, face.box, time_s)
                self.tracks[track.face_id] = track
                self.next_id += 1
            face.face_id = track.face_id
            if face.probabilities is not None:
                if track.smoothed is None or len(track.smoothed) != len(face.probabilities):
                    track.smoothed = face.probabilities.astype(np.float32).copy()
                else:
                    track.smoothed = self.alpha * face.probabilities + (1 - self.alpha) * track.smoothed
                face.smoothed = track.smoothed.copy()
        return faces

    def reset(self) -> None:
        self.tracks.clear()
