"""Overlay drawing with OpenCV (annotated videos), in the same palette as the window (`emotiondesk.palette`)."""

from __future__ import annotations

import cv2
import numpy as np

from emotiondesk.palette import CLASSIC as EMOTION_COLORS  # noqa: F401 (the classic table, kept importable)
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color
from emotiondesk.types import FrameResult


def layout_labels(
    boxes: list[tuple[int, int, int, int]], sizes: list[tuple[int, int]], width: int, height: int, gap: int = 2
) -> list[tuple[int, int]]:
    """Top-left corners for label tags of `sizes` (w, h), one per face box (x, y, w, h).

    A tag goes above its box when there is room, else inside the box's top, shifted to stay inside the frame;
    if it would cover a tag already placed (top to bottom, left to right), it takes the nearest free spot
    beside or below/above the tags in the way (vertical moves preferred). Only a frame too full for every tag
    leaves one where it wanted to be."""
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][1], boxes[i][0]))
    placed: list[tuple[int, int, int, int]] = []
    corners: list[tuple[int, int]] = [(0, 0)] * len(boxes)
    for index in order:
        x, y, _, _ = boxes[index]
        tag_w, tag_h = sizes[index]
        max_left, max_top = max(width - tag_w, 0), max(height - tag_h, 0)
        left = min(max(x, 0), max_left)
        top = min(y - tag_h - gap if y - tag_h - gap >= 0 else max(y, 0), max_top)
        lefts = {left} | {min(max(v, 0), max_left) for p in placed for v in (p[0] + p[2] + gap, p[0] - tag_w - gap)}
        tops = {top} | {min(max(v, 0), max_top) for p in placed for v in (p[1] + p[3] + gap, p[1] - tag_h - gap)}
        candidates = sorted((abs(t - top) + 2 * abs(lf - left), lf, t) for lf in lefts for t in tops)
        for _, candidate_left, candidate_top in candidates:
            rect = (candidate_left, candidate_top, tag_w, tag_h)
            if not any(_overlap(rect, other) for other in placed):
                left, top = candidate_left, candidate_top
                break
        corners[index] = (left, top)
        placed.append((left, top, tag_w, tag_h))
    return corners


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def draw_result(
    image: np.ndarray, result: FrameResult, smoothed: bool = True, palette: str = DEFAULT_PALETTE
) -> np.ndarray:
    """Boxes, IDs, labels and confidences drawn on a copy of the BGR frame, coloured by `palette`; tags stay
    inside the frame and never cover each other."""
    canvas = image.copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(min(height, width) / 320))
    scale = 0.45 * thickness + 0.1
    tags = []
    for face in result.faces:
        probabilities = face.smoothed_or_raw if smoothed else face.probabilities
        label = result.label_of(probabilities)
        confidence = float(probabilities.max()) if probabilities is not None else face.det_score
        r, g, b = emotion_color(label, palette)
        color = (b, g, r)
        box = face.box
        cv2.rectangle(canvas, (box.x, box.y), (box.x + box.w, box.y + box.h), color, thickness + 1)
        text = f"#{face.face_id} {label} {confidence:.0%}"
        (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        tags.append((text, color, (box.x, box.y, box.w, box.h), (text_w + 6, text_h + baseline + 4), text_h))
    corners = layout_labels([t[2] for t in tags], [t[3] for t in tags], width, height)
    for (text, color, _, (tag_w, tag_h), text_h), (left, top) in zip(tags, corners):
        cv2.rectangle(canvas, (left, top), (left + tag_w - 1, top + tag_h - 1), color, cv2.FILLED)
        origin = (left + 3, top + text_h + 2)
        cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    return canvas
