"""The window's parts on their own and together (pytest-qt offscreen, real clips, real detector):
playback, recording a session with participant, markers and face names, the timeline legend, the summary."""

import csv
import json

import pytest

pytest.importorskip("PySide6")
from model_factory import FER_LABELS  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from emotiondesk.metadata import SessionInfo  # noqa: E402
from emotiondesk.pipeline import PipelineConfig  # noqa: E402
from emotiondesk.sinks.markers import markers_path  # noqa: E402


def rows_of(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_playback_bar_pauses_seeks_and_changes_speed(qtbot, clip_three_faces, contract_model):
    from emotiondesk._qt.playback import PlaybackBar
    from emotiondesk._qt.worker import PipelineWorker

    bar = PlaybackBar()
    qtbot.addWidget(bar)
    worker = PipelineWorker(str(clip_three_faces), PipelineConfig(model=str(contract_model)), realtime=True)
    shown = []

    def take(image, result):
        shown.append(result.index)
        bar.update_position(result.index, result.time_s)
        worker.frame_taken()

    worker.frame_ready.connect(take)
    worker.source_opened.connect(lambda name, kind: bar.source_opened(kind, worker.frame_count, worker.fps))
    bar.attach(worker)
    worker.start()
    try:
        qtbot.waitUntil(lambda: len(shown) >= 2, timeout=15000)
        assert not bar.isHidden() and bar.slider.maximum() == 19
        bar.set_paused(True)
        assert bar.play_button.text() == "Play"
        qtbot.wait(300)
        count = len(shown)
        qtbot.wait(400)
        assert len(shown) <= count + 1  # paused: nothing more arrives
        bar.slider.triggerAction(bar.slider.SliderAction.SliderToMaximum)  # a key press on the slider
        qtbot.waitUntil(lambda: shown[-1] == 19, timeout=5000)
        bar.seek(15)  # shown even while paused
        qtbot.waitUntil(lambda: shown[-1] == 15, timeout=5000)
        assert bar.slider.value() == 15 and bar.time_label.text().startswith("0:01.0 / 0:01.3")
        bar.speed.setCurrentIndex(bar.speed.findData(0.0))
        bar.loop.setChecked(True)
        bar.set_paused(False)
        qtbot.waitUntil(lambda: len(shown) > count + 8, timeout=10000)  # looped back to the start, fast
        assert worker.speed == 0.0 and 0 in shown[count:]
    finally:
        worker.request_stop()
        assert worker.wait(3000)


def test_recording_an_ended_file_starts_it_again_from_the_beginning(qtbot, window, clip_three_faces):
    window.realtime = False
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.ended, timeout=20000)
    window.start_recording()
    qtbot.waitUntil(
        lambda: (recorder := window.worker.recorder) is not None and recorder.frames_written >= 20, timeout=20000
    )
    window.stop_recording()
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=5000)
    assert {int(r["frame"]) for r in rows_of(window.last_recording)} == set(range(20))


def test_analyse_whole_file_records_every_frame_with_progress(qtbot, window, clip_three_faces, tmp_path):
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 3, timeout=20000)
    window.analyse_whole_file(tmp_path / "whole.csv")
    assert window.playback.progress.isVisibleTo(window) and window.recording_path == tmp_path / "whole.csv"
    with qtbot.waitSignal(window.worker.analysis_finished, timeout=20000):
        pass
    qtbot.waitUntil(lambda: window.last_recording == tmp_path / "whole.csv", timeout=5000)
    assert {int(r["frame"]) for r in rows_of(tmp_path / "whole.csv")} == set(range(20))
    sidecar = json.loads((tmp_path / "whole.json").read_text())
    assert sidecar["status"] == "finished" and sidecar["frames_done"] == sidecar["frames_in_source"] == 20
    assert window.recording_path is None and not window.playback.progress.isVisibleTo(window)
    assert window.worker.speed == 1.0  # back to the speed chosen before


