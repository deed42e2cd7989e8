"""How long `emotiondesk study` takes for a study of many long sessions: reading + tables, and the page.

    python bench/study.py [--participants 10 20] [--minutes 10] [--fps 15] [--repeats 3]

One real session is analysed (a short clip of the bundled face, with markers, the contract-test model if
tests/ is there, else the default model); its rows are tiled in time to sessions of `--minutes` minutes, one per
participant, with a marker each minute. Prints a markdown table of median seconds (read_study: the tidy table
only; write_study: study.csv + study.html + study.json) and rows per second.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seed_session(folder: Path, fps: float) -> Path:
    from emotiondesk.cli.main import main
    from emotiondesk.samples import sample_face, write_face_clip

    clip = write_face_clip(
        folder / "seed.avi", sample_face(), faces=1, frames=int(fps * 4), width=320, height=240, fps=fps
    )
    args = ["analyze", str(clip), "--csv", str(folder / "seed.csv"), "--quiet"]
    tests = ROOT / "tests"
    if (tests / "model_factory.py").exists():
        sys.path.insert(0, str(tests))
        from model_factory import write_contract_model

        args += ["--model", str(write_contract_model(folder / "contract.onnx"))]
    assert main(args) == 0
    return folder / "seed.csv"


def tile(seed: Path, out: Path, participant: str, minutes: float, fps: float) -> None:
    """A session of `minutes` from the seed's rows, repeated in time; a marker (1–3, cycling) each minute."""
    with open(seed, newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    span = (max(int(r["frame"]) for r in rows) + 1) / fps
    frames_per_tile = round(span * fps)
    tiles = int(minutes * 60 / span)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for k in range(tiles):
            for row in rows:
                frame = int(row["frame"]) + k * frames_per_tile
                writer.writerow({**row, "frame": frame, "time_s": f"{frame / fps:.3f}", "participant": participant})
    side = json.loads(seed.with_suffix(".json").read_text())
    side["session"] = {"participant": participant, "session": "bench", "notes": ""}
    side["frames"] = tiles * frames_per_tile
    out.with_suffix(".json").write_text(json.dumps(side))
    with open(out.with_name(out.stem + "_markers.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["wall_time", "time_s", "frame", "marker", "text"])
        for minute in range(int(minutes)):
            writer.writerow(["", f"{minute * 60 + 5:.3f}", "", str(minute % 3 + 1), ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--fps", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import emotiondesk
    from emotiondesk.analysis.study_report import write_study

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        seed = seed_session(root, args.fps)
        print(
            f"| participants | minutes each | CSV rows | read_study s (median of {args.repeats}) | rows/s | "
            "write_study s | study.html MB |"
        )
        print("|---|---|---|---|---|---|---|")
        for count in args.participants:
            folder = root / f"study-{count}"
            folder.mkdir()
            for number in range(count):
                tile(seed, folder / f"P{number:03d}.csv", f"P{number:03d}", args.minutes, args.fps)
            rows = sum(sum(1 for _ in open(p)) - 1 for p in folder.glob("P*[0-9].csv"))
            reads, writes = [], []
            for repeat in range(args.repeats):
                started = time.perf_counter()
                emotiondesk.read_study(folder, conditions="1=baseline,2=video A,3=video B")
                reads.append(time.perf_counter() - started)
                started = time.perf_counter()
                write_study(
                    [folder], root / f"out-{count}-{repeat}", "1=baseline,2=video A,3=video B", baseline="baseline"
                )
                writes.append(time.perf_counter() - started)
            page = (root / f"out-{count}-0" / "study.html").stat().st_size / 1e6
            read = statistics.median(reads)
            print(
                f"| {count} | {args.minutes:g} | {rows:,} | {read:.2f} | {rows / read:,.0f} | "
                f"{statistics.median(writes):.2f} | {page:.2f} |"
            )


if __name__ == "__main__":
    main()
