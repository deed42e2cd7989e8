"""One batch's plan, index and resume, shared by the local and the Dask runner.

Each input (a video, an image, or a folder of images) gets `DIR/<name>.csv` + `<name>.json` (+ `<name>.annotated.mp4`).
An input is complete when its sidecar says `finished` with the same models and settings; re-running the same
batch skips complete inputs and redoes the rest. A finished result made with other settings is never replaced
without `overwrite` (`settings_conflicts`). `DIR/index.csv` is rewritten atomically after every input.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from emotiondesk.errors import RecordingError
from emotiondesk.pipeline import PipelineConfig
from emotiondesk.sinks.csv_sink import sidecar_path
from emotiondesk.sources import IMAGE_SUFFIXES

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts", ".mts"}
)
ANNOTATED_TAG = ".annotated"
INDEX_NAME = "index.csv"
STATES = ("done", "skipped", "failed", "interrupted", "pending")


@dataclass(frozen=True)
class BatchInput:
    """One input of a batch and where its outputs go."""

    source: Path
    name: str  # output base name inside the output folder, unique in the batch

    def outputs(self, out_dir: Path, annotated: str | None) -> tuple[Path, Path | None]:
        """(CSV path, annotated video path or None)."""
        return out_dir / f"{self.name}.csv", out_dir / f"{self.name}{ANNOTATED_TAG}.{annotated}" if annotated else None


@dataclass
class IndexRow:
    """One row of `index.csv`."""

    path: str
    status: str = "pending"  # one of STATES
    reason: str = ""
    frames: int | None = None
    faces: int | None = None
    duration_s: float | None = None
    processing_s: float | None = None
    csv: str = ""
    sidecar: str = ""
    annotated: str = ""

    def cells(self) -> list[str]:
        return ["" if value is None else str(value) for value in (getattr(self, c) for c in INDEX_COLUMNS)]


INDEX_COLUMNS = [column.name for column in fields(IndexRow)]


def discover_inputs(arguments: Sequence[str | Path], out_dir: Path) -> list[BatchInput]:
    """Every input of the arguments, named uniquely: a file is one input; a folder means every video under it
    and every folder of images under it (the folder itself included), skipping `out_dir` and hidden entries."""
    out_dir = Path(out_dir).resolve()
    found: list[tuple[Path, tuple[str, ...]]] = []
    for argument in arguments:
        path = Path(argument).expanduser()
        if not path.is_dir():
            found.append((path, (path.stem,)))
            continue
        for folder, subfolders, files in os.walk(path):
            here = Path(folder)
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and (here / d).resolve() != out_dir)
            files = sorted(f for f in files if not f.startswith("."))
            relative = here.relative_to(path).parts
            if any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in files):
                found.append((here, relative or (path.resolve().name,)))
            for file in files:
                if Path(file).suffix.lower() not in VIDEO_SUFFIXES:
                    continue
                if here.resolve() == out_dir and ANNOTATED_TAG in file:  # our own annotated videos
                    continue
                found.append((here / file, (*relative, Path(file).stem)))
    unique: dict[Path, tuple[Path, tuple[str, ...]]] = {}
    for source, parts in found:
        unique.setdefault(source.resolve(), (source, parts))
    return _name_inputs(list(unique.values()), out_dir)


def path_digest(path: Path) -> str:
    """8 hex digits that tell apart inputs (or folders) with the same name."""
    return hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:8]


def _name_inputs(found: list[tuple[Path, tuple[str, ...]]], out_dir: Path) -> list[BatchInput]:
    """`sub__stem` names; a name that clashes (case-insensitively) with another input's, with the index, or
    with outputs already in `out_dir` from another input gets a hash of the input's path."""
    names = ["__".join(parts) or "input" for _, parts in found]
    counts: dict[str, int] = {Path(INDEX_NAME).stem: 1}
    for name in names:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    return [
        BatchInput(source, f"{name}-{path_digest(source)}")
        if counts[name.lower()] > 1 or _made_from_another(out_dir / f"{name}.csv", source)
        else BatchInput(source, name)
        for (source, _), name in zip(found, names)
    ]


def _made_from_another(csv_path: Path, source: Path) -> bool:
    """True when `csv_path` or its sidecar exists and is not known to come from `source` (never overwrite it)."""
    if not csv_path.exists() and not sidecar_path(csv_path).exists():
        return False
    try:
        return Path(read_sidecar(csv_path)["source"]["spec"]).resolve() != source.resolve()
    except (KeyError, TypeError):
        return True


SETTING_OPTIONS = {
    "model": "--model",
    "detector": "--detector",
    "min_confidence": "--min-confidence",
    "smoothing": "--smoothing",
    "reid_s": "--reid-seconds",
    "max_faces": "--max-faces",
    "max_frames": "--max-frames",
}


def settings_of(config: PipelineConfig, max_frames: int | None = None) -> dict:
    """The settings a finished output must have been made with to be reused (as its sidecar records them): models,
    thresholds, smoothing, tracking (re-identification, --max-faces) and the --max-frames cut."""
    from emotiondesk.assets import detector_model_path, emotion_model_path

    return {
        "model": str(emotion_model_path(config.model)),
        "detector": str(detector_model_path(config.detector)),
        "min_confidence": config.min_detection_confidence,
        "smoothing": config.smoothing_window,
        "reid_s": config.reid_s,
        "max_faces": config.max_faces,
        "max_frames": max_frames,
    }


