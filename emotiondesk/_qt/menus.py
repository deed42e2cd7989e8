"""The window's menus, toolbar and keys, built on a `MainWindow` (its actions become its attributes)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut


def build_menus(window) -> None:
    """File, Camera, View and Help menus, the toolbar, and the marker (1–9) and play/pause (K) keys."""
    self = window

    def action(text: str, slot, shortcut=None, **kwargs) -> QAction:
        made = QAction(text, self, **({"triggered": slot} if slot is not None else {}), **kwargs)
        if shortcut is not None:
            made.setShortcut(QKeySequence(shortcut))
        return made

    file_menu = self.menuBar().addMenu("&File")
    self.open_action = action("&Open file…", self.open_file_dialog, "Ctrl+O")
    self.record_action = action("● Record", self.session.ask_and_toggle, Qt.Key.Key_Space, checkable=True)
    self.export_action = action("&Export CSV…", self.export_csv_dialog, "Ctrl+E")
    self.summary_action = action("Session &summary…", self.show_summary)
    self.session_action = action("Session &details…", self.session.edit_info)
    self.marker_action = action("Add &marker…", self.session.ask_marker, "Ctrl+K")
    for item in (self.open_action, self.record_action, self.session_action, self.marker_action):
        file_menu.addAction(item)
    for item in (self.export_action, self.summary_action):
        file_menu.addAction(item)
    file_menu.addSeparator()
    file_menu.addAction(action("&Quit", self.close, "Ctrl+Q"))
    for number in range(1, 10):
        shortcut = QShortcut(QKeySequence(str(number)), self)
        shortcut.activated.connect(lambda number=number: self.session.add_marker(number))
    QShortcut(QKeySequence("K"), self).activated.connect(
        lambda: self.playback.set_paused(not self.playback.play_button.isChecked())
    )

    self.camera_menu = self.menuBar().addMenu("&Camera")
    self.camera_menu.aboutToShow.connect(self._fill_camera_menu)
    self.camera_group = QActionGroup(self)

    view_menu = self.menuBar().addMenu("&View")
    self.mirror_action = action(
        "&Mirror", None, "Ctrl+M", checkable=True, checked=self.video.mirror, toggled=self.set_mirror
    )
    self.boxes_action = action(
        "Show &boxes", None, checkable=True, checked=self.video.show_boxes, toggled=self._set_boxes
    )
    self.labels_action = action(
        "Show &labels", None, checkable=True, checked=self.video.show_labels, toggled=self._set_labels
    )
    settings_action = action("&Settings…", self.open_settings, "Ctrl+,")
    self.retry_action = action("&Retry source", self.retry_source, "F5")
    for item in (self.mirror_action, self.boxes_action, self.labels_action, settings_action, self.retry_action):
        view_menu.addAction(item)

    help_menu = self.menuBar().addMenu("&Help")
    help_menu.addAction(action("&Keyboard shortcuts", self.show_shortcuts))
    help_menu.addAction(action("&About emotiondesk", self.show_about))

    toolbar = self.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    for item in (self.open_action, self.record_action, self.marker_action, self.export_action):
        toolbar.addAction(item)
    toolbar.addAction(self.summary_action)
    toolbar.addAction(self.mirror_action)
