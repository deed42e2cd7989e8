"""Event markers: numbered (keys 1–9) or with text, written to `<session>_markers.csv` as they arrive (Qt-free).

The markers CSV is a `Sink`: it sees every frame (so a marker typed now is stamped with the frame on screen)
and drops markers scheduled by time (`--markers FILE`) when the run reaches them.
"""

from __future__ import annotations

import csv
import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

import numpy as np

from emotiondesk.errors import EmotionDeskError, RecordingError
from emotiondesk.metadata import now_wall, wall_time_text
from emotiondesk.sinks.base import RunStatus
from emotiondesk.types import FrameResult

MARKER_COLUMNS = ["wall_time", "time_s", "frame", "marker", "text"]


class MarkerError(EmotionDeskError):
    """A markers file cannot be read or has a bad line."""


@dataclass
class Marker:
    """One event: `marker` is its number (the key 1–9 pressed; 0 for a marker that only has text)."""

    time_s: float
    frame: int
    marker: int = 0
    text: str = ""
    wall_time: datetime | None = None

    @property
    def title(self) -> str:
        """What a plot shows: `3`, `3 stimulus`, or the text alone."""
        return " ".join(p for p in (str(self.marker) if self.marker else "", self.text) if p) or "marker"

    def row(self) -> list[str]:
        frame = str(self.frame) if self.frame >= 0 else ""
        return [wall_time_text(self.wall_time), f"{self.time_s:.3f}", frame, str(self.marker), self.text]


def parse_marker_text(line: str) -> tuple[int, str]:
    """`3` → (3, ''), `3 stimulus on` → (3, 'stimulus on'), `look left` → (0, 'look left')."""
    line = line.strip()
    head, _, rest = line.partition(" ")
    if len(head) == 1 and head in "123456789":
        return int(head), rest.strip()
    return 0, line


def markers_path(csv_path: Path) -> Path:
    """`<csv stem>_markers.csv` beside the session CSV."""
    csv_path = Path(csv_path)
    return csv_path.with_name(f"{csv_path.stem}_markers.csv")


def read_markers_file(path: Path) -> list[tuple[float, int, str]]:
    """`time_s,text` lines (a header line, blank lines and `#` comments allowed) → sorted (time_s, number, text)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark is not a time
    except (OSError, UnicodeDecodeError) as error:
        raise MarkerError(f"{path}: cannot read markers ({getattr(error, 'strerror', None) or error})") from None
    scheduled = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
            continue
        try:
            time_s = float(fields[0])
        except ValueError:
            if number == 1:  # a header such as `time_s,text`
                continue
            raise MarkerError(f"{path}: line {number}: {fields[0]!r} is not a time in seconds") from None
        if not np.isfinite(time_s) or time_s < 0:
            raise MarkerError(f"{path}: line {number}: time {fields[0]} must be 0 or more seconds")
        code, label = parse_marker_text(",".join(fields[1:]))
        scheduled.append((time_s, code, label))
    return sorted(scheduled, key=lambda item: item[0])


def load_markers(path: Path) -> list[Marker]:
    """Read a `_markers.csv` back (empty list when there is none)."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            markers = []
            for row in csv.DictReader(handle):
                wall = datetime.fromisoformat(row["wall_time"]) if row.get("wall_time") else None
                frame = int(row["frame"]) if row.get("frame") else -1
                markers.append(Marker(float(row["time_s"]), frame, int(row["marker"] or 0), row["text"] or "", wall))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RecordingError(f"{path}: cannot read markers ({error})") from None
    return markers


class MarkersSink:
    """Writes markers to `path` as they arrive (one flushed write each); thread-safe `mark()` for UI/stdin.

    `scheduled` (time_s, number, text) markers are written when the run reaches their time; those past the
    end of the run are written on `close()` without a frame."""

    def __init__(
        self,
        path: Path,
        scheduled: list[tuple[float, int, str]] | None = None,
        on_marker: Callable[[Marker], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_marker = on_marker  # e.g. the LSL Markers outlet
        self.scheduled = sorted(scheduled or [], key=lambda item: item[0])
        self.markers: list[Marker] = []
        self._lock = threading.Lock()
        self._time_s = 0.0
        self._frame = -1
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "w", newline="", encoding="utf-8", buffering=1)
        except OSError as error:
            raise RecordingError(f"{self.path}: cannot write markers ({error.strerror or error})") from None
        self._writer = csv.writer(self._file)
        self._write_row(MARKER_COLUMNS)

    def _write_row(self, row: list[str]) -> None:
        try:
            self._writer.writerow(row)
            self._file.flush()
        except OSError as error:
            raise RecordingError(f"{self.path}: write failed ({error.strerror or error})") from None

    def add(self, marker: Marker) -> Marker:
        """Write a marker that already has its time and frame."""
        with self._lock:
            if self._closed:
                raise RecordingError(f"{self.path}: markers already closed")
            self._write_row(marker.row())
            self.markers.append(marker)
        if self.on_marker is not None:
            self.on_marker(marker)
        return marker

    def mark(self, number: int = 0, text: str = "") -> Marker:
        """A marker now: stamped with the last frame written and the current wall-clock time."""
        with self._lock:
            time_s, frame = self._time_s, self._frame
        return self.add(Marker(time_s, frame, number, text, now_wall()))

    def write(self, result: FrameResult, image=None) -> None:
        """Remember the frame (for `mark`) and write the scheduled markers it reaches."""
        with self._lock:
            self._time_s, self._frame = result.time_s, result.index
            due = [item for item in self.scheduled if item[0] <= result.time_s + 1e-6]
            self.scheduled = self.scheduled[len(due) :]
        for time_s, number, text in due:
            self.add(Marker(time_s, result.index, number, text, result.wall_time or now_wall()))

    def close(self, status: RunStatus | None = None) -> None:
        """Write scheduled markers the run never reached (no frame, no wall time), then close; safe twice."""
        if self._closed:
            return
        for time_s, number, text in self.scheduled:
            try:
                self.add(Marker(time_s, -1, number, text, None))
            except RecordingError:
                break
        self.scheduled = []
        with self._lock:
            self._closed = True
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except (OSError, ValueError):
                pass
            self._file.close()


def read_marker_lines(stream: TextIO, on_line: Callable[[int, str], None]) -> threading.Thread:
    """A daemon thread that turns each non-empty line typed on `stream` into `on_line(number, text)`."""

    def serve() -> None:
        for line in stream:
            if line.strip():
                try:
                    on_line(*parse_marker_text(line))
                except EmotionDeskError:
                    return

    thread = threading.Thread(target=serve, name="emotiondesk-markers-stdin", daemon=True)
    thread.start()
    return thread
