"""Streaming CSV of every detection, plus a JSON sidecar saying how it was made."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from emotiondesk.errors import RecordingError
from emotiondesk.metadata import FaceNames, SessionInfo, now_wall, wall_time_text
from emotiondesk.sinks.base import RunStatus
from emotiondesk.stages.face_details import DETAIL_COLUMNS, detail_cells
from emotiondesk.types import FrameResult

FIXED_COLUMNS = ["time_s", "frame", "face_id", "x", "y", "w", "h", "det_score", "label", "confidence"]
SESSION_COLUMNS = ["wall_time", "participant", "session", "face_name"]


def csv_columns(labels: tuple[str, ...] | list[str], face_details: bool = False) -> list[str]:
    """`time_s, frame, face_id, x, y, w, h, det_score, label, confidence, p_<label>…, smoothed_label,
    wall_time, participant, session, face_name` (+ `bs_<name>`×52, `yaw, pitch, roll` last, with face details)."""
    columns = FIXED_COLUMNS + [f"p_{label}" for label in labels] + ["smoothed_label"] + SESSION_COLUMNS
    return columns + DETAIL_COLUMNS if face_details else columns


def result_rows(
    result: FrameResult, info: SessionInfo | None = None, names: FaceNames | None = None, face_details: bool = False
) -> list[list[str]]:
    """One CSV row per face of a frame, formatted."""
    info = info or SessionInfo()
    wall = wall_time_text(result.wall_time or now_wall())
    rows = []
    for face in result.faces:
        probabilities = face.probabilities
        if probabilities is None:
            continue
        best = int(probabilities.argmax())
        rows.append(
            [
                f"{result.time_s:.3f}",
                str(result.index),
                str(face.face_id),
                str(face.box.x),
                str(face.box.y),
                str(face.box.w),
                str(face.box.h),
                f"{face.det_score:.3f}",
                result.labels[best],
                f"{float(probabilities[best]):.4f}",
                *(f"{float(p):.4f}" for p in probabilities),
                result.label_of(face.smoothed_or_raw),
                wall,
                info.participant,
                info.session,
                names.name(face.face_id) if names is not None else "",
            ]
        )
        if face_details:
            rows[-1].extend(detail_cells(face))
    return rows


def sidecar_path(csv_path: Path) -> Path:
    return csv_path.with_suffix(".json")


class CsvRecorder:
    """Writes rows as frames arrive and flushes every frame, so an interrupted run leaves a valid CSV.

    The sidecar JSON (same name, `.json`) is written at start and completed by `close()`; it carries the
    session info and the face names as they are when the recording ends (`set_face_names`). An existing CSV
    or sidecar is only replaced with `overwrite=True`.
    """

    def __init__(
        self,
        path: Path,
        labels: tuple[str, ...],
        metadata: dict | None = None,
        fsync_interval_s: float = 1.0,
        info: SessionInfo | None = None,
        names: FaceNames | None = None,
        overwrite: bool = False,
        face_details: bool = False,
    ) -> None:
        self.path = Path(path)
        if not overwrite and (self.path.exists() or sidecar_path(self.path).exists()):
            raise RecordingError(f"{self.path}: exists already; not overwritten")
        self.labels = labels
        self.info = info or SessionInfo()
        self.names = names.copy() if names is not None else FaceNames()
        self.face_details = face_details
        self.rows_written = 0
        self.frames_written = 0
        self.fsync_interval_s = fsync_interval_s
        self._closed = False
        self._last_fsync = time.monotonic()
        self.metadata = {
            "csv": self.path.name,
            "started_at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
            "columns": csv_columns(labels, face_details),
            "session": self.info.as_dict(),
            **self.names.as_dict(),
            **(metadata or {}),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # unbuffered: each frame's rows reach the OS in one write, so nothing waits in a Python buffer
            self._file = open(self.path, "wb", buffering=0)
        except OSError as error:
            raise RecordingError(f"{self.path}: cannot write CSV ({error.strerror or error})") from None
        self._good_size = 0
        self._append([csv_columns(labels, face_details)])
        self._write_sidecar(RunStatus("running"))

    def _append(self, rows: list[list[str]]) -> None:
        """Write rows; on failure cut the file back to its last complete row and raise RecordingError."""
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        try:
            written = 0
            while written < len(data):
                written += self._file.write(data[written:])
        except OSError as error:
            try:
                os.ftruncate(self._file.fileno(), self._good_size)
            except OSError:
                pass
            self._file.close()
            raise RecordingError(
                f"{self.path}: write failed ({error.strerror or error}); "
                f"the {self.rows_written} rows before it are saved"
            ) from None
        self._good_size += len(data)

    def write(self, result: FrameResult, image=None) -> None:
        """Append this frame's rows (one write); `image` is unused (the `Sink` shape)."""
        if self._file.closed:
            raise RecordingError(f"{self.path}: recording already stopped")
        rows = result_rows(result, self.info, self.names, self.face_details)
        self._append(rows)
        now = time.monotonic()
        if now - self._last_fsync >= self.fsync_interval_s:
            self._last_fsync = now
            if not self.path.exists():
                self._file.close()
                raise RecordingError(f"{self.path}: file or its folder was removed during recording")
            try:
                os.fsync(self._file.fileno())
            except OSError as error:
                self._file.close()
                raise RecordingError(f"{self.path}: cannot sync to disk ({error.strerror or error})") from None
        self.rows_written += len(rows)
        self.frames_written += 1

    def set_face_names(self, names: FaceNames) -> None:
        """Names for the rows from now on and for the sidecar (a copy is kept)."""
        self.names = names.copy()
        self.metadata.update(self.names.as_dict())

    def _write_sidecar(self, status: RunStatus) -> None:
        data = {**self.metadata, **status.as_dict(), "frames": self.frames_written, "rows": self.rows_written}
        if status.summary:
            data["summary"] = status.summary
        path = sidecar_path(self.path)
        temporary = path.with_suffix(".json.tmp")
        try:
            temporary.write_text(json.dumps(data, indent=2, default=str))
            os.replace(temporary, path)
        except OSError as error:
            raise RecordingError(f"{path}: cannot write sidecar ({error.strerror or error})") from None

    def close(self, status: RunStatus | None = None) -> None:
        """Sync and close the CSV, then complete the sidecar with how the run ended (default: finished, every
        frame written); safe to call twice, and after a failure."""
        if self._closed:
            return
        self._closed = True
        if not self._file.closed:
            try:
                os.fsync(self._file.fileno())
            except OSError:
                pass
            self._file.close()
        self.metadata["ended_at"] = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        if status is None:
            status = RunStatus("finished", self.frames_written)
        if self.path.parent.exists():
            self._write_sidecar(status)

    def __enter__(self) -> CsvRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_session(path: Path) -> tuple[tuple[str, ...], list[dict]]:
    """Read a recorded CSV back: (labels, rows) with numbers parsed; raises RecordingError naming the file.

    Each row has `time_s, frame, face_id, label, smoothed_label, p` (probabilities, in label order) and, for
    CSVs that have them (older ones do not), `wall_time` and `face_name` ('' otherwise)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            labels = tuple(c[2:] for c in columns if c.startswith("p_"))
            if columns[: len(FIXED_COLUMNS)] != FIXED_COLUMNS or not labels:
                raise RecordingError(f"{path}: not an emotiondesk CSV (unexpected columns)")
            rows = [
                {
                    "time_s": float(r["time_s"]),
                    "frame": int(r["frame"]),
                    "face_id": int(r["face_id"]),
                    "label": r["label"],
                    "smoothed_label": r["smoothed_label"],
                    "p": [float(r[f"p_{label}"]) for label in labels],
                    "wall_time": r.get("wall_time") or "",
                    "face_name": r.get("face_name") or "",
                }
                for r in reader
            ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RecordingError(f"{path}: cannot read session ({error})") from None
    return labels, rows


def frame_interval(rows: list[dict], fps: float | None = None) -> float:
    """Seconds one frame stands for: 1/fps when known, else the median gap between distinct frame times."""
    if fps:
        return 1.0 / fps
    times = sorted({r["time_s"] for r in rows})
    gaps = [b - a for a, b in zip(times, times[1:]) if b > a]
    return float(sorted(gaps)[len(gaps) // 2]) if gaps else 0.0


def session_summary(
    labels: tuple[str, ...], rows: list[dict], names: FaceNames | None = None, interval_s: float | None = None
) -> dict[int, dict[str, float]]:
    """Per face (merged IDs counted as one): share of frames with each (smoothed) emotion, plus `frames`,
    `seconds` present (frames seen × frame interval, not the span from first to last sighting) and `span_s`."""
    names = names or FaceNames()
    interval = frame_interval(rows) if interval_s is None else interval_s
    groups: dict[int, list[dict]] = {}
    for row in rows:
        groups.setdefault(names.canonical(row["face_id"]), []).append(row)
    summary: dict[int, dict[str, float]] = {}
    for face_id in sorted(groups):
        face_rows = groups[face_id]
        counts = {label: 0 for label in labels}
        for row in face_rows:
            counts[row["smoothed_label"]] = counts.get(row["smoothed_label"], 0) + 1
        total = len(face_rows)
        frames = len({r["frame"] for r in face_rows}) if "frame" in face_rows[0] else total
        times = [r["time_s"] for r in face_rows]
        summary[face_id] = {
            **{k: v / total for k, v in counts.items()},
            "frames": total,
            "seconds": frames * interval,
            "span_s": max(times) - min(times),
        }
    return summary
