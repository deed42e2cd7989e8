"""File ▸ Analyse folder… in the real window, offscreen: the batch runs in the background and opens the index."""

import csv

import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QDesktopServices  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from emotiondesk._qt.batch_dialog import BatchDialog  # noqa: E402
from emotiondesk._qt.main_window import MainWindow  # noqa: E402
from emotiondesk.pipeline import PipelineConfig  # noqa: E402
from emotiondesk.samples import write_face_clip  # noqa: E402


@pytest.fixture()
def two_clips(tmp_path, face_image):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name, faces in (("a.mp4", 1), ("b.avi", 2)):
        write_face_clip(folder / name, face_image, faces=faces, frames=8)
    return folder


def test_analyse_folder_menu_runs_the_batch_and_opens_the_index(
    qtbot, tmp_path, two_clips, contract_model, monkeypatch
):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: str(two_clips))
    monkeypatch.setattr("emotiondesk._qt.paths.sessions_dir", lambda: tmp_path / "data" / "sessions")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(model=str(contract_model), settings=settings)
    qtbot.addWidget(window)
    file_menu = window.menuBar().actions()[0].menu()
    action = next(a for a in file_menu.actions() if a.text() == "Analyse &folder…")
    action.trigger()
    dialog = window.batch_dialog
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=120000)
    index = dialog.report.index_path
    assert index.parent.parent == tmp_path / "data" / "batches" and opened == [str(index)]
    with index.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["status"], r["frames"]) for r in rows] == [("done", "8"), ("done", "8")]
    assert dialog.bar.value() == dialog.bar.maximum() == 16
    assert dialog.button.text() == "Close" and "2 done" in dialog.status.text()
    dialog.button.click()
    assert not dialog.isVisible()
    window.close()


def test_cancel_stops_the_batch_and_keeps_the_index(qtbot, tmp_path, face_image, contract_model, monkeypatch):
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: True)
    folder = tmp_path / "long"
    folder.mkdir()
    write_face_clip(folder / "long.avi", face_image, faces=1, frames=1200, width=320, height=240)
    dialog = BatchDialog([str(folder)], tmp_path / "out", PipelineConfig(model=str(contract_model)), jobs=1)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start()
    qtbot.waitUntil(lambda: dialog.bar.value() > 0, timeout=60000)
    dialog.button.click()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30000)
    assert dialog.report.interrupted and dialog.report.rows[0].status == "interrupted"
    assert 0 < dialog.report.rows[0].frames < 1200
    assert "Stopped" in dialog.status.text()
