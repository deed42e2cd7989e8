"""File ▸ Study analysis… in the real window, offscreen: the study runs in a thread and opens its page."""

import csv

import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402
from test_study import MARKERS, analyze, write_clip  # noqa: E402

from emotiondesk._qt.main_window import MainWindow  # noqa: E402


def test_study_analysis_menu_reads_the_sessions_folder_and_opens_the_page(
    qtbot, tmp_path, face_image, contract_model, monkeypatch
):
    sessions = tmp_path / "data" / "sessions"
    sessions.mkdir(parents=True)
    markers = tmp_path / "markers.csv"
    markers.write_text(MARKERS)
    clip = write_clip(tmp_path / "clip.avi", face_image, [1] * 27)
    for participant in ("P1", "P2"):
        analyze(clip, sessions / f"{participant}.csv", contract_model, participant, markers)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    monkeypatch.setattr("emotiondesk._qt.paths.sessions_dir", lambda: sessions)
    window = MainWindow(
        model=str(contract_model), settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(window)
    file_menu = window.menuBar().actions()[0].menu()
    next(a for a in file_menu.actions() if a.text() == "Study &analysis…").trigger()
    dialog = window.study_dialog
    assert dialog.folder.text() == str(sessions)
    dialog.window_s.setText("soon")
    dialog.run_button.click()
    assert "not a number" in dialog.status.text() and dialog.thread is None
    dialog.window_s.setText("")
    dialog.conditions.setText("1=baseline,3=video B")
    dialog.run_button.click()
    qtbot.waitUntil(lambda: dialog.page is not None or dialog.error is not None, timeout=120000)
    assert dialog.error is None
    assert dialog.page.parent.parent == tmp_path / "data" / "studies" and opened == [str(dialog.page)]
    with (dialog.page.parent / "study.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["participant"] for r in rows} == {"P1", "P2"}
    assert {r["condition"] for r in rows} == {"(before first marker)", "baseline", "video A", "video B"}
    assert "2 sessions, 2 participants, 4 conditions" in dialog.status.text()
    assert dialog.bar.value() == dialog.bar.maximum() == 2
    dialog.run_button.click()
    assert not dialog.isVisible()
    next(a for a in file_menu.actions() if a.text() == "Study &analysis…").trigger()  # the last options again
    assert window.study_dialog.conditions.text() == "1=baseline,3=video B" and window.study_dialog.baseline.text() == ""
    window.study_dialog.reject()
    window.close()
