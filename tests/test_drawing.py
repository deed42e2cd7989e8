"""Annotated-video tags: inside the frame, never on top of each other."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emotiondesk.sinks.drawing import draw_result, layout_labels
from emotiondesk.types import Box, Face, FrameResult

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@settings(max_examples=200, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(st.integers(-40, 620), st.integers(-40, 460), st.integers(30, 200), st.integers(30, 200)),
        min_size=1,
        max_size=6,
    ),
    tag_w=st.integers(60, 160),
    tag_h=st.integers(12, 24),
)
def test_tags_stay_inside_and_apart(boxes, tag_w, tag_h):
    width, height = 640, 480
    corners = layout_labels(boxes, [(tag_w, tag_h)] * len(boxes), width, height)
    rects = [(x, y, tag_w, tag_h) for x, y in corners]
    for x, y, w, h in rects:
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            assert not overlaps(a, b), (a, b)


def test_edge_face_and_neighbours_are_drawn_inside_the_frame():
    """The reported case: a face at the right edge ("#2 happy 8…" ran off) and two faces side by side."""
    probabilities = np.eye(len(LABELS), dtype=np.float32)[3] * 0.8 + 0.2 / len(LABELS)
    faces = [
        Face(Box(590, 0, 50, 60), 0.9, probabilities=probabilities, face_id=2),
        Face(Box(100, 100, 60, 60), 0.9, probabilities=probabilities, face_id=10),
        Face(Box(120, 105, 60, 60), 0.9, probabilities=probabilities, face_id=11),
    ]
    image = np.zeros((240, 640, 3), np.uint8)
    drawn = draw_result(image, FrameResult(0, 0.0, 640, 240, faces, LABELS))
    assert drawn.shape == image.shape and drawn[:, -1].any()  # the edge face's tag reaches the last column
    boxes = [(f.box.x, f.box.y, f.box.w, f.box.h) for f in faces]
    corners = layout_labels(boxes, [(110, 20)] * 3, 640, 240)
    assert corners[0][0] == 640 - 110 and corners[0][1] == 0  # pulled left, placed inside the box's top
    assert not overlaps((*corners[1], 110, 20), (*corners[2], 110, 20))
