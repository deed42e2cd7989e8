"""Recording and the session around it: participant/session/notes, markers, face names, export.

The logic (file names, columns, marker files, names in the sidecar) is the Qt-free core's (`emotiondesk.metadata`,
`emotiondesk.sinks.markers`, `emotiondesk.sinks.csv_sink`); this module asks for it and shows it.
"""

from __future__ import annotations

import html
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from emotiondesk.errors import EmotionDeskError
from emotiondesk.metadata import FaceNames, SessionInfo, default_csv_name, now_wall, unused_path
from emotiondesk.sinks.csv_sink import sidecar_path
from emotiondesk.sinks.markers import Marker, markers_path
from emotiondesk.types import FrameResult


class SessionDialog(QDialog):
    """Participant ID, session name and notes, asked when a recording starts (pre-filled with the last ones)."""

    def __init__(self, info: SessionInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Session")
        form = QFormLayout(self)
        self.participant = QLineEdit(info.participant)
        self.participant.setPlaceholderText("e.g. P01")
        self.session = QLineEdit(info.session)
        self.session.setPlaceholderText("e.g. pilot-1")
        self.notes = QPlainTextEdit(info.notes)
        self.notes.setFixedHeight(70)
        form.addRow("Participant ID", self.participant)
        form.addRow("Session", self.session)
        form.addRow("Notes", self.notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def info(self) -> SessionInfo:
        return SessionInfo(self.participant.text().strip(), self.session.text().strip(), self.notes.toPlainText())


def mark_snapshot(csv_copy: Path) -> None:
    """A copy of a recording in progress: cut it to its last whole row and let its sidecar say what it holds."""
    data = csv_copy.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) != len(data):
        csv_copy.write_bytes(whole)
    sidecar = sidecar_path(csv_copy)
    if sidecar.exists():
        metadata = json.loads(sidecar.read_text())
        metadata.update(snapshot=True, rows=max(whole.count(b"\n") - 1, 0))
        metadata["note"] = "exported while recording: holds the rows written until then"
        sidecar.write_text(json.dumps(metadata, indent=2, default=str))


class SessionController(QObject):
    """Owns the recording state, the session info (remembered in QSettings), the face names and the markers.

    Talks to the worker only through its thread-safe requests; worker signals arrive in the @Slot methods."""

    message = Signal(str, int)  # status bar text, milliseconds
    recording_changed = Signal(bool)
    names_changed = Signal()
    markers_changed = Signal()
    info_changed = Signal()

    def __init__(
        self, settings: QSettings, worker: Callable[[], object], folder: Callable[[], Path], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._worker = worker
        self._folder = folder
        self.window = parent
        self.info = SessionInfo(
            str(settings.value("participant", "")), str(settings.value("session", "")), str(settings.value("notes", ""))
        )
        self.names = FaceNames()
        self.markers: list[Marker] = []
        self.recording_path: Path | None = None
        self.last_recording: Path | None = None
        self.recording_started_at = 0.0
        self.last_result: FrameResult | None = None

    # --- session info ---------------------------------------------------------------------------
    def set_info(self, info: SessionInfo) -> None:
        """Use and remember participant, session and notes (they go into the next recording)."""
        self.info = info
        for key, value in info.as_dict().items():
            self.settings.setValue(key, value)
        self.info_changed.emit()

    @Slot()
    def edit_info(self) -> bool:
        dialog = SessionDialog(self.info, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        self.set_info(dialog.info())
        return True

    # --- recording ------------------------------------------------------------------------------
    def default_path(self) -> Path:
        return unused_path(self._folder(), default_csv_name(self.info))

    def start_recording(self, path: Path | None = None) -> bool:
        worker = self._worker()
        if worker is None:
            self.recording_changed.emit(False)
            self.message.emit("Nothing to record: open a camera or file first", 4000)
            return False
        path = Path(path) if path is not None else self.default_path()
        self.markers = []
        self.markers_changed.emit()
        worker.start_recording(path, self.info, self.names)
        self.recording_path = path
        self.recording_started_at = time.monotonic()
        self.recording_changed.emit(True)
        return True

    def stop_recording(self) -> None:
        worker = self._worker()
        if worker is not None:
            worker.stop_recording()
        self.recording_changed.emit(False)

    @Slot()
    def toggle_recording(self) -> None:
        if self.recording_path is None:
            self.start_recording()
        else:
            self.stop_recording()

    @Slot()
    def ask_and_toggle(self) -> None:
        """The Record button / Space: asks for participant, session and notes before a recording starts."""
        if self.recording_path is not None:
            self.stop_recording()
        elif self._worker() is None or self.edit_info():
            self.start_recording()
        else:
            self.recording_changed.emit(False)

    def analyse_whole_file(self, path: Path | None = None) -> bool:
        """Record the open file from its first frame at full speed; the recording stops at its end."""
        worker = self._worker()
        if worker is None or worker.source_kind != "video":
            self.message.emit("Analyse whole file needs an open video file", 4000)
            return False
        path = Path(path) if path is not None else self.default_path()
        self.markers = []
        self.markers_changed.emit()
        worker.analyse_whole_file(path, self.info, self.names)
        self.recording_path, self.recording_started_at = path, time.monotonic()
        self.recording_changed.emit(True)
        return True

    def worker_stopped(self) -> None:
        """The worker was stopped and closed the recording (if it ever opened it): make the state agree."""
        if self.recording_path is not None:
            if self.recording_path.exists():
                self.last_recording = self.recording_path
            self.recording_path = None
            self.recording_changed.emit(False)

    def source_failed(self) -> None:
        """The source could not be opened or read: a recording that never started is not one."""
        if self.recording_path is not None and not self.recording_path.exists():
            self.recording_path = None
            self.recording_changed.emit(False)

    @Slot(str)
    def on_recording_started(self, path: str) -> None:
        self.message.emit(f"Recording to {path}", 4000)

    @Slot(str, int)
    def on_recording_stopped(self, path: str, rows: int) -> None:
        self.last_recording = Path(path)
        if self.recording_path == Path(path):
            self.recording_path = None
        self.recording_changed.emit(self.recording_path is not None)
        self.message.emit(f"Recording saved: {path} ({rows} rows)", 8000)

    @Slot(str)
    def on_recording_failed(self, message: str) -> None:
        self.recording_path = None
        self.recording_changed.emit(False)
        QMessageBox.critical(self.window, "Recording failed", message)

    # --- markers --------------------------------------------------------------------------------
    def add_marker(self, number: int = 0, text: str = "") -> Marker:
        """A marker at the frame on screen, now: on the timeline, and in `<session>_markers.csv` if recording."""
        result = self.last_result
        marker = Marker(result.time_s if result else 0.0, result.index if result else -1, number, text, now_wall())
        self.markers.append(marker)
        self.markers_changed.emit()
        worker = self._worker()
        if worker is not None and self.recording_path is not None:
            worker.add_marker(marker)
            self.message.emit(f"Marker {marker.title} at {marker.time_s:.1f} s", 3000)
        else:
            self.message.emit(f"Marker {marker.title} shown, not saved: not recording", 4000)
        return marker

    @Slot()
    def ask_marker(self) -> None:
        text, ok = QInputDialog.getText(self.window, "Add marker", "Marker text:")
        if ok:
            self.add_marker(0, text.strip())

    # --- face names -----------------------------------------------------------------------------
    def rename_face(self, face_id: int, name: str) -> None:
        self.names.rename(face_id, name)
        self._names_updated()

    def merge_faces(self, face_id: int, target_id: int) -> None:
        """`face_id` is the same person as `target_id`: one name, one row in summaries."""
        self.names.merge(face_id, target_id)
        self._names_updated()

    def _names_updated(self) -> None:
        worker = self._worker()
        if worker is not None:
            worker.set_face_names(self.names)
        self.names_changed.emit()

    @Slot(int)
    def ask_rename(self, face_id: int) -> None:
        name, ok = QInputDialog.getText(
            self.window, "Name face", f"Name for face #{face_id} (e.g. P01):", text=self.names.name(face_id)
        )
        if ok:
            self.rename_face(face_id, name)

    def new_source(self) -> None:
        """A new source: its face IDs and markers start afresh."""
        self.names = FaceNames()
        self.markers = []
        self.names_changed.emit()
        self.markers_changed.emit()

    # --- export ---------------------------------------------------------------------------------
    def export_csv(self, target: Path) -> bool:
        """Copy the current/last recording (CSV + sidecar + markers) to `target`; a dialog on failure."""
        source = self.recording_path or self.last_recording
        if source is None:
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            for path_of in (sidecar_path, markers_path):
                if path_of(source).exists():
                    shutil.copyfile(path_of(source), path_of(target))
            if source == self.recording_path:  # still recording: the copy is a snapshot, and says so
                mark_snapshot(target)
        except OSError as error:
            QMessageBox.critical(
                self.window,
                "Export failed",
                f"{target}: cannot write ({error.strerror or error}). The recording is still safe at {source}.",
            )
            return False
        self.message.emit(f"Exported {target}", 6000)
        return True

    def export_dialog(self, default: Path) -> None:
        if (self.recording_path or self.last_recording) is None:
            QMessageBox.information(self.window, "Nothing to export", "Record a session first (Space), then export it.")
            return
        target, _ = QFileDialog.getSaveFileName(self.window, "Export CSV", str(default), "CSV (*.csv)")
        if target:
            self.export_csv(Path(target))

    def summary_dialog(self, palette: str):
        """The summary of the current/last recording (None, after a message, when there is none)."""
        from emotiondesk._qt.summary import SessionSummaryDialog

        source = self.recording_path or self.last_recording
        if source is None:
            QMessageBox.information(self.window, "No session", "Record a session first (Space).")
            return None
        try:
            return SessionSummaryDialog(source, self.window, palette, self.names)
        except EmotionDeskError as error:
            QMessageBox.warning(self.window, "Cannot summarise", str(error))
            return None

    def indicator_text(self) -> str:
        """`● REC 01:23`, blinking; '' when not recording."""
        if self.recording_path is None:
            return ""
        seconds = int(time.monotonic() - self.recording_started_at)
        blink = "●" if seconds % 2 == 0 else "○"
        return f"{blink} REC {seconds // 60:02d}:{seconds % 60:02d}"


class SessionBar(QWidget):
    """Who is recorded (editable), and buttons to add a marker with text."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        edit = QPushButton("Edit…")
        edit.setToolTip("Participant ID, session name and notes for the next recording")
        edit.clicked.connect(controller.edit_info)
        self.marker_button = QPushButton("Add marker…")
        self.marker_button.setToolTip("A marker with text (Ctrl+K); keys 1–9 drop numbered markers")
        self.marker_button.clicked.connect(controller.ask_marker)
        self.markers_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(edit)
        bottom = QHBoxLayout()
        bottom.addWidget(self.marker_button)
        bottom.addWidget(self.markers_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(bottom)
        controller.info_changed.connect(self.refresh)
        controller.markers_changed.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        info = self.controller.info
        participant, session = html.escape(info.participant or "–"), html.escape(info.session or "–")
        who = f"Participant <b>{participant}</b> · session <b>{session}</b>"
        self.summary.setText(who)
        count = len(self.controller.markers)
        self.markers_label.setText(f"{count} marker{'s' if count != 1 else ''}" if count else "")
