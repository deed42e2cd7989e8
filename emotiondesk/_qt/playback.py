"""Source and playback controls: the Camera menu; for files play/pause, seek slider with time, speed, loop, and
Analyse whole file with progress."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QStyle,
    QWidget,
)

from emotiondesk._qt.worker import SPEEDS


def clock(seconds: float) -> str:
    """`1:05.3`."""
    seconds = max(seconds, 0.0)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class PlaybackBar(QWidget):
    """Controls for a video file, sent to the worker as thread-safe requests; hidden for cameras and stills.

    `analyse_requested` asks the session side to record the whole file (it owns recording names)."""

    analyse_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = None
        self.frame_count = 0
        self.fps = 0.0
        self.analysing = False
        self.play_button = QPushButton()
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play / pause (K)")
        self.play_button.toggled.connect(self.set_paused)
        self._show_paused(False)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Seek")
        self.slider.sliderReleased.connect(self._seek_to_slider)
        self.slider.valueChanged.connect(self._slider_changed)  # clicks, keys, wheel (programmatic moves are blocked)
        self.slider.sliderMoved.connect(self._show_slider_time)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.speed = QComboBox()
        for title, value in SPEEDS.items():
            self.speed.addItem(title, value)
        self.speed.setCurrentIndex(1)
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.loop = QCheckBox("Loop")
        self.loop.toggled.connect(self._loop_changed)
        self.analyse_button = QPushButton("Analyse whole file")
        self.analyse_button.setToolTip("Record the file from its first frame at full speed")
        self.analyse_button.clicked.connect(self.analyse_requested)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.play_button, self.slider, self.time_label, self.speed, self.loop):
            layout.addWidget(widget, 1 if widget is self.slider else 0)
        layout.addWidget(self.analyse_button)
        layout.addWidget(self.progress)
        self.hide()

    def attach(self, worker) -> None:
        """A new worker: controls reset to playing at its speed; shown once its source is known to be a video."""
        self.worker = worker
        self.hide()
        self.finish_analysis()
        with_signals_blocked(self.play_button, lambda: self.play_button.setChecked(False))
        self._show_paused(False)
        if worker is not None:
            worker.set_loop(self.loop.isChecked())
            index = self.speed.findData(worker.speed)
            with_signals_blocked(self.speed, lambda: self.speed.setCurrentIndex(max(index, 0)))

    def source_opened(self, kind: str, frame_count: int | None, fps: float | None) -> None:
        self.frame_count, self.fps = frame_count or 0, fps or 0.0
        self.slider.setRange(0, max(self.frame_count - 1, 0))
        self.setVisible(kind == "video")

    def update_position(self, index: int, time_s: float) -> None:
        """Slider, time and progress follow the frame on screen (not while the user drags the slider)."""
        if not self.slider.isSliderDown():
            with_signals_blocked(self.slider, lambda: self.slider.setValue(index))
        total = self.frame_count / self.fps if self.fps else float(self.frame_count)
        self.time_label.setText(f"{clock(time_s)} / {clock(total)}")
        if self.analysing and self.frame_count:
            self.progress.setValue(min(index + 1, self.frame_count))

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        self._show_paused(paused)
        if self.play_button.isChecked() != paused:
            self.play_button.setChecked(paused)
            return
        if self.worker is not None:
            self.worker.set_paused(paused)

    @Slot()
    def toggle_play(self) -> None:
        """Play / pause (K); nothing for cameras and stills, which have no playback."""
        if not self.isHidden():
            self.set_paused(not self.play_button.isChecked())

    def _show_paused(self, paused: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Play" if paused else "Pause")

    def source_ended(self) -> None:
        """The file ended: the button offers Play, which plays it again from its first frame."""
        with_signals_blocked(self.play_button, lambda: self.play_button.setChecked(True))
        self._show_paused(True)

    def seek(self, index: int) -> None:
        if self.worker is not None:
            self.worker.seek(index)

    def start_analysis(self) -> None:
        self.analysing = True
        self.progress.setRange(0, max(self.frame_count, 1))
        self.progress.setValue(0)
        self.progress.show()
        self.analyse_button.setEnabled(False)
        with_signals_blocked(self.play_button, lambda: self.play_button.setChecked(False))
        self._show_paused(False)

    def finish_analysis(self) -> None:
        self.analysing = False
        self.progress.hide()
        self.analyse_button.setEnabled(True)

    @Slot()
    def _seek_to_slider(self) -> None:
        self.seek(self.slider.value())

    @Slot(int)
    def _slider_changed(self, index: int) -> None:
        if not self.slider.isSliderDown():  # a drag seeks once, on release
            self.seek(index)

    @Slot(int)
    def _show_slider_time(self, index: int) -> None:
        self.time_label.setText(clock(index / self.fps if self.fps else index))

    @Slot(int)
    def _speed_changed(self, _index: int) -> None:
        if self.worker is not None:
            self.worker.set_speed(float(self.speed.currentData()))

    @Slot(bool)
    def _loop_changed(self, on: bool) -> None:
        if self.worker is not None:
            self.worker.set_loop(on)


def with_signals_blocked(widget: QWidget, change) -> None:
    """Change a widget without its signals (programmatic updates never loop back as user actions)."""
    from PySide6.QtCore import QSignalBlocker

    with QSignalBlocker(widget):
        change()


def fill_camera_menu(menu, group, current: str | None, open_source) -> None:
    """The Camera menu: the cameras found (the current one checked), or a disabled "No camera found"."""
    from PySide6.QtGui import QAction

    from emotiondesk.sources import list_cameras

    menu.clear()
    cameras = list_cameras()
    if not cameras:
        menu.addAction("No camera found").setEnabled(False)
        return
    for camera in cameras:
        item = QAction(f"{camera.name} ({camera.index})", menu, checkable=True)
        item.setChecked(current == str(camera.index))
        item.triggered.connect(lambda _=False, index=camera.index: open_source(str(index)))
        group.addAction(item)
        menu.addAction(item)
