"""File ▸ Open session…: a past recording (CSV + sidecar + markers) read back into its summary dialog —
per-face shares, the timeline with its markers, the markers list, Save figure… and the HTML report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from emotiondesk._qt import messages, paths
from emotiondesk.errors import EmotionDeskError
from emotiondesk.palette import DEFAULT_PALETTE

SESSION_FILTER = "emotiondesk sessions (*.csv);;All files (*)"


def past_sessions(folder: Path) -> list[Path]:
    """Session CSVs in `folder` (not their markers files), newest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.csv") if not p.stem.endswith("_markers")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def open_session(parent: QWidget, csv_path: Path, palette: str = DEFAULT_PALETTE):
    """The summary dialog of `csv_path`, or None after a message naming the file and what to do."""
    from emotiondesk._qt.summary import SessionSummaryDialog

    try:
        return SessionSummaryDialog(Path(csv_path), parent, palette)
    except EmotionDeskError as error:
        messages.show(
            parent,
            "warning",
            "Cannot open session",
            messages.join(
                f"Cannot open the session {error}",
                "Choose a CSV that emotiondesk recorded (in the window or with `emotiondesk analyze`) and open it "
                "with File ▸ Open session… again",
            ),
        )
        return None


def ask_session(parent: QWidget, palette: str = DEFAULT_PALETTE, title: str = "Open session"):
    """Ask for a session CSV (starting in the sessions folder) and open it; None when none was opened."""
    folder = paths.sessions_dir()
    start = folder if folder.is_dir() else Path.home()
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start), SESSION_FILTER)
    return open_session(parent, Path(path), palette) if path else None


def offer_past_sessions(parent: QWidget, palette: str = DEFAULT_PALETTE):
    """Session summary with nothing recorded in this window yet: pick an earlier session, or learn how to get one."""
    if past_sessions(paths.sessions_dir()):
        return ask_session(parent, palette, "No session recorded in this window yet — open an earlier one")
    messages.show(
        parent,
        "information",
        "No session yet",
        messages.join(
            f"There is no recorded session yet in {paths.sessions_dir()}",
            "Record one with Record (Space), or open one recorded elsewhere (File ▸ Open session…)",
        ),
    )
    return None
