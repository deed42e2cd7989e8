"""Soak test: run the pipeline on a looping clip and print memory (RSS) and fps over time.

    python bench/soak.py [--minutes 30] [--faces 3] [--every 60] [--csv] [--fps 30]

The clip (640×480, real-face photo) is decoded again on every loop, as a long recording would be; with
`--csv` every result is also streamed to a CSV in a temporary folder. `--fps` paces the loop like a
camera (0 = as fast as the machine goes). RSS is read from /proc (Linux).
Prints a markdown table and the RSS growth from the first report to the last.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emotiondesk.pipeline import Pipeline, PipelineConfig  # noqa: E402
from emotiondesk.samples import sample_face, write_face_clip  # noqa: E402
from emotiondesk.sinks.csv_sink import CsvRecorder  # noqa: E402
from emotiondesk.sources import open_source  # noqa: E402


def rss_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--faces", type=int, default=3)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between reports")
    parser.add_argument("--csv", action="store_true", help="also stream results to a CSV")
    parser.add_argument("--model")
    parser.add_argument("--fps", type=float, default=0.0, help="pace frames like a camera (0 = unpaced)")
    args = parser.parse_args()
    print("| elapsed (s) | frames | fps (interval) | RSS (MB) |\n|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        clip = write_face_clip(Path(folder) / "loop.avi", sample_face(), args.faces, 150)
        with Pipeline(PipelineConfig(model=args.model)) as pipeline:
            recorder = CsvRecorder(Path(folder) / "soak.csv", pipeline.labels) if args.csv else None
            started = last_report = time.monotonic()
            frames = frames_at_report = 0
            first_rss = None
            rss = rss_mb()
            while time.monotonic() - started < args.minutes * 60:
                with open_source(clip) as source:
                    for _frame, result in pipeline.stream(source):
                        if recorder is not None:
                            recorder.write(result)
                        frames += 1
                        now = time.monotonic()
                        if now - last_report >= args.every:
                            rss = rss_mb()
                            first_rss = rss if first_rss is None else first_rss
                            fps = (frames - frames_at_report) / (now - last_report)
                            print(f"| {now - started:.0f} | {frames} | {fps:.1f} | {rss:.1f} |", flush=True)
                            last_report, frames_at_report = now, frames
                        if now - started >= args.minutes * 60:
                            break
                        if args.fps > 0:  # like a camera: the next frame is due at frames / fps
                            time.sleep(max(0.0, started + frames / args.fps - time.monotonic()))
            if recorder is not None:
                recorder.close()
    if first_rss is not None:
        print(f"\nRSS growth from the first report to the last: {rss - first_rss:+.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
