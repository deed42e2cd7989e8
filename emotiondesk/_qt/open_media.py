"""File ▸ Open file…: the media the CLI accepts, starting in the folder of the file already open."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from emotiondesk.runs.batch import VIDEO_SUFFIXES
from emotiondesk.sources import IMAGE_SUFFIXES

MEDIA_SUFFIXES = tuple(sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
MEDIA_FILTER = f"Videos and images ({' '.join('*' + s for s in MEDIA_SUFFIXES)});;All files (*)"


def start_folder(source_spec: str | None, settings: QSettings) -> Path:
    """The open file's folder; else the folder last opened from; else the home folder."""
    if source_spec and not source_spec.isdigit():
        path = Path(source_spec).expanduser()
        folder = path if path.is_dir() else path.parent
        if folder.is_dir():
            return folder
    last = Path(str(settings.value("open_folder", "")))
    return last if str(last) not in ("", ".") and last.is_dir() else Path.home()


def ask_media_file(parent: QWidget, source_spec: str | None, settings: QSettings) -> Path | None:
    """The file the user picked (its folder remembered for next time), or None."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open video or image", str(start_folder(source_spec, settings)), MEDIA_FILTER
    )
    if not path:
        return None
    settings.setValue("open_folder", str(Path(path).parent))
    return Path(path)
