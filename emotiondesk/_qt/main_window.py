"""The main window: wiring only. It starts the worker, paints what it sends and forwards commands to its parts:

- `playback.PlaybackBar`: play/pause, seek, speed, loop, Analyse whole file (files);
- `session_panel.SessionController` / `SessionBar`: recording, participant/session/notes, markers, face names;
- `faces_panel.FacesPanel`: the Faces list and bars; `timeline.EmotionTimeline`: the live timeline with legend;
- `settings_dialog.SettingsDialog`, `summary.SessionSummaryDialog`.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from emotiondesk._qt import paths
from emotiondesk._qt.batch_dialog import analyse_folder
from emotiondesk._qt.faces_panel import FacesPanel
from emotiondesk._qt.help import LIMITS_NOTE, PRIVACY_NOTE, SHORTCUTS, show_about, show_shortcuts
from emotiondesk._qt.menus import build_menus
from emotiondesk._qt.playback import PlaybackBar, fill_camera_menu
from emotiondesk._qt.session_panel import SessionBar, SessionController
from emotiondesk._qt.settings_dialog import SettingsDialog
from emotiondesk._qt.summary import SessionSummaryDialog
from emotiondesk._qt.timeline import EmotionTimeline
from emotiondesk._qt.widgets import SourceBanner, VideoView
from emotiondesk.assets import DEFAULT_EMOTION_MODEL, EMOTION_MODELS
from emotiondesk.metadata import unused_path
from emotiondesk.palette import DEFAULT_PALETTE, PALETTES
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.sources import list_cameras
from emotiondesk.types import FrameResult

__all__ = ["LIMITS_NOTE", "PRIVACY_NOTE", "SHORTCUTS", "MainWindow", "SettingsDialog"]


def timestamped_name(prefix: str = "session") -> str:
    return f"{prefix}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.csv"


class MainWindow(QMainWindow):
    """Live view, faces list, probability bars, timeline, playback, recording/session and export."""

    def __init__(
        self, model: str | None = None, settings: QSettings | None = None, realtime: bool = True, loop: bool = False
    ) -> None:
        super().__init__()
        self.settings = settings or paths.app_settings()
        self.config = PipelineConfig(
            model=model or str(self.settings.value("model", DEFAULT_EMOTION_MODEL)),
            detector=str(self.settings.value("detector", "short")),
            min_detection_confidence=float(self.settings.value("min_confidence", 0.5)),
            smoothing_window=int(self.settings.value("smoothing", 5)),
            face_details=self.settings.value("face_details", "false") in (True, "true"),
        )
        self.lsl = self.settings.value("lsl", "false") in (True, "true")  # LSL outlets while a source runs
        palette = str(self.settings.value("palette", DEFAULT_PALETTE))
        self.palette_name = palette if palette in PALETTES else DEFAULT_PALETTE
        self.realtime = realtime
        self.loop = loop  # replay files endlessly (kiosk/demo use, soak tests)
        self.worker = None
        self._retired_workers: list = []  # stopped workers that had not ended yet
        self.source_spec: str | None = None
        self.labels: tuple[str, ...] = ()
        self.model_name = ""
        self.display_times: list[float] = []
        self.session = SessionController(self.settings, lambda: self.worker, lambda: paths.sessions_dir(), self)
        self.setWindowTitle("emotiondesk")
        self._build_ui()
        build_menus(self)
        self._connect_parts()
        self.set_palette(self.palette_name)
        self._names_changed()
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

    # --- the parts' state, under the names the window always had --------------------------------
    @property
    def recording_path(self) -> Path | None:
        return self.session.recording_path

    @recording_path.setter
    def recording_path(self, path: Path | None) -> None:
        self.session.recording_path = path

    @property
    def last_recording(self) -> Path | None:
        return self.session.last_recording

    @last_recording.setter
    def last_recording(self, path: Path | None) -> None:
        self.session.last_recording = path

    @property
    def selected_face_id(self) -> int | None:
        return self.faces.selected_face_id

    @selected_face_id.setter
    def selected_face_id(self, face_id: int | None) -> None:
        self.faces.selected_face_id = face_id

    @property
    def last_result(self) -> FrameResult | None:
        return self.session.last_result

    # --- layout ---------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.video = VideoView()
        self.video.mirror = self.settings.value("mirror", "false") in (True, "true")
        self.video.show_boxes = self.settings.value("show_boxes", "true") in (True, "true")
        self.video.show_labels = self.settings.value("show_labels", "true") in (True, "true")
        self.banner = SourceBanner()
        self.banner_text, self.retry_button = self.banner.text, self.banner.retry_button
        self.retry_button.clicked.connect(self.retry_source)
        self.banner.open_button.clicked.connect(self.open_file_dialog)
        self.playback = PlaybackBar()
        self.playback.loop.setChecked(self.loop)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.banner)
        left_layout.addWidget(self.video, 1)
        left_layout.addWidget(self.playback)

        self.faces = FacesPanel()
        self.faces.details.setVisible(self.config.face_details)
        self.details_panel = self.faces.details
        self.faces_list = self.faces.faces_list
        self.bars = self.faces.bars
        self.session_bar = SessionBar(self.session)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.session_bar)
        side_layout.addWidget(self.faces, 1)
        side.setMinimumWidth(280)

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

    def _connect_parts(self) -> None:
        self.session.message.connect(self.statusBar().showMessage)
        self.session.recording_changed.connect(self._show_recording)
        self.session.names_changed.connect(self._names_changed)
        self.session.markers_changed.connect(self._markers_changed)
        self.faces.rename_requested.connect(self.session.ask_rename)
        self.faces.merge_requested.connect(self.session.merge_faces)
        self.playback.analyse_requested.connect(self.analyse_whole_file)

    # --- sources --------------------------------------------------------------------------------
    def open_source(self, spec: str) -> None:
        """Stop the current worker (keeping any recording) and start one on `spec`."""
        self.stop_worker()
        from emotiondesk._qt.worker import PipelineWorker

        if str(spec) != self.source_spec:  # F5 / Settings keep the names and markers of the same source
            self.session.new_source()
        self.source_spec = str(spec)
        self.banner.hide()
        self.video.clear(f"Opening {spec}…")
        self.timeline.clear_samples()
        self.faces.clear()
        worker = PipelineWorker(self.source_spec, self.config, realtime=self.realtime, loop=self.loop, lsl=self.lsl)
        worker.frame_ready.connect(self.on_frame)
        worker.source_opened.connect(self.on_source_opened)
        worker.source_failed.connect(self.on_source_failed)
        worker.source_finished.connect(self.on_source_finished)
        worker.recording_started.connect(self.session.on_recording_started)
        worker.recording_stopped.connect(self.session.on_recording_stopped)
        worker.recording_failed.connect(self.session.on_recording_failed)
        worker.lsl_failed.connect(self.on_lsl_failed)
        worker.analysis_finished.connect(self.on_analysis_finished)
        self.worker = worker
        self.playback.attach(worker)
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
        if not joined:  # keep it referenced until it ends: a QThread destroyed while running aborts
            self._retired_workers.append(worker)
            worker.finished.connect(lambda w=worker: self._retired_workers.remove(w))
        self.session.worker_stopped()
        self.playback.attach(None)
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
        fill_camera_menu(self.camera_menu, self.camera_group, self.source_spec, self.open_source)

    def show_banner(self, message: str, retry: bool) -> None:
        self.banner.show_message(message, retry)

    # --- worker signals (queued into this, the UI thread) ---------------------------------------
    @Slot(str, str)
    def on_source_opened(self, name: str, kind: str) -> None:
        worker = self.sender()
        if worker is not self.worker:
            return
        self.labels = worker.labels if worker is not None else ()
        self.model_name = worker.model_name if worker is not None else ""
        if worker is not None and worker is self.worker:
            self.playback.source_opened(kind, worker.frame_count, worker.fps)
        self.timeline.set_labels(self.labels)
        self.status_model.setText(f"model: {self.model_name}")
        self.statusBar().showMessage(f"Playing {name}", 3000)
        self.setWindowTitle(f"emotiondesk — {name}")

    @Slot(str, bool)
    def on_source_failed(self, message: str, retry: bool) -> None:
        if self.sender() is not self.worker:
            return  # a stopped worker's last words
        self.session.source_failed()
        kept = self.recording_path or self.last_recording
        self.video.clear("Source unavailable")
        self.show_banner(message + (f" The recording so far is kept: {kept}." if kept else ""), retry)
        if not retry and self.source_spec and not self.source_spec.isdigit():
            QMessageBox.warning(self, "Cannot open file", message)

    @Slot()
    def on_source_finished(self) -> None:
        self.statusBar().showMessage("End of file — Record plays it again from the start; export and summary", 5000)

    @Slot(str)
    def on_analysis_finished(self, path: str) -> None:
        self.playback.finish_analysis()
        self.statusBar().showMessage(f"Whole file analysed: {path}", 8000)

    @Slot(object, object)
    def on_frame(self, image: np.ndarray, result: FrameResult) -> None:
        worker = self.worker
        if self.sender() is not worker:
            return  # a frame queued by a worker that has since been replaced
        self.session.last_result = result
        self.video.show_frame(image, result)
        self.timeline.add_result(result)
        self.faces.update_faces(result)
        self.playback.update_position(result.index, result.time_s)
        now = time.monotonic()
        self.display_times = [t for t in self.display_times if now - t < 2.0] + [now]
        if len(self.display_times) > 1:
            fps = (len(self.display_times) - 1) / (self.display_times[-1] - self.display_times[0])
            self.status_fps.setText(f"{fps:.1f} fps")
        self.status_ms.setText(f"{result.timings_ms.get('total', 0):.1f} ms/frame")
        self.status_faces.setText(f"{len(result.faces)} face{'s' if len(result.faces) != 1 else ''}")
        if worker is not None:
            worker.frame_taken()

    @Slot()
    def _refresh_timeline(self) -> None:
        self.timeline.redraw()

    # --- recording, session, export: forwarded to the session controller ------------------------
    @Slot()
    def toggle_recording(self) -> None:
        self.session.toggle_recording()

    def start_recording(self, path: Path | None = None) -> None:
        self.session.start_recording(path)

    def stop_recording(self) -> None:
        self.session.stop_recording()

    @Slot()
    def analyse_whole_file(self, path: Path | None = None) -> None:
        if self.session.analyse_whole_file(path):
            self.playback.start_analysis()

    @Slot(bool)
    def _show_recording(self, on: bool) -> None:
        self.record_action.setChecked(on)
        self.record_action.setText("■ Stop" if on else "● Record")
        if not on and self.recording_path is None:
            self.playback.finish_analysis()

    @Slot()
    def _names_changed(self) -> None:
        for part in (self.faces, self.timeline, self.video):
            part.names = self.session.names
        self.faces.relabel()  # in place: this may run inside a Faces list signal
        self.video.update()

    @Slot()
    def _markers_changed(self) -> None:
        self.timeline.set_markers(self.session.markers)

    @Slot()
    def analyse_folder(self) -> None:
        """File ▸ Analyse folder…: the same batch as `analyze FOLDER --out DIR`, with a progress dialog."""
        analyse_folder(self)

    @Slot(str)
    def on_lsl_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"LSL off: {message}", 10000)

    @Slot()
    def _update_rec_indicator(self) -> None:
        self.rec_indicator.setText(self.session.indicator_text())

    @Slot()
    def export_csv_dialog(self) -> None:
        self.session.export_dialog(unused_path(paths.sessions_dir(), timestamped_name("export")))

    def export_csv(self, target: Path) -> bool:
        """Copy the current/last recording (CSV + sidecar + markers) to `target`; a dialog on failure."""
        return self.session.export_csv(Path(target))

    def summary_dialog(self) -> SessionSummaryDialog | None:
        """The summary of the current/last recording (None with a message when there is none)."""
        return self.session.summary_dialog(self.palette_name)

    @Slot()
    def show_summary(self) -> None:
        dialog = self.summary_dialog()
        if dialog is not None:
            dialog.exec()

    # --- view settings --------------------------------------------------------------------------
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

    def set_palette(self, name: str) -> None:
        """The same emotion colours in the overlay, bars, timeline, summary and report."""
        self.palette_name = name if name in PALETTES else DEFAULT_PALETTE
        self.video.palette_name = self.bars.palette_name = self.palette_name
        self.timeline.set_palette(self.palette_name)
        self.video.update()
        self.bars.update()

    @Slot()
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.config, self, self.palette_name, lsl=self.lsl)
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
        self.settings.setValue("palette", dialog.palette_name)
        self.set_palette(dialog.palette_name)
        self.lsl = dialog.lsl.isChecked()
        self.settings.setValue("face_details", self.config.face_details)
        self.settings.setValue("lsl", self.lsl)
        self.faces.details.setVisible(self.config.face_details)
        if self.source_spec is not None:
            self.open_source(self.source_spec)

    @Slot()
    def show_shortcuts(self) -> None:
        show_shortcuts(self)

    @Slot()
    def show_about(self) -> None:
        show_about(self, self.model_name, self.labels)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.settings.setValue("geometry", self.saveGeometry())
        self.timeline_timer.stop()
        self.rec_timer.stop()
        self.stop_worker()
        super().closeEvent(event)
