"""Batch analysis (`analyze … --out DIR --jobs N`) on folders of real-face clips: index, failures, resume, Ctrl+C."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from emotiondesk.cli.main import main
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs.analyze import analyze
from emotiondesk.runs.batch import INDEX_COLUMNS, discover_inputs
from emotiondesk.samples import face_frame, write_face_clip

ROOT = Path(__file__).resolve().parent.parent


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def results(path: Path) -> list[dict]:
    """A CSV's rows without `wall_time` (when each frame was read: it differs between any two runs)."""
    return [{k: v for k, v in row.items() if k != "wall_time"} for row in read_csv(path)]


def index_by_name(out: Path) -> dict[str, dict]:
    return {Path(row["path"]).name: row for row in read_csv(out / "index.csv")}


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory, face_image) -> Path:
    """Two good clips, a corrupt .mp4 (random bytes), a folder of stills and a file that is not an input."""
    folder = tmp_path_factory.mktemp("mixed")
    write_face_clip(folder / "one.mp4", face_image, faces=1, frames=10)
    write_face_clip(folder / "three.avi", face_image, faces=3, frames=10)
    (folder / "corrupt.mp4").write_bytes(os.urandom(20_000))
    (folder / "notes.txt").write_text("not an input")
    stills = folder / "stills"
    stills.mkdir()
    for step in range(2):
        cv2.imwrite(str(stills / f"{step}.png"), face_frame(face_image, 2, step=step))
    return folder


