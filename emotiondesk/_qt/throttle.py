"""At most one refresh per interval, and always one for the last change (the side panel at 30 fps is waste)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot


class Throttle(QObject):
    """`poke()` on every change: `refresh` runs at once when idle, else once when the interval is over."""

    def __init__(self, refresh: Callable[[], None], interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.refresh = refresh
        self.dirty = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._due)

    def poke(self) -> None:
        if self.timer.isActive():
            self.dirty = True
            return
        self.refresh()
        self.timer.start()

    def reset(self) -> None:
        """Forget a pending refresh: the next `poke()` refreshes at once."""
        self.timer.stop()
        self.dirty = False

    @Slot()
    def _due(self) -> None:
        if self.dirty:
            self.dirty = False
            self.refresh()
            self.timer.start()
