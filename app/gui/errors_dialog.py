"""The list of files that could not be read, with the reason for each."""

from __future__ import annotations

from pathlib import Path

from .qt import (
    QDialog,
    QDialogButtonBox,
    QGuiApplication,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)


class ErrorsDialog(QDialog):
    def __init__(self, errors: list[dict], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Files scry could not read")
        self.resize(760, 420)
        lay = QVBoxLayout(self)
        n = len(errors)
        intro = QLabel(
            f"{n} file{'s' if n != 1 else ''} could not be read. They are skipped; everything "
            "else is searchable. Fix or replace a file and it is read again at the next update."
            if n
            else "Every file could be read."
        )
        intro.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["File", "Reason", "Folder"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        for e in errors:
            p = Path(e.get("path", ""))
            item = QTreeWidgetItem([p.name, str(e.get("reason") or ""), str(p.parent)])
            item.setToolTip(0, str(p))
            item.setToolTip(1, str(e.get("reason") or ""))
            self.tree.addTopLevelItem(item)
        self.tree.resizeColumnToContents(0)
        self.tree.setColumnWidth(1, 320)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy list", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(
                "\n".join(f"{e.get('path')}: {e.get('reason')}" for e in errors)
            )
        )
        buttons.rejected.connect(self.reject)
        lay.addWidget(intro)
        lay.addWidget(self.tree)
        lay.addWidget(buttons)
