"""What the window does when a source opens, fails, ends, or its model cannot load (the worker's signals)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QMainWindow

from emotiondesk._qt import messages
from emotiondesk.sources import CAMERA_PATTERN


class SourceSlots(QMainWindow):
    """MainWindow's base: banner, title, status messages and cleared panels for each state of a source (a
    QMainWindow, so that these slots are Qt slots and `sender()` works in them)."""

    def show_banner(self, message: str, retry: bool, model: bool = False) -> None:
        self.banner.show_message(message, retry, model)

    def _show_unavailable(self, placeholder: str) -> None:
        """Nothing is playing: no picture, no faces, no rates, and a title that says so."""
        self.video.clear(placeholder)
        self.faces.clear()
        self.status_line.clear()
        name = Path(self.source_spec).name if self.source_spec and not self.source_spec.isdigit() else self.source_spec
        self.setWindowTitle(f"emotiondesk — {name or 'no source'} (unavailable)")

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
        self.statusBar().showMessage(f"Playing {name}.", 3000)
        self.setWindowTitle(f"emotiondesk — {name}")

    @Slot(str, bool)
    def on_source_failed(self, message: str, retry: bool) -> None:
        if self.sender() is not self.worker:
            return  # a stopped worker's last words
        recording = self.recording_path  # only a recording this source was making is "kept so far"
        kept = recording if recording is not None and recording.exists() else None
        self.session.source_failed()
        self._show_unavailable("Source unavailable")
        camera = bool(self.source_spec) and CAMERA_PATTERN.match(self.source_spec) is not None
        text = messages.source_failed(message, camera, kept)
        self.show_banner(text, retry)
        if not camera:
            messages.show(self, "warning", "Cannot open file", text)

    @Slot(str)
    def on_model_failed(self, message: str) -> None:
        if self.sender() is not self.worker:
            return
        self.session.source_failed()
        self._show_unavailable("No emotion model")
        text = messages.model_failed(message)
        self.show_banner(text, retry=False, model=True)
        messages.show(self, "warning", "Cannot load the emotion model", text)

    @Slot()
    def on_source_finished(self) -> None:
        analysed, self._analysed = self._analysed, None
        if self.worker is None or self.worker.source_kind != "video":
            return  # a still or a folder of them: nothing to play again
        self.playback.source_ended()
        if analysed is not None:  # the analysis's message (where it was saved) stays
            return
        self.statusBar().showMessage(
            "End of file. Press Play (K) to watch it again, or Record (Space) to record it from the start.", 10000
        )

    @Slot(str)
    def on_analysis_finished(self, path: str) -> None:
        self.playback.finish_analysis()
        self._analysed = path
        self.statusBar().showMessage(
            f"Whole file analysed and saved to {path}. See it in File ▸ Session summary… or export it (Ctrl+E).", 15000
        )
