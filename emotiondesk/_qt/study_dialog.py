"""File ▸ Study analysis…: `emotiondesk study` on the sessions folder (or a chosen one) in a thread, then the page.

Each run writes into a new folder under the window's `studies/` folder, so nothing is ever replaced; sessions
analysed with different models are reported as separate groups (the page says so).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QThread, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from emotiondesk._qt import paths
from emotiondesk.errors import EmotionDeskError


def studies_dir() -> Path:
    """Results of File ▸ Study analysis…, one folder per run, beside the sessions folder."""
    return paths.sessions_dir().parent / "studies"


class StudyThread(QThread):
    """Runs `write_study` and reports sessions read as signals."""

    progressed = Signal(int, int)  # sessions read, sessions found
    ended = Signal(object, str)  # Study, path of study.html
    failed = Signal(str)

    def __init__(self, folder: Path, out_dir: Path, options: dict, parent=None) -> None:
        super().__init__(parent)
        self.folder, self.out_dir, self.options = folder, out_dir, options

    def run(self) -> None:
        from emotiondesk.analysis.study_report import write_study

        try:
            study, outputs = write_study(
                [self.folder], self.out_dir, by_model=True, on_progress=lambda d, t, _: self.progressed.emit(d, t),
                **self.options,
            )  # fmt: skip
        except EmotionDeskError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # never hang the dialog: say what went wrong
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.ended.emit(study, str(outputs[1]))


class StudyDialog(QDialog):
    """The folder and the study's options, then progress, then the page opened in the browser."""

    def __init__(self, folder: Path, palette: str, parent=None, settings=None) -> None:
        super().__init__(parent)
        self.settings = settings  # a QSettings: the last condition names, window and baseline are offered again
        self.setWindowTitle("Study analysis")
        self.resize(600, 220)
        self.palette_name = palette
        self.thread: StudyThread | None = None
        self.page: Path | None = None
        self.error: str | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.folder = QLineEdit(str(folder))
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_folder)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.folder)
        row_layout.addWidget(choose)
        form.addRow("Sessions folder", row)
        self.conditions = QLineEdit()
        self.conditions.setPlaceholderText("e.g. 1=baseline,2=video A (marker texts name themselves)")
        form.addRow("Condition names", self.conditions)
        self.window_s = QLineEdit()
        self.window_s.setPlaceholderText("seconds after each marker; empty: up to the next marker")
        form.addRow("Window (s)", self.window_s)
        self.baseline = QLineEdit()
        self.baseline.setPlaceholderText("a condition, e.g. baseline (optional)")
        form.addRow("Baseline", self.baseline)
        layout.addLayout(form)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.status = QLabel("Every session CSV in the folder (and its sub-folders) is read; nothing is changed.")
        self.status.setWordWrap(True)
        self.run_button = QPushButton("Analyse")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        for widget in (self.bar, self.status, self.run_button):
            layout.addWidget(widget)
        if settings is not None:
            for key, field in self.fields().items():
                field.setText(str(settings.value(f"study/{key}", "")))

    def fields(self) -> dict[str, QLineEdit]:
        return {"conditions": self.conditions, "window": self.window_s, "baseline": self.baseline}

    @Slot()
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Study analysis of the sessions in…", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def options(self) -> dict:
        """The study's options from the form; raises ValueError with a sentence for a bad window."""
        text = self.window_s.text().strip()
        try:
            window_s = float(text) if text else None
        except ValueError:
            raise ValueError(f"Window: {text!r} is not a number of seconds.") from None
        return {
            "conditions": self.conditions.text().strip() or None,
            "window_s": window_s,
            "baseline": self.baseline.text().strip() or None,
            "palette": self.palette_name,
        }

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    @Slot()
    def start(self) -> None:
        try:
            options = self.options()
        except ValueError as error:
            self.status.setText(str(error))
            return
        if self.settings is not None:
            for key, field in self.fields().items():
                self.settings.setValue(f"study/{key}", field.text().strip())
        folder = Path(self.folder.text().strip())
        out_dir = studies_dir() / f"{folder.name or 'sessions'}-{datetime.now():%Y%m%d-%H%M%S}"
        self.thread = StudyThread(folder, out_dir, options, self)
        self.thread.progressed.connect(self.on_progress)
        self.thread.ended.connect(self.on_ended)
        self.thread.failed.connect(self.on_failed)
        self.run_button.setEnabled(False)
        self.bar.setRange(0, 0)  # busy until the sessions are counted
        self.status.setText(f"Reading the sessions in {folder}…")
        self.thread.start()

    @Slot(int, int)
    def on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.status.setText(f"{done} of {total} sessions read" + ("; drawing the page…" if done == total else ""))

    @Slot(object, str)
    def on_ended(self, study, page: str) -> None:
        self.thread.wait()
        self.page = Path(page)
        flagged = int((study.quality["flags"] != "").sum())
        participants = len({s.participant for s in study.sessions})
        lines = [
            f"{len(study.sessions)} sessions, {participants} participants, {len(study.conditions)} conditions; "
            f"{flagged} session(s) flagged in the data-quality table.",
            f"Saved in {self.page.parent}",
        ]
        if len(study.groups) > 1:
            lines.insert(1, f"{len(study.groups)} models: reported as separate groups, never averaged together.")
        self.status.setText("\n".join(lines))
        self.run_button.setText("Close")
        self.run_button.clicked.disconnect(self.start)
        self.run_button.clicked.connect(self.accept)
        self.run_button.setEnabled(True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.page)))

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self.thread.wait()
        self.error = message
        self.bar.setRange(0, 1)
        self.status.setText(f"Cannot analyse the study: {message}")
        self.run_button.setEnabled(True)

    def reject(self) -> None:  # Esc or the close button: reading cannot be cut short, so let it finish
        if self.running:
            self.thread.wait()
        super().reject()


def open_study_dialog(window) -> StudyDialog:
    """File ▸ Study analysis…: the dialog, on the window's sessions folder."""
    palette = getattr(window, "palette_name", "okabe-ito")
    window.study_dialog = StudyDialog(paths.sessions_dir(), palette, window, getattr(window, "settings", None))
    window.study_dialog.show()
    return window.study_dialog
