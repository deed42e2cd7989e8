"""A seeded random sequence of user actions against the real window on real clips (bench/ui_stress.py runs
a longer one): no crash, a responsive event loop, every recording valid."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from PySide6.QtCore import QSettings  # noqa: E402
from ui_stress import check_recording, run_stress  # noqa: E402

from emotiondesk._qt.main_window import MainWindow  # noqa: E402


@pytest.mark.real_message_boxes  # its DialogAnswerer answers every modal box
@pytest.mark.parametrize("seed", [1, 2])
def test_random_user_actions(qtbot, tmp_path, monkeypatch, clip_three_faces, clip_one_face, contract_model, seed):
    monkeypatch.setattr("emotiondesk._qt.paths.sessions_dir", lambda: tmp_path / "sessions")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(model=str(contract_model), settings=settings, realtime=True)
    qtbot.addWidget(window)
    window.show()
    report = run_stress(window, qtbot.wait, [clip_three_faces, clip_one_face], 150, seed, tmp_path)
    assert sum(report.actions.values()) == 150
    assert report.recordings, "the sequence recorded nothing: the seed should exercise recording"
    for recording in report.recordings:
        check_recording(recording)
    assert report.longest_stall_s < 5.0  # joining a worker blocks ≤ 1 s, a first summary ~1 s; 5 s is a hang
    assert window.worker is None
