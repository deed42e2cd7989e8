"""Draws packaging/emotiondesk.png (256×256), the app icon: a smiling face inside a detection box.

Run once with the project's venv (`python packaging/make_icon.py`); the PNG is committed, the build reads it."""

from pathlib import Path

import cv2
import numpy as np

SIZE = 256
OUT = Path(__file__).resolve().parent / "emotiondesk.png"


def draw() -> np.ndarray:
    scale = 4  # draw large, then shrink: smooth edges
    s = SIZE * scale
    image = np.zeros((s, s, 4), np.uint8)
    cv2.rectangle(image, (0, 0), (s - 1, s - 1), (60, 40, 30, 255), -1)  # dark navy tile (BGRA)
    centre, radius = (s // 2, s // 2 + 10 * scale), 78 * scale
    cv2.circle(image, centre, radius, (64, 200, 250, 255), -1, cv2.LINE_AA)  # yellow face
    for dx in (-30, 30):
        cv2.circle(image, (centre[0] + dx * scale, centre[1] - 22 * scale), 11 * scale, (40, 40, 40, 255), -1)
    cv2.ellipse(
        image,
        (centre[0], centre[1] + 8 * scale),
        (44 * scale, 36 * scale),
        0,
        20,
        160,
        (40, 40, 40, 255),
        9 * scale,
        cv2.LINE_AA,
    )  # smile
    box = (28 * scale, 22 * scale), (s - 28 * scale, s - 14 * scale)
    cv2.rectangle(image, *box, (90, 220, 90, 255), 7 * scale)  # green detection box
    cv2.rectangle(image, (28 * scale, 4 * scale), (150 * scale, 30 * scale), (90, 220, 90, 255), -1)  # label tab
    return cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


if __name__ == "__main__":
    cv2.imwrite(str(OUT), draw(), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{OUT} ({OUT.stat().st_size} bytes)")
