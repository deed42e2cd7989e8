"""Who and what a recording is about: participant, session, notes, face names and wall-clock time (Qt-free)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path


@dataclass
class SessionInfo:
    """Participant ID, session name and free-text notes of one recording."""

    participant: str = ""
    session: str = ""
    notes: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> SessionInfo:
        data = data or {}
        return cls(str(data.get("participant", "")), str(data.get("session", "")), str(data.get("notes", "")))


def safe_name_part(text: str) -> str:
    """`text` reduced to letters, digits, `.`, `-` and `_` (others become `-`), safe in any file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-._")[:60]


def default_csv_name(info: SessionInfo, when: datetime | None = None) -> str:
    """`<participant>_<session>_<YYYYmmdd-HHMMSS>.csv`, empty parts left out (`session_<date-time>.csv` if both)."""
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S")
    parts = [p for p in (safe_name_part(info.participant), safe_name_part(info.session)) if p]
    return "_".join([*(parts or ["session"]), stamp]) + ".csv"


def unused_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `stem-2.csv`, `stem-3.csv`… when the file or its `.json` sidecar is taken (two
    recordings in one second never collide, and a recorder never finds a sidecar in its way)."""
    path = Path(folder) / name
    number = 2
    while path.exists() or path.with_suffix(".json").exists():
        path = Path(folder) / f"{Path(name).stem}-{number}{Path(name).suffix}"
        number += 1
    return path


def now_wall() -> datetime:
    """The current time, timezone-aware in the local zone."""
    return datetime.now(timezone.utc).astimezone()


def wall_time_text(when: datetime | None) -> str:
    """ISO 8601 with milliseconds and UTC offset, e.g. `2026-11-23T18:10:10.123+01:00`; '' for None."""
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.astimezone()
    return when.isoformat(timespec="milliseconds")


@dataclass
class FaceNames:
    """Names given to tracker face IDs, and IDs merged into another (the same person seen twice)."""

    names: dict[int, str] = field(default_factory=dict)
    merges: dict[int, int] = field(default_factory=dict)  # merged ID → the ID it joins

    def canonical(self, face_id: int) -> int:
        """The ID a face counts as after merges (follows chains, stops on cycles)."""
        seen = {face_id}
        while face_id in self.merges and self.merges[face_id] not in seen:
            face_id = self.merges[face_id]
            seen.add(face_id)
        return face_id

    def name(self, face_id: int) -> str:
        """The face's name ('' when unnamed), merges applied."""
        return self.names.get(self.canonical(face_id), "")

    def display(self, face_id: int) -> str:
        """`P01` for a named face, else `#<id>` (the ID it was merged into)."""
        return self.name(face_id) or f"#{self.canonical(face_id)}"

    def rename(self, face_id: int, name: str) -> None:
        """Name a face (an empty name removes it)."""
        target = self.canonical(face_id)
        if name.strip():
            self.names[target] = name.strip()
        else:
            self.names.pop(target, None)

    def merge(self, source_id: int, target_id: int) -> None:
        """Count `source_id` as `target_id` from now on; the target keeps its name, else takes the source's."""
        source, target = self.canonical(source_id), self.canonical(target_id)
        if source == target:
            return
        if target not in self.names and source in self.names:
            self.names[target] = self.names[source]
        self.names.pop(source, None)
        self.merges[source] = target

    def copy(self) -> FaceNames:
        return FaceNames(dict(self.names), dict(self.merges))

    def as_dict(self) -> dict:
        return {
            "face_names": {str(k): v for k, v in sorted(self.names.items())},
            "face_merges": {str(k): v for k, v in sorted(self.merges.items())},
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> FaceNames:
        data = data or {}
        names = {int(k): str(v) for k, v in (data.get("face_names") or {}).items()}
        merges = {int(k): int(v) for k, v in (data.get("face_merges") or {}).items()}
        return cls(names, merges)
