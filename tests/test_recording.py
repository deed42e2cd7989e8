import csv
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emotiondesk.errors import RecordingError
from emotiondesk.sinks.base import RunStatus
from emotiondesk.sinks.csv_sink import CsvRecorder, csv_columns
from emotiondesk.types import Box, Face, FrameResult

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def result_with(n_faces: int, index: int = 0, seed: int = 0) -> FrameResult:
    rng = np.random.default_rng(seed)
    faces = []
    for k in range(n_faces):
        p = rng.dirichlet(np.ones(7)).astype(np.float32)
        faces.append(Face(Box(k * 10, 5, 40, 40), 0.9, probabilities=p, smoothed=p, face_id=k + 1))
    return FrameResult(index, index / 30, 640, 480, faces, LABELS)


def test_columns_in_contract_order():
    assert csv_columns(LABELS) == [
        "time_s",
        "frame",
        "face_id",
        "x",
        "y",
        "w",
        "h",
        "det_score",
        "label",
        "confidence",
        "p_angry",
        "p_disgust",
        "p_fear",
        "p_happy",
        "p_sad",
        "p_surprise",
        "p_neutral",
        "smoothed_label",
        "wall_time",
        "participant",
        "session",
        "face_name",
    ]


def test_rows_are_on_disk_before_close(tmp_path):
    path = tmp_path / "run.csv"
    recorder = CsvRecorder(path, LABELS, {"source": "test"})
    recorder.write(result_with(2))
    rows = list(csv.DictReader(path.open()))  # read while still open: flushed per frame
    assert len(rows) == 2 and rows[0]["face_id"] == "1"
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["finished"] is False and sidecar["source"] == "test" and "started_at" in sidecar
    recorder.close(RunStatus("finished", 1, 1, None, {"frames": 1}))
    assert json.loads(path.with_suffix(".json").read_text())["finished"] is True


def test_unwritable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecordingError, match="cannot write CSV") as info:
        CsvRecorder(blocker / "out.csv", LABELS)
    assert "out.csv" in str(info.value)


class FullDisk:
    """Wraps the recorder's file: writes fail with ENOSPC after `budget` bytes, leaving a partial row."""

    def __init__(self, real, budget: int) -> None:
        self.real, self.budget = real, budget

    def write(self, data: bytes) -> int:
        if self.budget <= 0:
            raise OSError(28, "No space left on device")
        taken = self.real.write(data[: self.budget])
        self.budget -= taken
        return taken

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_write_failure_mid_run_keeps_complete_rows(tmp_path):
    path = tmp_path / "run.csv"
    recorder = CsvRecorder(path, LABELS)
    recorder.write(result_with(3, 0))
    recorder._file = FullDisk(recorder._file, budget=50)  # half a row fits, then the disk is full
    with pytest.raises(RecordingError, match="No space left on device.*3 rows"):
        recorder.write(result_with(3, 1))
    recorder.close()
    text = path.read_text()
    assert text.endswith("\n")  # the partial row was cut away
    assert len(list(csv.DictReader(text.splitlines()))) == 3


def test_removed_folder_is_detected(tmp_path):
    folder = tmp_path / "sessions"
    recorder = CsvRecorder(folder / "run.csv", LABELS, fsync_interval_s=0.0)
    recorder.write(result_with(1, 0))
    (folder / "run.csv").unlink()
    (folder / "run.json").unlink()
    folder.rmdir()
    with pytest.raises(RecordingError, match="removed during recording"):
        recorder.write(result_with(1, 1))
    recorder.close()  # no crash, nothing to complete


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=0, max_size=8), st.integers(0, 2**16))
def test_csv_round_trips_any_face_counts(tmp_path_factory, counts, seed):
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    with CsvRecorder(path, LABELS) as recorder:
        for index, count in enumerate(counts):
            recorder.write(result_with(count, index, seed + index))
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == sum(counts)
    for row in rows:
        probabilities = [float(row[f"p_{label}"]) for label in LABELS]
        assert abs(sum(probabilities) - 1) < 1e-3
        assert (
            row["label"] == LABELS[int(np.argmax(probabilities))]
            or max(probabilities) - float(row["confidence"]) < 1e-4
        )
        assert row["label"] in LABELS and row["smoothed_label"] in LABELS