def test_session_markers_and_face_names_reach_csv_sidecar_timeline_and_summary(qtbot, window, clip_three_faces):
    window.playback.loop.setChecked(True)
    window.session.set_info(SessionInfo("P 01", "pilot-1", "calm room"))
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.faces_list.count() >= 3, timeout=20000)
    window.start_recording()
    assert window.recording_path.name.startswith("P-01_pilot-1_")
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=5000)
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_3)
    window.session.add_marker(0, "stimulus on")
    window.session.rename_face(1, "Alice")
    window.session.merge_faces(3, 1)
    qtbot.waitUntil(lambda: window.worker.recorder.names.name(3) == "Alice", timeout=5000)
    qtbot.waitUntil(lambda: window.worker.recorder.rows_written >= 12, timeout=15000)
    assert any("Alice" in window.faces_list.item(i).text() for i in range(window.faces_list.count()))
    window.timeline.redraw()
    assert window.timeline.legend.labels == tuple(FER_LABELS)
    assert [line.label.format for line in window.timeline.marker_lines] == ["3", "stimulus on"]
    ticks = [text for _, text in window.timeline.plot.getAxis("left")._tickLevels[0]]
    assert "Alice" in ticks and "#3" not in ticks
    path = window.recording_path
    window.stop_recording()
    qtbot.waitUntil(lambda: window.last_recording == path, timeout=5000)
    rows = rows_of(path)
    assert {r["participant"] for r in rows} == {"P 01"} and {r["session"] for r in rows} == {"pilot-1"}
    assert "Alice" in {r["face_name"] for r in rows if r["face_id"] == "3"}
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["session"]["notes"] == "calm room" and sidecar["face_names"] == {"1": "Alice"}
    assert sidecar["face_merges"] == {"3": 1}
    markers = rows_of(markers_path(path))
    assert [(m["marker"], m["text"]) for m in markers] == [("3", ""), ("0", "stimulus on")]
    dialog = window.summary_dialog()
    qtbot.addWidget(dialog)
    assert dialog.summary and [dialog.session.face_title(f) for f in dialog.summary][0] == "Alice (#1)"
    assert 3 not in dialog.summary and 0 < dialog.summary[1]["seconds"] <= dialog.summary[1]["frames"] / 15 + 1e-6


def test_summary_saves_the_figure_with_the_legend_beside_the_plot(qtbot, window, clip_three_faces, tmp_path):
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 2, timeout=20000)
    window.start_recording(tmp_path / "s.csv")
    qtbot.waitUntil(lambda: window.worker.recorder is not None, timeout=5000)
    window.session.add_marker(2)
    qtbot.waitUntil(lambda: window.worker.recorder is None or window.worker.recorder.rows_written >= 9, timeout=15000)
    window.stop_recording()
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=5000)
    dialog = window.summary_dialog()
    qtbot.addWidget(dialog)
    dialog.canvas.draw()
    renderer = dialog.figure.canvas.get_renderer()
    for ax in dialog.figure.axes:
        legend = ax.get_legend()
        if legend is not None:
            assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1  # beside, not on
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")):
        target = tmp_path / f"figure{suffix}"
        assert dialog.save_figure(target)
        assert target.read_bytes().startswith(magic)
    png = (tmp_path / "figure.png").read_bytes()
    assert png != dialog.grab().toImage().bits().tobytes()[: len(png)]
    report = dialog.write_report()
    assert report == tmp_path / "s.html" and "2" in report.read_text()


def test_settings_palette_switches_every_view(qtbot, window):
    from emotiondesk._qt.settings_dialog import SettingsDialog
    from emotiondesk.palette import CLASSIC, OKABE_ITO

    assert window.video.palette_name == "okabe-ito" and window.timeline.palette_name == "okabe-ito"
    dialog = SettingsDialog(window.config, window, window.palette_name)
    dialog.palette.setCurrentIndex(dialog.palette.findData("classic"))
    window.apply_settings(dialog)
    assert window.bars.palette_name == window.timeline.legend.palette_name == "classic"
    assert window.settings.value("palette") == "classic" and CLASSIC["happy"] != OKABE_ITO["happy"]


def test_record_asks_for_the_session_and_remembers_it(qtbot, window, clip_three_faces):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from emotiondesk._qt.session_panel import SessionDialog

    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 1, timeout=20000)

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SessionDialog)
        dialog.participant.setText("P07")
        dialog.session.setText("day 2")
        dialog.accept()

    QTimer.singleShot(200, answer)
    window.record_action.trigger()  # the Record button / Space
    assert window.recording_path is not None and window.recording_path.name.startswith("P07_day-2_")
    assert window.settings.value("participant") == "P07" and "P07" in window.session_bar.summary.text()
    window.record_action.trigger()
    qtbot.waitUntil(lambda: window.last_recording is not None, timeout=5000)
    assert window.session.info.session == "day 2"  # remembered for the next recording


