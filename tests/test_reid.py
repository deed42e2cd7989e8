"""Re-identification and participant mode on generated clips of real faces, through the real detector.

Each scenario of bench/tracking.py (emotiondesk/samples.py scenes) in a short clip: a face away and back, two
faces crossing at walking pace, faces entering and leaving, a bystander behind a participant, a detector
missing random frames. A tracker face belongs to the true face whose tile holds its box centre.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotiondesk.cli.main import main
from emotiondesk.pipeline import Pipeline, PipelineConfig
from emotiondesk.samples import (
    Actor,
    Scene,
    bystander_scene,
    crossing_scene,
    dropout_scene,
    entering_scene,
    fer2013_faces,
    missing_frames_scene,
    sample_face,
)
from emotiondesk.sources import open_source
from emotiondesk.stages.detection import FaceDetector

FER2013 = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "fer2013" / "fer2013.csv.xz"


@pytest.fixture(scope="session")
def people() -> list:
    """Three different real people: two FER2013 faces BlazeFace finds at scene size, and the astronaut."""
    if not FER2013.exists():
        pytest.skip(f"{FER2013}: FER2013 not found")
    found = []
    detector = FaceDetector("short", min_confidence=0.5, video=False)
    try:
        for tile in fer2013_faces(FER2013, 40):
            image, _truth = next(Scene([Actor(tile, [(0.0, 320.0, 240.0, 220.0)])], 0.1).frames())
            if max((f.det_score for f in detector.detect(image)), default=0.0) >= 0.6:
                found.append(tile)
            if len(found) == 2:
                break
    finally:
        detector.close()
    assert len(found) == 2, "fewer than two FER2013 faces found by BlazeFace"
    return [*found, sample_face()]


def owner(box, truth) -> int | None:
    """The true face whose tile holds the box centre; the one in front (drawn last) where tiles overlap."""
    cx, cy = box.center
    return next((n for n, t in reversed(truth) if t.x <= cx < t.x + t.w and t.y <= cy < t.y + t.h), None)


def track(scene: Scene, path: Path, model: Path, **config) -> tuple[dict[int, set[int]], list[list]]:
    """Run the clip through the real pipeline: {true face: its IDs}, and per frame the (ID, true face) pairs."""
    truth = scene.write(path)
    ids: dict[int, set[int]] = {}
    frames = []
    with Pipeline(PipelineConfig(model=str(model), **config)) as pipeline, open_source(path) as source:
        for frame, result in pipeline.stream(source):
            pairs = [(face.face_id, owner(face.box, truth[frame.index])) for face in result.faces]
            assert len({i for i, _n in pairs}) == len(pairs), "two faces with one ID in a frame"
            for face_id, number in pairs:
                ids.setdefault(number, set()).add(face_id)
            frames.append(pairs)
    return ids, frames


def test_a_face_back_after_3_s_keeps_its_id(tmp_path, people, contract_model):
    scene = dropout_scene(people[0], people[1], 3.0, times=1, fps=10)
    before, _ = track(scene, tmp_path / "gap.avi", contract_model, reid_s=0.0)
    after, _ = track(scene, tmp_path / "gap.avi", contract_model, reid_s=10.0)
    assert len(before[0]) == 2 and len(before[1]) == 1  # today's tracker: a new ID after 1 s away
    assert len(after[0]) == 1 and len(after[1]) == 1 and after[0] != after[1]
    assert None not in after


@pytest.mark.parametrize("widths_per_s", [9.0, 1.0])  # walking pace; seated people leaning past each other
def test_faces_crossing_keep_their_ids(tmp_path, people, contract_model, widths_per_s):
    scene = crossing_scene(people[0], people[1], widths_per_s, fps=15 if widths_per_s > 3 else 10)
    ids, frames = track(scene, tmp_path / "cross.avi", contract_model)
    assert len(ids[0]) == len(ids[1]) == 1 and ids[0] != ids[1]  # no swap, no new ID after being hidden
    assert sum(len(pairs) == 1 for pairs in frames) >= 1  # one hid the other for a while


def test_entering_and_leaving(tmp_path, people, contract_model):
    ids, _frames = track(
        entering_scene(people[2], people[0], people[1], fps=10), tmp_path / "enter.avi", contract_model
    )
    assert all(len(ids[n]) == 1 for n in (0, 1, 2)), ids  # b keeps its ID after 3 s away
    assert len(ids[0] | ids[1] | ids[2]) == 3  # c, sitting where b sat, is someone else


def test_participant_mode_keeps_id_1_and_ignores_the_bystander(tmp_path, people, contract_model):
    scene = bystander_scene(people[0], people[2], fps=10)  # participant: actor 1; bystander: actor 0
    every, _ = track(scene, tmp_path / "by.avi", contract_model)
    ids, frames = track(scene, tmp_path / "by.avi", contract_model, max_faces=1)
    assert 0 in every  # the bystander is a face the detector finds
    assert ids == {1: {1}}  # only the participant, always ID 1, also while the bystander is alone in view
    assert sum(len(pairs) for pairs in frames) > 0.6 * len(frames)


def test_a_detector_missing_random_frames(tmp_path, people, contract_model):
    scene = missing_frames_scene(people[:2], miss=0.3, seconds=8.0, fps=10, longest_s=1.6)  # runs of up to 1.6 s
    before, _ = track(scene, tmp_path / "miss.avi", contract_model, reid_s=0.0)
    after, _ = track(scene, tmp_path / "miss.avi", contract_model)
    assert sorted(after) == [0, 1] and len(after[0]) == len(after[1]) == 1 and after[0] != after[1]
    assert len(before[0]) + len(before[1]) > 2  # the old tracker split a face at a run longer than 1 s


def test_cli_options_and_the_sidecar_say_the_mode(tmp_path, clip_three_faces, contract_model):
    out = tmp_path / "p.csv"
    args = ["analyze", str(clip_three_faces), "--model", str(contract_model), "--quiet", "--csv", str(out)]
    assert main([*args, "--max-faces", "1", "--reid-seconds", "4"]) == 0
    tracking = json.loads(out.with_suffix(".json").read_text())["tracking"]
    assert tracking["max_faces"] == 1 and tracking["reid_s"] == 4 and tracking["mode"].startswith("participant")
    assert {line.split(",")[2] for line in out.read_text().splitlines()[1:]} == {"1"}
    assert main([*args, "--overwrite"]) == 0
    tracking = json.loads(out.with_suffix(".json").read_text())["tracking"]
    assert tracking["mode"] == "all faces" and tracking["reid_s"] == 10 and "LBP" in tracking["reid_appearance"]
    assert main([*args, "--max-faces", "0"]) == 2 and main([*args, "--reid-seconds", "-1"]) == 2
