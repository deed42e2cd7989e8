"""Issue 17, findings 1, 4 and 10: one output rule (`sinks.safety.check_outputs`) for analyze, report and the
window's exports, every output checked before any work, and the small command-line items."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from emotiondesk.cli.main import main
from emotiondesk.errors import RecordingError

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emotiondesk", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("emotiondesk: error: ") and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture()
def recorded(tmp_path, clip_three_faces, contract_model) -> Path:
    csv_path = tmp_path / "s.csv"
    assert (
        main(["analyze", str(clip_three_faces), "--csv", str(csv_path), "--model", str(contract_model), "--quiet"]) == 0
    )
    return csv_path


# --- finding 1: `report --out clip.mp4` destroyed the video -----------------------------------------------------
@pytest.mark.parametrize("name", ["clip.mp4", "photo.png", "notes.txt", "noext"])
def test_report_refuses_an_out_that_is_not_html_and_keeps_the_file(tmp_path, recorded, capsys, name):
    target = tmp_path / name
    target.write_bytes(b"precious bytes")
    assert main(["report", str(recorded), "--out", str(target)]) == 2
    error = capsys.readouterr().err
    assert "a report must end in .html" in error and str(target) in error
    assert target.read_bytes() == b"precious bytes"


def test_report_replaces_an_existing_html_only_with_overwrite(tmp_path, recorded, capsys):
    out = tmp_path / "s.html"
    assert main(["report", str(recorded)]) == 0 and out.exists()
    out.write_text("kept")
    assert main(["report", str(recorded)]) == 2 and out.read_text() == "kept"
    assert "use --overwrite" in capsys.readouterr().err
    assert main(["report", str(recorded), "--overwrite"]) == 0 and out.read_text().startswith("<!DOCTYPE html>")


def test_the_rule_refuses_each_kind_with_a_wrong_ending(tmp_path):
    from emotiondesk.sinks.safety import Output, check_outputs, run_outputs

    cases = {"csv": "out.mp4", "video": "zvid", "report": "r.png", "figure": "f.html", "sidecar": "s.csv"}
    for kind, name in cases.items():
        with pytest.raises(RecordingError, match="must end in"):
            check_outputs([], [Output(tmp_path / name, kind)])
    check_outputs([], run_outputs(tmp_path / "ok.csv", tmp_path / "ok.avi"))  # the right endings pass


def test_an_image_of_an_input_folder_is_an_input(tmp_path):
    from emotiondesk.sinks.safety import Output, check_outputs

    folder = tmp_path / "stills"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"png")
    with pytest.raises(RecordingError, match="is the input"):
        check_outputs([folder], [Output(folder / "a.png", "figure")], overwrite=True)


# --- finding 10: `--csv out.mp4` wrote CSV text into an .mp4 -------------------------------------------------------
def test_csv_must_end_in_csv(tmp_path, clip_one_face, contract_model):
    target = tmp_path / "out.mp4"
    result = run_cli("analyze", str(clip_one_face), "--csv", str(target), "--model", str(contract_model))
    assert result.returncode == 2 and "a CSV (--csv) must end in .csv" in one_error_line(result.stderr)
    assert not target.exists()


# --- finding 4: every output checked before any work; nothing replaced before the check passes ------------------
def test_an_annotated_name_without_extension_is_refused_before_any_row(tmp_path, clip_one_face, contract_model):
    csv_path = tmp_path / "out.csv"
    result = run_cli(
        "analyze",
        str(clip_one_face),
        "--csv",
        str(csv_path),
        "--annotated",
        str(tmp_path / "out" / "zvid"),
        "--model",
        str(contract_model),
    )
    assert result.returncode == 2 and "must end in .mp4 or .avi" in one_error_line(result.stderr)
    assert not csv_path.exists() and not csv_path.with_suffix(".json").exists() and result.stdout == ""


def test_a_read_only_output_with_overwrite_keeps_the_old_results(tmp_path, clip_one_face, contract_model):
    csv_path, video = tmp_path / "run.csv", tmp_path / "run.mp4"
    arguments = ["analyze", str(clip_one_face), "--csv", str(csv_path), "--annotated", str(video)]
    arguments += ["--model", str(contract_model), "--quiet"]
    assert main(arguments) == 0
    before = {path: path.read_bytes() for path in (csv_path, csv_path.with_suffix(".json"), video)}
    video.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # read-only
    try:
        result = run_cli(*arguments[:-1], "--overwrite", "--max-frames", "1")
        assert result.returncode == 2 and "read-only" in one_error_line(result.stderr)
        assert {path: path.read_bytes() for path in before} == before  # old CSV and sidecar untouched
        assert result.stdout == ""  # no summary naming outputs
    finally:
        video.chmod(0o644)


def test_the_summary_names_only_outputs_that_exist(tmp_path, clip_one_face, contract_model, monkeypatch, capsys):
    from emotiondesk.sinks import video as video_module

    def broken_writer(path, fps, width, height):
        raise RecordingError(f"{path}: cannot write video here (test)")

    monkeypatch.setattr(video_module, "annotated_writer", broken_writer)
    out = tmp_path / "v.mp4"
    code = main(
        [
            "analyze",
            str(clip_one_face),
            "--csv",
            str(tmp_path / "v.csv"),
            "--annotated",
            str(out),
            "--model",
            str(contract_model),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2 and "cannot write video here" in captured.err
    assert "annotated video:" not in captured.out and not out.exists()


# --- the window's exports go through the same rule ----------------------------------------------------------------
def test_window_export_refuses_a_wrong_ending_and_the_recording_itself(
    qtbot, window, clip_three_faces, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: shown.append(args[2]))
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 1, timeout=20000)
    window.start_recording(tmp_path / "rec.csv")
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=5000)
    window.stop_recording()
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=5000)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"a video")
    assert not window.export_csv(video) and video.read_bytes() == b"a video"
    assert not window.export_csv(tmp_path / "rec.csv")  # over the recording itself
    assert len(shown) == 2 and "must end in .csv" in shown[0] and "the recording itself" in shown[1]
    assert window.export_csv(tmp_path / "copy.csv")


# --- finding 10: the small ones ----------------------------------------------------------------------------------
@pytest.mark.skipif(bool(list(Path("/dev").glob("video*"))), reason="this machine has a camera")
def test_cameras_without_a_camera_says_so_on_stderr():
    result = run_cli("cameras")
    assert result.returncode == 1 and result.stdout == ""
    assert "no camera found" in result.stderr


def test_option_messages_name_the_wrong_option(clip_one_face, capsys):
    assert main(["analyze", str(clip_one_face), "--smoothing", "0"]) == 2
    assert main(["analyze", str(clip_one_face), "--max-frames", "0"]) == 2
    first, second = capsys.readouterr().err.splitlines()
    assert first.startswith("emotiondesk: error: --smoothing 0:") and "--max-frames" not in first
    assert second.startswith("emotiondesk: error: --max-frames 0:")


@pytest.mark.parametrize(
    "arguments",
    [["--smoothing", "0"], ["--csv", "out.mp4"], ["--jobs", "2"]],
    ids=["bad option", "bad output", "jobs without out"],
)
def test_json_prints_a_document_when_the_run_fails_before_it_starts(tmp_path, clip_one_face, arguments):
    result = run_cli("analyze", str(clip_one_face), *arguments, "--json")
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert document["status"] == "error" and document["exit_code"] == 2 and document["error"]
    assert document["error"] in result.stderr


def test_jobs_without_out_is_refused(clip_one_face, capsys):
    assert main(["analyze", str(clip_one_face), "--jobs", "2"]) == 2
    assert "--jobs 2: is for batches (--out DIR)" in capsys.readouterr().err


def test_batch_summary_says_1_job():
    from emotiondesk.runs.batch import BatchReport

    assert "1 job)" in BatchReport([], Path("index.csv"), False, 1.0, 1).text()
    assert "2 jobs)" in BatchReport([], Path("index.csv"), False, 1.0, 2).text()


def test_markers_are_refused_for_an_image_folder(tmp_path, still_three_faces, capsys):
    folder = tmp_path / "stills"
    folder.mkdir()
    (folder / "a.png").write_bytes(still_three_faces.read_bytes())
    markers = tmp_path / "m.csv"
    markers.write_text("1.0,start\n")
    out = tmp_path / "o.csv"
    assert main(["analyze", str(folder), "--csv", str(out), "--markers", str(markers)]) == 2
    assert "is images (no time)" in capsys.readouterr().err and not out.exists()


def test_frames_in_source_is_the_source_length_not_max_frames(tmp_path, clip_three_faces, contract_model):
    out = tmp_path / "cut.csv"
    arguments = [
        "analyze",
        str(clip_three_faces),
        "--csv",
        str(out),
        "--max-frames",
        "5",
        "--model",
        str(contract_model),
    ]
    assert main([*arguments, "--quiet"]) == 0
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["frames_done"] == 5 and sidecar["frames_in_source"] == 20 and sidecar["max_frames"] == 5
    assert sidecar["status"] == "finished"


def test_the_report_of_a_killed_run_says_so(tmp_path, recorded):
    sidecar_path = recorded.with_suffix(".json")
    sidecar = json.loads(sidecar_path.read_text())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    sidecar.update(status="running", finished=False, writer={"pid": dead.pid, "host": os.uname().nodename})
    sidecar.pop("ended_at", None)
    sidecar_path.write_text(json.dumps(sidecar))
    rows = len(recorded.read_text().splitlines()) - 1
    assert main(["report", str(recorded)]) == 0
    page = recorded.with_suffix(".html").read_text()
    assert "stopped while running — the process was killed or crashed" in page
    assert f"{rows} face rows" in page and "running (0 frames" not in page
