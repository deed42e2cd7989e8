"""The main window: a thin shell that starts the worker, paints what it sends and forwards commands."""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QSignalBlocker, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from emotiondesk import __version__
from emotiondesk._qt.batch_dialog import analyse_folder
from emotiondesk._qt.summary import SessionSummaryDialog
from emotiondesk._qt.widgets import EmotionTimeline, ProbabilityBars, VideoView
from emotiondesk.assets import DEFAULT_EMOTION_MODEL, EMOTION_MODELS
from emotiondesk.errors import EmotionDeskError
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.recording import sidecar_path
from emotiondesk.sources import list_cameras
from emotiondesk.types import FrameResult

SHORTCUTS = [
    ("Space", "Start / stop recording"),
    ("Ctrl+O", "Open a video or image file"),
    ("Ctrl+E", "Export the recorded CSV"),
    ("Ctrl+M", "Mirror the image"),
    ("Ctrl+,", "Settings"),
    ("F5", "Retry the current source"),
    ("Ctrl+Q", "Quit"),
]

PRIVACY_NOTE = (
    "All processing stays on this computer: frames are never stored or sent anywhere, and the "
    "only files written are the recordings and exports you ask for."
)
LIMITS_NOTE = (
    "A facial expression is not a felt emotion: the model reads the configuration of a face, not "
    "what a person feels. It was trained on FER2013 (web images, mostly posed, skewed in age and "
    "ethnicity, with noisy labels — people agree with them only about 65 % of the time), and it is "
    "less reliable on under-represented groups, side views, poor light and subtle expressions. "
    "Do not use it to make decisions about individuals."
)


def sessions_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("emotiondesk", appauthor=False)) / "sessions"


def timestamped_name(prefix: str = "session") -> str:
    return f"{prefix}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.csv"


