"""The window with face details and LSL turned on in Settings (offscreen, real clip, pytest-qt)."""

import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QSettings  # noqa: E402

from emotiondesk._qt.main_window import MainWindow, SettingsDialog  # noqa: E402
from emotiondesk.stages.face_details import BLENDSHAPE_NAMES  # noqa: E402


@pytest.fixture()
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture()
def window(qtbot, tmp_path, contract_model, monkeypatch, settings):
    monkeypatch.setattr("emotiondesk._qt.paths.sessions_dir", lambda: tmp_path / "sessions")
    main = MainWindow(model=str(contract_model), settings=settings, realtime=False)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()


def test_details_panel_fills_for_the_selected_face(qtbot, window, clip_three_faces):
    assert window.details_panel.isHidden()  # off by default
    dialog = SettingsDialog(window.config, window, lsl=window.lsl)
    assert not dialog.face_details.isChecked() and not dialog.lsl.isChecked()
    dialog.face_details.setChecked(True)
    window.apply_settings(dialog)
    assert window.config.face_details and window.settings.value("face_details") in (True, "true")
    assert not window.details_panel.isHidden()
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: len(window.details_panel.shown) == 5, timeout=20000)
    names = [name for name, _ in window.details_panel.shown]
    assert set(names) <= set(BLENDSHAPE_NAMES) and {"mouthSmileLeft", "mouthSmileRight"} & set(names[:2])
    assert window.details_panel.bars[0].value() > 50
    assert window.details_panel.pose.text().startswith("yaw ") and "°" in window.details_panel.pose.text()
    assert window.details_panel.title.text().startswith("Face details #")


def test_stream_to_lsl_setting_opens_the_outlets(qtbot, window, clip_one_face):
    pytest.importorskip("pylsl", reason="pylsl not installed: the window's LSL setting is NOT tested")
    dialog = SettingsDialog(window.config, window, lsl=window.lsl)
    dialog.lsl.setChecked(True)
    window.apply_settings(dialog)
    assert window.lsl and window.settings.value("lsl") in (True, "true")
    window.open_source(str(clip_one_face))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_processed >= 3, timeout=20000)
    sinks = window.worker.live_sinks
    assert [type(sink).__name__ for sink in sinks] == ["LslSink", "LslMarkerOutlet"]
    assert sinks[0].name == "emotiondesk-live" and sinks[0].pushed >= 1
