"""The Settings dialog: emotion model, detector, threshold, smoothing, faces to follow, re-identification, colour
palette, research signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from emotiondesk.assets import DEFAULT_EMOTION_MODEL, EMOTION_MODELS
from emotiondesk.palette import DEFAULT_PALETTE, PALETTE_TITLES
from emotiondesk.pipeline import PipelineConfig


class SettingsDialog(QDialog):
    """Model, detector, threshold, smoothing, colour palette, face details and LSL streaming."""

    def __init__(
        self,
        config: PipelineConfig,
        parent: QWidget | None = None,
        palette: str = DEFAULT_PALETTE,
        lsl: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.model = QComboBox()
        for name, bundled in EMOTION_MODELS.items():
            self.model.addItem(bundled.title, name)
        current = config.model or DEFAULT_EMOTION_MODEL
        if self.model.findData(current) < 0:  # a model file given on the command line
            self.model.addItem(f"Custom: {Path(current).name}", current)
        self.model.setCurrentIndex(self.model.findData(current))
        self.detector = QComboBox()
        self.detector.addItem("Short range (webcam distance, fastest)", "short")
        self.detector.addItem("Full range (small or distant faces)", "full")
        self.detector.setCurrentIndex(0 if config.detector == "short" else 1)
        self.min_confidence = QDoubleSpinBox()
        self.min_confidence.setRange(0.1, 0.95)
        self.min_confidence.setSingleStep(0.05)
        self.min_confidence.setValue(config.min_detection_confidence)
        self.smoothing = QSpinBox()
        self.smoothing.setRange(1, 60)
        self.smoothing.setValue(config.smoothing_window)
        self.smoothing.setSuffix(" frames")
        form.addRow("Emotion model", self.model)
        form.addRow("Face detector", self.detector)
        form.addRow("Minimum detection confidence", self.min_confidence)
        self.palette = QComboBox()
        for name, title in PALETTE_TITLES.items():
            self.palette.addItem(title, name)
        self.palette.setCurrentIndex(max(self.palette.findData(palette), 0))
        form.addRow("Smoothing window", self.smoothing)
        self.max_faces = QSpinBox()
        self.max_faces.setRange(0, 20)
        self.max_faces.setSpecialValueText("All faces")
        self.max_faces.setPrefix("The ")
        self.max_faces.setSuffix(" most prominent (participant mode)")
        self.max_faces.setValue(config.max_faces or 0)
        self.max_faces.setToolTip(
            "Keep only the N largest faces nearest the centre, numbered 1…N; a passing bystander does not take over"
        )
        self.reid = QDoubleSpinBox()
        self.reid.setRange(0.0, 120.0)
        self.reid.setDecimals(1)
        self.reid.setSpecialValueText("Off (a new ID after 1 s away)")
        self.reid.setSuffix(" s away at most")
        self.reid.setValue(config.reid_s)
        self.reid.setToolTip("A face back within this time gets its old ID when its place, size and look agree")
        form.addRow("Faces to follow", self.max_faces)
        form.addRow("Re-identify faces", self.reid)
        form.addRow("Colours", self.palette)
        self.face_details = QCheckBox("Face details: blendshapes and head pose (costly: about 9 ms a face)")
        self.face_details.setChecked(config.face_details)
        self.lsl = QCheckBox("Stream to LSL (makes this app visible on the local network)")
        self.lsl.setChecked(lsl)
        form.addRow("Research signals", self.face_details)
        form.addRow("", self.lsl)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def apply_to(self, config: PipelineConfig) -> None:
        config.model = self.model.currentData()
        config.detector = self.detector.currentData()
        config.min_detection_confidence = float(self.min_confidence.value())
        config.smoothing_window = int(self.smoothing.value())
        config.max_faces = int(self.max_faces.value()) or None
        config.reid_s = float(self.reid.value())
        config.face_details = self.face_details.isChecked()

    @property
    def palette_name(self) -> str:
        return str(self.palette.currentData())
