"""Overlay drawing with OpenCV (annotated videos) and the emotion colour table the GUI shares."""

from __future__ import annotations

import cv2
import numpy as np

from emotiondesk.types import FrameResult

# RGB colours per emotion name (FER2013 and FER+ names); unknown labels get a stable fallback.
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (220, 50, 47),
    "disgust": (133, 153, 0),
    "fear": (108, 113, 196),
    "happy": (255, 196, 0),
    "sad": (38, 139, 210),
    "surprise": (211, 54, 130),
    "neutral": (160, 160, 160),
    "contempt": (203, 75, 22),
}


def emotion_color(label: str) -> tuple[int, int, int]:
    if label in EMOTION_COLORS:
        return EMOTION_COLORS[label]
    seed = sum(map(ord, label))
    return (80 + seed * 37 % 160, 80 + seed * 71 % 160, 80 + seed * 113 % 160)


def draw_result(image: np.ndarray, result: FrameResult, smoothed: bool = True) -> np.ndarray:
    """Boxes, IDs, labels and confidences drawn on a copy of the BGR frame."""
    canvas = image.copy()
    thickness = max(1, round(min(canvas.shape[:2]) / 320))
    for face in result.faces:
        probabilities = face.smoothed_or_raw if smoothed else face.probabilities
        label = result.label_of(probabilities)
        confidence = float(probabilities.max()) if probabilities is not None else face.det_score
        r, g, b = emotion_color(label)
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
