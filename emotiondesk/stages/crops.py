"""Turning detector boxes into FER2013-framed 48×48 grayscale crops — the one place that geometry lives."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emotiondesk.stages.classification import CROP_SIZE
from emotiondesk.types import Face


@dataclass(frozen=True)
class CropGeometry:
    """How a BlazeFace box maps to a FER2013-style square.

    Measured by `python bench/crop_calibration.py` (BlazeFace run on FER2013 validation faces): there
    the detector's box is about `1/scale` of the 48-pixel frame wide and sits `shift_y` box-heights
    below the frame centre, so the square is the box side × `scale`, centred `shift_y` above the box
    centre. Pixels outside the frame are filled by edge replication (never shifting the face).
    """

    scale: float = 1.2  # measured: box side is 0.84 of the FER2013 frame (IQR 0.74–0.94) → 1.19
    shift_y: float = 0.08  # measured: box centre sits 0.082 box sides below the frame centre
    align_eyes: bool = True


DEFAULT_GEOMETRY = CropGeometry()


def crop_transform(face: Face, geometry: CropGeometry = DEFAULT_GEOMETRY) -> np.ndarray:
    """2×3 affine matrix mapping source pixels to the 48×48 crop (square, scaled, optionally eye-levelled)."""
    box = face.box
    side = max(box.w, box.h) * geometry.scale
    cx, cy = box.center
    angle = 0.0
    if geometry.align_eyes and face.keypoints is not None and len(face.keypoints) >= 2:
        (rx, ry), (lx, ly) = face.keypoints[0], face.keypoints[1]
        # keypoint 0 is the subject's right eye (image left): the eye line's angle in degrees
        angle = float(np.degrees(np.arctan2(ly - ry, lx - rx)))
        if abs(angle) > 45:  # implausible roll (bad keypoints): keep the box upright
            angle = 0.0
    shift = geometry.shift_y * max(box.w, box.h)
    theta = np.radians(angle)
    cx, cy = cx + shift * np.sin(theta), cy - shift * np.cos(theta)
    zoom = CROP_SIZE / side
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, zoom)
    matrix[0, 2] += CROP_SIZE / 2 - cx
    matrix[1, 2] += CROP_SIZE / 2 - cy
    return matrix


def face_crops(image: np.ndarray, faces: list[Face], geometry: CropGeometry = DEFAULT_GEOMETRY) -> np.ndarray:
    """[N,1,48,48] float32 raw 0–255 gray crops of `faces`, ready for the classifier.

    `image` is a gray frame (the pipeline converts once per frame) or a BGR one.
    """
    crops = np.empty((len(faces), 1, CROP_SIZE, CROP_SIZE), np.float32)
    for index, face in enumerate(faces):
        matrix = crop_transform(face, geometry)
        zoom = float(np.hypot(matrix[0, 0], matrix[0, 1]))
        # Shrinking a big face in one bilinear warp aliases: warp to an s× larger square, then average down.
        supersample = int(min(max(np.ceil(0.5 / zoom), 1), 4))
        size = CROP_SIZE * supersample
        crop = cv2.warpAffine(
            image, matrix * supersample, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        if supersample > 1:
            crop = cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA)
        crops[index, 0] = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return crops
