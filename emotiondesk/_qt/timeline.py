"""The live timeline: one coloured band per face, marker lines, face names, and a legend beside it."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from emotiondesk.metadata import FaceNames
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color
from emotiondesk.sinks.markers import Marker
from emotiondesk.types import FrameResult


class EmotionLegend(QWidget):
    """A column of colour swatches with the emotion names, painted beside a plot (never over its data)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: tuple[str, ...] = ()
        self.palette_name = DEFAULT_PALETTE
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def set_labels(self, labels: tuple[str, ...], palette: str | None = None) -> None:
        self.labels = tuple(labels)
        self.palette_name = palette or self.palette_name
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        metrics = self.fontMetrics()
        width = max((metrics.horizontalAdvance(label) for label in self.labels), default=40) + 30
        return QSize(width, (metrics.height() + 2) * max(len(self.labels), 1) + 8)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        line = metrics.height() + 2
        for row, label in enumerate(self.labels):
            y = 4 + row * line
            painter.fillRect(QRectF(4, y + 2, 12, line - 5), QColor(*emotion_color(label, self.palette_name)))
            painter.setPen(self.palette().text().color())
            painter.drawText(22, y + metrics.ascent(), label)


class EmotionTimeline(QWidget):
    """Running strip chart of the last `window_s` seconds: one coloured band per face (its emotion), the
    markers as labelled lines, the faces' names on the axis and the legend to the right.

    pyqtgraph draws the bands as one RGB image (time bins × faces), which stays cheap however many
    detections arrive.
    """

    BIN_S = 0.1

    def __init__(self, window_s: float = 30.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_s = window_s
        self.palette_name = DEFAULT_PALETTE
        self.names = FaceNames()
        self.markers: list[Marker] = []
        self.samples: dict[int, deque[tuple[float, str]]] = {}
        self.plot = pg.PlotWidget(background=(24, 24, 28))
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image_item)
        self.plot.setLabel("bottom", "seconds ago")
        self.plot.setLabel("left", "face")
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.legend = EmotionLegend()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        self.setMinimumHeight(140)
        self.latest_time = 0.0
        self.face_rows: list[int] = []
        self.marker_lines: list[pg.InfiniteLine] = []

    def set_palette(self, name: str) -> None:
        self.palette_name = name
        self.legend.set_labels(self.legend.labels, name)
        self.redraw()

    def set_labels(self, labels: tuple[str, ...]) -> None:
        self.legend.set_labels(labels, self.palette_name)

    def add_result(self, result: FrameResult) -> None:
        self.latest_time = result.time_s
        if tuple(result.labels) != self.legend.labels:
            self.set_labels(tuple(result.labels))
        for face in result.faces:
            label = result.label_of(face.smoothed_or_raw)
            self.samples.setdefault(face.face_id, deque()).append((result.time_s, label))
        horizon = self.latest_time - self.window_s
        for face_id in list(self.samples):
            samples = self.samples[face_id]
            while samples and (samples[0][0] < horizon or samples[0][0] > self.latest_time):  # also after a seek
                samples.popleft()
            if not samples:
                del self.samples[face_id]

    def redraw(self) -> None:
        bins = int(self.window_s / self.BIN_S)
        rows_by_face: dict[int, int] = {}
        for face_id in sorted(self.samples):  # merged IDs share their row
            rows_by_face.setdefault(self.names.canonical(face_id), len(rows_by_face))
        self.face_rows = list(rows_by_face)
        rows = max(len(self.face_rows), 1)
        image = np.full((rows, bins, 3), 40, np.uint8)
        for face_id, samples in self.samples.items():
            row = rows_by_face[self.names.canonical(face_id)]
            for time_s, label in samples:
                column = bins - 1 - int((self.latest_time - time_s) / self.BIN_S)
                if 0 <= column < bins:
                    image[row, column] = emotion_color(label, self.palette_name)
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        self.image_item.setRect(QRectF(-self.window_s, 0, self.window_s, rows))
        self.plot.setXRange(-self.window_s, 0, padding=0)
        self.plot.setYRange(0, rows, padding=0)
        axis = self.plot.getAxis("left")
        axis.setTicks([[(row + 0.5, self.names.display(face_id)) for face_id, row in rows_by_face.items()]])
        self._draw_markers()

    def _draw_markers(self) -> None:
        for line in self.marker_lines:
            self.plot.removeItem(line)
        self.marker_lines = []
        for marker in self.markers:
            x = marker.time_s - self.latest_time
            if -self.window_s <= x <= 0:
                line = pg.InfiniteLine(
                    pos=x,
                    angle=90,
                    pen=pg.mkPen((255, 255, 255), width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                    label=marker.title,
                    labelOpts={"position": 0.85, "color": (255, 255, 255), "fill": (0, 0, 0, 160)},
                )
                self.plot.addItem(line)
                self.marker_lines.append(line)

    def set_markers(self, markers: list[Marker]) -> None:
        self.markers = list(markers)

    def clear_samples(self) -> None:
        """Forget the faces' history (the markers are set by `set_markers`)."""
        self.samples.clear()
        self.redraw()
