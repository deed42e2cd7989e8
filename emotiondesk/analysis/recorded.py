"""A recorded session read back for looking at: rows, sidecar, names, markers, per-face summary."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emotiondesk.errors import RecordingError
from emotiondesk.metadata import FaceNames, SessionInfo
from emotiondesk.sinks.csv_sink import frame_interval, load_session, session_summary, sidecar_path
from emotiondesk.sinks.markers import Marker, load_markers, markers_path


@dataclass
class RecordedSession:
    """A recording read back: its rows, sidecar, session info, face names, markers and per-face summary."""

    csv_path: Path
    labels: tuple[str, ...]
    rows: list[dict]
    sidecar: dict = field(default_factory=dict)
    info: SessionInfo = field(default_factory=SessionInfo)
    names: FaceNames = field(default_factory=FaceNames)
    markers: list[Marker] = field(default_factory=list)
    interval_s: float = 0.0
    summary: dict[int, dict[str, float]] = field(default_factory=dict)

    def face_title(self, face_id: int) -> str:
        """`P01 (#1)` for a named face, `#1` otherwise."""
        name = self.names.name(face_id)
        canonical = self.names.canonical(face_id)
        return f"{name} (#{canonical})" if name else f"#{canonical}"


def read_sidecar(csv_path: Path) -> dict:
    """The sidecar JSON beside a session CSV ({} when there is none); raises RecordingError naming it."""
    path = sidecar_path(Path(csv_path))
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RecordingError(f"{path}: cannot read sidecar ({error})") from None
    if not isinstance(data, dict):
        raise RecordingError(f"{path}: cannot read sidecar (not a JSON object)")
    return data


def face_names_of(sidecar: dict, typed: Iterable[tuple[int, str]] = ()) -> FaceNames:
    """The sidecar's final names and merges, plus names typed while recording (`(face_id, face_name)` pairs
    from the rows) for CSVs whose sidecar lacks them."""
    names = FaceNames.from_dict(sidecar)
    for face_id, name in typed:
        if name and not names.name(face_id):
            names.rename(face_id, name)
    return names


def source_fps(sidecar: dict) -> float | None:
    """The source's frame rate when it is a video (a camera's frame times are measured instead)."""
    source = sidecar.get("source") or {}
    return source.get("fps") if source.get("kind") == "video" else None


def load_recorded(csv_path: Path) -> RecordedSession:
    """Read a session CSV with its sidecar and markers CSV when they exist; the sidecar's final names win."""
    csv_path = Path(csv_path)
    labels, rows = load_session(csv_path)
    sidecar = read_sidecar(csv_path)
    names = face_names_of(sidecar, ((row["face_id"], row["face_name"]) for row in rows))
    interval = frame_interval(rows, source_fps(sidecar))
    session = RecordedSession(
        csv_path,
        labels,
        rows,
        sidecar,
        SessionInfo.from_dict(sidecar.get("session")),
        names,
        load_markers(markers_path(csv_path)),
        interval,
    )
    session.summary = session_summary(labels, rows, names, interval)
    return session


def marker_windows(session: RecordedSession, window_s: float) -> list[dict]:
    """Per marker and face: mean probabilities over the `window_s` seconds after the marker."""
    windows = []
    for marker in session.markers:
        inside = [r for r in session.rows if marker.time_s <= r["time_s"] < marker.time_s + window_s]
        faces: dict[int, list[list[float]]] = {}
        for row in inside:
            faces.setdefault(session.names.canonical(row["face_id"]), []).append(row["p"])
        for face_id in sorted(faces):
            mean = np.mean(np.array(faces[face_id]), axis=0)
            windows.append({"marker": marker, "face_id": face_id, "frames": len(faces[face_id]), "mean": mean})
        if not faces:
            windows.append({"marker": marker, "face_id": None, "frames": 0, "mean": None})
    return windows
