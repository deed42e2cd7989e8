"""Fault injection on the core: every fault gives its stated error, ends or recovers as designed, and leaves
the CSV valid and complete up to the fault."""

import csv
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emotiondesk.errors import ModelError, SourceError
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs import analyze as analyze_module
from emotiondesk.runs.analyze import analyze
from emotiondesk.samples import face_frame
from emotiondesk.sources import FrameSource
from emotiondesk.types import Frame

ROOT = Path(__file__).resolve().parent.parent


class ScriptedSource(FrameSource):
    """Frames from a list; an Exception item is raised when reached (a source failing mid-stream)."""

    kind = "video"
    fps = 15.0

    def __init__(self, items) -> None:
        self.items = items
        self.name = "scripted-source"
        self.frame_count = len(items)

    def __iter__(self):
        for index, item in enumerate(self.items):
            if isinstance(item, Exception):
                raise item
            yield Frame(index, index / 15, item)


def run_scripted(monkeypatch, tmp_path, items, model):
    monkeypatch.setattr(analyze_module, "open_source", lambda spec: ScriptedSource(items))
    out = tmp_path / "faults.csv"
    outcome = analyze("scripted", PipelineConfig(model=str(model)), out, progress=False)
    rows = list(csv.DictReader(out.open()))
    return outcome, rows, json.loads(out.with_suffix(".json").read_text())


def frames_with_faces(face_image, count, faces=1, width=640, height=480):
    return [face_frame(face_image, faces, width, height, step) for step in range(count)]


@pytest.mark.parametrize(
    "failure", [SourceError("camera 0: stopped delivering frames (disconnected?)"), RuntimeError("codec exploded")]
)
def test_source_raising_mid_stream(monkeypatch, tmp_path, face_image, contract_model, failure):
    items = frames_with_faces(face_image, 4) + [failure] + frames_with_faces(face_image, 3)
    outcome, rows, sidecar = run_scripted(monkeypatch, tmp_path, items, contract_model)
    assert outcome.error is not None
    assert ("camera 0" if isinstance(failure, SourceError) else "scripted-source") in str(outcome.error)
    assert [int(r["frame"]) for r in rows] == [0, 1, 2, 3]
    assert sidecar["finished"] is False and sidecar["status"] == "error" and sidecar["summary"]["frames"] == 4
    assert sidecar["error"] == str(outcome.error) and sidecar["frames_done"] == 4 and sidecar["frames_in_source"] == 8


def test_empty_frames_are_skipped(monkeypatch, tmp_path, face_image, contract_model):
    items = frames_with_faces(face_image, 2) + [np.zeros((0, 0, 3), np.uint8), None] + frames_with_faces(face_image, 2)
    outcome, rows, _ = run_scripted(monkeypatch, tmp_path, items, contract_model)
    assert outcome.error is None
    assert sorted({int(r["frame"]) for r in rows}) == [0, 1, 4, 5]


def test_resolution_change_mid_stream(monkeypatch, tmp_path, face_image, contract_model):
    items = frames_with_faces(face_image, 3) + frames_with_faces(face_image, 3, width=1280, height=720)
    monkeypatch.setattr(analyze_module, "open_source", lambda spec: ScriptedSource(items))
    out, video = tmp_path / "res.csv", tmp_path / "res.mp4"
    outcome = analyze("scripted", PipelineConfig(model=str(contract_model)), out, video, progress=False)
    assert outcome.error is None
    rows = list(csv.DictReader(out.open()))
    assert {int(r["frame"]) for r in rows} == set(range(6))
    assert max(int(r["x"]) for r in rows if int(r["frame"]) >= 3) > 400  # boxes in the new, larger frame


def test_onnxruntime_raising_ends_the_run_cleanly(monkeypatch, tmp_path, face_image, contract_model):
    from emotiondesk.stages.classification import EmotionClassifier

    calls = {"n": 0}
    original = EmotionClassifier.classify

    def flaky(self, crops):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ModelError(f"{self.path}: inference failed (simulated)")
        return original(self, crops)

    monkeypatch.setattr(EmotionClassifier, "classify", flaky)
    outcome, rows, _ = run_scripted(monkeypatch, tmp_path, frames_with_faces(face_image, 5), contract_model)
    assert isinstance(outcome.error, ModelError) and "inference failed" in str(outcome.error)
    assert {int(r["frame"]) for r in rows} == {0, 1}


def test_real_onnxruntime_error_becomes_model_error(contract_model):
    from emotiondesk.stages.classification import EmotionClassifier

    classifier = EmotionClassifier(contract_model)
    with pytest.raises(ModelError, match="inference failed"):
        classifier.classify(np.zeros((2, 1, 40, 40), np.float32))  # wrong shape: onnxruntime raises


def limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def test_disk_refusing_writes_mid_run(tmp_path, clip_three_faces, contract_model):
    """A real write failure: the process may not grow files past 3 kB (RLIMIT_FSIZE)."""
    out = tmp_path / "limited.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emotiondesk",
            "analyze",
            str(clip_three_faces),
            "--csv",
            str(out),
            "--model",
            str(contract_model),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_file_size,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and f"{out}: write failed" in result.stderr
    text = out.read_text()
    assert text.endswith("\n") and len(text) <= 3000
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) >= 5
    frames = [int(r["frame"]) for r in rows]
    complete = [f for f in set(frames) if frames.count(f) == 3]
    assert sorted(set(frames))[:-1] == sorted(complete)[: len(set(frames)) - 1]  # whole frames up to the fault


def test_non_image_with_image_suffix(tmp_path):
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is text")
    result = subprocess.run(
        [sys.executable, "-m", "emotiondesk", "analyze", str(fake)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and f"{fake}: not a readable image" in result.stderr