def test_double_click_renames_after_the_list_signal_returns(qtbot, window, clip_three_faces):
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.faces_list.count() >= 2, timeout=20000)
    asked = []
    window.faces.rename_requested.disconnect()
    window.faces.rename_requested.connect(lambda face_id: asked.append(face_id))
    item = window.faces_list.item(0)
    face_id = item.data(Qt.ItemDataRole.UserRole)
    window.faces_list.itemDoubleClicked.emit(item)
    assert asked == []  # not inside the list's own signal
    qtbot.waitUntil(lambda: asked == [face_id], timeout=2000)
    window.session.rename_face(face_id, "P09")
    qtbot.waitUntil(lambda: any("P09" in window.faces_list.item(i).text() for i in range(window.faces_list.count())))
    assert window.video.names.name(face_id) == "P09"
    window.retry_source()  # F5 on the same source keeps the names
    assert window.video.names.name(face_id) == "P09" and window.timeline.names.name(face_id) == "P09"


def test_seeking_an_ended_file_plays_it_again_from_there(qtbot, window, clip_three_faces):
    window.realtime = False
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.ended, timeout=20000)
    shown = []
    window.worker.frame_ready.connect(lambda image, result: shown.append(result.index))
    window.playback.seek(12)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert shown[0] == 12


def synthetic_result(index: int, face_ids=(1, 2, 3)):
    import numpy as np

    from emotiondesk.types import Box, Face, FrameResult

    faces = [
        Face(Box(100 * f, 50, 60, 60), 0.9, probabilities=np.eye(7, dtype=np.float32)[f], face_id=f) for f in face_ids
    ]
    return FrameResult(index, index / 10, 640, 480, faces, tuple(FER_LABELS))


def test_timeline_on_its_own_has_legend_markers_and_names(qtbot):
    from emotiondesk._qt.timeline import EmotionTimeline
    from emotiondesk.metadata import FaceNames
    from emotiondesk.sinks.markers import Marker

    timeline = EmotionTimeline(5.0)
    qtbot.addWidget(timeline)
    timeline.show()
    for index in range(80):
        timeline.add_result(synthetic_result(index))
    timeline.names = FaceNames({1: "P01"}, {3: 2})
    timeline.set_markers([Marker(1.0, 10, 1), Marker(7.0, 70, 0, "go")])  # 1.0 s is out of the 5 s window
    timeline.redraw()
    assert timeline.legend.labels == tuple(FER_LABELS) and timeline.legend.sizeHint().width() > 40
    assert [line.label.format for line in timeline.marker_lines] == ["go"]
    assert [text for _, text in timeline.plot.getAxis("left")._tickLevels[0]] == ["P01", "#2"]
    assert timeline.legend.geometry().left() >= timeline.plot.geometry().right()  # beside, never over the bands


def test_faces_panel_on_its_own_keeps_the_selection_across_rebuilds(qtbot):
    from emotiondesk._qt.faces_panel import FacesPanel

    panel = FacesPanel()
    qtbot.addWidget(panel)
    panel.update_faces(synthetic_result(0))
    panel.faces_list.setCurrentRow(1)
    assert panel.selected_face_id == 2 and panel.bars.title == "Face #2"
    panel.update_faces(synthetic_result(1, (2, 3)))
    assert panel.faces_list.currentItem().data(Qt.ItemDataRole.UserRole) == 2
    panel.names.rename(2, "P02")
    panel.relabel()
    assert panel.faces_list.item(0).text().startswith("#2 P02") and panel.bars.title == "Face P02"
    assert panel.seen_ids == {1, 2, 3}


def test_k_pauses_a_file_but_not_a_still(qtbot, window, clip_three_faces, still_three_faces):
    window.open_source(str(clip_three_faces))
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 2, timeout=20000)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: window.worker.paused, timeout=3000)
    assert window.playback.play_button.text() == "Play"
    window.open_source(str(still_three_faces))
    qtbot.waitUntil(lambda: window.worker.frames_displayed >= 1, timeout=20000)
    assert window.playback.isHidden()
    window.playback.toggle_play()
    assert window.playback.play_button.text() == "Pause"
