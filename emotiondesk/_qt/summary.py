"""Session summary: per-face time present and emotion shares, the figure (legend beside it), Save… and report."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from emotiondesk.analysis.figures import summary_figure
from emotiondesk.analysis.recorded import load_recorded
from emotiondesk.analysis.report import write_report
from emotiondesk.errors import EmotionDeskError
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color

SAVE_FORMATS = "PNG image (*.png);;SVG vector (*.svg);;PDF (*.pdf)"


class SessionSummaryDialog(QDialog):
    """Reads a recording back (CSV, sidecar names, markers) and shows the same figure the report embeds."""

    def __init__(self, csv_path: Path, parent=None, palette: str = DEFAULT_PALETTE, names=None) -> None:
        super().__init__(parent)
        self.csv_path = Path(csv_path)
        self.palette_name = palette
        self.session = load_recorded(self.csv_path)
        if names is not None and not self.session.sidecar.get("ended_at"):  # still recording: the window's names
            self.session.names = names.copy()
        self.labels, self.summary = self.session.labels, self.session.summary
        self.setWindowTitle(f"Session summary — {self.csv_path.name}")
        self.resize(1000, 680)
        layout = QVBoxLayout(self)
        rows = self.session.rows
        duration = (rows[-1]["time_s"] - rows[0]["time_s"]) if rows else 0.0
        info = self.session.info
        who = " · ".join(p for p in (info.participant, info.session) if p)
        layout.addWidget(
            QLabel(
                f"{who + ' — ' if who else ''}{len(rows)} detections of {len(self.summary)} faces over {duration:.1f} s,"  # noqa: E501
                f" {len(self.session.markers)} markers — {self.csv_path}"
            )
        )
        layout.addWidget(self._table())
        self.figure = summary_figure(self.session, palette, Figure(figsize=(9, 5), layout="constrained"))
        self.canvas = FigureCanvasQTAgg(self.figure)
        layout.addWidget(self.canvas, 1)
        buttons = QHBoxLayout()
        save = QPushButton("Save figure…")
        save.clicked.connect(self.save_dialog)
        report = QPushButton("Open report")
        report.setToolTip("Write the HTML report beside the CSV and open it")
        report.clicked.connect(self.open_report)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addStretch(1)
        for button in (save, report, close):
            buttons.addWidget(button)
        layout.addLayout(buttons)

    def _table(self) -> QTableWidget:
        table = QTableWidget(len(self.summary), len(self.labels) + 2)
        table.setHorizontalHeaderLabels(["face", "time present (s)", *self.labels])
        for row, (face_id, shares) in enumerate(self.summary.items()):
            table.setItem(row, 0, QTableWidgetItem(self.session.face_title(face_id)))
            table.setItem(row, 1, QTableWidgetItem(f"{shares['seconds']:.1f}"))
            for column, label in enumerate(self.labels, start=2):
                item = QTableWidgetItem(f"{shares[label]:.0%}")
                if shares[label] > 0:
                    color = QColor(*emotion_color(label, self.palette_name))
                    color.setAlpha(int(40 + 200 * shares[label]))
                    item.setBackground(color)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        table.setMaximumHeight(60 + 30 * min(len(self.summary), 5))
        return table

    def save_figure(self, path: Path) -> bool:
        """Write the figure itself (not a grab of the dialog): PNG, SVG or PDF by the file's suffix."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg", ".pdf"):
            path = path.with_suffix(".png")
        try:
            self.figure.savefig(path, dpi=150, bbox_inches="tight")
        except (OSError, ValueError):
            return False
        return True

    def save_png(self, path: Path) -> bool:
        return self.save_figure(Path(path).with_suffix(".png"))

    def save_dialog(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "Save figure", str(self.csv_path.with_suffix(".png")), SAVE_FORMATS
        )
        if target and not self.save_figure(Path(target)):
            QMessageBox.critical(self, "Save failed", f"{target}: cannot write the figure here")

    def write_report(self) -> Path | None:
        try:
            return write_report(self.csv_path, palette=self.palette_name)
        except EmotionDeskError as error:
            QMessageBox.critical(self, "Report failed", str(error))
            return None

    def open_report(self) -> None:
        path = self.write_report()
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.resolve())))
