"""Turning detector boxes into FER2013-framed 48×48 grayscale crops — the one place that geometry lives."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emotiondesk.classification import CROP_SIZE
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


def face_crops(gray: np.ndarray, faces: list[Face], geometry: CropGeometry = DEFAULT_GEOMETRY) -> np.ndarray:
    """[N,1,48,48] float32 raw 0–255 crops of `faces` from a grayscale frame, ready for the classifier."""
    crops = np.empty((len(faces), 1, CROP_SIZE, CROP_SIZE), np.float32)
    for index, face in enumerate(faces):
        matrix = crop_transform(face, geometry)
        zoom = np.hypot(matrix[0, 0], matrix[0, 1])
        interpolation = cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR
        source = gray
        if zoom < 0.5:  # shrink big faces in steps so small details are averaged, not aliased
            factor = int(1 / zoom) // 2 * 2 or 1
            height, width = gray.shape[:2]
            side = max(face.box.w, face.box.h)
            x0 = int(np.clip(face.box.x - side, 0, width - 1))
            y0 = int(np.clip(face.box.y - side, 0, height - 1))
            x1 = int(np.clip(face.box.x + face.box.w + side, x0 + 1, width))
            y1 = int(np.clip(face.box.y + face.box.h + side, y0 + 1, height))
            region = gray[y0:y1, x0:x1]
            source = cv2.resize(
                region,
                (max(region.shape[1] // factor, 1), max(region.shape[0] // factor, 1)),
                interpolation=cv2.INTER_AREA,
            )
            offset = np.array([[1, 0, x0], [0, 1, y0]], np.float64)
            matrix = matrix @ np.vstack([offset, [0, 0, 1]]) @ np.diag([factor, factor, 1.0])
        crops[index, 0] = cv2.warpAffine(
            source, matrix, (CROP_SIZE, CROP_SIZE), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
        )
    return crops
