"""The Faces list (names, label, confidence) and the selected face's probability bars; rename and merge."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QMenu, QVBoxLayout, QWidget

from emotiondesk._qt.details_panel import FaceDetailsPanel
from emotiondesk._qt.widgets import ProbabilityBars
from emotiondesk.metadata import FaceNames
from emotiondesk.types import FrameResult

DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1  # "happy  80%" of the item, kept to relabel it in place


class FacesPanel(QWidget):
    """Rebuilt from each frame with its signals blocked (its own selection slot never runs mid-rebuild).

    Double-click a face to rename it; its context menu renames it or merges it into another face."""

    rename_requested = Signal(int)  # face ID
    merge_requested = Signal(int, int)  # face ID, the face ID it is the same person as

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names = FaceNames()
        self.selected_face_id: int | None = None
        self.last_result: FrameResult | None = None
        self.seen_ids: set[int] = set()  # every face ID of this source, for merging with faces that left
        self.faces_list = QListWidget()
        self.faces_list.setMaximumHeight(160)
        self.faces_list.setToolTip("Double-click to name a face; right-click to rename or merge")
        self.faces_list.currentItemChanged.connect(self._select_face)
        self.faces_list.itemDoubleClicked.connect(self._rename_item)
        self.faces_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.faces_list.customContextMenuRequested.connect(self._context_menu)
        self.bars = ProbabilityBars()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Faces"))
        layout.addWidget(self.faces_list)
        layout.addWidget(self.bars, 1)
        self.details = FaceDetailsPanel()  # blendshapes and head pose; shown when face details are on
        self.details.setVisible(False)
        layout.addWidget(self.details)

    def clear(self) -> None:
        """Empty the list without emitting currentItemChanged (its slot must never run mid-rebuild)."""
        with QSignalBlocker(self.faces_list):
            self.faces_list.clear()
        self.last_result = None
        self.seen_ids.clear()

    def update_faces(self, result: FrameResult) -> None:
        """Rebuild the list from a frame, signals blocked, then show the chosen face's bars."""
        self.last_result = result
        faces = sorted(result.faces, key=lambda f: f.face_id)
        self.seen_ids.update(f.face_id for f in faces)
        blocker = QSignalBlocker(self.faces_list)
        self.faces_list.clear()
        for face in faces:
            probabilities = face.smoothed_or_raw
            label = result.label_of(probabilities)
            confidence = float(probabilities.max()) if probabilities is not None else 0.0
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, face.face_id)
            item.setData(DETAIL_ROLE, f"{label}  {confidence:.0%}")
            item.setText(self._item_text(item))
            self.faces_list.addItem(item)
            if face.face_id == self.selected_face_id:
                self.faces_list.setCurrentItem(item)
        blocker.unblock()
        self.show_selected_bars()

    def _item_text(self, item: QListWidgetItem) -> str:
        face_id = int(item.data(Qt.ItemDataRole.UserRole))
        name = self.names.name(face_id)
        return f"#{face_id}" + (f" {name}" if name else "") + f"  {item.data(DETAIL_ROLE)}"

    def relabel(self) -> None:
        """Show changed names in place: no item is removed (this may run inside the list's own signals)."""
        with QSignalBlocker(self.faces_list):
            for row in range(self.faces_list.count()):
                item = self.faces_list.item(row)
                item.setText(self._item_text(item))
        self.show_selected_bars()

    def show_selected_bars(self) -> None:
        result = self.last_result
        if result is None:
            return
        chosen = next((f for f in result.faces if f.face_id == self.selected_face_id), None)
        if chosen is None and result.faces:
            chosen = max(result.faces, key=lambda f: f.box.area)  # default: the largest face
        title = f"Face {self.names.display(chosen.face_id)}" if chosen is not None else None
        self.bars.set_face(result.labels, chosen, title)
        self.details.set_face(chosen, self.names.display(chosen.face_id) if chosen is not None else None)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _select_face(self, current: QListWidgetItem | None, _previous=None) -> None:
        """The user picked a face: remember it and show its bars. Never rebuilds the list that called it."""
        self.selected_face_id = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.show_selected_bars()

    def _request_rename(self, face_id: int) -> None:
        """Asked from the event loop, outside the list's signal (the dialog's own loop rebuilds the list)."""
        QTimer.singleShot(0, self, lambda: self.rename_requested.emit(face_id))

    @Slot(QListWidgetItem)
    def _rename_item(self, item: QListWidgetItem) -> None:
        self._request_rename(int(item.data(Qt.ItemDataRole.UserRole)))

    @Slot(QPoint)
    def _context_menu(self, position: QPoint) -> None:
        item = self.faces_list.itemAt(position)
        if item is None:
            return
        face_id = int(item.data(Qt.ItemDataRole.UserRole))
        others = {self.names.canonical(other) for other in self.seen_ids} - {self.names.canonical(face_id)}
        menu = QMenu(self)
        menu.addAction(f"Rename #{face_id}…", lambda: self._request_rename(face_id))
        merge = menu.addMenu(f"#{face_id} is the same person as")
        for other in sorted(others):
            merge.addAction(self.names.display(other), lambda target=other: self.merge_requested.emit(face_id, target))
        merge.setEnabled(bool(others))
        menu.exec(self.faces_list.mapToGlobal(position))
