"""Overlay drawing with OpenCV (annotated videos), in the same palette as the window (`emotiondesk.palette`)."""

from __future__ import annotations

import cv2
import numpy as np

from emotiondesk.palette import CLASSIC as EMOTION_COLORS  # noqa: F401 (the classic table, kept importable)
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color
from emotiondesk.types import FrameResult


def draw_result(
    image: np.ndarray, result: FrameResult, smoothed: bool = True, palette: str = DEFAULT_PALETTE
) -> np.ndarray:
    """Boxes, IDs, labels and confidences drawn on a copy of the BGR frame, coloured by `palette`."""
    canvas = image.copy()
    thickness = max(1, round(min(canvas.shape[:2]) / 320))
    for face in result.faces:
        probabilities = face.smoothed_or_raw if smoothed else face.probabilities
        label = result.label_of(probabilities)
        confidence = float(probabilities.max()) if probabilities is not None else face.det_score
        r, g, b = emotion_color(label, palette)
        color = (b, g, r)
        box = face.box
        cv2.rectangle(canvas, (box.x, box.y), (box.x + box.w, box.y + box.h), color, thickness + 1)
        text = f"#{face.face_id} {label} {confidence:.0%}"
        scale = 0.45 * thickness + 0.1
        (tw, th), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(box.y - th - baseline - 4, 0)
        cv2.rectangle(canvas, (box.x, top), (box.x + tw + 6, top + th + baseline + 4), color, cv2.FILLED)
        cv2.putText(
            canvas, text, (box.x + 3, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA
        )
    return canvas
