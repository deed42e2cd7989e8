"""The standalone build, frozen: the smoke checks of scripts/smoke_frozen.py as tests, on dist/emotiondesk/.

Skipped where dist/ holds no build (CI does not build it: `bash scripts/build_app.sh` first, about 2 minutes
here). Each run of the binary has an empty environment (no venv)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("smoke_frozen", ROOT / "scripts" / "smoke_frozen.py")
smoke = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(smoke)
APP = smoke.DEFAULT_APP

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not APP.is_file(), reason=f"no standalone build at {APP} (bash scripts/build_app.sh)"),
]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("frozen")


@pytest.fixture(scope="module")
def frozen_csv(out) -> Path:
    return smoke.check_analyze(APP, out)


def test_version_names_the_standalone_build():
    assert smoke.check_version(APP).endswith("(standalone)")


def test_analyze_writes_the_venvs_csv_and_a_standalone_sidecar(frozen_csv):
    assert frozen_csv.is_file()  # check_analyze compared it with this venv's CSV, row by row


def test_face_details_find_the_bundled_task(out):
    assert smoke.check_face_details(APP, out).is_file()


def test_report_of_a_frozen_recording(frozen_csv):
    assert smoke.check_report(APP, frozen_csv).stat().st_size > 10_000


def test_batch_workers_start_frozen_and_study_reads_them(out):
    index = smoke.check_batch(APP, out)
    assert smoke.check_study(APP, index).is_file()


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and all(shutil.which(tool) for tool in ("Xvfb", "xdotool", "import"))),
    reason="needs Xvfb, xdotool and ImageMagick's import",
)
def test_window_opens_and_plays_under_xvfb(out):
    import cv2

    shot = out / "window.png"
    assert smoke.check_window(APP, out, shot, seconds=6) < 120
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[1] >= 1000
    assert image.std() > 20  # a painted window, not a blank screen


@pytest.mark.skipif(not smoke.strace_works(), reason="strace not available: privacy of the binary NOT verified")
def test_the_binary_sends_nothing_beyond_loopback(out):
    folder = out / "traced"
    folder.mkdir()
    trace = folder / "details.strace"
    smoke.check_face_details(APP, folder, trace=trace)  # both MediaPipe graphs and onnxruntime run
    assert smoke.check_no_network(trace) > 0  # the dead-proxy connect is there: the trace did see sockets


def test_torch_and_unused_qt_are_not_bundled():
    internal = APP.parent / "_internal"
    names = {path.name for path in internal.rglob("*")}
    assert not [name for name in names if name.startswith(("torch", "libtorch"))]
    assert not [name for name in names if name.startswith(("libQt6Qml", "libQt6Quick", "QtQml", "QtQuick"))]
    assert list((internal / "mediapipe" / "tasks" / "c").glob("*mediapipe*"))  # the ctypes-loaded library


def test_archive_holds_the_folder_desktop_file_icon_and_licences():
    archives = sorted((ROOT / "dist").glob("emotiondesk-*-*.tar.gz"))
    if not archives:
        pytest.skip("no archive in dist/ (scripts/build_app.sh without --no-archive)")
    with tarfile.open(archives[-1]) as tar:
        names = set(tar.getnames())
    top = archives[-1].name.removesuffix(".tar.gz")
    for member in ("emotiondesk/emotiondesk", "emotiondesk.desktop", "emotiondesk.png", "LICENSE"):
        assert f"{top}/{member}" in names, member
    assert f"{top}/LICENSE-Apache-2.0-mediapipe.txt" in names
    assert f"{top}/licenses/Qt-PySide6/LGPL-3.0.txt" in names
    assert any(name.startswith(f"{top}/licenses/onnxruntime/") for name in names)
