"""The preview pane: a larger image or page, metadata, the matching text, and actions."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

from .qt import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPixmap,
    QPushButton,
    QSize,
    QSizePolicy,
    Qt,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .thumbs import BROKEN
from .values import Details, Result

PREVIEW_PX = 720


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def highlight(text: str, terms: list[str]) -> str:
    """``text`` as HTML with every occurrence of ``terms`` marked (case-insensitive)."""
    body = html.escape(text)
    words = sorted({html.escape(t) for t in terms if t.strip()}, key=len, reverse=True)
    if words:
        pattern = re.compile("(" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE)
        body = pattern.sub(
            r'<span style="background-color:#ffe27a; color:#1a1a1a; font-weight:600">\1</span>',
            body,
        )
    return body.replace("\n", "<br>")


class PreviewPane(QWidget):
    open_requested = Signal()
    reveal_requested = Signal()
    similar_requested = Signal()
    copy_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(280)
        self.result: Result | None = None
        self._pixmap: QPixmap | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        lay.setSpacing(8)

        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumHeight(200)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.image.setFrameShape(QFrame.Shape.NoFrame)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        f.setBold(True)
        self.title.setFont(f)
        self.badge = QLabel()
        self.badge.setStyleSheet("color: palette(mid);")

        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(3)

        self.snippet = QTextBrowser()
        self.snippet.setOpenLinks(False)
        self.snippet.hide()

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.open_btn = QPushButton("Open")
        self.open_btn.setToolTip("Open with the default application (Enter)")
        self.reveal_btn = QPushButton("Show in folder")
        self.similar_btn = QPushButton("Find similar")
        self.similar_btn.setToolTip("Files that look like this one (Ctrl+Shift+F)")
        self.copy_btn = QPushButton("Copy path")
        for b, sig in (
            (self.open_btn, self.open_requested),
            (self.reveal_btn, self.reveal_requested),
            (self.similar_btn, self.similar_requested),
            (self.copy_btn, self.copy_requested),
        ):
            b.clicked.connect(sig.emit)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        buttons.addWidget(self.open_btn)
        buttons.addWidget(self.reveal_btn)
        buttons.addStretch(1)
        more = QHBoxLayout()
        more.setSpacing(6)
        more.addWidget(self.similar_btn)
        more.addWidget(self.copy_btn)
        more.addStretch(1)

        lay.addWidget(self.image, 1)
        lay.addWidget(self.title)
        lay.addWidget(self.badge)
        lay.addLayout(self.form)
        lay.addWidget(self.snippet)
        lay.addLayout(buttons)
        lay.addLayout(more)

    def show_result(self, r: Result) -> None:
        self.result = r
        self.title.setText(r.name)
        self.title.setToolTip(r.path)
        sim = "" if r.similarity is None else f" · similarity {r.similarity:.2f}"
        self.badge.setText(f"{r.badge} · score {r.score:.2f}{sim}")
        self._clear_form()
        self._row("Folder", str(Path(r.path).parent))
        self.snippet.hide()
        self.set_image(None)

    def set_image(self, pix: QPixmap | str | None) -> None:
        if isinstance(pix, QPixmap) and not pix.isNull():
            self._pixmap = pix
            self._fit()
        else:
            self._pixmap = None
            self.image.setPixmap(QPixmap())
            self.image.setText("No preview for this file" if pix == BROKEN else "Loading…")

    def set_details(self, d: Details, terms: list[str]) -> None:
        if self.result is None or d.path != self.result.path:
            return
        self._clear_form()
        m = d.meta
        self._row("Folder", d.folder)
        if m.get("taken"):
            self._row("Taken", str(m["taken"]).replace("T", " "))
        elif d.modified:
            self._row("Modified", time.strftime("%Y-%m-%d %H:%M", time.localtime(d.modified)))
        camera = " ".join(str(m[k]) for k in ("camera_make", "camera_model") if m.get(k))
        if camera:
            self._row("Camera", camera)
        if m.get("width") and m.get("height"):
            self._row("Dimensions", f"{m['width']} × {m['height']}")
        if m.get("pages"):
            self._row("Pages", str(m["pages"]))
        for key in ("title", "author"):
            if m.get(key):
                self._row(key.capitalize(), str(m[key]))
        if d.size is not None:
            self._row("Size", human_size(d.size))
        if d.status not in ("ok", "not_indexed"):
            self._row("Status", d.status)
        if d.snippet.strip():
            self.snippet.setHtml(highlight(d.snippet.strip(), terms))
            self.snippet.show()
            self._fit_snippet()
        else:
            self.snippet.hide()

    def clear(self) -> None:
        self.result = None
        self.title.clear()
        self.badge.clear()
        self._clear_form()
        self.snippet.hide()
        self._pixmap = None
        self.image.setPixmap(QPixmap())
        self.image.setText("")

    # -- pieces

    def _row(self, label: str, value: str) -> None:
        v = QLabel(value)
        v.setWordWrap(True)
        v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        k = QLabel(label)
        k.setStyleSheet("color: palette(placeholder-text);")
        self.form.addRow(k, v)

    def _clear_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)

    def _fit(self) -> None:
        if self._pixmap is None:
            return
        dpr = self.devicePixelRatioF()
        box = self.image.size()
        scaled = self._pixmap.scaled(
            QSize(round(box.width() * dpr), round(box.height() * dpr)),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        scaled.setDevicePixelRatio(dpr)
        self.image.setPixmap(scaled)

    def _fit_snippet(self) -> None:
        """As tall as its text, up to a limit (then it scrolls)."""
        doc = self.snippet.document()
        doc.setTextWidth(max(100, self.snippet.viewport().width()))
        height = int(doc.size().height()) + 2 * self.snippet.frameWidth() + 4
        self.snippet.setFixedHeight(max(48, min(220, height)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()
        if self.snippet.isVisible():
            self._fit_snippet()
