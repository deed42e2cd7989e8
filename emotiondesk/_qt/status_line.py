"""The status bar's permanent part: recording indicator, display fps, worker ms/frame, faces and model."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtWidgets import QLabel, QStatusBar

from emotiondesk.types import FrameResult


class StatusLine:
    """Labels added to `status_bar`; `show_result` after each frame shown, `clear` when nothing plays."""

    def __init__(self, status_bar: QStatusBar) -> None:
        self.fps = QLabel()
        self.ms = QLabel()
        self.faces = QLabel()
        self.model = QLabel("")
        self.rec_indicator = QLabel("")
        self.rec_indicator.setStyleSheet("color: #e0302f; font-weight: bold;")
        self.display_times: deque[float] = deque()
        for widget in (self.rec_indicator, self.fps, self.ms, self.faces, self.model):
            status_bar.addPermanentWidget(widget)
        self.clear()

    def count_frame(self) -> None:
        """A frame was shown (call for every one; `show_result` may be called less often)."""
        now = time.monotonic()
        self.display_times.append(now)
        while now - self.display_times[0] > 2.0:
            self.display_times.popleft()

    def show_result(self, result: FrameResult) -> None:
        """Display fps over the last 2 s, the worker's time for this frame, and its face count."""
        if len(self.display_times) > 1:
            fps = (len(self.display_times) - 1) / (self.display_times[-1] - self.display_times[0])
            self.fps.setText(f"{fps:.1f} fps")
        self.ms.setText(f"{result.timings_ms.get('total', 0):.1f} ms/frame")
        self.faces.setText(f"{len(result.faces)} face{'s' if len(result.faces) != 1 else ''}")

    def clear(self) -> None:
        self.display_times.clear()
        self.fps.setText("– fps")
        self.ms.setText("– ms/frame")
        self.faces.setText("0 faces")
