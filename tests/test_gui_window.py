"""Issue 19: every state of the window right and every message a whole sentence (pytest-qt offscreen, real clips,
real detector). Message boxes are answered by recording what they said."""

import re
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox  # noqa: E402

from emotiondesk.metadata import SessionInfo  # noqa: E402


@pytest.fixture()
def shown(monkeypatch):
    """Every message box the window raises, as (title, text), answered at once."""
    said: list[tuple[str, str]] = []
    for kind in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda parent, title, text, *rest: said.append((title, text)))
    return said


def whole_sentences(text: str) -> bool:
    """Ends in a full stop and no sentence runs into the next without one (the "…image The recording" bug)."""
    starts = "The|This|It|Open|Record|Press|Choose|Check|See|No|Nothing|Not"
    return text.endswith(".") and not re.search(rf"[a-z0-9)] ({starts}) ", text)


def record(qtbot, window, clip, rows: int = 5) -> Path:
    window.open_source(str(clip))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 1, timeout=20000)
    window.start_recording()
    qtbot.waitUntil(lambda: (r := window.worker.recorder) is not None and r.rows_written >= rows, timeout=20000)
    path = window.recording_path
    window.stop_recording()
    qtbot.waitUntil(lambda: window.last_recording == path, timeout=5000)
    return path


def answer_session_dialog(participant: str | None, fired: list) -> None:
    """Fill in and accept the participant dialog once it is up (None: cancel it)."""
    from emotiondesk._qt.session_panel import SessionDialog

    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, SessionDialog):
        QTimer.singleShot(50, lambda: answer_session_dialog(participant, fired))
        return
    fired.append(dialog.participant.text())
    if participant is None:
        dialog.reject()
    else:
        dialog.participant.setText(participant)
        dialog.accept()


# --- 1. Play after the end ---------------------------------------------------------------------------------------
def test_play_after_the_end_plays_the_file_again(qtbot, window, clip_three_faces):
    window.realtime = False
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.ended, timeout=20000)
    qtbot.waitUntil(lambda: window.playback.play_button.text() == "Play", timeout=5000)  # it offers Play
    shown = []
    window.worker.frame_ready.connect(lambda image, result: shown.append(result.index))
    window.playback.toggle_play()  # K
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=10000)
    assert shown[0] == 0 and window.playback.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: window.worker.ended and window.playback.play_button.text() == "Play", timeout=20000)
    shown.clear()
    window.playback.play_button.click()  # the Play button, a second time
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=10000)
    assert shown[0] == 0


# --- 2. Analyse whole file: its message stays and is whole ------------------------------------------------------
def test_analysis_message_says_where_it_was_saved_and_stays(qtbot, window, clip_three_faces, tmp_path):
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 1, timeout=20000)
    window.analyse_whole_file(tmp_path / "whole.csv")
    qtbot.waitUntil(lambda: window.worker.ended, timeout=20000)
    qtbot.wait(300)  # source_finished arrives after analysis_finished
    message = window.statusBar().currentMessage()
    assert str(tmp_path / "whole.csv") in message and whole_sentences(message), message
    assert "export and summary" not in message


# --- 3. A failed open: sentences, no stale recording claim, a cleared window ------------------------------------
def test_failed_open_is_told_in_sentences_and_clears_the_window(qtbot, window, clip_three_faces, tmp_path, shown):
    record(qtbot, window, clip_three_faces)
    assert window.faces_list.count() > 0
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    window.open_source(str(bad))
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    text = window.banner_text.text()
    assert text.startswith(f"Cannot open {bad}: not a readable video or image.") and whole_sentences(text), text
    assert "recording" not in text.lower()  # the recording had finished before: nothing "so far" to keep
    assert "Ctrl+O" in text and shown == [("Cannot open file", text)]
    assert window.faces_list.count() == 0 and window.bars.values is None
    assert window.status_line.fps.text() == "– fps" and window.status_line.faces.text() == "0 faces"
    assert "notes.mp4" in window.windowTitle() and "unavailable" in window.windowTitle()


