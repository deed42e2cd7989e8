"""Geometry robustness with the real detector: face counts, edges, sizes, exposure and pixel formats."""

import cv2
import numpy as np
import pytest

from emotiondesk.pipeline import Pipeline, PipelineConfig
from emotiondesk.samples import face_frame
from emotiondesk.types import Frame


@pytest.fixture(scope="module")
def pipeline(contract_model):
    with Pipeline(PipelineConfig(model=str(contract_model), video=False)) as pipe:
        yield pipe


def check(result, width, height):
    for face in result.faces:
        box = face.box
        assert box.x >= 0 and box.y >= 0 and box.x + box.w <= width and box.y + box.h <= height
        assert face.probabilities is not None and abs(float(face.probabilities.sum()) - 1) < 1e-4
    return len(result.faces)


@pytest.mark.parametrize("faces", [0, 1, 2, 3, 4, 6, 10])
def test_zero_to_ten_faces(pipeline, face_image, faces):
    frame = face_frame(face_image, faces, 1280, 720)
    found = check(pipeline.process(Frame(0, 0.0, frame)), 1280, 720)
    assert found <= faces
    if faces in (1, 2, 3):
        assert found == faces


def test_faces_cut_by_the_frame_edge(pipeline, face_image):
    frame = np.full((480, 640, 3), 90, np.uint8)
    head = cv2.resize(face_image, (250, 300))
    frame[180:480, 0:150] = head[:300, 100:250]  # left half of the head, cut by the left and bottom edges
    check(pipeline.process(Frame(0, 0.0, frame)), 640, 480)


@pytest.mark.parametrize("head_width", [40, 100, 600])
def test_tiny_and_huge_faces(pipeline, face_image, head_width):
    frame = np.full((720, 1280, 3), 90, np.uint8)
    head = cv2.resize(face_image, (head_width, int(head_width * 1.2)))
    h, w = min(head.shape[0], 720), head.shape[1]
    frame[:h, :w] = head[:h]
    check(pipeline.process(Frame(0, 0.0, frame)), 1280, 720)


@pytest.mark.parametrize("level", [0, 8, 247, 255])
def test_extreme_dark_and_bright_frames(pipeline, face_image, level):
    frame = np.full((480, 640, 3), level, np.uint8)
    assert check(pipeline.process(Frame(0, 0.0, frame)), 640, 480) == 0
    dim = (face_frame(face_image, 1) * (0.08 if level < 128 else 1.0)).astype(np.uint8)
    check(pipeline.process(Frame(1, 0.1, dim)), 640, 480)


@pytest.mark.parametrize(
    "convert, faces",
    [(lambda f: cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), 1), (lambda f: cv2.cvtColor(f, cv2.COLOR_BGR2BGRA), 3)],
)
def test_grayscale_and_bgra_input(pipeline, face_image, convert, faces):
    # BlazeFace is trained on colour: on gray frames small faces score lower, so one large face is used
    frame = convert(face_frame(face_image, faces))
    assert check(pipeline.process(Frame(0, 0.0, frame)), 640, 480) == faces
