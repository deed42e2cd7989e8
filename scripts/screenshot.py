"""Run the real window under Xvfb on a clip and save a screenshot of the X screen.

    python scripts/screenshot.py [CLIP] [--out docs/screenshot.png] [--seconds 4] [--record] [--session]
        [--report docs/report.png] [--face-details]

--session records a generated 16 s clip as participant P01 / session pilot-1, drops markers 1, "stimulus on"
and 2, and names faces #1–#3; --report then writes that recording's HTML report and screenshots it in
headless Chromium (Debian: apt-get install -y chromium).

Needs Xvfb (Debian: apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-image0
libxcb-render-util0 libxkbcommon-x11-0 libxcb-cursor0). Starts its own Xvfb display when DISPLAY is unset.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shoot_report(csv_path: Path, out: Path) -> None:
    """Write the recording's HTML report and screenshot it with headless Chromium (no network: a file URL)."""
    from emotiondesk.analysis.report import write_report

    page = write_report(csv_path, csv_path.with_suffix(".html"), window_s=2.0)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("error: chromium not installed", file=sys.stderr)
        return
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += [f"--screenshot={out.resolve()}", "--window-size=1100,1750", page.resolve().as_uri()]
    subprocess.run(command, check=False, capture_output=True, timeout=120)
    print(f"saved {out} (report {page})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", nargs="?", default=str(ROOT / "assets" / "samples" / "three_faces.mp4"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--seconds", type=float, default=3.0, help="play this long before the screenshot")
    parser.add_argument("--record", action="store_true", help="press Record first (shows the REC indicator)")
    parser.add_argument("--session", action="store_true", help="record a session with markers and face names")
    parser.add_argument("--face-details", action="store_true", help="turn on face details (shows their panel)")
    parser.add_argument("--report", type=Path, help="screenshot the session's HTML report here (headless Chromium)")
    args = parser.parse_args()
    xvfb = None
    if not os.environ.get("DISPLAY"):
        if not shutil.which("Xvfb"):
            print("error: Xvfb not installed (apt-get install -y xvfb ...)", file=sys.stderr)
            return 2
        xvfb = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        os.environ["DISPLAY"] = ":97"
        time.sleep(1.0)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    try:
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication

        from emotiondesk._qt.main_window import MainWindow

        app = QApplication([])
        settings_file = Path(tempfile.mkdtemp()) / "screenshot.ini"  # never the user's settings, never in docs/
        settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
        settings.setValue("timeline_s", 12)
        settings.setValue("face_details", args.face_details)
        window = MainWindow(settings=settings, loop=True)
        window.resize(1240, 760)
        window.move(20, 20)
        window.show()
        clip = args.clip
        if args.session and args.clip == parser.get_default("clip"):  # long enough for a full timeline
            from emotiondesk.samples import sample_face, write_face_clip

            clip = str(write_face_clip(Path(tempfile.mkdtemp()) / "session.mp4", sample_face(), 3, 240))
        window.open_source(clip)
        if args.record and not args.session:
            QTimer.singleShot(500, window.start_recording)
        if args.session:
            from emotiondesk.metadata import SessionInfo, default_csv_name

            info = SessionInfo("P01", "pilot-1", "screenshot run")
            window.session.set_info(info)
            target = Path(tempfile.mkdtemp()) / default_csv_name(info)
            QTimer.singleShot(500, lambda: window.start_recording(target))
            steps = [
                (1200, lambda: window.session.add_marker(1)),
                (1500, lambda: window.session.rename_face(1, "P01")),
                (1600, lambda: window.session.rename_face(2, "P02")),
                (1700, lambda: window.session.rename_face(3, "P03")),
                (int(args.seconds * 450), lambda: window.session.add_marker(0, "stimulus on")),
                (int(args.seconds * 800), lambda: window.session.add_marker(2)),
            ]
            for delay, step in steps:
                QTimer.singleShot(delay, step)

        def shoot() -> None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            screen = app.primaryScreen().grabWindow(0)  # the X server's pixels, not a widget render
            screen.save(str(args.out), "PNG")
            print(f"saved {args.out} ({screen.width()}x{screen.height()})")
            recorded = window.recording_path
            window.close()
            app.quit()
            if args.report is not None and recorded is not None:
                shoot_report(recorded, args.report)

        QTimer.singleShot(int(args.seconds * 1000), shoot)
        app.exec()
        settings_file.unlink(missing_ok=True)
    finally:
        if xvfb is not None:
            xvfb.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
