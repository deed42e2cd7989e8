"""Painting widgets: the video with overlays and the probability bars (the timeline is in `timeline.py`)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from emotiondesk._qt.timeline import EmotionTimeline  # noqa: F401 (kept importable from here)
from emotiondesk.metadata import FaceNames
from emotiondesk.palette import DEFAULT_PALETTE, emotion_color
from emotiondesk.types import Face, FrameResult


def bgr_to_qimage(image: np.ndarray) -> QImage:
    height, width = image.shape[:2]
    contiguous = np.ascontiguousarray(image)
    qimage = QImage(contiguous.data, width, height, contiguous.strides[0], QImage.Format.Format_BGR888)
    return qimage.copy()  # own the pixels: the numpy buffer may go away


class VideoView(QWidget):
    """The frame scaled with its aspect ratio, plus a box, ID, label and confidence per face."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image: QImage | None = None
        self.result: FrameResult | None = None
        self.mirror = False
        self.show_boxes = True
        self.show_labels = True
        self.palette_name = DEFAULT_PALETTE
        self.names = FaceNames()
        self.placeholder = "No source — open a file (Ctrl+O) or pick a camera"

    def show_frame(self, image: np.ndarray, result: FrameResult) -> None:
        self.image = bgr_to_qimage(image)
        if self.mirror:
            self.image = self.image.mirrored(True, False)
        self.result = result
        self.update()

    def clear(self, message: str) -> None:
        self.image, self.result, self.placeholder = None, None, message
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None:
            return QRectF()
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        w, h = self.image.width() * scale, self.image.height() * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(24, 24, 28))
        if self.image is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        target = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(target, self.image)
        if self.result is None or not self.show_boxes:
            return
        scale = target.width() / self.image.width()
        font = QFont(painter.font())
        font.setPointSizeF(max(8.0, 10.0 * min(scale * 1.5, 1.5)))
        painter.setFont(font)
        for face in self.result.faces:
            probabilities = face.smoothed_or_raw
            label = self.result.label_of(probabilities)
            confidence = float(probabilities.max()) if probabilities is not None else face.det_score
            color = QColor(*emotion_color(label, self.palette_name))
            x = face.box.x if not self.mirror else self.image.width() - face.box.x - face.box.w
            rect = QRectF(
                target.x() + x * scale, target.y() + face.box.y * scale, face.box.w * scale, face.box.h * scale
            )
            painter.setPen(QPen(color, 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
            if self.show_labels:
                text = f"{self.names.display(face.face_id)} {label} {confidence:.0%}"
                metrics = painter.fontMetrics()
                box = QRectF(
                    rect.x(), rect.y() - metrics.height() - 4, metrics.horizontalAdvance(text) + 8, metrics.height() + 4
                )
                painter.fillRect(box, color)
                painter.setPen(QColor(0, 0, 0))
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class ProbabilityBars(QWidget):
    """Horizontal bars of one face's (smoothed) class probabilities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(150)
        self.labels: tuple[str, ...] = ()
        self.values: np.ndarray | None = None
        self.title = "No face"
        self.palette_name = DEFAULT_PALETTE

    def set_face(self, labels: tuple[str, ...], face: Face | None, title: str | None = None) -> None:
        self.labels = labels
        self.values = face.smoothed_or_raw if face is not None else None
        self.title = (title or f"Face #{face.face_id}") if face is not None else "No face"
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setPen(self.palette().text().color())
        metrics = painter.fontMetrics()
        line = metrics.height() + 4
        painter.drawText(4, metrics.ascent() + 2, self.title)
        if self.values is None or not self.labels:
            return
        label_width = max(metrics.horizontalAdvance(label) for label in self.labels) + 10
        bar_space = max(self.width() - label_width - 60, 10)
        for row, (label, value) in enumerate(zip(self.labels, self.values)):
            y = line * (row + 1) + 4
            painter.setPen(self.palette().text().color())
            painter.drawText(4, y + metrics.ascent(), label)
            painter.fillRect(
                QRectF(label_width, y + 2, bar_space * float(value), line - 6),
                QColor(*emotion_color(label, self.palette_name)),
            )
            painter.drawText(int(label_width + bar_space + 6), y + metrics.ascent(), f"{float(value):.0%}")


class SourceBanner(QFrame):
    """A red strip over the video saying why the source is unavailable, with Retry and Open file…."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("QFrame { background: #5c1f1f; color: white; border-radius: 4px; }")
        layout = QHBoxLayout(self)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.retry_button = QPushButton("Retry")
        self.open_button = QPushButton("Open file…")
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.open_button)
        self.hide()

    def show_message(self, message: str, retry: bool) -> None:
        self.text.setText(message)
        self.retry_button.setVisible(retry)
        self.show()
