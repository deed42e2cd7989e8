"""File ▸ Analyse folder…: the batch of `emotiondesk analyze FOLDER --out DIR` in a thread, with a progress dialog."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QThread, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout

from emotiondesk._qt import paths
from emotiondesk.errors import EmotionDeskError
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.runs.batch import BatchProgress, BatchReport, path_digest, run_batch


class BatchThread(QThread):
    """Runs `run_batch` (its worker processes do the analysis) and reports progress as signals."""

    progressed = Signal(int, int, int, int)  # frames done, frames total, files done, files total
    ended = Signal(object)  # BatchReport
    failed = Signal(str)

    def __init__(self, inputs: list[str], out_dir: Path, config: PipelineConfig, jobs: int | None, parent=None) -> None:
        super().__init__(parent)
        self.inputs, self.out_dir, self.config, self.jobs = inputs, out_dir, config, jobs
        self.stop_requested = threading.Event()

    def run(self) -> None:
        def report(progress: BatchProgress) -> None:
            self.progressed.emit(progress.frames_done, progress.frames_total, progress.files_done, progress.files_total)

        try:
            result = run_batch(
                self.inputs,
                self.out_dir,
                self.config,
                self.jobs,
                progress=False,
                on_progress=report,
                should_stop=self.stop_requested.is_set,
            )
        except EmotionDeskError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # e.g. worker processes that cannot start: say so, never hang
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.ended.emit(result)


class BatchDialog(QDialog):
    """Progress of a batch (frames and files), Cancel, and the index opened at the end."""

    def __init__(
        self, inputs: list[str], out_dir: Path, config: PipelineConfig, jobs: int | None = None, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Analyse folder")
        self.setModal(True)
        self.resize(560, 160)
        self.out_dir = Path(out_dir)
        self.report: BatchReport | None = None
        self.error: str | None = None
        self.thread = BatchThread(inputs, self.out_dir, replace(config), jobs, self)
        self.thread.progressed.connect(self.on_progress)
        self.thread.ended.connect(self.on_ended)
        self.thread.failed.connect(self.on_failed)
        layout = QVBoxLayout(self)
        self.title = QLabel(f"{', '.join(inputs)} → {self.out_dir}")
        self.title.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first report
        self.status = QLabel("starting the worker processes…")
        self.status.setWordWrap(True)
        self.button = QPushButton("Cancel")
        self.button.clicked.connect(self.cancel_or_close)
        for widget in (self.title, self.bar, self.status, self.button):
            layout.addWidget(widget)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop_and_wait)

    def start(self) -> None:
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    @Slot(int, int, int, int)
    def on_progress(self, frames_done: int, frames_total: int, files_done: int, files_total: int) -> None:
        if frames_total > 0:
            self.bar.setRange(0, frames_total)
            self.bar.setValue(min(frames_done, frames_total))
        if not self.thread.stop_requested.is_set():
            self.status.setText(f"{files_done} of {files_total} inputs, {frames_done} of {frames_total} frames")

    @Slot(object)
    def on_ended(self, report: BatchReport) -> None:
        self.thread.wait()  # it is returning from run(): let it end before the dialog can be closed and deleted
        self.report = report
        self.bar.setRange(0, max(1, self.bar.maximum()))
        self.bar.setValue(self.bar.maximum() if not report.interrupted else self.bar.value())
        failed = [f"{Path(row.path).name}: {row.reason}" for row in report.rows if row.status == "failed"]
        lines = [report.text()] + [f"failed — {line}" for line in failed[:5]]
        if report.interrupted:
            lines.append("Stopped: run the same folder again to finish (finished inputs are kept).")
        self.status.setText("\n".join(lines))
        self.button.setText("Close")
        self.button.setEnabled(True)
        self.open_index(report.index_path)

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self.thread.wait()
        self.error = message
        self.bar.setRange(0, 1)
        self.status.setText(f"Cannot analyse: {message}")
        self.button.setText("Close")
        self.button.setEnabled(True)

    def open_index(self, path: Path) -> None:
        """Open `index.csv` in the user's program for CSV files."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    @Slot()
    def cancel_or_close(self) -> None:
        if self.running:
            self.thread.stop_requested.set()
            self.status.setText("stopping: the inputs being analysed are closed as interrupted…")
            self.button.setEnabled(False)
        else:
            self.accept()

    @Slot()
    def stop_and_wait(self) -> None:
        """Stop the batch and wait for its workers (closing the dialog or quitting the app)."""
        if self.running:
            self.thread.stop_requested.set()
            self.thread.wait()

    def reject(self) -> None:  # Esc or the window's close button
        self.stop_and_wait()
        super().reject()


def batch_output_dir(folder: Path, root: Path) -> Path:
    """The same output folder every time for the same input folder, so analysing it again resumes."""
    return root / f"{folder.resolve().name or 'folder'}-{path_digest(folder)}"


def analyse_folder(window) -> BatchDialog | None:
    """Ask for a folder and analyse it with the window's settings into the user data folder's `batches/`."""
    folder = QFileDialog.getExistingDirectory(window, "Analyse every video and image folder in…")
    if not folder:
        return None
    out_dir = batch_output_dir(Path(folder), paths.batches_dir())
    window.batch_dialog = BatchDialog([folder], out_dir, window.config, parent=window)
    window.batch_dialog.show()
    window.batch_dialog.start()
    return window.batch_dialog
