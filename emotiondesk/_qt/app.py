"""Start the window; SIGTERM and SIGHUP close it cleanly (a recording in progress is closed as `interrupted`)."""

from __future__ import annotations

import signal
import sys

from emotiondesk.runs.stops import STOP_SIGNALS

CLOSE_WAIT_MS = 20000  # a stop signal waits this long for the recording to be closed


def install_stop_signals(app, window) -> list[int]:
    """SIGINT, SIGTERM and SIGHUP close the window as the user would, but mark a recording `interrupted`, and end
    the event loop with 128 + the signal's number. Returns the list the received signals are appended to.

    Python runs signal handlers only between bytecodes, never inside Qt's event loop: a 200 ms timer lets it in."""
    from PySide6.QtCore import QTimer

    received: list[int] = []

    def close(signum: int) -> None:
        window.stop_worker(CLOSE_WAIT_MS, interrupted=True)  # outputs closed and the sidecar written first
        app.setQuitOnLastWindowClosed(False)  # its quit (code 0) must not replace 128 + signum
        window.close()
        app.exit(128 + signum)

    def handler(signum, _frame) -> None:
        received.append(signum)
        if len(received) == 1:
            QTimer.singleShot(0, lambda: close(signum))

    for number in STOP_SIGNALS:
        if signal.getsignal(number) != signal.SIG_IGN:
            signal.signal(number, handler)
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return received


def run_app(source: str | None = None, model: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from emotiondesk._qt.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("emotiondesk")
    app.setOrganizationName("emotiondesk")
    window = MainWindow(model=model)
    received = install_stop_signals(app, window)
    window.show()
    if source is not None:
        window.open_source(source)
    else:
        window.start_default_source()
    code = app.exec()
    return 128 + received[0] if received else code