# --- 4. A broken model is named as the problem ------------------------------------------------------------------
def test_a_broken_model_is_blamed_not_the_file(qtbot, tmp_path, clip_three_faces, monkeypatch, shown):
    from emotiondesk._qt.main_window import MainWindow

    monkeypatch.setattr("emotiondesk._qt.paths.sessions_dir", lambda: tmp_path / "sessions")
    model = tmp_path / "rand.onnx"
    model.write_bytes(bytes(range(256)) * 8)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(model=str(model), settings=settings)
    qtbot.addWidget(window)
    window.show()
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=15000)
    text = window.banner_text.text()
    assert text.startswith(f"Cannot load the emotion model {model}: not a loadable ONNX model") and "Settings" in text
    assert whole_sentences(text), text
    assert window.banner.settings_button.isVisibleTo(window) and not window.banner.open_button.isVisibleTo(window)
    assert [title for title, _ in shown] == ["Cannot load the emotion model"]
    window.close()


# --- 5. Export onto the recording itself ------------------------------------------------------------------------
def test_export_onto_the_recording_itself_is_refused_in_plain_words(qtbot, window, clip_three_faces, shown):
    path = record(qtbot, window, clip_three_faces)
    before = path.read_bytes()
    assert not window.export_csv(path)
    ((title, text),) = shown
    assert title == "Export failed" and "that is the recording itself" in text and str(path) in text
    assert "PosixPath" not in text and "Errno" not in text and whole_sentences(text), text
    assert path.read_bytes() == before


# --- 6. No program to open the report or index.csv --------------------------------------------------------------
def test_report_says_where_it_is_when_no_browser_opens_it(qtbot, window, clip_three_faces, monkeypatch, shown):
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    path = record(qtbot, window, clip_three_faces)
    dialog = window.summary_dialog()
    qtbot.addWidget(dialog)
    assert not dialog.open_report()
    report = path.with_suffix(".html")
    assert report.exists() and str(report) in dialog.report_label.text()
    ((title, text),) = shown
    assert report.name in text and str(report.parent) in text and whole_sentences(text), text


def test_batch_index_says_where_it_is_when_no_program_opens_it(qtbot, tmp_path, contract_model, monkeypatch):
    from emotiondesk._qt.batch_dialog import BatchDialog
    from emotiondesk.pipeline import PipelineConfig

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    dialog = BatchDialog([str(tmp_path)], tmp_path / "out", PipelineConfig(model=str(contract_model)), jobs=1)
    qtbot.addWidget(dialog)
    index = tmp_path / "out" / "index.csv"
    assert not dialog.open_index(index)
    assert "index.csv" in dialog.status.text() and str(index.parent) in dialog.status.text()


# --- 7. The smaller ones ----------------------------------------------------------------------------------------
def test_open_dialog_starts_beside_the_current_file_and_offers_what_the_cli_reads(
    qtbot, window, clip_three_faces, monkeypatch
):
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: asked.append(args) or ("", ""))
    window.open_source(str(clip_three_faces))
    window.open_file_dialog()
    _parent, _title, folder, filters = asked[0]
    assert Path(folder) == clip_three_faces.parent
    for suffix in ("*.m4v", "*.tif", "*.webp", "*.mp4", "*.png"):
        assert suffix in filters.split(";;")[0]


def test_shortcuts_dialog_lines_up_its_columns(qtbot):
    from emotiondesk._qt.help import SHORTCUTS, ShortcutsDialog

    dialog = ShortcutsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert len(dialog.actions) == len(SHORTCUTS)
    assert len({label.geometry().left() for label in dialog.actions}) == 1  # one column, whatever the font
    assert max(key.geometry().right() for key in dialog.keys) < dialog.actions[0].geometry().left()


def test_summary_offers_earlier_sessions_instead_of_record_first(
    qtbot, window, clip_three_faces, tmp_path, monkeypatch, shown
):
    from emotiondesk._qt.main_window import MainWindow

    path = record(qtbot, window, clip_three_faces)
    window.close()
    later = MainWindow(settings=window.settings, model=window.config.model)  # a later launch, same sessions folder
    qtbot.addWidget(later)
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: asked.append(args) or (str(path), ""))
    dialog = later.summary_dialog()
    assert shown == [] and Path(asked[0][2]) == tmp_path / "sessions"
    assert dialog is not None and dialog.csv_path == path
    dialog.close()
    later.close()


