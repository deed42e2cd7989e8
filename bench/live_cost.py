"""The window's live cost with a camera-paced source: capture-to-display latency, display fps and the window
process's CPU, with and without face details, side by side.

    python bench/live_cost.py [--seconds 20] [--warmup 4] [--repeats 3] [--faces 3] [--fps 30] [--compare]

A synthetic camera delivers 640×480 frames of `--faces` real faces (the bundled astronaut photo, moving a little)
at `--fps` in real time, the way a camera does: a frame is "captured" on every tick of the clock whether or not the
pipeline is ready, and a late reader gets the newest frame (older ones are dropped, counted). Each frame's capture
stamp is its tick. The real window (bundled FER2013 model, short-range detector, 1200×760) shows it; latency runs
from the capture stamp to the end of the paint of the overlay that shows that frame's result (`VideoView.painted`).
CPU is the whole window process (GUI thread, worker thread, detector and landmarker threads) over the measured
seconds, in % of one core. Every run is its own process; modes alternate so both see the same machine load.
The table gives the median over repeats of each run's p50/p95/fps/CPU. Targets (issue 19): p95 ≤ 50 ms without
face details and ≤ 100 ms with them, display ≥ 29 fps and ≤ 60 % of one core without them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODES = {"no details": False, "face details": True}
BEFORE = "no details, GUI-side scaling (before)"  # --compare: the display path this design replaced


class PacedCamera:
    """A FrameSource of kind camera: frames at `fps` in real time, newest-frame-wins for a late reader."""

    kind = "camera"
    frame_count = None

    def __init__(self, frames: list[np.ndarray], fps: float) -> None:
        self.frames, self.fps, self.name = frames, fps, f"paced camera ({fps:g} fps)"
        self.delivered = self.dropped = 0

    def __iter__(self):
        from emotiondesk.metadata import now_wall
        from emotiondesk.types import Frame

        start, tick = time.monotonic(), 0
        while True:
            due = start + tick / self.fps
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            else:  # the reader is late: the camera has captured newer frames meanwhile; take the newest
                newest = int((now - start) * self.fps)
                self.dropped += max(newest - tick, 0)
                tick = max(tick, newest)
            captured = start + tick / self.fps
            self.delivered += 1
            yield Frame(tick, tick / self.fps, self.frames[tick % len(self.frames)], now_wall(), captured)
            tick += 1

    def close(self) -> None:
        """Nothing to release."""


def child(details: bool, seconds: float, warmup: float, faces: int, fps: float, before: bool = False) -> dict:
    """One run in this process: the window on a paced camera; returns the measurements.

    `before`: the earlier display path for comparison: the worker sends the camera's BGR frame, the GUI thread
    copies it into a QImage and scales it (smooth) while painting, and the side panel refreshes on every frame."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    if before:
        import emotiondesk._qt.worker as worker_module

        worker_module.display_image = lambda image, fit: image

    from emotiondesk._qt.main_window import MainWindow
    from emotiondesk.samples import face_frame, sample_face

    face = sample_face()
    frames = [face_frame(face, faces, 640, 480, step) for step in range(90)]
    camera = PacedCamera(frames, fps)
    app = QApplication.instance() or QApplication([])
    folder = tempfile.mkdtemp()
    settings = QSettings(str(Path(folder) / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("face_details", details)
    window = MainWindow(settings=settings)
    window.source_opener = lambda spec: camera
    if before:
        window.panel_throttle.timer.setInterval(0)
    window.resize(1200, 760)
    window.show()
    latencies: list[float] = []
    worker_ms: list[float] = []
    state = {"measuring": False}

    def painted(result) -> None:
        if state["measuring"] and result.captured is not None:
            latencies.append((time.monotonic() - result.captured) * 1e3)
            worker_ms.append(result.timings_ms.get("total", 0.0))

    window.video.painted.connect(painted)
    window.open_source("paced-camera")
    marks: dict[str, float] = {}

    def start() -> None:
        marks.update(wall=time.monotonic(), cpu=time.process_time(), delivered=camera.delivered, dropped=camera.dropped)
        state["measuring"] = True

    def stop() -> None:
        state["measuring"] = False
        marks.update(
            wall=time.monotonic() - marks["wall"],
            cpu=time.process_time() - marks["cpu"],
            delivered=camera.delivered - marks["delivered"],
            dropped=camera.dropped - marks["dropped"],
        )
        window.close()
        app.quit()

    QTimer.singleShot(int(warmup * 1000), start)
    QTimer.singleShot(int((warmup + seconds) * 1000), stop)
    app.exec()
    wall = marks["wall"]
    return {
        "p50_ms": float(np.percentile(latencies, 50)) if latencies else float("nan"),
        "p95_ms": float(np.percentile(latencies, 95)) if latencies else float("nan"),
        "display_fps": len(latencies) / wall,
        "camera_fps": marks["delivered"] / wall,
        "dropped": int(marks["dropped"]),
        "cpu_pct": 100.0 * marks["cpu"] / wall,
        "worker_ms": float(np.median(worker_ms)) if worker_ms else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds before measuring (models load, JIT)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--faces", type=int, default=3)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--compare", action="store_true", help=f"also run '{BEFORE}'")
    parser.add_argument("--child", choices=[*MODES, BEFORE], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        details = MODES.get(args.child, False)
        print(json.dumps(child(details, args.seconds, args.warmup, args.faces, args.fps, args.child == BEFORE)))
        return 0
    modes = [*MODES, BEFORE] if args.compare else list(MODES)
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    load = os.getloadavg()
    for repeat in range(args.repeats):
        for mode in modes if repeat % 2 == 0 else reversed(modes):
            command = [sys.executable, __file__, "--child", mode, "--seconds", str(args.seconds)]
            command += ["--warmup", str(args.warmup), "--faces", str(args.faces), "--fps", str(args.fps)]
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + args.warmup + 120)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if done.returncode != 0 or not lines:
                print(f"error: {mode} run failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            runs[mode].append(json.loads(lines[-1]))
            print(f"# run {repeat + 1} {mode}: {runs[mode][-1]}", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    print(
        f"{args.faces} faces, camera at {args.fps:g} fps, {args.seconds:g} s measured per run, median of "
        f"{args.repeats} runs; load average (1 min) {load[0]:.1f} before, {load_after[0]:.1f} after, "
        f"{os.cpu_count()} cores"
    )
    print()
    print(
        "| mode | latency p50 (ms) | latency p95 (ms) | display fps | camera fps | dropped/run | CPU (% of one core) "
        "| worker ms/frame |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for mode, results in runs.items():

        def median(key: str, results=results) -> float:
            return statistics.median(r[key] for r in results)

        print(
            f"| {mode} | {median('p50_ms'):.1f} | {median('p95_ms'):.1f} | {median('display_fps'):.1f} | "
            f"{median('camera_fps'):.1f} | {median('dropped'):.0f} | {median('cpu_pct'):.0f} | "
            f"{median('worker_ms'):.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
