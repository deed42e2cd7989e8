"""Start the window."""

from __future__ import annotations

import sys


def run_app(source: str | None = None, model: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from emotiondesk._qt.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("emotiondesk")
    app.setOrganizationName("emotiondesk")
    window = MainWindow(model=model)
    window.show()
    if source is not None:
        window.open_source(source)
    else:
        window.start_default_source()
    return app.exec()
