"""First run: choose the folders to index (Pictures and Documents are suggested)."""

from __future__ import annotations

from .folders import FolderList, suggested_folders
from .qt import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget


class FirstRunDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, suggestions: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to scry")
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        head = QLabel("<h2>Which folders should scry search?</h2>")
        text = QLabel(
            "scry reads the photos, PDFs and notes in these folders and builds a private index "
            "on this computer, so you can find them by what they show and say. Nothing leaves "
            "your computer, and nothing in these folders is changed."
        )
        text.setWordWrap(True)
        self.folders = FolderList()
        for f in suggested_folders() if suggestions is None else suggestions:
            self.folders.add(f)
        self.buttons = QDialogButtonBox()
        self.start_btn = self.buttons.addButton(
            "Start indexing", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.folders.changed.connect(self._update)
        lay.addWidget(head)
        lay.addWidget(text)
        lay.addWidget(self.folders)
        lay.addWidget(self.buttons)
        self._update()

    def _update(self) -> None:
        self.start_btn.setEnabled(bool(self.folders.checked()))

    def chosen(self) -> list[str]:
        return self.folders.checked()
