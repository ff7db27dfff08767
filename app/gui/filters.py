"""The filter row: type, folder, date range and sort order, turned into a :class:`Query`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from .qt import QComboBox, QDate, QDateEdit, QEvent, QHBoxLayout, QLabel, Qt, QWidget, Signal
from .values import Query

TYPE_CHOICES = [
    ("All types", ""),
    ("Photos", "photo"),
    ("PDFs", "pdf"),
    ("Documents", "doc"),
    ("Videos", "video"),
]
SORT_CHOICES = [("Best match", "relevance"), ("Newest first", "date")]
NO_DATE = QDate(1900, 1, 1)


class _DateEdit(QDateEdit):
    """A date picker whose lowest value reads "any" (no bound)."""

    def __init__(self, placeholder: str) -> None:
        super().__init__()
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setMinimumDate(NO_DATE)
        self.setSpecialValueText(placeholder)
        self.setDate(NO_DATE)
        self.setToolTip(f"{placeholder}: pick a date, or press Delete for none")
        self.calendarWidget().installEventFilter(self)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Delete:
            self.setDate(NO_DATE)
            return
        super().keyPressEvent(event)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Show and self.value() is None:
            today = QDate.currentDate()
            obj.setCurrentPage(today.year(), today.month())
        return False

    def value(self) -> date | None:
        d = self.date()
        return None if d == NO_DATE else date(d.year(), d.month(), d.day())

    def set_value(self, d: date | None) -> None:
        self.setDate(NO_DATE if d is None else QDate(d.year, d.month, d.day))


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(6)
        self.type = QComboBox()
        for label, value in TYPE_CHOICES:
            self.type.addItem(label, value)
        self.folder = QComboBox()
        self.folder.addItem("All folders", "")
        self._extra: list[str] = []  # subfolders offered besides the roots
        self.folder.setMinimumContentsLength(14)
        self.folder.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.after = _DateEdit("From any date")
        self.before = _DateEdit("To any date")
        self.sort = QComboBox()
        for label, value in SORT_CHOICES:
            self.sort.addItem(label, value)
        for w, tip in (
            (self.type, "Only this kind of file (type:)"),
            (self.folder, "Only inside this folder (in:)"),
            (self.sort, "Order of the results"),
        ):
            w.setToolTip(tip)
        lay.addWidget(self.type)
        lay.addWidget(self.folder)
        lay.addWidget(self.after)
        lay.addWidget(QLabel("–"))
        lay.addWidget(self.before)
        lay.addStretch(1)
        lay.addWidget(QLabel("Sort:"))
        lay.addWidget(self.sort)
        self.type.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.folder.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.sort.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.after.dateChanged.connect(lambda *_: self.changed.emit())
        self.before.dateChanged.connect(lambda *_: self.changed.emit())

    def add_folder(self, folder: str) -> None:
        """Offer a folder that is not an indexed root (a subfolder); kept across refreshes."""
        if folder not in self._extra:
            self._extra.append(folder)
        if self.folder.findData(folder) < 0:
            self.folder.addItem(Path(folder).name or folder, folder)
            self.folder.setItemData(self.folder.count() - 1, folder, 3)  # tooltip role

    def set_folders(self, folders: list[str]) -> None:
        """The indexed roots changed (a status refresh): rebuild the list, keeping the choice."""
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", "")
        extra = [f for f in (*self._extra, current) if f and f not in folders]
        folders = [*folders, *dict.fromkeys(extra)]
        for f in folders:
            self.folder.addItem(Path(f).name or f, f)
            self.folder.setItemData(self.folder.count() - 1, f, 3)  # tooltip role
        i = self.folder.findData(current)
        self.folder.setCurrentIndex(max(0, i))
        self.folder.blockSignals(False)

    def apply(self, q: Query) -> Query:
        """``q`` with this bar's filters and sort order."""
        return replace(
            q,
            kind=self.type.currentData() or "",
            folder=self.folder.currentData() or "",
            after=self.after.value(),
            before=self.before.value(),
            sort=self.sort.currentData() or "relevance",
        )

    def active(self) -> bool:
        return bool(
            self.type.currentData()
            or self.folder.currentData()
            or self.after.value()
            or self.before.value()
        )

    def reset(self) -> None:
        for w in (self.type, self.folder, self.sort):
            w.setCurrentIndex(0)
        self.after.set_value(None)
        self.before.set_value(None)
