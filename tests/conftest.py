"""Shared fixtures: real-face clips (scikit-image's public-domain astronaut) and contract models."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# native-library logs of every run the tests start (in-process or not) go here, not to the user's log folder
os.environ.setdefault("EMOTIONDESK_LOG_DIR", str(Path(tempfile.gettempdir()) / f"emotiondesk-test-logs-{os.getpid()}"))
# liblsl reads this when it first loads: LSL in tests resolves and streams on this machine only (no LAN traffic)
LSL_LOOPBACK_CONFIG = Path(__file__).parent / "lsl_loopback.cfg"
os.environ["LSLAPICFG"] = str(LSL_LOOPBACK_CONFIG)
sys.path.insert(0, str(Path(__file__).parent))

from model_factory import write_contract_model  # noqa: E402

from emotiondesk.samples import face_frame, write_face_clip  # noqa: E402

# a test running this long is hung (faulthandler prints its Python stacks at 300 s)
HANG_LIMIT_S = float(os.environ.get("EMOTIONDESK_TEST_HANG_S", "600"))
HANG_WATCH = pytest.StashKey[tuple]()


def pytest_configure(config) -> None:
    """Start tests/hang_watch.py: past HANG_LIMIT_S in one test it prints native stacks and stops the run."""
    handle, name = tempfile.mkstemp(prefix="emotiondesk-test-heartbeat-")
    os.close(handle)
    terminal = os.dup(2)  # the real stderr: capturing has not begun yet
    try:
        watcher = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("hang_watch.py")), str(os.getpid()), name, str(HANG_LIMIT_S)],
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=terminal,
        )
    finally:
        os.close(terminal)
    config.stash[HANG_WATCH] = (watcher, Path(name))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    _, heartbeat = item.config.stash[HANG_WATCH]
    heartbeat.write_text(item.nodeid)  # a new test: the watch's clock starts again


def pytest_unconfigure(config) -> None:
    watcher, heartbeat = config.stash.get(HANG_WATCH, (None, None))
    if watcher is not None:
        watcher.terminate()
        watcher.wait(timeout=10)
        heartbeat.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def face_image() -> np.ndarray:
    """Head and shoulders of scikit-image's `astronaut` (NASA, public domain), BGR."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[0:300, 100:350].copy()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def clip_three_faces(data_dir, face_image) -> Path:
    return write_face_clip(data_dir / "three_faces.mp4", face_image, faces=3, frames=20)


@pytest.fixture(scope="session")
def clip_one_face(data_dir, face_image) -> Path:
    return write_face_clip(data_dir / "one_face.avi", face_image, faces=1, frames=12)


@pytest.fixture(scope="session")
def still_three_faces(data_dir, face_image) -> Path:
    path = data_dir / "three_faces.png"
    cv2.imwrite(str(path), face_frame(face_image, 3))
    return path


@pytest.fixture(scope="session")
def contract_model(data_dir) -> Path:
    return write_contract_model(data_dir / "contract.onnx")


@pytest.fixture()
def make_model(tmp_path):
    def build(**kwargs) -> Path:
        return write_contract_model(tmp_path / "model.onnx", **kwargs)

    return build


@pytest.fixture()
def window(qtbot, tmp_path, contract_model, monkeypatch):
    """The real main window, offscreen, recording into tmp_path/sessions with settings of its own."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSettings

    from emotiondesk._qt.main_window import MainWindow

    monkeypatch.setattr("emotiondesk._qt.paths.sessions_dir", lambda: tmp_path / "sessions")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    main = MainWindow(model=str(contract_model), settings=settings, realtime=True)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()


@pytest.fixture(autouse=True)
def no_unanswered_message_boxes(request, monkeypatch):
    """A modal message box that nobody answers would block an offscreen test forever (its own event loop keeps
    pytest-qt's timeouts from firing). Every box a test does not expect is answered at once (Ok / No), and the
    test fails at teardown naming it. Tests that expect a box patch `QMessageBox` themselves, over this; tests
    marked `real_message_boxes` answer real ones."""
    if "PySide6.QtWidgets" not in sys.modules or request.node.get_closest_marker("real_message_boxes"):
        yield
        return
    from PySide6.QtWidgets import QMessageBox

    unexpected: list[str] = []

    def answer(kind: str):
        def box(parent, title, text, *rest):
            unexpected.append(f"{kind} {title!r}: {text}")
            return QMessageBox.StandardButton.No if kind == "question" else QMessageBox.StandardButton.Ok

        return box

    for kind in ("information", "warning", "critical", "question"):
        monkeypatch.setattr(QMessageBox, kind, answer(kind))
    yield
    if unexpected:
        pytest.fail("unexpected message box(es): " + " | ".join(unexpected), pytrace=False)
