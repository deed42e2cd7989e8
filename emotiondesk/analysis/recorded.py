"""A recorded session read back for looking at: rows, sidecar, names, markers, per-face summary."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emotiondesk.errors import RecordingError
from emotiondesk.metadata import FaceNames, SessionInfo
from emotiondesk.sinks.csv_sink import frame_interval, read_session_rows, session_summary, sidecar_path
from emotiondesk.sinks.markers import Marker, load_markers, markers_path


@dataclass
class RecordedSession:
    """A recording read back: its rows, sidecar, session info, face names, markers and per-face summary.

    `rows` are face rows (emotion figures use them); `frames` every analysed frame, with a face or not (presence).
    For an image folder (`stills`) each face of each image is its own item — numbered in `rows` and `summary`,
    titled `image.png #1` — with no time present and nothing joined across images."""

    csv_path: Path
    labels: tuple[str, ...]
    rows: list[dict]
    sidecar: dict = field(default_factory=dict)
    info: SessionInfo = field(default_factory=SessionInfo)
    names: FaceNames = field(default_factory=FaceNames)
    markers: list[Marker] = field(default_factory=list)
    interval_s: float = 0.0
    summary: dict[int, dict[str, float]] = field(default_factory=dict)
    frames: dict[int, dict] = field(default_factory=dict)  # frame → {time_s, frame, faces, source_file}
    stills: bool = False
    titles: dict[int, str] = field(default_factory=dict)  # item → `image.png #1` (stills)

    def face_title(self, face_id: int) -> str:
        """`P01 (#1)` for a named face, `#1` otherwise; `image.png #1` for a face of an image folder."""
        if face_id in self.titles:
            return self.titles[face_id]
        name = self.names.name(face_id)
        canonical = self.names.canonical(face_id)
        return f"{name} (#{canonical})" if name else f"#{canonical}"

    @property
    def frames_analysed(self) -> int | None:
        """Frames the run analysed (None for old CSVs that only hold faces' rows and no sidecar count)."""
        if self.frames:
            return len(self.frames)
        return self.sidecar.get("frames")

    @property
    def frames_with_face(self) -> int:
        return len({row["frame"] for row in self.rows})

    def images_without_face(self) -> list[str]:
        """Stills: the images where no face was found, in order."""
        return [f["source_file"] or str(f["frame"]) for f in self.frames.values() if not f["faces"]]

    def status_text(self) -> str:
        """How the recording ended, truthfully — also when its process was killed before it could say so."""
        state = self.sidecar.get("status", "unknown")
        frames = self.frames_analysed
        counts = f"{frames if frames is not None else '?'} frames, {len(self.rows)} face rows"
        if state != "running":
            return f"{state} ({counts})"
        writer = self.sidecar.get("writer") or {}
        if writer.get("host") == socket.gethostname() and writer.get("pid"):
            if not _alive(int(writer["pid"])):
                return f"stopped while running — the process was killed or crashed; {counts}"
            return f"still recording; {counts} so far"
        return f"never closed (still running elsewhere, or the process was killed); {counts}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, not ours
        return True
    return True


def _is_stills(sidecar: dict, frames: dict[int, dict], rows: list[dict]) -> bool:
    source = sidecar.get("source") or {}
    if source.get("kind"):
        return source["kind"] == "images" and (source.get("frames") or 0) > 1
    files = {f["source_file"] for f in frames.values()} | {r["source_file"] for r in rows}
    return len(files - {""}) > 1


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
    data = read_session_rows(csv_path)
    labels, rows = data.labels, data.rows
    sidecar = read_sidecar(csv_path)
    stills = _is_stills(sidecar, data.frames, rows)
    titles: dict[int, str] = {}
    if stills:  # each face of each image is its own item: nothing is joined across images, no names apply
        names = FaceNames()
        items: dict[tuple[int, int], int] = {}
        for row in rows:
            item = items.setdefault((row["frame"], row["face_id"]), len(items) + 1)
            titles[item] = f"{row['source_file'] or 'image ' + str(row['frame'])} #{row['face_id']}"
            row["face_id"] = item
    else:
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
        frames=data.frames,
        stills=stills,
        titles=titles,
    )
    session.summary = session_summary(labels, rows, names, interval, stills=stills)
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
