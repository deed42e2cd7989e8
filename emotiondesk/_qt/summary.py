"""Session summary: emotion distribution per face and the whole-session timeline, savable as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor
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

from emotiondesk.drawing import emotion_color
from emotiondesk.recording import load_session, session_summary


class SessionSummaryDialog(QDialog):
    def __init__(self, csv_path: Path, parent=None) -> None:
        super().__init__(parent)
        self.csv_path = Path(csv_path)
        self.labels, rows = load_session(self.csv_path)
        self.summary = session_summary(self.labels, rows)
        self.setWindowTitle(f"Session summary — {self.csv_path.name}")
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        duration = (rows[-1]["time_s"] - rows[0]["time_s"]) if rows else 0.0
        layout.addWidget(
            QLabel(f"{len(rows)} detections of {len(self.summary)} faces over {duration:.1f} s — {self.csv_path}")
        )
        table = QTableWidget(len(self.summary), len(self.labels) + 2)
        table.setHorizontalHeaderLabels(["face", "seconds", *self.labels])
        for row, (face_id, shares) in enumerate(self.summary.items()):
            table.setItem(row, 0, QTableWidgetItem(f"#{face_id}"))
            table.setItem(row, 1, QTableWidgetItem(f"{shares['seconds']:.1f}"))
            for column, label in enumerate(self.labels, start=2):
                item = QTableWidgetItem(f"{shares[label]:.0%}")
                if shares[label] > 0:
                    color = QColor(*emotion_color(label))
                    color.setAlpha(int(40 + 200 * shares[label]))
                    item.setBackground(color)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        layout.addWidget(table)
        self.plot = pg.PlotWidget(background=(24, 24, 28))
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setLabel("left", "face")
        self._draw_timeline(rows)
        layout.addWidget(self.plot, 1)
        buttons = QHBoxLayout()
        save = QPushButton("Save as PNG…")
        save.clicked.connect(self.save_png_dialog)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addStretch(1)
        buttons.addWidget(save)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    def _draw_timeline(self, rows: list[dict]) -> None:
        if not rows:
            return
        face_ids = sorted(self.summary)
        start = rows[0]["time_s"]
        end = rows[-1]["time_s"]
        bins = max(int((end - start) / 0.1) + 1, 1)
        image = np.full((len(face_ids), bins, 3), 40, np.uint8)
        for row in rows:
            image[face_ids.index(row["face_id"]), min(int((row["time_s"] - start) / 0.1), bins - 1)] = emotion_color(
                row["smoothed_label"]
            )
        item = pg.ImageItem(image, axisOrder="row-major", levels=(0, 255))
        item.setRect(QRectF(start, 0, max(end - start, 0.1), len(face_ids)))
        self.plot.addItem(item)
        self.plot.getAxis("left").setTicks([[(i + 0.5, f"#{f}") for i, f in enumerate(face_ids)]])
        legend = self.plot.addLegend(offset=(-10, 10))
        for label in self.labels:
            legend.addItem(pg.ScatterPlotItem(symbol="s", brush=emotion_color(label), pen=None), label)

    def save_png(self, path: Path) -> bool:
        return self.grab().save(str(path), "PNG")

    def save_png_dialog(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "Save summary", str(self.csv_path.with_suffix(".png")), "PNG (*.png)"
        )
        if target and not self.save_png(Path(target)):
            QMessageBox.critical(self, "Save failed", f"{target}: cannot write PNG here")
