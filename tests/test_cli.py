"""End-to-end `emotiondesk analyze` on clips of real faces (real BlazeFace, no mocks)."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from model_factory import FER_LABELS

from emotiondesk.cli.main import main
from emotiondesk.sinks.csv_sink import csv_columns

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emotiondesk", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def read_rows(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_analyze_writes_csv_sidecar_and_annotated_video(tmp_path, clip_three_faces, contract_model):
    out_csv, out_video = tmp_path / "run.csv", tmp_path / "run.mp4"
    code = main(
        [
            "analyze",
            str(clip_three_faces),
            "--csv",
            str(out_csv),
            "--annotated",
            str(out_video),
            "--model",
            str(contract_model),
            "--quiet",
        ]
    )
    assert code == 0
    with out_csv.open() as handle:
        header = next(csv.reader(handle))
    assert header == csv_columns(FER_LABELS)
    rows = read_rows(out_csv)
    frames = {int(r["frame"]) for r in rows}
    assert frames == set(range(20))
    per_frame = [sum(1 for r in rows if int(r["frame"]) == f) for f in sorted(frames)]
    assert min(per_frame) >= 2 and max(per_frame) == 3
    # IDs: three stable faces, each keeping its horizontal slot all clip long
    ids_by_slot = {}
    for row in rows:
        slot = int(row["x"]) // 214
        ids_by_slot.setdefault(slot, set()).add(row["face_id"])
    assert sorted(ids_by_slot) == [0, 1, 2]
    assert all(len(ids) == 1 for ids in ids_by_slot.values())
    assert float(rows[-1]["time_s"]) == pytest.approx(19 / 15, abs=0.01)
    sidecar = json.loads(out_csv.with_suffix(".json").read_text())
    assert sidecar["finished"] and sidecar["model"]["labels"] == FER_LABELS
    assert sidecar["detector"]["model"].endswith("face_detection_short_range.tflite")
    assert sidecar["source"]["kind"] == "video" and sidecar["smoothing"]["window_frames"] == 5
    capture = cv2.VideoCapture(str(out_video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 20
    capture.release()


def test_one_onnxruntime_call_per_frame(clip_three_faces, contract_model):
    from emotiondesk.pipeline import Pipeline, PipelineConfig
    from emotiondesk.sources import open_source

    with Pipeline(PipelineConfig(model=str(contract_model))) as pipeline, open_source(clip_three_faces) as source:
        results = [pipeline.process(frame) for frame in source]
    frames_with_faces = sum(1 for r in results if r.faces)
    assert sum(len(r.faces) for r in results) > 2 * len(results)
    assert pipeline.classifier.calls == frames_with_faces


def test_image_folder_and_still(tmp_path, still_three_faces, contract_model):
    out_csv = tmp_path / "still.csv"
    assert (
        main(["analyze", str(still_three_faces), "--csv", str(out_csv), "--model", str(contract_model), "--quiet"]) == 0
    )
    rows = read_rows(out_csv)
    assert len(rows) == 3 and {r["frame"] for r in rows} == {"0"}


@pytest.mark.parametrize("name", ["fer2013", "fer2013-accurate", "ferplus"])
def test_bundled_models_by_name(tmp_path, still_three_faces, name):
    from emotiondesk.stages.classification import EmotionClassifier

    labels = EmotionClassifier(name).labels
    out_csv = tmp_path / f"{name}.csv"
    assert main(["analyze", str(still_three_faces), "--csv", str(out_csv), "--model", name, "--quiet"]) == 0
    with out_csv.open() as handle:
        assert next(csv.reader(handle)) == csv_columns(labels)
    assert ("contempt" in labels) == (name == "ferplus")


def written(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make_input, message",
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: written(d / "empty.mp4", b""), "file is empty"),
        (lambda d: written(d / "notes.mp4", b"hello " * 50), "not a readable video"),
        (lambda d: "0", "camera 0: cannot be opened"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(tmp_path, make_input, message):
    target = make_input(tmp_path)
    result = run_cli("analyze", str(target), "--csv", str(tmp_path / "o.csv"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("emotiondesk: error:")]
    assert len(error_lines) == 1 and message in error_lines[0] and str(target) in error_lines[0]


def test_corrupt_model_and_unwritable_output(tmp_path, clip_one_face):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"garbage")
    result = run_cli("analyze", str(clip_one_face), "--model", str(broken))
    assert result.returncode == 2 and f"{broken}: not a loadable ONNX model" in result.stderr
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    result = run_cli("analyze", str(clip_one_face), "--csv", str(blocker / "out.csv"))
    assert result.returncode == 2 and "out.csv" in result.stderr and "Traceback" not in result.stderr


def test_sigint_leaves_a_valid_csv(tmp_path, face_image):
    from emotiondesk.samples import write_face_clip

    long_clip = write_face_clip(tmp_path / "long.avi", face_image, faces=1, frames=400)
    out_csv = tmp_path / "interrupted.csv"
    process = subprocess.Popen(
        [sys.executable, "-m", "emotiondesk", "analyze", str(long_clip), "--csv", str(out_csv), "--quiet"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        # a runner started in the background (`cmd &`) passes SIGINT on as ignored; give the child Ctrl+C back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out_csv.exists() or len(out_csv.read_text().splitlines()) < 5):
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    rows = read_rows(out_csv)
    assert 4 <= len(rows) < 400
    frames = [int(r["frame"]) for r in rows]
    assert frames == list(range(len(frames)))  # complete up to the interruption
    sidecar = json.loads(out_csv.with_suffix(".json").read_text())  # the sidecar tells the truth
    assert sidecar["finished"] is False and sidecar["interrupted"] is True and sidecar["status"] == "interrupted"
    assert sidecar["frames_done"] == len(rows) and sidecar["frames_in_source"] == 400 and sidecar["error"] is None


def test_no_frame_written_unless_asked(tmp_path, clip_one_face, contract_model):
    before = set(os.listdir(tmp_path))
    assert main(["analyze", str(clip_one_face), "--model", str(contract_model), "--quiet"]) == 0
    assert set(os.listdir(tmp_path)) == before


def test_invalid_options_are_one_line_errors(clip_one_face, capsys):
    assert main(["analyze", str(clip_one_face), "--min-confidence", "1.5"]) == 2
    assert main(["analyze", str(clip_one_face), "--smoothing", "0"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all(line.startswith("emotiondesk: error: --") for line in errors)
