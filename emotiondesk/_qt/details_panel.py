"""The face-details panel: the selected face's strongest blendshapes and its head pose."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from emotiondesk.stages.face_details import top_blendshapes
from emotiondesk.types import Face

TOP = 5


class FaceDetailsPanel(QWidget):
    """Top 5 blendshapes (bars, 0–100 %) and yaw/pitch/roll in degrees of one face; shown when face details are on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        self.title = QLabel("Face details")
        self.title.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.title)
        grid = QGridLayout()
        self.names: list[QLabel] = []
        self.bars: list[QProgressBar] = []
        for row in range(TOP):
            name, bar = QLabel(""), QProgressBar()
            bar.setRange(0, 100)
            bar.setMaximumHeight(14)
            bar.setFormat("%p%")
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
            self.names.append(name)
            self.bars.append(bar)
        layout.addLayout(grid)
        self.pose = QLabel("yaw –  pitch –  roll –")
        self.pose.setToolTip(
            "Head pose in degrees: yaw > 0 turned to its own left, pitch > 0 looking up, "
            "roll > 0 tilted towards its own left shoulder"
        )
        layout.addWidget(self.pose)
        self.shown: list[tuple[str, float]] = []
        self.set_face(None)

    def set_face(self, face: Face | None, name: str | None = None) -> None:
        """Show this face's details (titled with its `name`, else its ID), or dashes when there are none."""
        self.shown = top_blendshapes(face, TOP) if face is not None else []
        shown_as = name or (f"#{face.face_id}" if face is not None else "")
        self.title.setText(f"Face details {shown_as}".strip())
        for row in range(TOP):
            name, value = self.shown[row] if row < len(self.shown) else ("–", 0.0)
            self.names[row].setText(name)
            self.bars[row].setValue(round(value * 100))
        if face is not None and face.head_pose is not None:
            yaw, pitch, roll = face.head_pose
            self.pose.setText(f"yaw {yaw:+.0f}°  pitch {pitch:+.0f}°  roll {roll:+.0f}°")
        else:
            self.pose.setText("yaw –  pitch –  roll –")
