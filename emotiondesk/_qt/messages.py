"""What the window says to people: whole sentences that name the file and say what to do next.

The core's errors read `path: problem`; these helpers turn them into sentences for banners, dialogs and the status
bar. Every message box of the window goes through `show`, one place to change (and to watch in tests).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

OPEN_NEXT = "Open another video or image (Ctrl+O)."
CAMERA_NEXT = "Check that the camera is connected and not in use by another program, then press Retry (F5)."
MODEL_NEXT = "Choose another emotion model in Settings (Ctrl+,)."


def sentence(text: str) -> str:
    """`text` as a sentence: stripped, capital first letter kept as is, ending in a full stop."""
    text = " ".join(str(text).split())
    if not text:
        return ""
    return text if text[-1] in ".!?…" else text + "."


def join(*parts: object) -> str:
    """Sentences joined by one space, each ending in a full stop; empty parts are left out (errors welcome)."""
    return " ".join(sentence(str(part)) for part in parts if str(part).strip())


def source_failed(error: str, camera: bool, kept: Path | None = None) -> str:
    """`Cannot open clip.mp4: not a readable video or image. The recording … is saved in …. Open another …`."""
    kept_text = f"The recording up to this moment is saved in {kept}" if kept is not None else ""
    return join(f"Cannot open {error}", kept_text, CAMERA_NEXT if camera else OPEN_NEXT)


def model_failed(error: str) -> str:
    """`Cannot load the emotion model rand.onnx: …. Choose another emotion model in Settings (Ctrl+,).`"""
    return join(f"Cannot load the emotion model {error}", MODEL_NEXT)


def not_opened(path: Path, what: str) -> str:
    """No program on this computer opened `path` (QDesktopServices said no)."""
    return join(
        f"No program on this computer opened the {what} {path.name}",
        f"It is saved in {path.parent}; open it from your file manager or drag it into a browser or spreadsheet",
    )


def show(parent: QWidget | None, kind: str, title: str, text: str) -> None:
    """A modal message box: `kind` is information, warning or critical."""
    getattr(QMessageBox, kind)(parent, title, text)