class SettingsDialog(QDialog):
    def __init__(self, config: PipelineConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.model = QComboBox()
        for name, bundled in EMOTION_MODELS.items():
            self.model.addItem(bundled.title, name)
        current = config.model or DEFAULT_EMOTION_MODEL
        if self.model.findData(current) < 0:  # a model file given on the command line
            self.model.addItem(f"Custom: {Path(current).name}", current)
        self.model.setCurrentIndex(self.model.findData(current))
        self.detector = QComboBox()
        self.detector.addItem("Short range (webcam distance, fastest)", "short")
        self.detector.addItem("Full range (small or distant faces)", "full")
        self.detector.setCurrentIndex(0 if config.detector == "short" else 1)
        self.min_confidence = QDoubleSpinBox()
        self.min_confidence.setRange(0.1, 0.95)
        self.min_confidence.setSingleStep(0.05)
        self.min_confidence.setValue(config.min_detection_confidence)
        self.smoothing = QSpinBox()
        self.smoothing.setRange(1, 60)
        self.smoothing.setValue(config.smoothing_window)
        self.smoothing.setSuffix(" frames")
        form.addRow("Emotion model", self.model)
        form.addRow("Face detector", self.detector)
        form.addRow("Minimum detection confidence", self.min_confidence)
        form.addRow("Smoothing window", self.smoothing)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def apply_to(self, config: PipelineConfig) -> None:
        config.model = self.model.currentData()
        config.detector = self.detector.currentData()
        config.min_detection_confidence = float(self.min_confidence.value())
        config.smoothing_window = int(self.smoothing.value())


class MainWindow(QMainWindow):
    """Live view, faces list, probability bars, timeline, recording and export."""

    def __init__(
        self, model: str | None = None, settings: QSettings | None = None, realtime: bool = True, loop: bool = False
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("emotiondesk", "emotiondesk")
        self.config = PipelineConfig(
            model=model or str(self.settings.value("model", DEFAULT_EMOTION_MODEL)),
            detector=str(self.settings.value("detector", "short")),
            min_detection_confidence=float(self.settings.value("min_confidence", 0.5)),
            smoothing_window=int(self.settings.value("smoothing", 5)),
        )
        self.realtime = realtime
        self.loop = loop  # replay files endlessly (kiosk/demo use, soak tests)
        self.worker = None
        self.source_spec: str | None = None
        self.recording_path: Path | None = None
        self.last_recording: Path | None = None
        self.recording_started_at = 0.0
        self.labels: tuple[str, ...] = ()
        self.model_name = ""
        self.selected_face_id: int | None = None
        self.last_result: FrameResult | None = None
        self.display_times: list[float] = []
        self.setWindowTitle("emotiondesk")
        self._build_ui()
        self._build_actions()
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)
        self.timeline_timer = QTimer(self)
        self.timeline_timer.timeout.connect(self._refresh_timeline)
        self.timeline_timer.start(200)
        self.rec_timer = QTimer(self)
        self.rec_timer.timeout.connect(self._update_rec_indicator)
        self.rec_timer.start(500)

    # --- layout ---------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.video = VideoView()
        self.video.mirror = self.settings.value("mirror", "false") in (True, "true")
        self.video.show_boxes = self.settings.value("show_boxes", "true") in (True, "true")
        self.video.show_labels = self.settings.value("show_labels", "true") in (True, "true")
        self.banner = QFrame()
        self.banner.setStyleSheet("QFrame { background: #5c1f1f; color: white; border-radius: 4px; }")
        banner_layout = QHBoxLayout(self.banner)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retry_source)
        open_button = QPushButton("Open file…")
        open_button.clicked.connect(self.open_file_dialog)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.retry_button)
        banner_layout.addWidget(open_button)
        self.banner.hide()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.video, 1)

        self.faces_list = QListWidget()
        self.faces_list.setMaximumHeight(160)
        self.faces_list.currentItemChanged.connect(self._select_face)
        self.bars = ProbabilityBars()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(QLabel("Faces"))
        side_layout.addWidget(self.faces_list)
        side_layout.addWidget(self.bars, 1)
        side.setMinimumWidth(260)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(side)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        self.timeline = EmotionTimeline(float(self.settings.value("timeline_s", 30)))
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.timeline)
        main.setStretchFactor(0, 4)
        main.setStretchFactor(1, 1)
        self.setCentralWidget(main)

        self.status_fps = QLabel("– fps")
        self.status_ms = QLabel("– ms/frame")
        self.status_faces = QLabel("0 faces")
        self.status_model = QLabel("")
        self.rec_indicator = QLabel("")
        self.rec_indicator.setStyleSheet("color: #e0302f; font-weight: bold;")
        for widget in (self.rec_indicator, self.status_fps, self.status_ms, self.status_faces, self.status_model):
            self.statusBar().addPermanentWidget(widget)

    def _build_actions(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction(
            "&Open file…", self, shortcut=QKeySequence("Ctrl+O"), triggered=self.open_file_dialog
        )
        self.record_action = QAction(
            "● Record", self, shortcut=QKeySequence(Qt.Key.Key_Space), checkable=True, triggered=self.toggle_recording
        )
        self.export_action = QAction(
            "&Export CSV…", self, shortcut=QKeySequence("Ctrl+E"), triggered=self.export_csv_dialog
        )
        self.summary_action = QAction("Session &summary…", self, triggered=self.show_summary)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence("Ctrl+Q"), triggered=self.close)
        for action in (self.open_action, self.record_action, self.export_action, self.summary_action):
            file_menu.addAction(action)
        file_menu.addAction(QAction("Analyse &folder…", self, triggered=lambda *_: analyse_folder(self)))
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

        self.camera_menu = self.menuBar().addMenu("&Camera")
        self.camera_menu.aboutToShow.connect(self._fill_camera_menu)
        self.camera_group = QActionGroup(self)

        view_menu = self.menuBar().addMenu("&View")
        self.mirror_action = QAction(
            "&Mirror",
            self,
            shortcut=QKeySequence("Ctrl+M"),
            checkable=True,
            checked=self.video.mirror,
            toggled=self.set_mirror,
        )
        self.boxes_action = QAction(
            "Show &boxes", self, checkable=True, checked=self.video.show_boxes, toggled=self._set_boxes
        )
        self.labels_action = QAction(
            "Show &labels", self, checkable=True, checked=self.video.show_labels, toggled=self._set_labels
        )
        settings_action = QAction("&Settings…", self, shortcut=QKeySequence("Ctrl+,"), triggered=self.open_settings)
        self.retry_action = QAction("&Retry source", self, shortcut=QKeySequence("F5"), triggered=self.retry_source)
        for action in (self.mirror_action, self.boxes_action, self.labels_action, settings_action, self.retry_action):
            view_menu.addAction(action)

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(QAction("&Keyboard shortcuts", self, triggered=self.show_shortcuts))
        help_menu.addAction(QAction("&About emotiondesk", self, triggered=self.show_about))

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        for action in (self.open_action, self.record_action, self.export_action, self.mirror_action):
            toolbar.addAction(action)

    # --- sources ----------------------------------------------------------------------------------
    def open_source(self, spec: str) -> None:
        """Stop the current worker (keeping any recording) and start one on `spec`."""
        self.stop_worker()
        from emotiondesk._qt.worker import PipelineWorker

        self.source_spec = str(spec)
        self.banner.hide()
        self.video.clear(f"Opening {spec}…")
        self.timeline.clear_samples()
        self._clear_faces()
        worker = PipelineWorker(self.source_spec, self.config, realtime=self.realtime, loop=self.loop)
        worker.frame_ready.connect(self.on_frame)
        worker.source_opened.connect(self.on_source_opened)
        worker.source_failed.connect(self.on_source_failed)
        worker.source_finished.connect(self.on_source_finished)
        worker.recording_started.connect(self.on_recording_started)
        worker.recording_stopped.connect(self.on_recording_stopped)
        worker.recording_failed.connect(self.on_recording_failed)
        self.worker = worker
        if self.source_spec.isdigit():
            self.settings.setValue("camera", int(self.source_spec))
        worker.start()

    def stop_worker(self, timeout_ms: int = 1000) -> bool:
        """Ask the worker to stop and join it; a recording in progress is finished and kept."""
        worker, self.worker = self.worker, None
        if worker is None:
            return True
        worker.request_stop()
        joined = worker.wait(timeout_ms)
        if self.recording_path is not None:  # the worker closed the file; make the UI agree
            self.last_recording, self.recording_path = self.recording_path, None
            self.record_action.setChecked(False)
        return joined

    def start_default_source(self) -> None:
        """Last camera if it works, else the first camera found, else a friendly no-camera state."""
        cameras = list_cameras()
        if not cameras:
            self.video.clear("No camera found — open a file (Ctrl+O)")
            self.show_banner("No camera found — open a video or image file instead.", retry=False)
            return
        preferred = int(self.settings.value("camera", cameras[0].index))
        index = preferred if any(c.index == preferred for c in cameras) else cameras[0].index
        self.open_source(str(index))

    @Slot()
    def retry_source(self) -> None:
        if self.source_spec is not None:
            self.open_source(self.source_spec)
        else:
            self.start_default_source()

    @Slot()
    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open video or image",
            str(Path.home()),
            "Media (*.mp4 *.avi *.mov *.mkv *.webm *.png *.jpg *.jpeg *.bmp);;All files (*)",
        )
        if path:
            self.open_source(path)

    def _fill_camera_menu(self) -> None:
        self.camera_menu.clear()
        cameras = list_cameras()
        if not cameras:
            action = self.camera_menu.addAction("No camera found")
            action.setEnabled(False)
            return
        for camera in cameras:
            action = QAction(f"{camera.name} ({camera.index})", self, checkable=True)
            action.setChecked(self.source_spec == str(camera.index))
            action.triggered.connect(lambda _=False, index=camera.index: self.open_source(str(index)))
            self.camera_group.addAction(action)
            self.camera_menu.addAction(action)

    def show_banner(self, message: str, retry: bool) -> None:
        self.banner_text.setText(message)
        self.retry_button.setVisible(retry)
        self.banner.show()

    # --- worker signals (queued into this, the UI thread) -------------------------------------
    @Slot(str, str)
    def on_source_opened(self, name: str, kind: str) -> None:
        worker = self.sender()
        self.labels = worker.labels if worker is not None else ()
        self.model_name = worker.model_name if worker is not None else ""
        self.status_model.setText(f"model: {self.model_name}")
        self.statusBar().showMessage(f"Playing {name}", 3000)
        self.setWindowTitle(f"emotiondesk — {name}")

    @Slot(str, bool)
    def on_source_failed(self, message: str, retry: bool) -> None:
        kept = (
            f" The recording so far is kept: {self.recording_path or self.last_recording}."
            if (self.recording_path or self.last_recording)
            else ""
        )
        self.video.clear("Source unavailable")
        self.show_banner(message + kept, retry)
        if not retry and self.source_spec and not self.source_spec.isdigit():
            QMessageBox.warning(self, "Cannot open file", message)

    @Slot()
    def on_source_finished(self) -> None:
        self.statusBar().showMessage("End of file — recording, export and summary still available", 5000)

    @Slot(object, object)
    def on_frame(self, image: np.ndarray, result: FrameResult) -> None:
        worker = self.worker
        self.last_result = result
        self.video.show_frame(image, result)
        self.timeline.add_result(result)
        self._update_faces(result)
        now = time.monotonic()
        self.display_times = [t for t in self.display_times if now - t < 2.0] + [now]
        if len(self.display_times) > 1:
            fps = (len(self.display_times) - 1) / (self.display_times[-1] - self.display_times[0])
            self.status_fps.setText(f"{fps:.1f} fps")
        self.status_ms.setText(f"{result.timings_ms.get('total', 0):.1f} ms/frame")
        self.status_faces.setText(f"{len(result.faces)} face{'s' if len(result.faces) != 1 else ''}")
        if worker is not None:
            worker.frame_taken()

    def _clear_faces(self) -> None:
        """Empty the faces list without emitting currentItemChanged (its slot must never run mid-rebuild)."""
        with QSignalBlocker(self.faces_list):
            self.faces_list.clear()

    def _update_faces(self, result: FrameResult) -> None:
        """Rebuild the faces list from a frame, signals blocked, then show the chosen face's bars."""
        faces = sorted(result.faces, key=lambda f: f.face_id)
        blocker = QSignalBlocker(self.faces_list)
        self.faces_list.clear()
        for face in faces:
            probabilities = face.smoothed_or_raw
            label = result.label_of(probabilities)
            confidence = float(probabilities.max()) if probabilities is not None else 0.0
            item = QListWidgetItem(f"#{face.face_id}  {label}  {confidence:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, face.face_id)
            self.faces_list.addItem(item)
            if face.face_id == self.selected_face_id:
                self.faces_list.setCurrentItem(item)
        blocker.unblock()
        self._show_selected_bars(result)

    def _show_selected_bars(self, result: FrameResult) -> None:
        faces = result.faces
        chosen = next((f for f in faces if f.face_id == self.selected_face_id), None)
        if chosen is None and faces:
            chosen = max(faces, key=lambda f: f.box.area)  # default: the largest face
        self.bars.set_face(result.labels, chosen)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _select_face(self, current: QListWidgetItem | None, _previous=None) -> None:
        """The user picked a face: remember it and show its bars. Never rebuilds the list that called it."""
        self.selected_face_id = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        if self.last_result is not None:
            self._show_selected_bars(self.last_result)

    @Slot()
    def _refresh_timeline(self) -> None:
        self.timeline.redraw()

    # --- recording and export ------------------------------------------------------------------
    @Slot()
    def toggle_recording(self) -> None:
        if self.recording_path is None:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self, path: Path | None = None) -> None:
        if self.worker is None:
            self.record_action.setChecked(False)
            self.statusBar().showMessage("Nothing to record: open a camera or file first", 4000)
            return
        path = path or sessions_dir() / timestamped_name()
        self.worker.start_recording(path)
        self.recording_path = path
        self.recording_started_at = time.monotonic()
        self.record_action.setChecked(True)
        self.record_action.setText("■ Stop")

    def stop_recording(self) -> None:
        if self.worker is not None:
            self.worker.stop_recording()
        self.record_action.setChecked(False)
        self.record_action.setText("● Record")

    @Slot(str)
    def on_recording_started(self, path: str) -> None:
        self.statusBar().showMessage(f"Recording to {path}", 4000)

    @Slot(str, int)
    def on_recording_stopped(self, path: str, rows: int) -> None:
        self.last_recording = Path(path)
        if self.recording_path == Path(path):
            self.recording_path = None
        self.record_action.setChecked(False)
        self.record_action.setText("● Record")
        self.statusBar().showMessage(f"Recording saved: {path} ({rows} rows)", 8000)

    @Slot(str)
    def on_recording_failed(self, message: str) -> None:
        self.recording_path = None
        self.record_action.setChecked(False)
        self.record_action.setText("● Record")
        QMessageBox.critical(self, "Recording failed", message)

    @Slot()
    def _update_rec_indicator(self) -> None:
        if self.recording_path is None:
            self.rec_indicator.setText("")
            return
        seconds = int(time.monotonic() - self.recording_started_at)
        blink = "●" if seconds % 2 == 0 else "○"
        self.rec_indicator.setText(f"{blink} REC {seconds // 60:02d}:{seconds % 60:02d}")

    @Slot()
    def export_csv_dialog(self) -> None:
        source = self.recording_path or self.last_recording
        if source is None:
            QMessageBox.information(self, "Nothing to export", "Record a session first (Space), then export it.")
            return
        default = sessions_dir() / timestamped_name("export")
        target, _ = QFileDialog.getSaveFileName(self, "Export CSV", str(default), "CSV (*.csv)")
        if target:
            self.export_csv(Path(target))

    def export_csv(self, target: Path) -> bool:
        """Copy the current/last recording (CSV + sidecar) to `target`; a dialog on failure, nothing lost."""
        source = self.recording_path or self.last_recording
        if source is None:
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            if sidecar_path(source).exists():
                shutil.copyfile(sidecar_path(source), sidecar_path(target))
        except OSError as error:
            QMessageBox.critical(
                self,
                "Export failed",
                f"{target}: cannot write ({error.strerror or error}). The recording is still safe at {source}.",
            )
            return False
        self.statusBar().showMessage(f"Exported {target}", 6000)
        return True

    @Slot()
    def show_summary(self) -> None:
        source = self.recording_path or self.last_recording
        if source is None:
            QMessageBox.information(self, "No session", "Record a session first (Space).")
            return
        try:
            dialog = SessionSummaryDialog(source, self)
        except EmotionDeskError as error:
            QMessageBox.warning(self, "Cannot summarise", str(error))
            return
        dialog.exec()

    # --- view settings ----------------------------------------------------------------------------
    @Slot(bool)
    def set_mirror(self, on: bool) -> None:
        self.video.mirror = on
        self.settings.setValue("mirror", on)

    def _set_boxes(self, on: bool) -> None:
        self.video.show_boxes = on
        self.settings.setValue("show_boxes", on)
        self.video.update()

    def _set_labels(self, on: bool) -> None:
        self.video.show_labels = on
        self.settings.setValue("show_labels", on)
        self.video.update()

    @Slot()
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.config, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.apply_settings(dialog)

    def apply_settings(self, dialog: SettingsDialog) -> None:
        """Take the dialog's choices, remember them, and restart the current source with them."""
        dialog.apply_to(self.config)
        if self.config.model in EMOTION_MODELS:  # a custom file is for this session only
            self.settings.setValue("model", self.config.model)
        self.settings.setValue("detector", self.config.detector)
        self.settings.setValue("min_confidence", self.config.min_detection_confidence)
        self.settings.setValue("smoothing", self.config.smoothing_window)
        if self.source_spec is not None:
            self.open_source(self.source_spec)

    @Slot()
    def show_shortcuts(self) -> None:
        text = "\n".join(f"{key:>8}   {what}" for key, what in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", text)

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About emotiondesk",
            f"<b>emotiondesk {__version__}</b><br>Model: {self.model_name or 'not loaded yet'}"
            f" — classes: {', '.join(self.labels)}<br><br><b>Privacy.</b> {PRIVACY_NOTE}"
            f"<br><br><b>Limits.</b> {LIMITS_NOTE}",
        )

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.settings.setValue("geometry", self.saveGeometry())
        self.timeline_timer.stop()
        self.rec_timer.stop()
        self.stop_worker()
        super().closeEvent(event)
