"""Help ▸ Keyboard shortcuts and About: the keys, the privacy note and the model's limits."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QMessageBox, QVBoxLayout, QWidget

from emotiondesk import __version__

SHORTCUTS = [
    ("Space", "Start / stop recording (asks participant, session, notes)"),
    ("1 – 9", "Drop a numbered marker"),
    ("Ctrl+K", "Add a marker with text"),
    ("K", "Play / pause a file"),
    ("Ctrl+O", "Open a video or image file"),
    ("Ctrl+Shift+O", "Open a past session (summary, timeline, markers, report)"),
    ("Ctrl+E", "Export the recorded CSV (+ sidecar, markers)"),
    ("Ctrl+M", "Mirror the image"),
    ("Ctrl+,", "Settings"),
    ("F5", "Retry the current source"),
    ("Ctrl+Q", "Quit"),
]

PRIVACY_NOTE = (
    "All processing stays on this computer: frames are never stored or sent anywhere, and the "
    "only files written are the recordings and exports you ask for."
)
LIMITS_NOTE = (
    "A facial expression is not a felt emotion: the model reads the configuration of a face, not "
    "what a person feels. It was trained on FER2013 (web images, mostly posed, skewed in age and "
    "ethnicity, with noisy labels — people agree with them only about 65 % of the time), and it is "
    "less reliable on under-represented groups, side views, poor light and subtle expressions. "
    "Do not use it to make decisions about individuals."
)


class ShortcutsDialog(QDialog):
    """The keys in one column and what they do in the next (a grid: aligned in any font)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        self.keys: list[QLabel] = []
        self.actions: list[QLabel] = []
        for row, (key, what) in enumerate(SHORTCUTS):
            key_label, what_label = QLabel(f"<b>{key}</b>"), QLabel(what)
            grid.addWidget(key_label, row, 0, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(what_label, row, 1, Qt.AlignmentFlag.AlignLeft)
            self.keys.append(key_label)
            self.actions.append(what_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(buttons)


def show_shortcuts(parent: QWidget) -> None:
    ShortcutsDialog(parent).exec()


def show_about(parent: QWidget, model_name: str, labels: tuple[str, ...]) -> None:
    QMessageBox.about(
        parent,
        "About emotiondesk",
        f"<b>emotiondesk {__version__}</b><br>Model: {model_name or 'not loaded yet'}"
        f" — classes: {', '.join(labels)}<br><br><b>Privacy.</b> {PRIVACY_NOTE}"
        f"<br><br><b>Limits.</b> {LIMITS_NOTE}",
    )
