"""Every output of a run has one shape: a `Sink` gets each frame's result, then is closed with the run's status.

The CSV recorder, the annotated video (and markers, LSL, reports) are sinks; `analyze`, the batch runner and
the window's worker drive them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from emotiondesk.types import FrameResult

RUN_STATES = ("running", "finished", "interrupted", "error")


@dataclass
class RunStatus:
    """How a run ended, as every sink records it: `finished` only when it ran to the end it was asked for."""

    state: str = "running"  # one of RUN_STATES
    frames_done: int = 0
    frames_in_source: int | None = None  # None for cameras and unknown lengths
    error: str | None = None
    summary: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "status": self.state,
            "finished": self.state == "finished",
            "interrupted": self.state == "interrupted",
            "error": self.error,
            "frames_done": self.frames_done,
            "frames_in_source": self.frames_in_source,
        }


@runtime_checkable
class Sink(Protocol):
    """An output of a run."""

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Take one frame's result (and its BGR image, for sinks that draw)."""

    def close(self, status: RunStatus | None = None) -> None:
        """Finish the output; safe to call twice and after a failure."""
