"""Where the bundled models live: inside the installed package, or `assets/models/` in a source tree."""

from __future__ import annotations

from pathlib import Path

from emotiondesk.errors import ModelError

DETECTOR_MODELS = {
    "short": "face_detection_short_range.tflite",
    "full": "face_detection_full_range_sparse.tflite",
}
DEFAULT_EMOTION_MODEL = "emotion_fer2013.onnx"


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
    """The given ONNX path, or the bundled default."""
    path = Path(model).expanduser() if model else models_dir() / DEFAULT_EMOTION_MODEL
    if not path.is_file():
        raise ModelError(f"{path}: emotion model not found")
    return path