# --- 8. The participant is asked for every recording ------------------------------------------------------------
def test_participant_is_not_carried_over_and_analyse_asks_for_it(qtbot, tmp_path, clip_three_faces, monkeypatch):
    from emotiondesk._qt.main_window import MainWindow

    monkeypatch.setattr("emotiondesk._qt.paths.sessions_dir", lambda: tmp_path / "sessions")
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("participant", "P07")  # what an earlier launch left
    settings.setValue("session", "pilot")
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    assert window.session.info == SessionInfo("", "pilot", "")
    assert "<b>–</b>" in window.session_bar.summary.text()
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.source_kind == "video", timeout=20000)
    qtbot.waitUntil(lambda: window.playback.isVisible(), timeout=5000)
    fired: list = []
    QTimer.singleShot(0, lambda: answer_session_dialog(None, fired))
    window.playback.analyse_button.click()  # cancelled: nothing is recorded
    assert fired == [""] and window.recording_path is None
    QTimer.singleShot(0, lambda: answer_session_dialog("P08", fired))
    window.playback.analyse_button.click()
    assert window.recording_path is not None and window.recording_path.name.startswith("P08_pilot_")
    qtbot.waitUntil(lambda: window.recording_path is None, timeout=30000)
    assert settings.value("participant") is None  # never written for the next launch
    QTimer.singleShot(0, lambda: answer_session_dialog(None, fired))
    window.record_action.trigger()  # Record asks again, pre-filled with this launch's participant to confirm
    assert fired[-1] == "P08" and window.recording_path is None
    window.close()


# --- 9. Open session…, and a model file from Settings -----------------------------------------------------------
def test_open_session_shows_a_past_recording_with_markers_and_report(
    qtbot, window, clip_three_faces, tmp_path, monkeypatch, shown
):
    from emotiondesk._qt import open_session

    window.playback.loop.setChecked(True)
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 1, timeout=20000)
    window.start_recording()
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=5000)
    window.session.add_marker(0, "stimulus on")
    qtbot.waitUntil(lambda: window.worker.recorder.rows_written >= 10, timeout=15000)
    path = window.recording_path
    window.stop_recording()
    qtbot.waitUntil(lambda: window.last_recording == path, timeout=5000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(path), ""))
    dialog = open_session.ask_session(window)
    qtbot.addWidget(dialog)
    assert dialog.summary and len(dialog.figure.axes) >= 2  # shares, and the timeline with its markers
    assert "stimulus on" in dialog.markers_label.text()
    report = dialog.write_report()
    assert report == path.with_suffix(".html") and report.exists()
    assert any(a.text().replace("&", "") == "Open session…" for a in window.menuBar().actions()[0].menu().actions())
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    assert open_session.open_session(window, junk) is None
    ((title, text),) = shown
    assert title == "Cannot open session" and str(junk) in text and whole_sentences(text), text


def test_settings_take_a_model_file_only_when_it_meets_the_contract(
    qtbot, window, make_model, tmp_path, monkeypatch, shown
):
    from emotiondesk._qt.settings_dialog import OTHER_FILE, SettingsDialog

    dialog = SettingsDialog(window.config, window)
    qtbot.addWidget(dialog)
    dialog.show()
    before = dialog.model.currentData()
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00" * 100)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(broken), ""))
    dialog.model.setCurrentIndex(dialog.model.findData(OTHER_FILE))  # asks from the event loop, once shown
    qtbot.waitUntil(lambda: dialog.model.currentData() != OTHER_FILE, timeout=5000)
    assert dialog.model.currentData() == before  # refused when chosen, the old choice kept
    ((title, text),) = shown
    assert title == "Cannot use this model" and str(broken) in text and "[N,1,48,48]" in text
    assert whole_sentences(text), text
    good = make_model(labels=["calm", "tense"], classes=2)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(good), ""))
    dialog.model.setCurrentIndex(dialog.model.findData(OTHER_FILE))
    qtbot.waitUntil(lambda: dialog.model.currentData() != OTHER_FILE, timeout=5000)
    assert dialog.model.currentData() == str(good) and dialog.model.currentText() == "Custom: model.onnx"
    window.apply_settings(dialog)
    assert window.config.model == str(good) and window.settings.value("model") == str(good)
    bundled = SettingsDialog(window.config, window)
    qtbot.addWidget(bundled)
    bundled.model.setCurrentIndex(bundled.model.findData("ferplus"))
    window.apply_settings(bundled)
    assert window.config.model == "ferplus"


# --- 10. The frame hook that gui_soak and the live benchmark use -------------------------------------------------
def test_video_view_reports_each_painted_result_with_its_capture_stamp(qtbot, window, clip_three_faces):
    painted = []
    window.video.painted.connect(painted.append)
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: len(painted) >= 3, timeout=20000)
    assert len({id(r) for r in painted}) == len(painted)  # once per result, not per repaint
    assert all(r.captured is not None and r.faces for r in painted)
