"""Frames made ready for the screen in the worker thread: scaled to the video view, mirrored, in the byte order
QImage blits without conversion. OpenCV does this with the GIL released, so the GUI thread only blits 1:1."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import cv2
import numpy as np

LITTLE_ENDIAN = sys.byteorder == "little"


@dataclass(frozen=True)
class DisplayImage:
    """Pixels ready to wrap in a QImage: H×W×4 uint8 (B, G, R, 255 on little-endian = QImage.Format_RGB32)."""

    pixels: np.ndarray
    source_width: int
    source_height: int
    mirrored: bool


def display_image(image: np.ndarray, fit: tuple[int, int, bool] | None) -> DisplayImage:
    """`image` (BGR) scaled to fit `fit` = (width, height, mirror) in device pixels, keeping its aspect ratio."""
    height, width = image.shape[:2]
    mirror = False
    if fit is not None:
        fit_w, fit_h, mirror = fit
        scale = min(fit_w / width, fit_h / height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size != (width, height):
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            image = cv2.resize(image, size, interpolation=interpolation)
        if mirror:
            image = cv2.flip(image, 1)
    pixels = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA if LITTLE_ENDIAN else cv2.COLOR_BGR2RGBA)
    return DisplayImage(pixels, width, height, bool(mirror))
