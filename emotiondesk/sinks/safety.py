"""Outputs never destroy inputs: checks made before any work starts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from emotiondesk.errors import RecordingError


def same_file(a: Path, b: Path) -> bool:
    """True when both names reach one file (also through links), or would once created."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_outputs(inputs: Iterable[Path | str], outputs: Iterable[Path], overwrite: bool = False) -> None:
    """Refuse an output that is an input, that is named twice, a folder, in a folder this user cannot write, or
    (without `overwrite`) that exists already — all before any work starts.

    `outputs` lists every file a run writes (a CSV *and* its sidecar). Raises RecordingError naming the file.
    """
    input_paths = [Path(p) for p in inputs if Path(p).exists()]
    seen: list[Path] = []
    for output in outputs:
        for source in input_paths:
            if same_file(output, source):
                raise RecordingError(f"{output}: is the input {source}; choose another output name")
        for earlier in seen:
            if same_file(output, earlier):
                raise RecordingError(f"{output}: named for two outputs ({earlier}); give each its own name")
        seen.append(output)
        if output.is_dir():
            raise RecordingError(f"{output}: is a folder, expected a file name")
        if output.exists() and not overwrite:
            raise RecordingError(f"{output}: exists already; use --overwrite to replace it")
        probe = output.parent if str(output.parent) else Path(".")
        while not probe.exists() and probe != probe.parent:  # the nearest folder that exists: mkdir starts there
            probe = probe.parent
        if not os.access(probe, os.W_OK):
            raise RecordingError(f"{output}: cannot write here (permission denied on {probe})")
