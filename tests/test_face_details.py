"""Face details (MediaPipe Face Landmarker) on real faces: values, head-pose signs, matching, CSV columns."""

import csv
import json
import math

import cv2
import numpy as np
import pytest

from emotiondesk.cli.main import main
from emotiondesk.pipeline import Pipeline, PipelineConfig
from emotiondesk.samples import face_frame
from emotiondesk.sinks.csv_sink import csv_columns
from emotiondesk.sources import open_source
from emotiondesk.stages.face_details import (
    BLENDSHAPE_NAMES,
    DETAIL_COLUMNS,
    DetailSchedule,
    FaceLandmarker,
    attach_details,
    detail_cells,
    head_pose_from_matrix,
    match_faces,
    top_blendshapes,
)
from emotiondesk.types import Box, Face


@pytest.fixture(scope="module")
def landmarker():
    with FaceLandmarker(video=False) as model:
        yield model


@pytest.fixture(scope="module")
def one_face(face_image) -> np.ndarray:
    return face_frame(face_image, 1)


def turned(image: np.ndarray, landmarker: FaceLandmarker, shift: float) -> np.ndarray:
    """Shift the middle of the face sideways, edges fixed: the nose moves as in a head turn (shift > 0: right)."""
    mesh = landmarker.detect(image)[0].landmarks
    x0, x1 = mesh[:, 0].min(), mesh[:, 0].max()
    height, width = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    t = np.clip((xs - x0) / (x1 - x0), 0, 1)
    return cv2.remap(image, (xs - shift * np.sin(np.pi * t)).astype(np.float32), ys, cv2.INTER_LINEAR)


def test_smiling_astronaut_has_high_smile_and_a_near_frontal_pose(landmarker, one_face):
    faces = landmarker.detect(one_face)  # also checks the model's blendshape names against BLENDSHAPE_NAMES
    assert len(faces) == 1
    face = faces[0]
    assert face.blendshapes.shape == (52,) and face.landmarks.shape == (478, 3)
    scores = dict(zip(BLENDSHAPE_NAMES, face.blendshapes))
    assert scores["mouthSmileLeft"] > 0.6 and scores["mouthSmileRight"] > 0.6
    assert scores["jawOpen"] < 0.3 and scores["eyeBlinkLeft"] < 0.5
    assert [name for name, _ in top_blendshapes(face, 2)] in (
        ["mouthSmileLeft", "mouthSmileRight"],
        ["mouthSmileRight", "mouthSmileLeft"],
    )
    yaw, pitch, roll = face.head_pose
    assert abs(yaw) < 10 and abs(pitch) < 20 and abs(roll) < 10


def test_yaw_follows_the_nose_and_flips_in_the_mirror(landmarker, one_face):
    to_its_left = turned(one_face, landmarker, 30)  # nose towards the image right = turned to its own left
    yaw = landmarker.detect(to_its_left)[0].head_pose[0]
    mirrored_yaw = landmarker.detect(np.ascontiguousarray(to_its_left[:, ::-1]))[0].head_pose[0]
    assert yaw > 8 and mirrored_yaw < -8
    assert abs(yaw + mirrored_yaw) < 5


def test_roll_is_positive_for_a_clockwise_tilt_and_flips_in_the_mirror(landmarker, one_face):
    height, width = one_face.shape[:2]
    clockwise = cv2.warpAffine(one_face, cv2.getRotationMatrix2D((width / 2, height / 2), -15, 1.0), (width, height))
    roll = landmarker.detect(clockwise)[0].head_pose[2]
    mirrored_roll = landmarker.detect(np.ascontiguousarray(clockwise[:, ::-1]))[0].head_pose[2]
    assert 8 < roll < 25 and -25 < mirrored_roll < -8


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = (math.radians(v) for v in (yaw, -pitch, -roll))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    matrix = np.eye(4)
    matrix[:3, :3] = ry @ rx @ rz
    return matrix


@pytest.mark.parametrize("angles", [(0, 0, 0), (30, 0, 0), (0, -20, 0), (0, 0, 12), (-25, 15, -8)])
def test_head_pose_decomposition_recovers_the_angles(angles):
    assert np.allclose(head_pose_from_matrix(rotation(*angles)), angles, atol=1e-6)


def test_matching_pairs_by_overlap_whatever_the_order():
    faces = [Face(Box(0, 0, 100, 100), 0.9), Face(Box(300, 0, 100, 100), 0.9), Face(Box(600, 0, 50, 50), 0.9)]
    details = [
        Face(Box(305, -10, 100, 120), 1.0, blendshapes=np.full(52, 0.2, np.float32), head_pose=(1.0, 2.0, 3.0)),
        Face(Box(-5, -15, 105, 125), 1.0, blendshapes=np.full(52, 0.1, np.float32), head_pose=(4.0, 5.0, 6.0)),
        Face(Box(900, 0, 50, 50), 1.0, blendshapes=np.zeros(52, np.float32), head_pose=(0.0, 0.0, 0.0)),
    ]
    assert match_faces(faces, details) == [(0, 1), (1, 0)]
    assert attach_details(faces, details) == 2
    assert faces[0].head_pose == (4.0, 5.0, 6.0) and faces[1].head_pose == (1.0, 2.0, 3.0)
    assert faces[2].blendshapes is None and detail_cells(faces[2]) == [""] * len(DETAIL_COLUMNS)
    assert detail_cells(faces[0])[-3:] == ["4.00", "5.00", "6.00"]


