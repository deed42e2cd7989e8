"""The live timeline: one coloured band per face, marker lines, face names, and a legend beside it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

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

    Only faces seen in the window get a row, at most as many as fit at a label's height (the most recently
    seen; the axis says how many more), rows are separated by a gap, and marker labels sit in a band above
    the rows, never over them.

    pyqtgraph draws the bands as one RGB image (time bins × faces), which stays cheap however many
    detections arrive.
    """

    BIN_S = 0.1
    ROW_PIXELS = 8  # image lines per face row…
    GAP_PIXELS = 2  # …of which the last are a gap, so neighbouring faces never merge into one block
    BACKGROUND = (24, 24, 28)

    def __init__(self, window_s: float = 30.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_s = window_s
        self.palette_name = DEFAULT_PALETTE
        self.names = FaceNames()
        self.markers: list[Marker] = []
        self.samples: dict[int, deque[tuple[float, str]]] = {}
        self.plot = pg.PlotWidget(background=self.BACKGROUND)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image_item)
        self.plot.setLabel("bottom", "seconds ago")
        self.plot.setLabel("left", "face")
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        for side in ("left", "bottom"):  # no unit prefixes: else every range change lays the axis title out anew
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self._drawn: dict[str, object] = {}  # what the plot shows now (ranges, ticks, title): set only on change
        self.legend = EmotionLegend()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        self.setMinimumHeight(140)
        self.latest_time = 0.0
        self.face_rows: list[int] = []  # the faces shown, top row first
        self.hidden_faces = 0  # faces seen in the window without a row (more than fit)
        self.marker_band = 0.0  # height of the marker-label band above the rows, in row units
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

    def visible_faces(self) -> tuple[list[int], int]:
        """The faces (merged IDs as one) that get a row: those seen in the window, and when more than fit at a
        legible height, the most recently seen ones; returns them by ID and how many were left out."""
        last_seen: dict[int, float] = {}
        for face_id, samples in self.samples.items():
            canonical = self.names.canonical(face_id)
            last_seen[canonical] = max(last_seen.get(canonical, -np.inf), samples[-1][0])
        fit = self.rows_that_fit()
        shown = sorted(last_seen, key=lambda f: -last_seen[f])[:fit]
        return sorted(shown), len(last_seen) - len(shown)

    def rows_that_fit(self) -> int:
        """How many face rows the plot holds with each at least a label's height and the marker band above."""
        height = self.plot.getViewBox().height() or self.plot.height()
        line = self.fontMetrics().height() + 2
        return max(int((height - self._band_px()) // line), 1)

    def _band_px(self) -> float:
        return self.fontMetrics().height() + 8.0 if self.markers else 0.0

    def redraw(self) -> None:
        bins = int(self.window_s / self.BIN_S)
        shown, hidden = self.visible_faces()
        rows_by_face = {face_id: row for row, face_id in enumerate(shown)}
        self.face_rows = shown
        rows = max(len(shown), 1)
        sub = self.ROW_PIXELS  # each row: ROW_PIXELS image lines, the last GAP_PIXELS of them the plot background
        image = np.empty((rows * sub, bins, 3), np.uint8)
        image[:] = self.BACKGROUND
        for row in range(rows):
            image[row * sub : (row + 1) * sub - self.GAP_PIXELS] = 40
        for face_id, samples in self.samples.items():
            row = rows_by_face.get(self.names.canonical(face_id))
            if row is None:
                continue
            for time_s, label in samples:
                column = bins - 1 - int((self.latest_time - time_s) / self.BIN_S)
                if 0 <= column < bins:
                    image[row * sub : (row + 1) * sub - self.GAP_PIXELS, column] = emotion_color(
                        label, self.palette_name
                    )
        self.image_item.setImage(image[::-1], autoLevels=False, levels=(0, 255))  # row 0 at the top
        self.image_item.setRect(QRectF(-self.window_s, 0, self.window_s, rows))
        height = self.plot.getViewBox().height() or self.plot.height()
        band = self._band_px() * rows / max(height - self._band_px(), 1.0)  # marker labels sit above the rows
        self.marker_band = band
        gap = self.GAP_PIXELS / sub
        ticks = [(rows - row - 0.5 + gap / 2, self.names.display(face_id)) for face_id, row in rows_by_face.items()]
        self.hidden_faces = hidden
        shown_note = f" · {len(shown)} of {len(shown) + hidden} faces (the latest seen)" if hidden else ""
        self._set("x", -self.window_s, lambda: self.plot.setXRange(-self.window_s, 0, padding=0))
        self._set("y", rows + band, lambda: self.plot.setYRange(0, rows + band, padding=0))
        self._set("ticks", ticks, lambda: self.plot.getAxis("left").setTicks([ticks]))
        self._set("title", shown_note, lambda: self.plot.setLabel("bottom", "seconds ago" + shown_note))
        self._draw_markers(rows, band)

    def _set(self, part: str, value: object, apply: Callable[[], None]) -> None:
        """Apply a change to the plot only when `value` differs from what it shows (a redraw runs 5× a second)."""
        if self._drawn.get(part, self) != value:
            apply()
            self._drawn[part] = value

    def _draw_markers(self, rows: int, band: float) -> None:
        """Dashed lines with their text in the band above the rows, starting at the line; where the next marker
        is too close for the whole text, only its number (or the text's start) is shown. Lines whose texts are
        unchanged are only moved (a redraw runs 5× a second; a new line lays its text out again)."""
        shown = sorted(
            (m for m in self.markers if -self.window_s <= m.time_s - self.latest_time <= 0), key=lambda m: m.time_s
        )
        px_per_s = (self.plot.getViewBox().width() or self.plot.width()) / self.window_s
        metrics = self.fontMetrics()
        placed = []  # (x, text) of each line
        for number, marker in enumerate(shown):
            x = marker.time_s - self.latest_time
            room = ((shown[number + 1].time_s - self.latest_time) if number + 1 < len(shown) else 0.0) - x
            text = marker.title
            if metrics.horizontalAdvance(text) + 10 > room * px_per_s and number + 1 < len(shown):
                text = str(marker.marker) if marker.marker else text[:4] + "…"
            placed.append((x, text))
        position = 1.0 - 0.5 * band / (rows + band)  # in the band above the rows, off the data
        layout = ([text for _, text in placed], position)
        if layout == self._drawn.get("markers"):
            for line, (x, _) in zip(self.marker_lines, placed, strict=True):
                line.setPos(x)
            return
        for line in self.marker_lines:
            self.plot.removeItem(line)
        self.marker_lines = []
        for x, text in placed:
            line = pg.InfiniteLine(
                pos=x,
                angle=90,
                pen=pg.mkPen((255, 255, 255), width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
                label=text,
                labelOpts={
                    "position": position,
                    "anchors": [(0, 0.5), (0, 0.5)],
                    "color": (255, 255, 255),
                    "fill": (0, 0, 0, 160),
                },
            )
            self.plot.addItem(line)
            self.marker_lines.append(line)
        self._drawn["markers"] = layout

    def set_markers(self, markers: list[Marker]) -> None:
        self.markers = list(markers)

    def clear_samples(self) -> None:
        """Forget the faces' history (the markers are set by `set_markers`)."""
        self.samples.clear()
        self.redraw()
