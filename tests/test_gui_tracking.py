"""The window with many face IDs and in participant mode: Settings choices, the timeline's rows and marker band,
and the summary/report figures (at most as many faces as stay legible, a gap between rows, markers above)."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import FER_LABELS

pytest.importorskip("PySide6")

from emotiondesk.metadata import FaceNames  # noqa: E402
from emotiondesk.sinks.markers import Marker  # noqa: E402
from emotiondesk.types import Box, Face, FrameResult  # noqa: E402


def many_faces(index: int, count: int = 20) -> FrameResult:
    """A frame where faces 1…count come and go (each present two thirds of the time)."""
    ids = [f for f in range(1, count + 1) if (f + index // 15) % 3]
    faces = [
        Face(Box(20 * f, 50, 60, 60), 0.9, probabilities=np.eye(7, dtype=np.float32)[f % 7], face_id=f) for f in ids
    ]
    return FrameResult(index, index / 10, 640, 480, faces, tuple(FER_LABELS))


def test_settings_participant_mode_and_reid_reach_the_pipeline_and_persist(qtbot, window, clip_three_faces):
    from emotiondesk._qt.main_window import MainWindow
    from emotiondesk._qt.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.config, window)
    assert dialog.max_faces.value() == 0 and dialog.max_faces.text() == "All faces"
    dialog.max_faces.setValue(1)
    dialog.reid.setValue(4.0)
    window.open_source(str(clip_three_faces))
    window.apply_settings(dialog)
    assert window.config.max_faces == 1 and window.config.reid_s == 4.0
    qtbot.waitUntil(lambda: window.worker is not None and window.worker.frames_displayed >= 6, timeout=20000)
    assert window.faces_list.count() == 1  # three faces in the clip, one followed
    assert {face_id for face_id in window.timeline.samples} == {1}
    reopened = MainWindow(settings=window.settings)
    qtbot.addWidget(reopened)
    assert reopened.config.max_faces == 1 and reopened.config.reid_s == 4.0


def test_timeline_with_many_ids_shows_rows_that_fit_with_gaps_and_markers_above(qtbot):
    from emotiondesk._qt.timeline import EmotionTimeline

    timeline = EmotionTimeline(10.0)
    qtbot.addWidget(timeline)
    timeline.resize(900, 220)
    timeline.show()
    qtbot.waitExposed(timeline)
    for index in range(150):
        timeline.add_result(many_faces(index))
    timeline.names = FaceNames({1: "P01"}, {3: 2})
    timeline.set_markers([Marker(12.0, 120, 1, "stimulus on")])
    timeline.redraw()
    ticks = timeline.plot.getAxis("left")._tickLevels[0]
    rows = len(timeline.face_rows)
    assert 1 <= rows < 19 and timeline.hidden_faces == 19 - rows  # 20 IDs, 3 merged into 2: 19 faces
    assert len(ticks) == rows  # one label per row shown
    assert "faces (the latest seen)" in timeline.plot.getAxis("bottom").labelText
    box = timeline.plot.getViewBox()
    spacing_px = box.height() / (rows + timeline.marker_band)
    assert spacing_px >= timeline.fontMetrics().height()  # labels never overlap
    image = timeline.image_item.image
    assert image.shape[0] == rows * timeline.ROW_PIXELS
    gap_lines = [tuple(image[line, -1]) for line in range(image.shape[0])]
    assert gap_lines.count(timeline.BACKGROUND) == rows * timeline.GAP_PIXELS  # a gap below every row
    (line,) = timeline.marker_lines
    label_y = line.label.orthoPos * (rows + timeline.marker_band)
    assert label_y > rows  # the marker's text sits in the band above the rows
    label_px = line.label.boundingRect().height()
    assert timeline.marker_band * spacing_px >= label_px - 2


def test_summary_and_report_figures_with_many_ids(tmp_path):
    from emotiondesk.analysis.figures import MAX_FACES, SUMMARY_FACES, draw_timeline, shown_faces, summary_figure
    from emotiondesk.analysis.recorded import load_recorded
    from emotiondesk.analysis.report import render_report
    from emotiondesk.sinks.csv_sink import CsvRecorder
    from emotiondesk.sinks.markers import markers_path

    path = tmp_path / "many.csv"
    with CsvRecorder(path, tuple(FER_LABELS), names=FaceNames({1: "P01"}, {40: 1})) as recorder:
        for index in range(300):
            result = many_faces(index, count=40)
            for face in result.faces:
                face.smoothed = face.probabilities
            recorder.write(result)
    markers_path(path).write_text("time_s,frame,marker,text\n5.0,50,1,stimulus on\n5.5,55,2,question\n")
    session = load_recorded(path)
    assert len(session.summary) == 39 and 40 not in session.summary  # the merge holds in the summary
    assert len(shown_faces(session)) == MAX_FACES
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 10))
    ax = figure.subplots()
    draw_timeline(ax, session)
    assert len(ax.get_yticks()) == MAX_FACES and "30 of 39 faces" in ax.get_title()
    figure.canvas.draw()
    plot = ax.get_window_extent()
    for text in ax.texts:  # marker labels: above the plot, not on its rows
        assert text.get_window_extent().y0 >= plot.y1 - 1
    image = ax.images[0].get_array()
    assert image.shape[0] == MAX_FACES * 5 and np.all(image[4::5] == 1.0)  # a white gap line under every row
    summary = summary_figure(session)
    assert all(len(a.get_yticks()) <= SUMMARY_FACES for a in summary.axes if a.get_yticks() is not None)
    html = render_report(session)
    assert html.count("<tr><td>#") + html.count("<tr><td>P01") == 39  # the table lists every face
    assert "<td>P01 (#1)</td>" in html and "#40" not in html
