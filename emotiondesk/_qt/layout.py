"""The window's layout: video with banner and playback bar, the side panel, the timeline and the status line.
Its parts become attributes of the window under the names the window always had."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from emotiondesk._qt.faces_panel import FacesPanel
from emotiondesk._qt.playback import PlaybackBar
from emotiondesk._qt.session_panel import SessionBar
from emotiondesk._qt.status_line import StatusLine
from emotiondesk._qt.timeline import EmotionTimeline
from emotiondesk._qt.widgets import SourceBanner, VideoView


def build_layout(window) -> None:
    """Build the parts on `window` (a MainWindow with `settings`, `config`, `session` and `loop` set)."""
    window.video = VideoView()
    window.video.mirror = window.settings.value("mirror", "false") in (True, "true")
    window.video.show_boxes = window.settings.value("show_boxes", "true") in (True, "true")
    window.video.show_labels = window.settings.value("show_labels", "true") in (True, "true")
    window.banner = SourceBanner()
    window.banner_text, window.retry_button = window.banner.text, window.banner.retry_button
    window.retry_button.clicked.connect(window.retry_source)
    window.banner.open_button.clicked.connect(window.open_file_dialog)
    window.banner.settings_button.clicked.connect(window.open_settings)
    window.playback = PlaybackBar()
    window.playback.loop.setChecked(window.loop)

    left = QWidget()
    left_layout = QVBoxLayout(left)
    left_layout.setContentsMargins(0, 0, 0, 0)
    left_layout.addWidget(window.banner)
    left_layout.addWidget(window.video, 1)
    left_layout.addWidget(window.playback)

    window.faces = FacesPanel()
    window.faces.details.setVisible(window.config.face_details)
    window.details_panel = window.faces.details
    window.faces_list = window.faces.faces_list
    window.bars = window.faces.bars
    window.session_bar = SessionBar(window.session)
    side = QWidget()
    side_layout = QVBoxLayout(side)
    side_layout.addWidget(window.session_bar)
    side_layout.addWidget(window.faces, 1)
    side.setMinimumWidth(280)

    top = QSplitter(Qt.Orientation.Horizontal)
    top.addWidget(left)
    top.addWidget(side)
    top.setStretchFactor(0, 3)
    top.setStretchFactor(1, 1)
    window.timeline = EmotionTimeline(float(window.settings.value("timeline_s", 30)))
    main = QSplitter(Qt.Orientation.Vertical)
    main.addWidget(top)
    main.addWidget(window.timeline)
    main.setStretchFactor(0, 4)
    main.setStretchFactor(1, 1)
    window.setCentralWidget(main)

    window.status_line = StatusLine(window.statusBar())
    window.rec_indicator, window.status_model = window.status_line.rec_indicator, window.status_line.model
