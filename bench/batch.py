"""Batch analysis throughput and CPU use versus `--jobs`, on a folder of generated clips.

    python bench/batch.py [--clips 8] [--frames 600] [--jobs 1,2,CORES] [--model NAME|PATH] [--keep DIR]

Generates `--clips` 640×480 clips of the bundled real face (1, 2, 3 faces in turn), then analyses the folder
with `emotiondesk analyze FOLDER --out DIR --jobs N --quiet` for each N, plus once as single-file runs one
after another (`emotiondesk analyze CLIP --csv …`: how it was done before batches). Each run is a fresh
process, so start-up (spawning workers, loading models) is included. Measures wall time, files/s, frames/s,
frames per CPU-second (the figure to size other machines with) and CPU use = CPU time of the command and
every process it started (getrusage(RUSAGE_CHILDREN)) ÷ wall time ÷ cores, and checks that every per-file
CSV is identical to the single-file run's. Prints a markdown table. On a shared machine other work takes
cores from the batch, so the table also gives the load average before each run and the share of all cores'
time that nobody used while it ran (Linux /proc/stat): a batch that fills the machine leaves ~0 % idle even
when its own share is lower.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emotiondesk.runs.batch import available_cores, read_index  # noqa: E402
from emotiondesk.samples import sample_face, write_face_clip  # noqa: E402


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_idle() -> tuple[int, int] | None:
    """(idle + iowait, total) jiffies of all cores since boot, from /proc/stat; None where there is none."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return fields[3] + fields[4], sum(fields[:8])


def timed(commands: list[list[str]]) -> tuple[float, float, float | None]:
    """Run the commands one after another: (wall seconds, CPU seconds of them and their children, share of the
    machine's core time left idle meanwhile, by anyone)."""
    cpu, idle, started = children_cpu_s(), machine_idle(), time.perf_counter()
    for command in commands:
        subprocess.run(command, check=False, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall, cpu, idle_after = time.perf_counter() - started, children_cpu_s() - cpu, machine_idle()
    if idle is None or idle_after is None or idle_after[1] == idle[1]:
        return wall, cpu, None
    return wall, cpu, (idle_after[0] - idle[0]) / (idle_after[1] - idle[1])


def results(path: Path) -> list[list[str]]:
    """A CSV's rows without the `wall_time` column (when each frame was read: it differs between runs)."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    drop = rows[0].index("wall_time") if rows and "wall_time" in rows[0] else None
    return [[cell for i, cell in enumerate(row) if i != drop] for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--jobs", default=None, help="comma-separated job counts (default: 1,2,cores)")
    parser.add_argument("--model", help="emotion model name or path (default: the bundled FER2013 model)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    cores = available_cores()
    jobs = sorted({int(j) for j in (args.jobs or f"1,2,{cores}").split(",")})
    work = args.keep or Path(tempfile.mkdtemp(prefix="emotiondesk-batch-bench-"))
    clips = work / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    face = sample_face()
    paths = [write_face_clip(clips / f"clip{i:02d}.mp4", face, 1 + i % 3, args.frames) for i in range(args.clips)]
    analyze = [sys.executable, "-m", "emotiondesk", "analyze"] + (["--model", args.model] if args.model else [])

    single = work / "single"
    single.mkdir(exist_ok=True)
    rows = []
    load = os.getloadavg()[0]
    wall, cpu, idle = timed([[*analyze, str(p), "--csv", str(single / f"{p.stem}.csv"), "--quiet"] for p in paths])
    rows.append(("single-file runs, one after another", load, wall, cpu, idle, None))
    for count in jobs:
        out = work / f"jobs{count}"
        load = os.getloadavg()[0]
        wall, cpu, idle = timed([[*analyze, str(clips), "--out", str(out), "--jobs", str(count), "--quiet"]])
        rows.append((f"`--jobs {count}`", load, wall, cpu, idle, out))

    frames = args.clips * args.frames
    print(f"{args.clips} clips × {args.frames} frames, 640×480, 1–3 faces; {cores} cores; {sys.platform}\n")
    print(
        "| run | load | wall (s) | files/s | frames/s | frames per CPU-s | our CPU use | cores idle | vs `--jobs 1` "
        "| identical |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    base = next((wall for name, _, wall, *_ in rows if name == "`--jobs 1`"), None)
    for name, load, wall, cpu, idle, out in rows:
        if out is None:
            identical = "(reference)"
        else:
            done = sum(1 for row in read_index(out / "index.csv") if row.status == "done")
            same = sum(results(out / f"{p.stem}.csv") == results(single / f"{p.stem}.csv") for p in paths)
            identical = f"{same}/{len(paths)} ({done} done)"
        speedup = f"{base / wall:.2f}×" if base else ""
        print(
            f"| {name} | {load:.2f} | {wall:.1f} | {args.clips / wall:.2f} | {frames / wall:.1f} | "
            f"{frames / cpu:.0f} | {cpu / wall / cores:.0%} | {'' if idle is None else f'{idle:.0%}'} | {speedup} | "
            f"{identical} |"
        )
    print(f"\nwork folder: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
