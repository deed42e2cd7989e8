"""What identifying a source costs: SHA-256 of a whole file (what the sidecar records) versus a partial hash.

    python bench/source_hash.py [--gigabytes 1] [--repeats 3] [--folder /tmp]

Writes a file of random bytes (deleted afterwards), then times `emotiondesk.sources.file_identity` (the whole
file's SHA-256, as a run does; its cache is cleared each time), plain hashlib SHA-256 and BLAKE2b over 1 MiB
chunks, and a partial hash (three 1 MiB pieces + the size). The file was just written, so it is read from the page
cache: a file on a slow disk not read recently adds its read time. Prints a markdown table of medians.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emotiondesk.sources import _sha256, file_identity  # noqa: E402

CHUNK = 1 << 20


def whole(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def partial(path: Path) -> str:
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        for offset in (0, max(size // 2 - CHUNK // 2, 0), max(size - CHUNK, 0)):
            handle.seek(offset)
            digest.update(handle.read(CHUNK))
    return digest.hexdigest()


def identity(path: Path) -> str:
    _sha256.cache_clear()
    return file_identity(path)["sha256"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    size = int(args.gigabytes * (1 << 30))
    path = args.folder / f"emotiondesk-hash-bench-{os.getpid()}.bin"
    try:
        with open(path, "wb") as handle:
            for _ in range(size // CHUNK):
                handle.write(os.urandom(CHUNK))
        methods = {
            "file_identity (sha256, whole file: what the sidecar records)": lambda: identity(path),
            "hashlib sha256, whole file": lambda: whole(path, "sha256"),
            "hashlib blake2b, whole file": lambda: whole(path, "blake2b"),
            "partial sha256 (3 × 1 MiB + size)": lambda: partial(path),
        }
        assert identity(path) == whole(path, "sha256")
        print(f"{size / (1 << 30):.2f} GiB file, {args.repeats} runs each, load average {os.getloadavg()[0]:.1f}\n")
        print("| method | median s | s per GiB |\n|---|---|---|")
        for name, method in methods.items():
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                method()
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            print(f"| {name} | {median:.3f} | {median / (size / (1 << 30)):.3f} |")
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