@pytest.fixture(scope="module")
def mixed_batch(tmp_path_factory, mixed_folder, contract_model) -> tuple[Path, int, str]:
    """The mixed folder analysed once with --jobs 2: (output folder, exit code, stderr)."""
    out = tmp_path_factory.mktemp("mixed_out")
    result = subprocess.run(
        [sys.executable, "-m", "emotiondesk", "analyze", str(mixed_folder), "--out", str(out), "--jobs", "2"]
        + ["--model", str(contract_model)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    return out, result.returncode, result.stderr


def test_mixed_folder_one_output_per_input_and_an_index(mixed_batch, mixed_folder):
    out, code, stderr = mixed_batch
    assert code == 2, stderr  # one input failed: reported, and the batch went on
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("emotiondesk: error:")]
    assert len(errors) == 1 and "corrupt.mp4: not a readable video" in errors[0]
    with (out / "index.csv").open() as handle:
        assert next(csv.reader(handle)) == INDEX_COLUMNS
    rows = index_by_name(out)
    assert sorted(rows) == ["corrupt.mp4", "one.mp4", "stills", "three.avi"]
    assert rows["corrupt.mp4"]["status"] == "failed" and "not a readable video" in rows["corrupt.mp4"]["reason"]
    assert rows["corrupt.mp4"]["csv"] == "" and not (out / "corrupt.csv").exists()
    expected = {"one.mp4": (10, 10), "three.avi": (10, 30), "stills": (2, 4)}
    for name, (frames, faces) in expected.items():
        row = rows[name]
        assert row["status"] == "done" and (int(row["frames"]), int(row["faces"])) == (frames, faces)
        assert (out / row["csv"]).exists() and json.loads((out / row["sidecar"]).read_text())["status"] == "finished"
        assert float(row["processing_s"]) > 0
    assert float(rows["one.mp4"]["duration_s"]) == pytest.approx(10 / 15, abs=1e-3)
    assert rows["stills"]["duration_s"] == ""  # stills have no duration
    assert sorted(p.name for p in mixed_folder.iterdir()) == [
        "corrupt.mp4",
        "notes.txt",
        "one.mp4",
        "stills",
        "three.avi",
    ]


def test_batch_results_identical_to_single_runs(mixed_batch, mixed_folder, contract_model, tmp_path):
    out = mixed_batch[0]
    rows = index_by_name(out)
    for name in ("one.mp4", "three.avi", "stills"):
        single = tmp_path / f"{name}.csv"
        outcome = analyze(str(mixed_folder / name), PipelineConfig(model=str(contract_model)), single, progress=False)
        assert outcome.error is None
        assert results(out / rows[name]["csv"]) == results(single), name


def test_resume_skips_finished_and_redoes_partial(mixed_batch, mixed_folder, contract_model, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(mixed_batch[0], out)
    finished, partial = out / "one.csv", out / "three.csv"
    full_rows = results(partial)
    lines = partial.read_text().splitlines(keepends=True)
    partial.write_text("".join(lines[:4]))  # header + 3 rows: an interrupted run
    sidecar = json.loads(partial.with_suffix(".json").read_text())
    sidecar.update(status="interrupted", finished=False, interrupted=True, frames_done=1)
    partial.with_suffix(".json").write_text(json.dumps(sidecar))
    finished_mtime = finished.stat().st_mtime_ns
    time.sleep(0.01)

    code = main(
        ["analyze", str(mixed_folder), "--out", str(out), "--jobs", "2", "--model", str(contract_model), "--quiet"]
    )
    assert code == 2  # the corrupt file still fails
    rows = index_by_name(out)
    assert finished.stat().st_mtime_ns == finished_mtime and rows["one.mp4"]["status"] == "skipped"
    assert rows["one.mp4"]["frames"] == "10" and rows["one.mp4"]["csv"] == "one.csv"  # the finished result is kept
    assert rows["stills"]["status"] == "skipped"
    assert rows["three.avi"]["status"] == "done" and results(partial) == full_rows
    assert json.loads(partial.with_suffix(".json").read_text())["status"] == "finished"
    assert rows["corrupt.mp4"]["status"] == "failed"


def test_other_settings_or_a_changed_input_are_redone(mixed_batch, mixed_folder, contract_model, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(mixed_batch[0], out)
    one = str(mixed_folder / "one.mp4")
    assert main(["analyze", one, "--out", str(out), "--model", str(contract_model), "--smoothing", "3", "--quiet"]) == 0
    rows = index_by_name(out)
    assert rows["one.mp4"]["status"] == "done"  # made with --smoothing 5 before: redone
    assert rows["three.avi"]["status"] == "done" and rows["corrupt.mp4"]["status"] == "failed"  # earlier rows kept
    assert json.loads((out / "one.json").read_text())["smoothing"]["window_frames"] == 3
    three = [str(mixed_folder / "three.avi"), "--out", str(out), "--model", str(contract_model), "--quiet"]
    assert main(["analyze", *three]) == 0 and index_by_name(out)["three.avi"]["status"] == "skipped"
    os.utime(out / "three.json", (1_000_000, 1_000_000))  # the input is newer than its results: redone
    assert main(["analyze", *three]) == 0 and index_by_name(out)["three.avi"]["status"] == "done"
    for max_frames, status in (("4", "done"), ("4", "skipped"), ("10", "done")):  # a cut run is not the whole
        assert main(["analyze", *three, "--max-frames", max_frames]) == 0
        assert index_by_name(out)["three.avi"]["status"] == status
        assert index_by_name(out)["three.avi"]["frames"] == max_frames


def test_same_name_from_another_folder_never_overwrites(mixed_batch, mixed_folder, contract_model, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(mixed_batch[0], out)
    kept = (out / "one.csv").read_bytes(), (out / "one.json").read_bytes()
    other = tmp_path / "other" / "one.mp4"
    other.parent.mkdir()
    shutil.copyfile(mixed_folder / "one.mp4", other)
    assert main(["analyze", str(other), "--out", str(out), "--model", str(contract_model), "--quiet"]) == 0
    rows = {row["path"]: row for row in read_csv(out / "index.csv")}
    new, old = rows[str(other.resolve())], rows[str((mixed_folder / "one.mp4").resolve())]
    assert new["status"] == "done" and new["csv"].startswith("one-") and old["csv"] == "one.csv"
    assert ((out / "one.csv").read_bytes(), (out / "one.json").read_bytes()) == kept
    assert results(out / new["csv"]) == results(out / "one.csv")


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path, face_image, contract_model):
    inputs = tmp_path / "long"
    inputs.mkdir()
    for name in ("a", "b", "c", "d"):
        write_face_clip(inputs / f"{name}.avi", face_image, faces=1, frames=300, width=320, height=240)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "emotiondesk", "analyze", str(inputs), "--out", str(out), "--jobs", "2"]
    command += ["--model", str(contract_model), "--quiet"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which Ctrl+C signals as a whole, workers included
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # see test_cli.test_sigint_leaves_a_valid_csv
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any(
        len(p.read_text().splitlines()) > 5 for p in out.glob("*.csv") if p.name != "index.csv"
    ):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    rows = index_by_name(out)
    assert sorted(rows) == ["a.avi", "b.avi", "c.avi", "d.avi"]
    assert {row["status"] for row in rows.values()} <= {"interrupted", "pending", "done"}
    assert any(row["status"] != "done" for row in rows.values())
    for name, row in rows.items():  # the index and every sidecar tell the truth
        if row["status"] == "pending":
            assert row["csv"] == "" and row["frames"] == "", name
            continue
        sidecar = json.loads((out / row["sidecar"]).read_text())
        assert sidecar["status"] == {"done": "finished", "interrupted": "interrupted"}[row["status"]], name
        assert sidecar["frames_done"] == int(row["frames"]) and len(read_csv(out / row["csv"])) == sidecar["rows"]
        assert (int(row["frames"]) == 300) == (row["status"] == "done"), name
    done_before = {name for name, row in rows.items() if row["status"] == "done"}

    assert main(["analyze", str(inputs), "--out", str(out), "--model", str(contract_model), "--quiet"]) == 0
    rows = index_by_name(out)
    assert all(row["frames"] == "300" for row in rows.values())
    assert {name for name, row in rows.items() if row["status"] == "skipped"} == done_before  # not redone


def test_output_names_never_collide_and_skip_the_output_folder(tmp_path):
    for relative in ("x/a.mp4", "y/a.mp4", "y/A.avi", "y/index.mp4", "p01/session.mp4", "p01/out/old.mp4"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"")
    (tmp_path / "p01" / "out" / "still.png").write_bytes(b"")
    inputs = discover_inputs([tmp_path / "x" / "a.mp4", tmp_path / "y", tmp_path / "p01"], tmp_path / "p01" / "out")
    names = [item.name for item in inputs]
    assert [item.source.name for item in inputs] == ["a.mp4", "A.avi", "a.mp4", "index.mp4", "session.mp4"]
    assert len({name.lower() for name in names}) == len(names) and "index" not in names
    assert names[-1] == "session" and all(name.lower().startswith("a-") for name in names[:3])
    assert discover_inputs([tmp_path / "y"], tmp_path / "z") == discover_inputs([tmp_path / "y"], tmp_path / "z")


def test_batch_argument_errors_and_missing_inputs(tmp_path, clip_one_face, contract_model, capsys):
    one = str(clip_one_face)
    assert main(["analyze", one, one, "--quiet"]) == 2
    assert main(["analyze", one, "--out", str(tmp_path / "o"), "--csv", str(tmp_path / "x.csv")]) == 2
    assert main(["analyze", one, "--out", str(tmp_path / "o"), "--jobs", "0"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and all(line.startswith("emotiondesk: error: ") for line in errors)
    out = tmp_path / "out"
    # `0` is a camera to a single run; in a batch it is a missing file, and no camera is opened
    assert main(["analyze", str(tmp_path / "missing.mp4"), "0", "--out", str(out), "--model", str(contract_model)]) == 2
    rows = read_csv(out / "index.csv")
    assert [(r["status"], r["reason"]) for r in rows] == [("failed", "no such file or folder")] * 2
    assert capsys.readouterr().err.count("emotiondesk: error:") == 2
