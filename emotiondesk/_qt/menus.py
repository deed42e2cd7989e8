"""The window's menus, toolbar and keys, built on a `MainWindow` (its actions become its attributes)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut

from emotiondesk._qt.study_dialog import open_study_dialog


def build_menus(window) -> None:
    """File, Camera, View and Help menus, the toolbar, and the marker (1–9) and play/pause (K) keys."""

    def action(text: str, slot, shortcut=None, **kwargs) -> QAction:
        made = QAction(text, window, **({"triggered": slot} if slot is not None else {}), **kwargs)
        if shortcut is not None:
            made.setShortcut(QKeySequence(shortcut))
        return made

    file_menu = window.menuBar().addMenu("&File")
    window.open_action = action("&Open file…", window.open_file_dialog, "Ctrl+O")
    window.record_action = action("● Record", window.session.ask_and_toggle, Qt.Key.Key_Space, checkable=True)
    window.export_action = action("&Export CSV…", window.export_csv_dialog, "Ctrl+E")
    window.summary_action = action("Session &summary…", window.show_summary)
    window.session_action = action("Session &details…", window.session.edit_info)
    window.marker_action = action("Add &marker…", window.session.ask_marker, "Ctrl+K")
    for item in (window.open_action, window.record_action, window.session_action, window.marker_action):
        file_menu.addAction(item)
    for item in (window.export_action, window.summary_action):
        file_menu.addAction(item)
    file_menu.addAction(action("Analyse &folder…", window.analyse_folder))
    file_menu.addAction(action("Study &analysis…", lambda: open_study_dialog(window)))
    file_menu.addSeparator()
    file_menu.addAction(action("&Quit", window.close, "Ctrl+Q"))
    for number in range(1, 10):
        shortcut = QShortcut(QKeySequence(str(number)), window)
        shortcut.activated.connect(lambda number=number: window.session.add_marker(number))
    QShortcut(QKeySequence("K"), window).activated.connect(window.playback.toggle_play)

    window.camera_menu = window.menuBar().addMenu("&Camera")
    window.camera_menu.aboutToShow.connect(window._fill_camera_menu)
    window.camera_group = QActionGroup(window)

    view_menu = window.menuBar().addMenu("&View")
    window.mirror_action = action(
        "&Mirror", None, "Ctrl+M", checkable=True, checked=window.video.mirror, toggled=window.set_mirror
    )
    window.boxes_action = action(
        "Show &boxes", None, checkable=True, checked=window.video.show_boxes, toggled=window._set_boxes
    )
    window.labels_action = action(
        "Show &labels", None, checkable=True, checked=window.video.show_labels, toggled=window._set_labels
    )
    settings_action = action("&Settings…", window.open_settings, "Ctrl+,")
    window.retry_action = action("&Retry source", window.retry_source, "F5")
    for item in (window.mirror_action, window.boxes_action, window.labels_action, settings_action, window.retry_action):
        view_menu.addAction(item)

    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(action("&Keyboard shortcuts", window.show_shortcuts))
    help_menu.addAction(action("&About emotiondesk", window.show_about))

    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    for item in (window.open_action, window.record_action, window.marker_action, window.export_action):
        toolbar.addAction(item)
    toolbar.addAction(window.summary_action)
    toolbar.addAction(window.mirror_action)
