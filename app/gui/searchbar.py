"""The search field: words, plus an optional image shown as a removable chip beside them.

Pasting (Ctrl+V) an image, a file or a file's path puts it in the chip instead of the text; the
words and the chip search together. Backspace in an empty field removes the chip.
"""

from __future__ import annotations

from pathlib import Path

from . import mime
from .qt import (
    QEvent,
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMimeData,
    QPixmap,
    QSize,
    QStyle,
    Qt,
    QToolButton,
    QWidget,
    Signal,
)


class QueryEdit(QLineEdit):
    """A line edit that hands image pastes to its owner and lets Down move to the results."""

    paste_payload = Signal(object)  # mime.Payload
    down_pressed = Signal()
    backspace_on_empty = Signal()

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            payload = mime.parse(QGuiApplication.clipboard().mimeData())
            if payload is not None and payload.searchable:
                self.paste_payload.emit(payload)
                return
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        if event.key() == Qt.Key.Key_Backspace and not self.text():
            self.backspace_on_empty.emit()
            return
        super().keyPressEvent(event)


class Chip(QFrame):
    """A small thumbnail, a name and a close button: the image part of the query."""

    removed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chip")
        self.path: str | None = None
        self.similar = False
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 2, 2)
        lay.setSpacing(6)
        self.thumb = QLabel()
        self.thumb.setFixedSize(24, 24)
        self.thumb.setScaledContents(False)
        self.label = QLabel()
        self.close_btn = QToolButton()
        self.close_btn.setAutoRaise(True)
        self.close_btn.setText("×")
        self.close_btn.setToolTip("Remove the image from the search")
        self.close_btn.setCursor(Qt.CursorShape.PointingHandCursor)
        self.close_btn.clicked.connect(self.removed.emit)
        lay.addWidget(self.thumb)
        lay.addWidget(self.label)
        lay.addWidget(self.close_btn)
        self.setStyleSheet(
            "#chip { background: palette(alternate-base); border: 1px solid palette(mid);"
            " border-radius: 6px; }"
        )
        self.hide()

    def set_image(self, path: str, *, similar: bool, pixmap: QPixmap | None = None) -> None:
        self.path, self.similar = path, similar
        name = Path(path).name
        shown = name if len(name) <= 28 else name[:12] + "…" + name[-12:]
        self.label.setText(("like " if similar else "") + shown)
        self.setToolTip(path)
        self.set_pixmap(pixmap)
        self.show()

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        if pixmap is None or pixmap.isNull():
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)
            self.thumb.setPixmap(icon.pixmap(QSize(20, 20)))
        else:
            dpr = self.devicePixelRatioF()
            scaled = pixmap.scaled(
                QSize(round(24 * dpr), round(24 * dpr)),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            scaled.setDevicePixelRatio(dpr)
            self.thumb.setPixmap(scaled)

    def clear(self) -> None:
        self.path, self.similar = None, False
        self.hide()


class SearchBar(QFrame):
    """Looks like one rounded field holding [icon] [chip] [words…] [image button]."""

    text_changed = Signal(str)
    submitted = Signal()
    image_changed = Signal()
    paste_payload = Signal(object)
    browse_image = Signal()
    down_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 4, 4)
        lay.setSpacing(6)
        self.icon = QLabel("⌕")
        font = self.icon.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.icon.setFont(font)
        self.chip = Chip()
        self.edit = QueryEdit()
        self.edit.setFrame(False)
        self.edit.setAcceptDrops(False)  # drops go to the window, which knows about images
        self.edit.setClearButtonEnabled(True)
        self.edit.setPlaceholderText("Search photos and documents — or drop or paste an image")
        f = self.edit.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        self.edit.setFont(f)
        self.edit.setMinimumHeight(34)
        self.image_btn = QToolButton()
        self.image_btn.setText("Image…")
        self.image_btn.setToolTip("Search with an image file")
        self.image_btn.setAutoRaise(True)
        self.image_btn.clicked.connect(self.browse_image.emit)
        lay.addWidget(self.icon)
        lay.addWidget(self.chip)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.image_btn)
        self.setStyleSheet(
            "#searchBar { background: palette(base); border: 1px solid palette(mid);"
            " border-radius: 10px; }"
        )
        self.setFocusProxy(self.edit)
        self.edit.textChanged.connect(self.text_changed.emit)
        self.edit.returnPressed.connect(self.submitted.emit)
        self.edit.paste_payload.connect(self.paste_payload.emit)
        self.edit.down_pressed.connect(self.down_pressed.emit)
        self.edit.backspace_on_empty.connect(self.clear_image)
        self.chip.removed.connect(self.clear_image)
        self.edit.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.edit and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            focused = event.type() == QEvent.Type.FocusIn
            border = "palette(highlight)" if focused else "palette(mid)"
            self.setStyleSheet(
                f"#searchBar {{ background: palette(base); border: {2 if focused else 1}px solid"
                f" {border}; border-radius: 10px; }}"
            )
        return False

    # -- state

    @property
    def text(self) -> str:
        return self.edit.text()

    @property
    def image(self) -> str | None:
        return self.chip.path

    @property
    def similar(self) -> bool:
        return self.chip.similar

    def set_image(self, path: str, *, similar: bool = False, pixmap: QPixmap | None = None) -> None:
        self.chip.set_image(path, similar=similar, pixmap=pixmap)
        self.image_changed.emit()

    def clear_image(self) -> None:
        if self.chip.path is not None:
            self.chip.clear()
            self.image_changed.emit()

    def clear(self) -> None:
        self.chip.clear()
        self.edit.clear()
        self.image_changed.emit()

    def mime_payload(self, data: QMimeData) -> mime.Payload | None:
        return mime.parse(data)
