"""A list of folders with checkboxes and an "Add folder…" button (first run and settings)."""

from __future__ import annotations

from pathlib import Path

from .qt import (
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStandardPaths,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)


def suggested_folders() -> list[str]:
    """The platform's Pictures and Documents folders that exist."""
    out = []
    for loc in (
        QStandardPaths.StandardLocation.PicturesLocation,
        QStandardPaths.StandardLocation.DocumentsLocation,
    ):
        for p in QStandardPaths.standardLocations(loc):
            if p and Path(p).is_dir() and p not in out and Path(p) != Path.home():
                out.append(p)
    return out


class FolderList(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, checkable: bool = True) -> None:
        super().__init__(parent)
        self._checkable = checkable
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setMinimumHeight(110)
        self.list.itemChanged.connect(lambda _i: self.changed.emit())
        row = QHBoxLayout()
        self.add_btn = QPushButton("Add folder…")
        self.add_btn.clicked.connect(self.browse)
        row.addWidget(self.add_btn)
        self.remove_btn: QPushButton | None = None
        if not checkable:  # the settings dialog: folders are removed, not unchecked
            self.remove_btn = QPushButton("Remove")
            self.remove_btn.setToolTip(
                "Stop following this folder and forget its index (the files are not touched)"
            )
            self.remove_btn.setEnabled(False)
            self.remove_btn.clicked.connect(self.remove_selected)
            self.list.itemSelectionChanged.connect(
                lambda: self.remove_btn.setEnabled(bool(self.list.selectedItems()))
            )
            row.addWidget(self.remove_btn)
        row.addStretch(1)
        lay.addWidget(self.list)
        lay.addLayout(row)

    def add(self, path: str, *, checked: bool = True, locked: bool = False, note: str = "") -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == path:
                if self._checkable:
                    self.list.item(i).setCheckState(Qt.CheckState.Checked)
                return
        item = QListWidgetItem(path + (f"  —  {note}" if note else ""))
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setToolTip(path)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._checkable and not locked:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        item.setFlags(flags)
        if self._checkable:
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.list.addItem(item)
        self.changed.emit()

    def browse(self) -> None:
        start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation)
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to index", start)
        if folder:
            self.add(folder)

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def checked(self) -> list[str]:
        out = []
        for i in range(self.list.count()):
            it = self.list.item(i)
            if not self._checkable or it.checkState() == Qt.CheckState.Checked:
                out.append(it.data(Qt.ItemDataRole.UserRole))
        return out