def read_sidecar(csv_path: Path) -> dict | None:
    try:
        return json.loads(sidecar_path(csv_path).read_text())
    except (OSError, ValueError):
        return None


def _cut(sidecar: dict, length: int | None) -> int | None:
    """The `--max-frames` cut a sidecar records (None: the whole input): its `max_frames` where it has one, else
    `frames_in_source`, which older sidecars set to the cut."""
    cut = sidecar["max_frames"] if "max_frames" in sidecar else sidecar["frames_in_source"]
    return cut if cut is not None and (length is None or cut < length) else None


def _made_with(sidecar: dict, settings: dict) -> tuple[dict, dict] | None:
    """(the settings a sidecar records, `settings` as they apply to its input); `max_frames` is the cut, None
    when the whole input was (or would be) analysed. None for a sidecar that records no settings."""
    try:
        length = sidecar["source"]["frames"]  # the input's length; `frames_in_source` is less only when cut
        recorded = {
            "model": sidecar["model"]["path"],
            "detector": sidecar["detector"]["model"],
            "min_confidence": sidecar["detector"]["min_confidence"],
            "smoothing": sidecar["smoothing"]["window_frames"],
            # sidecars from before re-identification tracked like reid_s 0, all faces
            "reid_s": sidecar["tracking"].get("reid_s", 0.0),
            "max_faces": sidecar["tracking"].get("max_faces"),
            "max_frames": _cut(sidecar, length),
        }
    except (KeyError, TypeError):
        return None
    wanted_cut = settings["max_frames"]
    if wanted_cut is not None and length is not None and wanted_cut >= length:
        wanted_cut = None
    return recorded, {**settings, "max_frames": wanted_cut}


def _finished_sidecar(item: BatchInput, csv_path: Path) -> dict | None:
    """The sidecar of a finished result of this very input, unchanged since; None otherwise."""
    sidecar = read_sidecar(csv_path)
    if not sidecar or sidecar.get("status") != "finished" or not sidecar.get("frames_done") or not csv_path.exists():
        return None
    try:
        if item.source.stat().st_mtime > sidecar_path(csv_path).stat().st_mtime:  # the input changed since
            return None
    except OSError:
        return None
    return None if _made_from_another(csv_path, item.source) else sidecar


def is_complete(item: BatchInput, csv_path: Path, annotated: Path | None, settings: dict) -> bool:
    """True when this input's outputs exist and its sidecar says it finished, from this input (not changed since),
    with `settings` (`settings_of`: models, thresholds and the `--max-frames` cut)."""
    sidecar = _finished_sidecar(item, csv_path)
    made = sidecar and _made_with(sidecar, settings)
    return bool(made) and made[0] == made[1] and (annotated is None or annotated.exists())


def settings_conflicts(item: BatchInput, csv_path: Path, settings: dict) -> list[str]:
    """How a finished result of this input, which this run would replace, was made otherwise: one
    `--option: recorded → wanted` per setting that differs; empty when there is no such result."""
    sidecar = _finished_sidecar(item, csv_path)
    made = sidecar and _made_with(sidecar, settings)
    if not made:
        return []
    recorded, wanted = made

    def shown(key: str, value) -> str:
        if value is None:
            return {"max_frames": "all frames", "max_faces": "all faces"}.get(key, "none")
        return Path(value).name if key in ("model", "detector") else str(value)

    return [
        f"{SETTING_OPTIONS[key]} {shown(key, recorded[key])} → {shown(key, wanted[key])}"
        for key in SETTING_OPTIONS
        if recorded[key] != wanted[key]
    ]


def index_row(item: BatchInput, csv_path: Path, annotated: Path | None, state: str, reason: str = "") -> IndexRow:
    """An index row, with counts and times from the sidecar where the input was worked on."""
    row = IndexRow(str(item.source.resolve()), state, reason)
    sidecar = read_sidecar(csv_path) if state != "pending" else None
    if sidecar is not None:
        summary = sidecar.get("summary", {})
        fps = (sidecar.get("source") or {}).get("fps")
        row.frames = sidecar.get("frames_done", sidecar.get("frames"))
        row.faces = summary.get("faces", sidecar.get("rows"))
        row.duration_s = round(row.frames / fps, 3) if fps and row.frames is not None else None
        row.processing_s = summary.get("seconds")
        row.csv, row.sidecar = csv_path.name, sidecar_path(csv_path).name
    if annotated is not None and annotated.exists():
        row.annotated = annotated.name
    return row


def write_index(path: Path, rows: list[IndexRow]) -> None:
    """Write the index atomically: a temporary file, then a rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(INDEX_COLUMNS)
            writer.writerows(row.cells() for row in rows)
        os.replace(temporary, path)
    except OSError as error:
        raise RecordingError(f"{path}: cannot write the index ({error.strerror or error})") from None


def read_index(path: Path) -> list[IndexRow]:
    """The rows of an existing index (none if it is missing or unreadable)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, ValueError):
        return []
    return [IndexRow(**{c: row.get(c) or "" for c in INDEX_COLUMNS}) for row in rows if row.get("path")]


def frame_count(source: Path) -> int:
    """Frames an input should have, cheaply (container header or file count); 0 when unknown or unreadable."""
    import cv2

    from emotiondesk.stages.detection import native_stderr_captured

    if source.is_dir():
        return sum(1 for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return 1
    if not source.is_file():
        return 0
    with native_stderr_captured():  # FFmpeg's complaints about a broken file belong to its worker's run
        capture = cv2.VideoCapture(str(source))
    try:
        return max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
    finally:
        capture.release()