def test_matching_is_one_to_one():
    faces = [Face(Box(0, 0, 100, 100), 0.9), Face(Box(10, 0, 100, 100), 0.9)]
    details = [Face(Box(5, 0, 100, 110), 1.0)]
    assert len(match_faces(faces, details)) == 1


def test_pipeline_puts_each_mesh_on_its_own_tracked_face(clip_three_faces, contract_model):
    config = PipelineConfig(model=str(contract_model), face_details=True)
    meshes: dict[int, list[float]] = {}
    with Pipeline(config) as pipeline, open_source(clip_three_faces) as source:
        for _frame, result in pipeline.stream(source):
            assert "details" in result.timings_ms
            for face in result.faces:
                assert face.blendshapes is not None, f"frame {result.index}: face {face.face_id} unmatched"
                centre_x = float(face.landmarks[:, 0].mean())
                assert face.box.x < centre_x < face.box.x + face.box.w  # the mesh lies on this face's box
                meshes.setdefault(face.face_id, []).append(centre_x)
    assert len(meshes) == 3
    columns = sorted(meshes, key=lambda face_id: np.mean(meshes[face_id]))
    left, middle, right = (np.mean(meshes[face_id]) for face_id in columns)
    assert left < 640 / 3 < middle < 2 * 640 / 3 < right
    for positions in meshes.values():  # one ID keeps one face: its mesh never jumps to another column
        assert np.ptp(positions) < 60


def test_cli_writes_detail_columns_last(tmp_path, clip_three_faces, contract_model):
    out = tmp_path / "details.csv"
    args = ["analyze", str(clip_three_faces), "--model", str(contract_model), "--csv", str(out), "--quiet"]
    assert main([*args, "--face-details"]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
        handle.seek(0)
        header = next(csv.reader(handle))
    assert header[-len(DETAIL_COLUMNS) :] == DETAIL_COLUMNS and header[-3:] == ["yaw", "pitch", "roll"]
    assert header[: -len(DETAIL_COLUMNS)] == csv_columns(tuple(c[2:] for c in header if c.startswith("p_")))
    assert len(rows) >= 50
    filled = [r for r in rows if r["yaw"] != ""]
    assert len(filled) == len(rows)
    assert np.median([float(r["bs_mouthSmileLeft"]) for r in filled]) > 0.6
    assert all(abs(float(r["yaw"])) < 20 and abs(float(r["roll"])) < 15 for r in filled)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["columns"] == header
    assert sidecar["face_details"]["schedule"]["every_n_frames"] == 1


def test_every_nth_frame_carries_values_forward(tmp_path, clip_three_faces, contract_model):
    out = tmp_path / "every3.csv"
    args = ["analyze", str(clip_three_faces), "--model", str(contract_model), "--csv", str(out), "--quiet"]
    assert main([*args, "--face-details-every", "3"]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    by_face: dict[str, dict[int, str]] = {}
    for row in rows:
        by_face.setdefault(row["face_id"], {})[int(row["frame"])] = row["bs_mouthSmileLeft"] + row["yaw"]
    for frames in by_face.values():
        for frame, value in frames.items():
            run_frame = frame - frame % 3
            if run_frame in frames:
                assert value == frames[run_frame]  # frames between runs repeat the last run's values
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["face_details"]["schedule"]["every_n_frames"] == 3
    assert "carried forward" in sidecar["face_details"]["schedule"]["between_runs"]


def test_schedule_is_due_every_nth_frame():
    schedule = DetailSchedule(3)
    assert [schedule.due() for _ in range(7)] == [True, False, False, True, False, False, True]


def test_bad_schedule_is_a_one_line_error(capsys, clip_one_face):
    assert main(["analyze", str(clip_one_face), "--face-details-every", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["emotiondesk: error: --face-details-every 0: must be at least 1"]


def test_left_and_right_are_the_subjects_own_sides(landmarker, one_face):
    """Covering the eye on the image left (the subject's right eye) raises eyeBlinkRight, not eyeBlinkLeft."""
    mesh = landmarker.detect(one_face)[0].landmarks
    corners = mesh[[33, 133, 159, 145], :2]  # the subject's right eye in the face mesh
    (x0, y0), (x1, y1) = corners.min(0).astype(int) - 4, corners.max(0).astype(int) + 4
    covered = one_face.copy()
    covered[y0:y1, x0:x1] = one_face[y1 + 2 : 2 * y1 + 2 - y0, x0:x1]  # skin from just below the eye
    scores = dict(zip(BLENDSHAPE_NAMES, landmarker.detect(covered)[0].blendshapes))
    assert scores["eyeBlinkRight"] > 0.25 and scores["eyeBlinkRight"] > 2 * scores["eyeBlinkLeft"]
