"""The GPU recipe end to end on tiny generated data on the CPU, so it works the first time a GPU is lent."""

import json
import tarfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_training import write_tiny_fer2013  # noqa: E402

from emotiondesk.stages.classification import EmotionClassifier  # noqa: E402
from training.__main__ import main as training_main  # noqa: E402
from training.data import load_fer2013, read_pack  # noqa: E402
from training.train import TTA_SHIFTS, one_cycle_factor, shifted  # noqa: E402


def test_pack_is_lossless_and_carries_votes_and_flags(tmp_path):
    csv_path, votes_path = write_tiny_fer2013(tmp_path)
    pack = tmp_path / "pack.npz"
    assert training_main(["pack", "--data", str(csv_path), "--ferplus", str(votes_path), str(pack)]) == 0
    original, packed = load_fer2013(csv_path, votes_path), read_pack(pack)
    assert np.array_equal(original.images, packed.images) and np.array_equal(original.votes, packed.votes)
    assert list(original.usage) == list(packed.usage) and np.array_equal(original.emotion, packed.emotion)


def test_schedule_and_test_time_views():
    assert one_cycle_factor(0.0) == pytest.approx(1 / 25) and one_cycle_factor(0.15) == pytest.approx(1.0)
    assert one_cycle_factor(1.0) < 1e-4 and one_cycle_factor(0.5) > one_cycle_factor(0.9)
    batch = torch.arange(48 * 48, dtype=torch.float32).reshape(1, 1, 48, 48)
    moved = shifted(batch, 2, 0)  # content moves right by 2 px; the left edge is replicated
    assert torch.equal(moved[..., 2:], batch[..., :-2]) and torch.equal(moved[..., 0], batch[..., 0])
    assert len(TTA_SHIFTS[10]) * 2 == 10


def test_recipe_all_then_resume(tmp_path):
    csv_path, votes_path = write_tiny_fer2013(tmp_path, rows_per_split=(140, 28))
    pack = tmp_path / "pack.npz"
    training_main(["pack", "--data", str(csv_path), "--ferplus", str(votes_path), str(pack)])
    out, collect = tmp_path / "runs", tmp_path / "out"
    common = ["--data", str(pack), "--out", str(out), "--teacher-archs", "tiny", "desknet-xs", "--device", "cpu"]
    arguments = ["recipe", "all", *common, "--student-archs", "tiny", "--teacher-minutes", "0.04"]
    arguments += ["--student-minutes", "0.03", "--collect", str(collect), "--deadline-minutes", "5"]
    assert training_main(arguments) == 0
    report = json.loads((collect / "recipe-report.json").read_text())
    for label_set in ("fer2013", "ferplus"):
        entry = report["sets"][label_set]
        assert set(entry["teachers"]) == {"teacher-tiny", "teacher-desknet-xs"}
        views = {(row["model"], row["views"]) for row in entry["ensemble"]["rows"]}
        assert ("ensemble", 10) in views and ("teacher-tiny", 2) in views
        assert entry["students"]["student-tiny"]["epochs"] >= 1
        with tarfile.open(collect / f"{label_set}-students.tar") as archive:
            names = set(archive.getnames())
            assert {"student-tiny/best.pt", "student-tiny/model.onnx"} <= names
            archive.extract("student-tiny/model.onnx", tmp_path / label_set, filter="data")
        classifier = EmotionClassifier(tmp_path / label_set / "student-tiny" / "model.onnx")
        assert len(classifier.labels) == (7 if label_set == "fer2013" else 8)
    assert (collect / "fer2013-teacher-desknet-xs.pt").exists() and (collect / "recipe-logs.tar").exists()
    history = json.loads((out / "fer2013" / "teacher-tiny" / "history.json").read_text())
    # resumable: the same step again finds its time budget spent and trains no further epoch
    again = ["recipe", "teachers", *common[:4], "--teacher-archs", "tiny", "--sets", "fer2013", "--device", "cpu"]
    assert training_main([*again, "--teacher-minutes", "0.04"]) == 0
    assert json.loads((out / "fer2013" / "teacher-tiny" / "history.json").read_text()) == history
