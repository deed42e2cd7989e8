"""Run the real window (offscreen) on a looping 640×480 clip and report display fps, worker ms/frame, the time
from reading a frame to painting its overlay, and RSS. Counts come from `VideoView.painted` (the window's own
frame hook); bench/live_cost.py measures a camera-paced source instead.

python scripts/gui_soak.py [--minutes 10] [--faces 3] [--every 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--faces", type=int, default=3)
    parser.add_argument("--every", type=float, default=60.0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from soak import rss_mb

    from emotiondesk._qt.main_window import MainWindow
    from emotiondesk.samples import sample_face, write_face_clip

    folder = tempfile.mkdtemp()
    clip = write_face_clip(Path(folder) / "loop.avi", sample_face(), args.faces, 150)
    app = QApplication([])
    window = MainWindow(settings=QSettings(str(Path(folder) / "s.ini"), QSettings.Format.IniFormat), loop=True)
    window.resize(1200, 760)
    window.show()
    window.open_source(str(clip))
    started = time.monotonic()
    state = {"frames": 0, "worker_ms": [], "latency_ms": [], "last": started, "last_frames": 0}

    def painted(result) -> None:  # VideoView.painted: once per result whose overlay reached the screen
        state["frames"] += 1
        state["worker_ms"].append(result.timings_ms.get("total", 0.0))
        if result.captured is not None:
            state["latency_ms"].append((time.monotonic() - result.captured) * 1e3)

    window.video.painted.connect(painted)
    print(
        "| elapsed (s) | display fps | worker ms/frame (median) | read-to-paint ms (median) | frames processed "
        "| RSS (MB) |"
    )
    print("|---|---|---|---|---|---|", flush=True)

    def report() -> None:
        now = time.monotonic()
        fps = (state["frames"] - state["last_frames"]) / (now - state["last"])
        ms = float(np.median(state["worker_ms"])) if state["worker_ms"] else float("nan")
        latency = float(np.median(state["latency_ms"])) if state["latency_ms"] else float("nan")
        processed = window.worker.frames_processed if window.worker is not None else 0
        print(
            f"| {now - started:.0f} | {fps:.1f} | {ms:.1f} | {latency:.1f} | {processed} | {rss_mb():.1f} |",
            flush=True,
        )
        state.update(last=now, last_frames=state["frames"], worker_ms=[], latency_ms=[])
        if now - started >= args.minutes * 60 - 1:
            window.close()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(report)
    timer.start(int(args.every * 1000))
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
