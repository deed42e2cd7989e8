"""Screenshots of the window's states under Xvfb (issue 19): a file that ended, the participant dialog, a finished
whole-file analysis, a refused export, a report no browser opened, the shortcuts, a reopened session, the model
choice in Settings, a failed open, a broken model and the Open dialog.

    python scripts/window_states.py [--out /tmp/window-states]

Needs Xvfb and xdotool (Debian: apt-get install -y xvfb xdotool libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0
libxkbcommon-x11-0). Starts its own display when DISPLAY is unset; K is pressed with xdotool, the rest is driven
through the window's own slots. Message boxes are shown without blocking so that they can be photographed.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "window-states")
    args = parser.parse_args()
    xvfb = None
    if not os.environ.get("DISPLAY"):
        if not shutil.which("Xvfb"):
            print("error: Xvfb not installed", file=sys.stderr)
            return 2
        xvfb = subprocess.Popen(["Xvfb", ":98", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        os.environ["DISPLAY"] = ":98"
        time.sleep(1.0)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    try:
        return shoot_states(args.out)
    finally:
        if xvfb is not None:
            xvfb.terminate()


def shoot_states(out: Path) -> int:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

    from emotiondesk._qt import messages, open_media, open_session, paths
    from emotiondesk._qt.help import ShortcutsDialog
    from emotiondesk._qt.main_window import MainWindow
    from emotiondesk._qt.settings_dialog import SettingsDialog
    from emotiondesk.samples import sample_face, write_face_clip

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    paths.sessions_dir = lambda: work / "sessions"  # never the user's sessions folder
    clip = write_face_clip(work / "three_faces.mp4", sample_face(), 3, 45)
    app = QApplication([])
    settings = QSettings(str(work / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("timeline_s", 12)
    window = MainWindow(settings=settings)
    window.resize(1240, 760)
    window.move(20, 20)
    window.show()
    boxes: list[QMessageBox] = []

    def show_box(parent, kind, title, text) -> None:  # as messages.show, without blocking
        icons = {"information": QMessageBox.Icon.Information, "warning": QMessageBox.Icon.Warning}
        icon = icons.get(kind, QMessageBox.Icon.Critical)
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
        box.show()
        boxes.append(box)

    messages.show = show_box
    QDesktopServices.openUrl = staticmethod(lambda url: False)  # a computer with no browser
    state: dict = {}

    def shot(name: str) -> None:
        path = out / f"{name}.png"
        app.primaryScreen().grabWindow(0).save(str(path), "PNG")
        print(f"saved {path}", flush=True)

    def close_boxes() -> None:
        while boxes:
            boxes.pop().close()

    def answer_participant() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(100, answer_participant)
            return
        dialog.participant.setText("P01")
        dialog.session.setText("pilot-1")
        shot("03-participant-dialog")
        dialog.accept()

    def press_k() -> None:
        window.activateWindow()
        wid = subprocess.run(["xdotool", "search", "--name", "emotiondesk"], capture_output=True, text=True)
        for line in wid.stdout.split():
            subprocess.run(["xdotool", "windowactivate", "--sync", line], capture_output=True)
        subprocess.run(["xdotool", "key", "k"], capture_output=True)

    def summary() -> None:
        state["summary"] = window.summary_dialog()
        state["summary"].show()
        state["summary"].open_report()

    def settings_dialog() -> None:
        state["settings"] = SettingsDialog(window.config, window)
        state["settings"].show()
        state["settings"].model.showPopup()

    def broken_model() -> None:
        model = work / "rand.onnx"
        model.write_bytes(os.urandom(4096))
        window.config.model = str(model)
        window.open_source(str(clip))

    def open_dialog() -> None:
        dialog = QFileDialog(window, "Open video or image", str(open_media.start_folder(str(clip), settings)))
        dialog.setNameFilter(open_media.MEDIA_FILTER.split(";;")[0])
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.show()
        state["open"] = dialog

    steps = [
        (500, lambda: window.open_source(str(clip))),
        (5000, lambda: shot("01-file-ended")),
        (5200, press_k),
        (6200, lambda: shot("02-k-plays-it-again")),
        (9500, lambda: (QTimer.singleShot(300, answer_participant), window.ask_and_analyse())),
        (15000, lambda: shot("04-whole-file-analysed")),
        (15200, lambda: window.export_csv(window.last_recording)),
        (16000, lambda: shot("05-export-onto-itself")),
        (16200, close_boxes),
        (16400, summary),
        (18500, lambda: shot("06-report-no-browser")),
        (18700, lambda: (close_boxes(), state["summary"].close())),
        (18900, lambda: state.update(shortcuts=ShortcutsDialog(window)) or state["shortcuts"].show()),
        (19500, lambda: shot("07-shortcuts")),
        (19700, lambda: state["shortcuts"].close()),
        (19900, lambda: state.update(session=open_session.open_session(window, window.last_recording))),
        (20000, lambda: state["session"].show()),
        (21500, lambda: shot("08-open-session")),
        (21700, lambda: state["session"].close()),
        (21900, settings_dialog),
        (22600, lambda: shot("09-settings-model")),
        (22800, lambda: (state["settings"].model.hidePopup(), state["settings"].close())),
        (23000, lambda: (work / "notes.mp4").write_text("not a video") and window.open_source(str(work / "notes.mp4"))),
        (25000, lambda: shot("10-failed-open")),
        (25200, close_boxes),
        (25400, lambda: window.open_source(str(clip))),
        (28000, lambda: shot("11-playing")),
        (28200, broken_model),
        (31000, lambda: shot("12-broken-model")),
        (31200, close_boxes),
        (31400, open_dialog),
        (32500, lambda: shot("13-open-dialog")),
        (32700, lambda: (state["open"].close(), window.close(), app.quit())),
    ]
    # each step waits its gap after the previous one has run (a slow step never squeezes the next screenshot)
    times = [delay for delay, _ in steps]
    gaps = [later - earlier for earlier, later in zip([0, *times], times)]
    queue = list(zip(gaps, (step for _, step in steps)))

    def run_next() -> None:
        gap, step = queue.pop(0)
        QTimer.singleShot(gap, lambda: (step(), queue and run_next()))

    run_next()
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
