"""Issue 9: outputs never destroy inputs, --json is pure, native noise goes to the log, SIGKILL keeps whole rows."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from model_factory import FER_LABELS

from emotiondesk.cli.main import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emotiondesk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("emotiondesk: error: ") and "Traceback" not in stderr, stderr
    return lines[0]


def test_an_output_named_like_the_input_is_refused_and_the_input_kept(tmp_path, clip_one_face, contract_model):
    clip = tmp_path / "clip.avi"
    shutil.copyfile(clip_one_face, clip)
    before = clip.read_bytes()
    for option in ("--csv", "--annotated"):
        result = run_cli("analyze", str(clip), option, str(clip), "--model", str(contract_model), "--quiet")
        assert result.returncode == 2 and "is the input" in one_error_line(result.stderr)
        assert clip.read_bytes() == before
    same = tmp_path / "same.csv"
    result = run_cli("analyze", str(clip), "--csv", str(same), "--annotated", str(same), "--quiet")
    assert result.returncode == 2 and "two outputs" in one_error_line(result.stderr) and not same.exists()
    sidecar_clash = tmp_path / "out.json"  # --csv out.csv writes out.json beside it
    result = run_cli("analyze", str(clip), "--csv", str(tmp_path / "out.csv"), "--annotated", str(sidecar_clash))
    assert result.returncode == 2 and "two outputs" in one_error_line(result.stderr)


def test_existing_outputs_need_overwrite(tmp_path, clip_one_face, contract_model, capsys):
    out = tmp_path / "run.csv"
    out.write_text("precious\n")
    arguments = ["analyze", str(clip_one_face), "--csv", str(out), "--model", str(contract_model), "--quiet"]
    assert main(arguments) == 2
    assert "exists already; use --overwrite" in capsys.readouterr().err and out.read_text() == "precious\n"
    assert main([*arguments, "--overwrite"]) == 0
    assert out.read_text().startswith("time_s,")


def test_json_mode_prints_exactly_one_json_document(tmp_path, clip_one_face, contract_model):
    result = run_cli(
        "analyze", str(clip_one_face), "--csv", str(tmp_path / "j.csv"), "--json", "--model", str(contract_model)
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # the whole of stdout, nothing else
    assert document["frames"] == 12 and document["status"] == "finished" and document["frames_in_source"] == 12
    assert "face detections" in result.stderr  # the human summary went to stderr


def test_native_noise_goes_to_the_log_not_the_terminal(tmp_path):
    fake = tmp_path / "not_a_video.mp4"
    fake.write_text("not a video\n" * 50)  # FFmpeg prints "moov atom not found" for this
    logs = tmp_path / "logs"
    result = run_cli("analyze", str(fake), env={"EMOTIONDESK_LOG_DIR": str(logs)})
    assert result.returncode == 2
    one_error_line(result.stderr)  # FFmpeg's "moov atom not found" no longer precedes our error
    log = (logs / "native.log").read_text()
    assert str(fake) in log and "moov atom not found" in log  # kept, with a header line naming the command
    verbose = run_cli("analyze", str(fake), "--verbose", env={"EMOTIONDESK_LOG_DIR": str(logs)})
    assert verbose.returncode == 2 and "moov atom not found" in verbose.stderr  # --verbose shows it too


def test_sigkill_mid_run_leaves_only_complete_rows(tmp_path, face_image, contract_model):
    from emotiondesk.samples import write_face_clip

    clip = write_face_clip(tmp_path / "long.avi", face_image, faces=3, frames=300)
    out = tmp_path / "killed.csv"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emotiondesk",
            "analyze",
            str(clip),
            "--csv",
            str(out),
            "--model",
            str(contract_model),
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 3000):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    text = out.read_text()
    assert text.endswith("\n")
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) > 10 and all(len(row) == len(rows[0]) for row in rows)
    last = dict(zip(rows[0], rows[-1]))
    assert float(last["time_s"]) >= 0 and last["smoothed_label"] in set(FER_LABELS)
    assert json.loads(out.with_suffix(".json").read_text())["status"] == "running"  # honest: it never finished
