"""Run the real window under Xvfb on a clip and save a screenshot of the X screen.

    python scripts/screenshot.py [CLIP] [--out docs/screenshot.png] [--seconds 4] [--record] [--face-details]

Needs Xvfb (Debian: apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-image0
libxcb-render-util0 libxkbcommon-x11-0 libxcb-cursor0). Starts its own Xvfb display when DISPLAY is unset.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", nargs="?", default=str(ROOT / "assets" / "samples" / "three_faces.mp4"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    parser.add_argument("--seconds", type=float, default=3.0, help="play this long before the screenshot")
    parser.add_argument("--record", action="store_true", help="press Record first (shows the REC indicator)")
    parser.add_argument("--face-details", action="store_true", help="turn on face details (shows their panel)")
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
        settings = QSettings(str(args.out.with_suffix(".ini")), QSettings.Format.IniFormat)
        settings.setValue("face_details", args.face_details)
        window = MainWindow(settings=settings)
        window.resize(1240, 760)
        window.move(20, 20)
        window.show()
        window.open_source(args.clip)
        if args.record:
            QTimer.singleShot(500, window.start_recording)

        def shoot() -> None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            screen = app.primaryScreen().grabWindow(0)  # the X server's pixels, not a widget render
            screen.save(str(args.out), "PNG")
            print(f"saved {args.out} ({screen.width()}x{screen.height()})")
            window.close()
            app.quit()

        QTimer.singleShot(int(args.seconds * 1000), shoot)
        app.exec()
        settings_file = args.out.with_suffix(".ini")
        if settings_file.exists():
            settings_file.unlink()
    finally:
        if xvfb is not None:
            xvfb.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
