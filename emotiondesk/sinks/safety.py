"""Outputs never destroy inputs: the one rule every command that writes checks before any work starts.

`check_outputs(inputs, outputs, overwrite)` is called by `analyze` (CLI and API), `report`, the window's exports and
the study analysis; `run_outputs` lists what one analysis writes, so every caller checks the same files.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from emotiondesk.errors import RecordingError

# the file-name endings each kind of output may have (lower case)
OUTPUT_KINDS: dict[str, tuple[str, ...]] = {
    "csv": (".csv",),
    "sidecar": (".json",),
    "markers": (".csv",),
    "video": (".mp4", ".avi"),
    "report": (".html", ".htm"),
    "figure": (".png", ".svg", ".pdf"),
    "index": (".csv",),
}
KIND_NAMES = {
    "csv": "a CSV (--csv)",
    "sidecar": "a sidecar",
    "markers": "a markers CSV",
    "video": "an annotated video (--annotated)",
    "report": "a report",
    "figure": "a figure",
    "index": "a batch index",
}
# image files inside an input folder are inputs too
INPUT_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


class Output(NamedTuple):
    """One file a run will write and what it is (a key of OUTPUT_KINDS; '' = any name)."""

    path: Path
    kind: str = ""


def same_file(a: Path, b: Path) -> bool:
    """True when both names reach one file (also through links), or would once created."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def run_outputs(csv_path: Path | None, annotated_path: Path | None = None) -> list[Output]:
    """Every file one analysis writes: the CSV, its sidecar and markers CSV beside it, the annotated video."""
    from emotiondesk.sinks.csv_sink import sidecar_path
    from emotiondesk.sinks.markers import markers_path

    outputs = []
    if csv_path is not None:
        csv_path = Path(csv_path)
        outputs += [Output(csv_path, "csv"), Output(sidecar_path(csv_path), "sidecar")]
        outputs.append(Output(markers_path(csv_path), "markers"))
    if annotated_path is not None:
        outputs.append(Output(Path(annotated_path), "video"))
    return outputs


def _is_input(output: Path, source: Path) -> bool:
    if same_file(output, source):
        return True
    if source.is_dir() and output.suffix.lower() in INPUT_IMAGE_SUFFIXES:  # an image of an input folder
        try:
            return output.resolve().parent == source.resolve()
        except OSError:
            return False
    return False


def read_only(path: Path) -> bool:
    """An existing file this user may not write, or one marked read-only (no write bit: even root respects it)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def check_outputs(inputs: Iterable[Path | str], outputs: Iterable[Output | Path], overwrite: bool = False) -> None:
    """Refuse, before any work starts, an output that: is an input (or an image of an input folder), is named
    twice, does not end as its kind must (`Output.kind`), is a folder, lies in a folder this user cannot write,
    exists already (without `overwrite`), or exists read-only (even with `overwrite`).

    `outputs` lists every file a run writes (a CSV *and* its sidecar: see `run_outputs`); a bare Path is checked
    for everything but its ending. Raises RecordingError naming the file and the problem.
    """
    input_paths = [Path(p) for p in inputs if p is not None and Path(p).exists()]
    seen: list[Path] = []
    for item in outputs:
        output, kind = (item.path, item.kind) if isinstance(item, Output) else (Path(item), "")
        output = Path(output)
        for source in input_paths:
            if _is_input(output, source):
                raise RecordingError(f"{output}: is the input {source}; choose another output name")
        for earlier in seen:
            if same_file(output, earlier):
                raise RecordingError(f"{output}: named for two outputs ({earlier}); give each its own name")
        seen.append(output)
        endings = OUTPUT_KINDS.get(kind)
        if endings and output.suffix.lower() not in endings:
            found = f"'{output.suffix}'" if output.suffix else "no extension"
            raise RecordingError(
                f"{output}: {KIND_NAMES[kind]} must end in {' or '.join(endings)} (found {found}); choose another name"
            )
        if output.is_dir():
            raise RecordingError(f"{output}: is a folder, expected a file name")
        if output.exists() and not overwrite:
            raise RecordingError(f"{output}: exists already; use --overwrite to replace it")
        if output.exists() and read_only(output):
            raise RecordingError(
                f"{output}: exists and is read-only; not replaced (make it writable, or choose another name)"
            )
        probe = output.parent if str(output.parent) else Path(".")
        while not probe.exists() and probe != probe.parent:  # the nearest folder that exists: mkdir starts there
            probe = probe.parent
        if not probe.is_dir():
            raise RecordingError(f"{output}: cannot write here ({probe} is a file, not a folder)")
        if not os.access(probe, os.W_OK):
            raise RecordingError(f"{output}: cannot write here (permission denied on {probe})")
