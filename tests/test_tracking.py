import functools

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


# --- re-identification, participant mode, bounded state ----------------------------------------------------


@functools.lru_cache(maxsize=64)
def texture(seed: int) -> np.ndarray:
    """A 48×48 crop with a texture of its own (a stand-in for one person's face in these unit tests)."""
    import cv2

    noise = np.random.default_rng(seed).uniform(0, 255, (12, 12)).astype(np.float32)
    return cv2.resize(noise, (48, 48), interpolation=cv2.INTER_CUBIC)[None]


def crops_of(*seeds: int) -> np.ndarray:
    return np.stack([texture(seed) for seed in seeds])


def test_appearance_ignores_brightness_but_not_who():
    from emotiondesk.stages.tracking import appearance

    face, other = texture(1)[0], texture(2)[0]
    assert appearance(face) @ appearance(0.5 * face + 40) > 0.99  # lighting level and contrast: the same
    assert appearance(face) @ appearance(other) < 0.9
    assert appearance(face) @ appearance(face[:, ::-1].copy()) < appearance(face) @ appearance(face)


def test_a_face_back_within_reid_seconds_gets_its_id_by_look_even_elsewhere():
    tracker = FaceTracker(reid_s=10.0)
    for step in range(10):
        tracker.update(faces_at((100, 100), (400, 100)), step / 10, crops_of(1, 2))
    for step in range(10, 60):  # face 1 away 5 s
        tracker.update(faces_at((400, 100)), step / 10, crops_of(2))
    back = tracker.update(faces_at((250, 300), (400, 100)), 6.0, crops_of(1, 2))
    assert [f.face_id for f in back] == [1, 2]
    stranger = tracker.update(faces_at((250, 300), (400, 100), (100, 100)), 6.1, crops_of(1, 2, 3))
    assert stranger[2].face_id == 3  # someone else where face 1 sat: a new ID


def test_reid_without_crops_uses_the_place_and_stops_at_the_limit():
    tracker = FaceTracker(reid_s=3.0)
    tracker.update(faces_at((100, 100)), 0.0)
    for step in range(1, 25):
        tracker.update([], step / 10)
    assert tracker.update(faces_at((110, 100)), 2.5)[0].face_id == 1  # back near where it left
    for step in range(26, 60):
        tracker.update([], step / 10)
    assert tracker.update(faces_at((110, 100)), 6.0)[0].face_id == 2  # gone 3.5 s > 3 s: a new face
    assert FaceTracker(reid_s=0.0).update(faces_at((1, 1)), 0.0)[0].face_id == 1


def test_a_face_never_takes_the_id_of_a_face_visible_in_the_same_frame():
    tracker = FaceTracker(reid_s=10.0)
    for step in range(10):
        tracker.update(faces_at((100, 100), (400, 100)), step / 10, crops_of(1, 2))
    for step in range(10, 30):
        tracker.update(faces_at((400, 100)), step / 10, crops_of(2))  # face 1 lost
    # two faces that both look like face 1, and one that looks like face 2 (visible): one gets ID 1, none ID 2
    faces = tracker.update(faces_at((400, 100), (100, 100), (100, 300), (250, 300)), 3.0, crops_of(2, 1, 1, 2))
    ids = [f.face_id for f in faces]
    assert ids[0] == 2 and ids[1] == 1 and len(set(ids)) == 4


def test_tracker_state_stays_bounded_over_an_hour():
    import tracemalloc

    rng = np.random.default_rng(0)
    tracker = FaceTracker(max_missing_s=5.0, reid_s=10.0, max_lost=32)
    for seed in (1, 2, *range(100, 160)):
        texture(seed)  # the test's own cache, filled before measuring
    tracemalloc.start()
    sizes, most = [], 0
    for step in range(900):  # an hour, a frame every 4 s: two seated faces, a new passer-by every 16 s for 8 s
        boxes = [(100, 100), (400, 100)]
        if step % 4 < 2:
            boxes.append((int(rng.integers(0, 500)), 300))
        faces = tracker.update(faces_at(*boxes), 4.0 * step, crops_of(1, 2, 100 + step // 4 % 60)[: len(boxes)])
        assert len({f.face_id for f in faces}) == len(faces)
        most = max(most, len(tracker.tracks))
        if step in (150, 899):
            sizes.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    assert most <= 32 + 3
    assert sizes[1] - sizes[0] < 200_000  # flat: what 50 minutes add is noise, not growth


def test_participant_mode_keeps_the_most_prominent_face_with_hysteresis():
    tracker = FaceTracker(reid_s=10.0, max_faces=1)
    size = (640, 480)

    def frame(time_s, *faces):
        boxes = [Face(Box(x, y, s, s), 0.9, probabilities=np.full(7, 1 / 7, np.float32)) for x, y, s in faces]
        seeds = [seed for *_b, seed in [(*f, i + 1) for i, f in enumerate(faces)]]
        return [(f.face_id, f.box.x) for f in tracker.update(boxes, time_s, crops_of(*seeds), size)]

    assert frame(0.0, (250, 150, 150), (20, 20, 60)) == [(1, 250)]  # the participant, not the small face
    for step in range(1, 11):  # a bigger face passes by for 1 s: not long enough to take over
        assert frame(step / 10, (250, 150, 150), (450, 150, 260)) == [(1, 250)]
    for step in range(11, 40):  # the participant alone again
        assert frame(step / 10, (250, 150, 150)) == [(1, 250)]
    for step in range(40, 200):  # away 16 s (past reid_s); a bystander small and off-centre stays unnumbered
        assert frame(step / 10, (10, 10, 70)) == []
    assert frame(20.0, (240, 150, 150)) == [(1, 240)]  # the participant back: ID 1 again
    kept = [frame(20.1 + step / 10, (240, 150, 120), (300, 120, 300)) for step in range(40)]
    assert kept[0] == [(1, 240)] and kept[-1] == [(1, 300)]  # a far more prominent face for > 2 s takes over


def test_smoothing_starts_afresh_for_a_re_identified_face():
    tracker = FaceTracker(reid_s=10.0, smoothing_window=9)
    happy, sad = np.eye(7, dtype=np.float32)[3], np.eye(7, dtype=np.float32)[4]
    for step in range(10):
        face = faces_at((100, 100))[0]
        face.probabilities = happy
        tracker.update([face], step / 10, crops_of(1))
    for step in range(10, 40):
        tracker.update([], step / 10)
    face = faces_at((110, 100))[0]
    face.probabilities = sad
    (back,) = tracker.update([face], 4.0, crops_of(1))
    assert back.face_id == 1 and np.array_equal(back.smoothed, sad)  # not pulled towards the happy of 3 s ago
