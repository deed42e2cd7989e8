"""The real main window, offscreen, driven with generated clips of real faces (pytest-qt)."""

import csv
import json

import pytest

pytest.importorskip("PySide6")
from model_factory import FER_LABELS  # noqa: E402

from emotiondesk._qt.main_window import MainWindow  # noqa: E402
from emotiondesk.sinks.csv_sink import csv_columns  # noqa: E402


def wait_for_frames(qtbot, window, count: int, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= count, timeout=timeout)


def test_frames_arrive_and_faces_are_listed(qtbot, window, clip_three_faces):
    window.open_source(str(clip_three_faces))
    wait_for_frames(qtbot, window, 5)
    qtbot.waitUntil(lambda: window.faces_list.count() >= 2, timeout=10000)
    entries = [window.faces_list.item(i).text() for i in range(window.faces_list.count())]
    assert all(entry.startswith("#") for entry in entries)
    assert window.video.image is not None and window.video.source_size.width() == 640
    assert window.status_model.text().startswith("model: ")
    assert window.bars.values is not None and len(window.bars.values) == 7
    window.timeline.redraw()
    assert len(window.timeline.face_rows) >= 2


def test_record_stop_export_writes_the_csv(qtbot, window, clip_three_faces, tmp_path):
    window.open_source(str(clip_three_faces))
    wait_for_frames(qtbot, window, 1)
    window.start_recording()
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=5000)
    assert window.rec_indicator is not None
    qtbot.waitUntil(lambda: window.worker.recorder is None or window.worker.recorder.rows_written >= 6, timeout=15000)
    window.stop_recording()
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=5000)
    exported = tmp_path / "export" / "mine.csv"
    assert window.export_csv(exported)
    with exported.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == csv_columns(FER_LABELS)
    assert len(rows) > 6
    sidecar = json.loads(exported.with_suffix(".json").read_text())
    assert sidecar["model"]["labels"] == FER_LABELS
    assert sidecar["source"]["fps"] == 15.0 and sidecar["source"]["frames"] == 20  # same sidecar as the CLI's
    assert sidecar["summary"]["faces"] == len(rows) - 1


def test_missing_camera_shows_message_with_retry(qtbot, window):
    window.open_source("0")
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10000)
    assert "camera 0" in window.banner_text.text()
    assert window.retry_button.isVisible()


def test_start_without_camera_is_a_friendly_state(qtbot, window):
    window.start_default_source()
    assert window.banner.isVisible() and "No camera found" in window.banner_text.text()


def test_closing_joins_the_worker_and_keeps_the_recording(qtbot, window, clip_three_faces):
    window.realtime = True
    window.open_source(str(clip_three_faces))
    wait_for_frames(qtbot, window, 1)
    window.start_recording()
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=5000)
    worker = window.worker
    path = window.recording_path
    window.close()
    assert worker.isFinished()
    assert path.exists() and json.loads(path.with_suffix(".json").read_text())["finished"] is True


def test_worker_drops_stale_frames_when_the_ui_is_busy(qtbot, clip_three_faces, contract_model):
    """Latest frame wins: while the UI has not taken a frame, the worker processes but does not send."""
    from emotiondesk._qt.worker import PipelineWorker
    from emotiondesk.pipeline import PipelineConfig

    worker = PipelineWorker(str(clip_three_faces), PipelineConfig(model=str(contract_model)), realtime=False)
    received = []
    worker.frame_ready.connect(lambda image, result: received.append(result.index))  # never calls frame_taken
    with qtbot.waitSignal(worker.source_finished, timeout=30000):
        worker.start()
    worker.request_stop()
    assert worker.wait(2000)
    assert worker.frames_processed == 20
    assert worker.frames_displayed == 1 and received == [0]


def test_painting_keeps_python_refcounts_intact(qtbot, window, clip_three_faces):
    """PySide6 6.12.0 dropped a reference to None on every void QPainter call; after a few thousand frames
    the interpreter aborted ('deallocating None'). Painting many frames must leave None's count intact."""
    import sys

    window.open_source(str(clip_three_faces))
    wait_for_frames(qtbot, window, 3)
    before = sys.getrefcount(None)
    for _ in range(100):
        window.video.grab()
        window.bars.grab()
        window.timeline.redraw()
        window.timeline.grab()
    assert sys.getrefcount(None) - before > -100


def test_settings_switch_to_the_ferplus_model_and_remember_it(qtbot, window, clip_three_faces):
    from emotiondesk._qt.main_window import SettingsDialog

    dialog = SettingsDialog(window.config, window)
    assert dialog.model.currentText().startswith("Custom: ")  # the fixture's model file
    dialog.model.setCurrentIndex(dialog.model.findData("ferplus"))
    window.open_source(str(clip_three_faces))
    window.apply_settings(dialog)  # restarts the source with the FER+ model
    qtbot.waitUntil(lambda: window.bars.values is not None and len(window.bars.values) == 8, timeout=15000)
    assert "contempt" in window.bars.labels
    reopened = MainWindow(settings=window.settings)
    qtbot.addWidget(reopened)
    assert reopened.config.model == "ferplus"


def test_reopening_the_source_never_clears_the_faces_list_inside_its_own_signal(qtbot, window, clip_three_faces):
    """F5 / Retry / Settings ▸ OK with a current row in the Faces list used to abort (clear() re-entered through
    currentItemChanged → _select_face → _update_faces → clear())."""
    window.open_source(str(clip_three_faces))
    wait_for_frames(qtbot, window, 3)
    qtbot.waitUntil(lambda: window.faces_list.count() >= 2, timeout=10000)
    real_clear, depth, nested = window.faces_list.clear, [0], []

    def guarded_clear() -> None:
        if depth[0]:
            nested.append(True)  # re-entered: record it and skip the inner clear that corrupts the heap
            return
        depth[0] += 1
        try:
            real_clear()
        finally:
            depth[0] -= 1

    window.faces_list.clear = guarded_clear
    window.faces_list.setFocus()
    for attempt in range(6):
        qtbot.waitUntil(lambda: window.faces_list.count() >= 1, timeout=10000)
        window.faces_list.setCurrentRow(attempt % window.faces_list.count())
        window.retry_source()
        wait_for_frames(qtbot, window, 1)
    assert not nested
    qtbot.waitUntil(lambda: window.faces_list.count() >= 1, timeout=10000)  # listed again once a frame is shown
