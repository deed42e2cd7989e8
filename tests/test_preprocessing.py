import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emotiondesk.stages.crops import CropGeometry, crop_transform, face_crops
from emotiondesk.types import Box, Face


def test_crop_is_48x48_raw_gray():
    gray = np.tile(np.arange(200, dtype=np.uint8), (200, 1))
    crops = face_crops(gray, [Face(Box(50, 50, 60, 60), 0.9)])
    assert crops.shape == (1, 1, 48, 48) and crops.dtype == np.float32
    assert crops.min() >= 0 and crops.max() <= 255 and crops.max() > 1  # raw pixels, not normalised


def test_crop_scale_and_centre_follow_geometry():
    face = Face(Box(100, 100, 80, 80), 0.9)
    geometry = CropGeometry(scale=1.5, shift_y=0.0, align_eyes=False)
    matrix = crop_transform(face, geometry)
    centre = matrix @ np.array([140, 140, 1.0])
    np.testing.assert_allclose(centre, [24, 24], atol=1e-6)
    assert np.hypot(*matrix[0, :2]) == pytest.approx(48 / 120)


def test_eye_alignment_levels_a_tilted_face():
    keypoints = np.array([[100, 100], [140, 140], [120, 130], [120, 150], [90, 110], [150, 150]], np.float32)
    face = Face(Box(80, 80, 80, 80), 0.9, keypoints)
    matrix = crop_transform(face, CropGeometry(align_eyes=True))
    right_eye, left_eye = (matrix @ np.append(k, 1.0) for k in keypoints[:2])
    # eyes on one row after alignment, to a ten-thousandth of a crop pixel: the keypoints are float32 and
    # OpenCV 5 builds the rotation in float32 (about 2e-6 px of error), so 1e-6 was below what it can meet
    assert abs(right_eye[1] - left_eye[1]) < 1e-4
    unaligned = crop_transform(face, CropGeometry(align_eyes=False))
    right_eye, left_eye = (unaligned @ np.append(k, 1.0) for k in keypoints[:2])
    assert abs(right_eye[1] - left_eye[1]) > 5  # without alignment the same face stays tilted


def test_faces_cut_by_the_frame_edge_are_padded_not_shifted():
    gray = np.full((100, 100), 200, np.uint8)
    crops = face_crops(gray, [Face(Box(0, 0, 30, 30), 0.9), Face(Box(80, 80, 20, 20), 0.9)])
    assert crops.shape == (2, 1, 48, 48)
    assert np.all(crops == 200)  # edge replication: no black borders


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(-50, 700),
    y=st.integers(-50, 500),
    w=st.integers(2, 900),
    h=st.integers(2, 900),
    frame_w=st.integers(16, 700),
    frame_h=st.integers(16, 500),
    roll=st.floats(-60, 60),
)
def test_crop_geometry_never_fails(x, y, w, h, frame_w, frame_h, roll):
    gray = np.random.default_rng(0).integers(0, 256, (frame_h, frame_w), dtype=np.uint8)
    angle = np.radians(roll)
    eyes = np.array([[x, y], [x + w * np.cos(angle), y + w * np.sin(angle)]], np.float32)
    face = Face(Box(x, y, w, h), 0.5, np.vstack([eyes, np.zeros((4, 2), np.float32)]))
    crops = face_crops(gray, [face])
    assert crops.shape == (1, 1, 48, 48)
    assert np.isfinite(crops).all() and crops.min() >= 0 and crops.max() <= 255
