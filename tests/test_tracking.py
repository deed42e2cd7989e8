import numpy as np

from emotiondesk.stages.tracking import FaceTracker
from emotiondesk.types import Box, Face


def faces_at(*boxes: tuple[int, int]) -> list[Face]:
    return [Face(Box(x, y, 60, 60), 0.9, probabilities=np.full(7, 1 / 7, np.float32)) for x, y in boxes]


def test_ids_survive_motion():
    tracker = FaceTracker()
    ids = []
    for step in range(30):
        faces = tracker.update(faces_at((10 + 8 * step, 50), (400 - 5 * step, 300)), step / 15)
        ids.append([f.face_id for f in faces])
    assert all(frame_ids == [1, 2] for frame_ids in ids)


def test_ids_survive_faces_crossing():
    tracker = FaceTracker()
    left_ids, right_ids = set(), set()
    for step in range(40):  # two faces swap sides, overlapping in the middle
        a, b = tracker.update(faces_at((20 + 10 * step, 100), (420 - 10 * step, 110)), step / 15)
        left_ids.add(a.face_id)
        right_ids.add(b.face_id)
    assert left_ids == {1} and right_ids == {2}


def test_ids_survive_a_brief_absence_but_not_a_long_one():
    tracker = FaceTracker(max_missing_s=1.0)
    assert tracker.update(faces_at((100, 100)), 0.0)[0].face_id == 1
    tracker.update([], 0.3)
    assert tracker.update(faces_at((104, 100)), 0.6)[0].face_id == 1  # back after 0.6 s
    tracker.update([], 1.0)
    assert tracker.update(faces_at((100, 100)), 2.0)[0].face_id == 2  # gone 1.4 s: new face


def test_new_face_gets_new_id_and_smoothing_is_ema():
    tracker = FaceTracker(smoothing_window=3)  # alpha = 0.5
    first = np.eye(7, dtype=np.float32)[3]
    second = np.eye(7, dtype=np.float32)[0]
    face = faces_at((0, 0))[0]
    face.probabilities = first
    tracker.update([face], 0.0)
    face2 = faces_at((2, 0), (300, 300))
    face2[0].probabilities = second
    tracker.update(face2, 0.1)
    np.testing.assert_allclose(face2[0].smoothed, 0.5 * first + 0.5 * second)
    assert [f.face_id for f in face2] == [1, 2]
