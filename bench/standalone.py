"""Cold start and size of the standalone build against the venv: prints the tables of docs/install.md.

    python bench/standalone.py [--app dist/emotiondesk/emotiondesk] [--runs 5]

Run with the venv's Python from the repository (its `python -m emotiondesk` is the venv side). Per run, side by
side in alternating order: `--version` (process start to exit), `analyze` of the bundled sample (start to its
first CSV row, and to exit), and, on Linux with Xvfb and xdotool, the window on the sample (start to its mapped
X window). Medians over the runs, and the ratio frozen / venv. Then the folder's size by top-level entry and the
archive's size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import smoke_frozen as smoke  # noqa: E402

SAMPLE = smoke.SAMPLE


def first_row_and_exit(command: list[str], csv_path: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from start to the CSV's first data row, and to the process's exit."""
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = None
    while process.poll() is None:
        if first is None and csv_path.is_file() and csv_path.read_bytes().count(b"\n") >= 2:
            first = time.monotonic() - started
        time.sleep(0.005)
    total = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError(f"{command}: exit {process.returncode}")
    return (first if first is not None else total), total


def version_time(command: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run([*command, "--version"], env=env, check=True, capture_output=True)
    return time.monotonic() - started


def window_time(command: list[str], env: dict[str, str], display: str) -> float:
    """Seconds from start to the window's mapped X window (then it is stopped)."""
    started = time.monotonic()
    process = subprocess.Popen(
        [*command, "--source", str(SAMPLE)],
        env={**env, "DISPLAY": display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.monotonic() - started < 120 and process.poll() is None:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", "emotiondesk"],
                capture_output=True,
                env={"DISPLAY": display},
            )
            if found.returncode == 0 and found.stdout.strip():
                return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError(f"{command}: no window")
    finally:
        process.terminate()
        process.wait(timeout=60)


def du(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", type=Path, default=smoke.DEFAULT_APP)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.app.is_file():
        print(f"{args.app}: no frozen app; bash scripts/build_app.sh first", file=sys.stderr)
        return 2
    out = Path(tempfile.mkdtemp(prefix="emotiondesk-bench-"))
    home = out / "home"
    home.mkdir()
    sides = {
        "standalone": ([str(args.app)], smoke.empty_env(HOME=str(home))),
        "venv": ([sys.executable, "-m", "emotiondesk"], {**os.environ, "HOME": str(home)}),
    }
    times: dict[tuple[str, str], list[float]] = {}
    xvfb = None
    if sys.platform.startswith("linux") and shutil.which("Xvfb") and shutil.which("xdotool"):
        xvfb, display = smoke.start_xvfb()
    try:
        for run in range(args.runs):
            order = list(sides) if run % 2 == 0 else list(reversed(sides))
            for side in order:
                command, env = sides[side]
                times.setdefault((side, "--version (s)"), []).append(version_time(command, env))
                csv_path = out / f"{side}-{run}.csv"
                analyze = [*command, "analyze", str(SAMPLE), "--csv", str(csv_path), "--quiet"]
                first, total = first_row_and_exit(analyze, csv_path, env)
                times.setdefault((side, "analyze: first CSV row (s)"), []).append(first)
                times.setdefault((side, "analyze: whole sample, exit (s)"), []).append(total)
                if xvfb is not None:
                    times.setdefault((side, "window mapped (s)"), []).append(window_time(command, env, display))
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
    measures = list(dict.fromkeys(measure for _, measure in times))
    print(f"Cold start, median of {args.runs} runs (alternating order), {os.cpu_count()} cores")
    print(f"| {'measure':<34} | standalone | venv  | ratio |")
    print(f"| {'-' * 34} | ---------- | ----- | ----- |")
    for measure in measures:
        frozen = statistics.median(times[("standalone", measure)])
        venv = statistics.median(times[("venv", measure)])
        print(f"| {measure:<34} | {frozen:10.2f} | {venv:5.2f} | {frozen / venv:5.2f} |")
    folder = args.app.parent
    internal = folder / "_internal"
    entries = sorted(((du(path), path.name) for path in internal.iterdir()), reverse=True)
    total = du(folder)
    print(f"\nFolder {folder}: {total / 1e6:.0f} MB; largest entries of _internal/:")
    print("| entry | MB |\n| --- | --- |")
    for size, name in entries[:12]:
        print(f"| {name} | {size / 1e6:.0f} |")
    rest = sum(size for size, _ in entries[12:])
    print(f"| (the other {len(entries) - 12}) | {rest / 1e6:.0f} |")
    for archive in sorted(folder.parent.glob("emotiondesk-*.tar.gz")) + sorted(folder.parent.glob("emotiondesk-*.zip")):
        print(f"\nArchive {archive.name}: {archive.stat().st_size / 1e6:.0f} MB")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
