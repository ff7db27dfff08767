"""The results grid (a virtualized ``QListView``) and the empty / loading / no-match state."""

from __future__ import annotations

from .delegate import ResultDelegate
from .qt import (
    QAbstractItemView,
    QIcon,
    QLabel,
    QListView,
    QSize,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)


class ResultsView(QListView):
    """Icon-mode grid with uniform cells: only visible rows are ever painted or measured."""

    open_requested = Signal()
    preview_toggled = Signal()
    type_ahead = Signal(str)
    escape_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.delegate = ResultDelegate(150, self)
        self.setItemDelegate(self.delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setGridSize(self.delegate.cell_size() + QSize(4, 4))
        self.setSpacing(0)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.doubleClicked.connect(lambda _ix: self.open_requested.emit())

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_requested.emit()
            return
        if key == Qt.Key.Key_Space and not event.modifiers():
            self.preview_toggled.emit()
            return
        if key == Qt.Key.Key_Escape:
            self.escape_pressed.emit()
            return
        text = event.text()
        mods = event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        if text and text.isprintable() and not mods:
            self.type_ahead.emit(text)
            return
        super().keyPressEvent(event)


class EmptyState(QWidget):
    """The big friendly message where results would be: loading, how to search, no matches."""

    def __init__(self, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        self.icon = QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if not icon.isNull():
            self.icon.setPixmap(icon.pixmap(QSize(96, 96)))
        self.headline = QLabel()
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        f = self.headline.font()
        f.setPointSizeF(f.pointSizeF() * 1.5)
        self.headline.setFont(f)
        self.hint = QLabel()
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        for w in (self.icon, self.headline, self.hint):
            lay.addWidget(w)
        lay.addStretch(3)

    def show_message(self, headline: str, hint: str = "") -> None:
        self.headline.setText(headline)
        self.hint.setText(hint)
