"""Where the bundled models live: inside the installed package, or `assets/models/` in a source tree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emotiondesk.errors import ModelError

DETECTOR_MODELS = {
    "short": "face_detection_short_range.tflite",
    "full": "face_detection_full_range_sparse.tflite",
}


@dataclass(frozen=True)
class BundledModel:
    """An emotion model shipped in `assets/models`, by the name `--model` and Settings use for it."""

    file: str
    title: str


EMOTION_MODELS = {
    "fer2013": BundledModel("emotion_fer2013.onnx", "FER2013, 7 emotions (default, live)"),
    "fer2013-accurate": BundledModel(
        "emotion_fer2013_accurate.onnx", "FER2013, 7 emotions, accurate (offline analysis; 3× the time)"
    ),
    "ferplus": BundledModel("emotion_ferplus.onnx", "FER+, 8 emotions incl. contempt"),
}
DEFAULT_EMOTION_MODEL = "fer2013"


def models_dir() -> Path:
    """`emotiondesk/assets/models` in a wheel; the repository's `assets/models` when run from source."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "assets" / "models", package.parent / "assets" / "models"):
        if candidate.is_dir():
            return candidate
    raise ModelError(f"{package}: bundled models not found (broken installation?)")


def detector_model_path(model: str | Path) -> Path:
    """`short`, `full` or a path to a BlazeFace .tflite file."""
    name = str(model)
    path = models_dir() / DETECTOR_MODELS[name] if name in DETECTOR_MODELS else Path(name).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: face detector model not found")
    return path


def emotion_model_path(model: str | Path | None = None) -> Path:
    """A bundled model's name (see EMOTION_MODELS), an ONNX path, or None for the bundled default."""
    name = str(model) if model else DEFAULT_EMOTION_MODEL
    path = models_dir() / EMOTION_MODELS[name].file if name in EMOTION_MODELS else Path(name).expanduser()
    if not path.is_file():
        raise ModelError(f"{path}: emotion model not found")
    return path
