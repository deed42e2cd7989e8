"""The Settings dialog: emotion model, detector, threshold, smoothing, faces to follow, re-identification, colour
palette, research signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from emotiondesk._qt import messages
from emotiondesk.assets import DEFAULT_EMOTION_MODEL, EMOTION_MODELS
from emotiondesk.errors import EmotionDeskError
from emotiondesk.palette import DEFAULT_PALETTE, PALETTE_TITLES
from emotiondesk.pipeline import PipelineConfig

OTHER_FILE = "\x00other-file"  # the "Other ONNX file…" entry's data
MODEL_CONTRACT = (
    "An emotion model needs one float32 input [N,1,48,48], one output [N,C] of probabilities and a 'labels' "
    "metadata entry naming the C classes (see the Models and training page)"
)


def check_model(path: Path) -> str:
    """Load `path` the way the pipeline will (stages.classification checks the model contract); its name."""
    from emotiondesk.stages.classification import EmotionClassifier

    classifier = EmotionClassifier(path)
    return f"{classifier.name}, {len(classifier.labels)} classes"


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
        self.model.addItem("Other ONNX file…", OTHER_FILE)
        current = config.model or DEFAULT_EMOTION_MODEL
        if self.model.findData(current) < 0:  # a model file given on the command line or chosen earlier
            self._add_custom(current)
        self.model.setCurrentIndex(self.model.findData(current))
        self._model_index = self.model.currentIndex()
        self.model.currentIndexChanged.connect(self._model_changed)
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

    def _add_custom(self, path: str) -> None:
        """A model file as its own entry, before "Other ONNX file…"."""
        with QSignalBlocker(self.model):
            self.model.insertItem(self.model.count() - 1, f"Custom: {Path(path).name}", str(path))
            self.model.setItemData(self.model.count() - 2, str(path), Qt.ItemDataRole.ToolTipRole)

    @Slot(int)
    def _model_changed(self, index: int) -> None:
        if self.model.itemData(index) != OTHER_FILE:
            self._model_index = index
            return
        QTimer.singleShot(0, self, self._ask_model_file)  # from the event loop, not inside the combo's signal

    @Slot()
    def _ask_model_file(self) -> None:
        chosen = self.choose_model_file() if self.isVisible() else None
        with QSignalBlocker(self.model):
            self.model.setCurrentIndex(self.model.findData(chosen) if chosen else self._model_index)
        self._model_index = self.model.currentIndex()

    def choose_model_file(self) -> str | None:
        """Ask for an ONNX file and check it against the model contract now, not when the source restarts."""
        path, _ = QFileDialog.getOpenFileName(self, "Choose an emotion model", str(Path.home()), "ONNX (*.onnx)")
        if not path:
            return None
        try:
            check_model(Path(path))
        except EmotionDeskError as error:
            messages.show(
                self,
                "warning",
                "Cannot use this model",
                messages.join(f"Cannot use {error}", MODEL_CONTRACT, "The model in use stays as it was"),
            )
            return None
        if self.model.findData(path) < 0:
            self._add_custom(path)
        return path

    def apply_to(self, config: PipelineConfig) -> None:
        chosen = self.model.currentData()
        config.model = chosen if chosen != OTHER_FILE else self.model.itemData(self._model_index)
        config.detector = self.detector.currentData()
        config.min_detection_confidence = float(self.min_confidence.value())
        config.smoothing_window = int(self.smoothing.value())
        config.max_faces = int(self.max_faces.value()) or None
        config.reid_s = float(self.reid.value())
        config.face_details = self.face_details.isChecked()

    @property
    def palette_name(self) -> str:
        return str(self.palette.currentData())
