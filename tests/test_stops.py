"""Issue 17, finding 3: SIGTERM and SIGHUP end `analyze` and the window like Ctrl+C — outputs closed, sidecar
`interrupted`, whole rows, an annotated .mp4 that plays, exit 128 + the signal's number."""

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

ROOT = Path(__file__).resolve().parent.parent


def default_signals() -> None:
    """In the child: the stop signals at their defaults (a runner may have started us with some ignored)."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def wait_for_rows(path: Path, rows: int, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the run ended before the signal: {process.communicate()}")
        if path.exists() and len(path.read_text().splitlines()) > rows:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path}: fewer than {rows} rows after {timeout} s")


def check_whole_rows(path: Path) -> list[dict]:
    text = path.read_text()
    assert text.endswith("\n")
    rows = list(csv.reader(text.splitlines()))
    assert all(len(row) == len(rows[0]) for row in rows)
    return [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_analyze_closes_every_output(tmp_path, face_image, contract_model, signum):
    from emotiondesk.samples import write_face_clip

    clip = write_face_clip(tmp_path / "long.avi", face_image, faces=1, frames=400)
    out_csv, video = tmp_path / "run.csv", tmp_path / "run.mp4"
    command = ["analyze", str(clip), "--csv", str(out_csv), "--annotated", str(video), "--model", str(contract_model)]
    process = subprocess.Popen(
        [sys.executable, "-m", "emotiondesk", *command, "--quiet"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
    )
    wait_for_rows(out_csv, 5, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "interrupted after" in stderr
    rows = check_whole_rows(out_csv)
    frames = sorted({int(r["frame"]) for r in rows})
    assert 5 <= len(frames) < 400 and frames == list(range(len(frames)))
    sidecar = json.loads(out_csv.with_suffix(".json").read_text())
    assert sidecar["status"] == "interrupted" and sidecar["interrupted"] is True and sidecar["finished"] is False
    assert sidecar["frames_done"] == len(frames) and sidecar["frames_in_source"] == 400
    capture = cv2.VideoCapture(str(video))  # playable: the writer was released, its index (moov) written
    try:
        assert capture.isOpened()
        assert capture.read()[0]
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) >= len(frames) - 2
    finally:
        capture.release()


WINDOW_SCRIPT = """
import sys
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from emotiondesk._qt.app import install_stop_signals
from emotiondesk._qt.main_window import MainWindow

clip, model, csv_path, settings = sys.argv[1:5]
app = QApplication(sys.argv[:1])
window = MainWindow(model=model, settings=QSettings(settings, QSettings.Format.IniFormat), realtime=True)
received = install_stop_signals(app, window)
window.show()
window.open_source(clip)
QTimer.singleShot(500, lambda: window.start_recording(Path(csv_path)))
code = app.exec()
sys.exit(128 + received[0] if received else code)
"""


def test_a_signal_closes_the_window_and_its_recording_cleanly(tmp_path, face_image, contract_model):
    """SIGHUP here; SIGTERM closes the window in tests/test_privacy.py (the same handler, exit 143 checked)."""
    pytest.importorskip("PySide6")
    signum = signal.SIGHUP
    from emotiondesk.samples import write_face_clip

    clip = write_face_clip(tmp_path / "long.avi", face_image, faces=1, frames=400)
    out_csv = tmp_path / "recording.csv"
    arguments = [str(clip), str(contract_model), str(out_csv), str(tmp_path / "settings.ini")]
    process = subprocess.Popen(
        [sys.executable, "-c", WINDOW_SCRIPT, *arguments],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_signals,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    wait_for_rows(out_csv, 4, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    rows = check_whole_rows(out_csv)
    sidecar = json.loads(out_csv.with_suffix(".json").read_text())
    assert sidecar["status"] == "interrupted" and sidecar["ended_at"]
    assert sidecar["frames_done"] == len({r["frame"] for r in rows}) >= 4


def test_stop_on_signals_restores_the_handlers_and_keeps_ignored_ones():
    from emotiondesk.runs.stops import StopSignal, stop_on_signals

    before = signal.getsignal(signal.SIGTERM)
    previous_hup = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under `nohup`
    try:
        with pytest.raises(StopSignal) as caught, stop_on_signals() as received:
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert caught.value.exit_code == 143 and received == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) == before
    finally:
        signal.signal(signal.SIGHUP, previous_hup)


def test_a_signal_inside_signals_held_waits_for_the_end_of_the_block():
    from emotiondesk.runs.stops import StopSignal, signals_held, stop_on_signals

    steps = []
    with pytest.raises(StopSignal) as caught, stop_on_signals() as received:
        with signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # a handler would have run by now
            steps.append("after the signal")
        steps.append("after the block")  # never reached: the held signal raises on leaving
    assert steps == ["after the signal"] and caught.value.signum == signal.SIGTERM and received == [signal.SIGTERM]


def test_a_stop_signal_inside_a_progress_read_leaves_the_local_runner_in_step():
    """The local batch reads progress from a manager process, one request and one answer per call: a stop signal
    between the two used to leave the answer unread, so every later call read the previous call's answer
    (`stopped()` then crashed unpacking None, found by test_batch's SIGINT test under load)."""
    from emotiondesk.runs.local import LocalRunner
    from emotiondesk.runs.stops import StopSignal, stop_on_signals

    runner = LocalRunner(1)
    try:
        runner.channel.send(3, "a", 5)
        proxy = runner.channel.updates
        proxy.qsize()  # opens this thread's connection to the manager
        connection = proxy._tls.connection
        answer = connection.recv
        signalled = []

        def signal_then_answer():
            if not signalled:
                signalled.append(True)
                signal.raise_signal(signal.SIGINT)  # arrives after the request went out, before the answer is read
            return answer()

        connection.recv = signal_then_answer
        with stop_on_signals(), pytest.raises(StopSignal):
            runner.updates()
        assert signalled
        assert runner.updates() == [(3, "a", 5)]  # the message read when the signal came is not lost
        runner.stop()
        runner.channel.send(4, "b", 1)
        assert runner.updates() == [(4, "b", 1)] and runner.channel.stopped()
    finally:
        runner.close()
