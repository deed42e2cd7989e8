"""One exception type for every user-facing failure: its message names the input and the problem."""


class EmotionDeskError(Exception):
    """A failure a user can act on (bad file, missing camera, broken model, unwritable path)."""


class SourceError(EmotionDeskError):
    """A video/image/camera source cannot be opened or stopped delivering frames."""


class ModelError(EmotionDeskError):
    """A model file is missing, corrupt or breaks the model contract."""


class RecordingError(EmotionDeskError):
    """An output file (CSV, sidecar, annotated video) cannot be written."""
