"""Settings: folders and excludes, the model, reranking and how many CPU threads to use."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .folders import FolderList
from .qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


def model_choices(default_model: str) -> list[tuple[str, str]]:
    """(id, label) of every embedder in the registry, the ones this computer runs well first."""
    from scry.indexer.hardware import detected, fits
    from scry.indexer.registry import entries

    info = detected()
    out: list[tuple[int, str, str]] = []
    for e in entries("embed"):
        ok, why = fits(e, info)
        label = (e.summary or e.id).split(":")[0].strip()
        if len(label) > 52:
            label = label[:51].rstrip() + "…"
        tags = []
        if e.id == default_model:
            tags.append("default")
        if not e.license.commercial_use:
            tags.append("non-commercial")
        if not ok:
            tags.append(why)
        label = f"{e.id} — {label}" + (f" ({', '.join(tags)})" if tags else "")
        out.append((0 if e.id == default_model else 1 if ok else 2, e.id, label))
    return [(ident, label) for _rank, ident, label in sorted(out, key=lambda t: t[0])]


RERANK_CHOICES = [
    ("Automatic (when this computer is fast enough)", "auto"),
    ("On", "on"),
    ("Off", "off"),
]


@dataclass
class SettingsValues:
    folders: list[str]
    new_folders: list[str]
    removed_folders: list[str]
    exclude: list[str]
    model: str | None  # None: unchanged; "": the default
    rerank: str  # auto | on | off
    threads: int
    autostart: bool = False


class SettingsDialog(QDialog):
    def __init__(
        self,
        *,
        folders: list[str],
        exclude: list[str],
        model: str,
        default_model: str,
        rerank: str,
        threads: int,
        autostart: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("scry settings")
        self.setMinimumWidth(600)
        self._initial_folders = list(folders)
        self._default_model = default_model
        self._initial_model = model
        lay = QVBoxLayout(self)
        form = QFormLayout()
        form.setVerticalSpacing(10)

        self.folders = FolderList(checkable=False)
        for f in folders:
            self.folders.add(f)
        form.addRow("Folders:", self.folders)

        self.exclude = QPlainTextEdit("\n".join(exclude))
        self.exclude.setPlaceholderText("One pattern per line, e.g. *.tmp or Screenshots")
        self.exclude.setFixedHeight(96)
        form.addRow("Skip:", self.exclude)

        self.model = QComboBox()
        self.model.setEditable(True)
        for ident, label in model_choices(default_model):
            self.model.addItem(label, ident)
        i = self.model.findData(model)
        if i < 0:
            self.model.addItem(model, model)
            i = self.model.count() - 1
        self.model.setCurrentIndex(i)
        self.model.setToolTip("A Hugging Face model id or a local model folder")
        model_note = QLabel(
            "Changing the model loads (and, the first time, downloads) it and re-reads your "
            "files in the background."
        )
        model_note.setWordWrap(True)
        model_note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("Model:", self.model)
        form.addRow("", model_note)

        self.rerank = QComboBox()
        for label, value in RERANK_CHOICES:
            self.rerank.addItem(label, value)
        self.rerank.setCurrentIndex(max(0, self.rerank.findData(rerank)))
        self.rerank.setToolTip(
            "A second, slower model refines the order of the best results after they appear"
        )
        form.addRow("Reranking:", self.rerank)

        self.threads = QSpinBox()
        self.threads.setRange(0, max(1, os.cpu_count() or 1))
        self.threads.setSpecialValueText("Automatic")
        self.threads.setValue(max(0, threads))
        self.threads.setSuffix(" threads")
        form.addRow("CPU use:", self.threads)

        self.autostart = QCheckBox("Start scry in the system tray when I log in")
        self.autostart.setChecked(autostart)
        self.initial_autostart = autostart
        self.autostart.setToolTip(
            "scry then follows your folders from the start of the session (scry --background)"
        )
        form.addRow("Startup:", self.autostart)

        lay.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def values(self) -> SettingsValues:
        folders = self.folders.checked()
        text = self.model.currentText().strip()
        i = self.model.findText(text)
        ident = self.model.itemData(i) if i >= 0 else text
        return SettingsValues(
            folders=folders,
            new_folders=[f for f in folders if f not in self._initial_folders],
            removed_folders=[f for f in self._initial_folders if f not in folders],
            exclude=[ln.strip() for ln in self.exclude.toPlainText().splitlines() if ln.strip()],
            model=None
            if not ident or ident == self._initial_model
            else ("" if ident == self._default_model else ident),
            rerank=self.rerank.currentData(),
            threads=self.threads.value(),
            autostart=self.autostart.isChecked(),
        )
