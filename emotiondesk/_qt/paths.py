"""Where the window keeps things: the sessions and batches folders and its settings (one place for all three)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings


def data_dir() -> Path:
    """The window's own data folder (platformdirs: ~/.local/share/emotiondesk on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("emotiondesk", appauthor=False))


def sessions_dir() -> Path:
    """Recordings made in the window."""
    return data_dir() / "sessions"


def batches_dir() -> Path:
    """Results of File ▸ Analyse folder…, one folder per analysed folder, beside the sessions folder."""
    return sessions_dir().parent / "batches"


def app_settings() -> QSettings:
    """The window's persistent settings (model, detector, palette, last folders, …)."""
    return QSettings("emotiondesk", "emotiondesk")
