"""UI stress run: a seeded random sequence of user actions against the real window on real clips.

    QT_QPA_PLATFORM=offscreen python bench/ui_stress.py --actions 1000 --seed 7

Actions: open a clip / a missing file, retry (F5), Settings (random model, detector, threshold, smoothing; OK or
Cancel), start/stop recording, select a face, mirror, overlays, session summary, shortcuts/about dialogs,
export. Modal dialogs are answered by a timer, as a user would. Afterwards every recording must be a valid CSV
with a matching sidecar. Prints a table: actions run, recordings checked, the longest event-loop stall.
`tests/test_ui_stress.py` runs a shorter sequence in the normal suite.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ACTIONS = (
    "open_clip",
    "open_missing",
    "retry",
    "settings",
    "record",
    "select_face",
    "mirror",
    "overlays",
    "summary",
    "help_dialog",
    "export",
    "wait",
)


@dataclass
class StressReport:
    actions: Counter = field(default_factory=Counter)
    recordings: list[Path] = field(default_factory=list)
    longest_stall_s: float = 0.0
    seconds: float = 0.0

    def table(self) -> str:
        lines = ["| action | times |", "|---|---|"]
        lines += [f"| {name} | {count} |" for name, count in sorted(self.actions.items())]
        lines += [
            "",
            f"{sum(self.actions.values())} actions in {self.seconds:.1f} s; {len(self.recordings)} recordings "
            f"checked (valid CSV + sidecar); longest event-loop stall {self.longest_stall_s * 1000:.0f} ms",
        ]
        return "\n".join(lines)


class DialogAnswerer:
    """Answers whatever modal dialog is up (Settings: random choices, then OK or Cancel; others: close)."""

    def __init__(self, rng: random.Random) -> None:
        from PySide6.QtCore import QTimer

        self.rng = rng
        self.timer = QTimer()
        self.timer.timeout.connect(self.answer)
        self.timer.start(40)

    def answer(self) -> None:
        from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

        dialog = QApplication.activeModalWidget()
        if dialog is None:
            return
        if type(dialog).__name__ == "SettingsDialog":
            dialog.model.setCurrentIndex(self.rng.randrange(dialog.model.count()))
            dialog.detector.setCurrentIndex(self.rng.randrange(dialog.detector.count()))
            dialog.min_confidence.setValue(self.rng.choice([0.3, 0.5, 0.7]))
            dialog.smoothing.setValue(self.rng.choice([1, 5, 15]))
            dialog.accept() if self.rng.random() < 0.7 else dialog.reject()
        elif isinstance(dialog, (QDialog, QMessageBox)):
            dialog.done(0)
        else:
            dialog.close()


class StallMeter:
    """The longest gap between ticks of a 20 ms timer: how long the event loop was unresponsive."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.longest = 0.0
        self.last = time.monotonic()
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(20)

    def tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self.last)
        self.last = now


def run_stress(window, wait, clips: list[Path], actions: int, seed: int, work_dir: Path) -> StressReport:
    """Drive `window` with `actions` random actions; `wait(ms)` keeps the event loop running. The window must
    record into `work_dir` (exports go there too), which holds no other CSV."""
    from PySide6.QtCore import QTimer

    rng = random.Random(seed)
    report = StressReport()
    answerer, stall = DialogAnswerer(rng), StallMeter()
    started = time.monotonic()
    window.open_source(str(clips[0]))
    wait(300)
    stall.last = time.monotonic()
    for step in range(actions):
        action = rng.choice(ACTIONS)
        report.actions[action] += 1
        if action == "open_clip":
            window.open_source(str(rng.choice(clips)))
        elif action == "open_missing":
            window.open_source(str(work_dir / "no-such-file.mp4"))
        elif action == "retry":
            window.retry_source()
        elif action == "settings":
            QTimer.singleShot(0, window.open_settings)  # as the menu would: the dialog runs its own loop
        elif action == "record":
            window.toggle_recording()
        elif action == "select_face" and window.faces_list.count():
            window.faces_list.setFocus()
            window.faces_list.setCurrentRow(rng.randrange(window.faces_list.count()))
        elif action == "mirror":
            window.mirror_action.trigger()
        elif action == "overlays":
            rng.choice([window.boxes_action, window.labels_action]).trigger()
        elif action == "summary":
            QTimer.singleShot(0, window.show_summary)
        elif action == "help_dialog":
            QTimer.singleShot(0, rng.choice([window.show_shortcuts, window.show_about]))
        elif action == "export" and (window.recording_path or window.last_recording):
            window.export_csv(work_dir / f"export-{step}.csv")
        wait(rng.choice([0, 10, 40, 120]))
        if window.last_recording is not None and not window.last_recording.exists():
            raise AssertionError(f"the window offers {window.last_recording} as its last recording; it does not exist")
    if window.recording_path is not None:
        window.stop_recording()
    wait(300)
    window.close()
    wait(100)
    # every recording and export the run made (their markers files are checked with them)
    report.recordings = sorted(p for p in work_dir.glob("**/*.csv") if not p.stem.endswith("_markers"))
    report.longest_stall_s = stall.longest
    report.seconds = time.monotonic() - started
    answerer.timer.stop()
    stall.timer.stop()
    return report


def check_recording(path: Path) -> None:
    """A recording is valid: header, only whole rows, a sidecar that agrees with it."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    if header[:3] != ["time_s", "frame", "face_id"]:
        raise AssertionError(f"{path}: unexpected header {header[:3]}")
    bad = [i for i, row in enumerate(rows) if len(row) != len(header)]
    if bad:
        raise AssertionError(f"{path}: rows {bad[:5]} are not whole")
    sidecar = json.loads(path.with_suffix(".json").read_text())
    finished = sidecar["status"] == "finished" or (sidecar["status"] == "running" and sidecar.get("snapshot"))
    if not finished or sidecar["rows"] != len(rows) - 1:
        said = f"{sidecar['status']}, {sidecar['rows']} rows"
        raise AssertionError(f"{path}: sidecar says {said}; the CSV has {len(rows) - 1} rows")


def main() -> int:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import cv2
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from skimage import data

    from emotiondesk._qt import main_window, paths
    from emotiondesk.samples import write_face_clip

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[0:300, 100:350].copy()
        clips = [
            write_face_clip(work / "three.mp4", face, faces=3, frames=40),
            write_face_clip(work / "one.avi", face, faces=1, frames=25),
        ]
        paths.sessions_dir = lambda: work / "sessions"
        settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        window = main_window.MainWindow(settings=settings, realtime=True)
        window.show()

        def wait(ms: int) -> None:
            loop = QEventLoop()
            QTimer.singleShot(ms, loop.quit)
            loop.exec()

        report = run_stress(window, wait, clips, args.actions, args.seed, work)
        for recording in report.recordings:
            check_recording(recording)
        print(report.table())
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
