"""Paints one result card: thumbnail, type badge, file name, and the score on hover.

Everything is drawn with the palette's colours, so light and dark themes both look right.
"""

from __future__ import annotations

from .qt import (
    QColor,
    QFont,
    QFontMetrics,
    QModelIndex,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QRect,
    QRectF,
    QSize,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    Qt,
)
from .results_model import BadgeRole, ScoreRole, ThumbRole
from .thumbs import BROKEN

PAD = 8
TEXT_H = 22


class ResultDelegate(QStyledItemDelegate):
    def __init__(self, thumb: int = 150, parent=None) -> None:
        super().__init__(parent)
        self.thumb = thumb

    def cell_size(self) -> QSize:
        return QSize(self.thumb + 2 * PAD, self.thumb + 2 * PAD + TEXT_H)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return self.cell_size()

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        pal = option.palette
        r = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        focus = bool(option.state & QStyle.StateFlag.State_HasFocus)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)

        if selected or hover:
            bg = QColor(pal.highlight().color())
            bg.setAlpha(90 if selected else 35)
            p.setPen(
                QPen(pal.highlight().color(), 1.5) if selected and focus else Qt.PenStyle.NoPen
            )
            p.setBrush(bg)
            p.drawRoundedRect(QRectF(r), 8, 8)

        box = QRect(r.left() + PAD - 3, r.top() + PAD - 3, self.thumb, self.thumb)
        self._paint_thumb(p, box, index.data(ThumbRole), pal)
        self._paint_badge(p, box, str(index.data(BadgeRole) or ""))
        if hover or selected:
            score = index.data(ScoreRole)
            if score is not None:
                self._paint_pill(p, box, f"{float(score):.2f}", bottom_right=True)

        text_rect = QRect(r.left() + 4, box.bottom() + 4, r.width() - 8, TEXT_H - 4)
        fm = QFontMetrics(option.font)
        name = fm.elidedText(
            str(index.data() or ""), Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        p.setPen(pal.text().color())
        p.setFont(option.font)
        p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
        p.restore()

    # -- pieces

    def _paint_thumb(self, p: QPainter, box: QRect, thumb: object, pal) -> None:
        if isinstance(thumb, QPixmap) and not thumb.isNull():
            dpr = thumb.devicePixelRatio() or 1.0
            w, h = thumb.width() / dpr, thumb.height() / dpr
            scale = min(box.width() / max(1.0, w), box.height() / max(1.0, h))
            tw, th = w * scale, h * scale
            target = QRectF(
                box.left() + (box.width() - tw) / 2, box.top() + (box.height() - th) / 2, tw, th
            )
            path = QPainterPath()
            path.addRoundedRect(target, 5, 5)
            p.save()
            p.setClipPath(path)
            p.drawPixmap(target, thumb, QRectF(thumb.rect()))
            p.restore()
            return
        fill = QColor(pal.alternateBase().color())
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawRoundedRect(QRectF(box), 6, 6)
        if thumb == BROKEN:
            dim = QColor(pal.text().color())
            dim.setAlpha(110)
            pen = QPen(dim, 1.2, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(box).adjusted(6, 6, -6, -6), 6, 6)
            icon_r = QRectF(box.center().x() - 16, box.center().y() - 24, 32, 26)
            p.drawRect(icon_r)
            p.drawLine(icon_r.bottomLeft(), icon_r.topRight())
            f = QFont(p.font())
            f.setPointSizeF(max(7.0, f.pointSizeF() * 0.85))
            p.setFont(f)
            p.drawText(
                QRect(box.left(), box.center().y() + 8, box.width(), 20),
                Qt.AlignmentFlag.AlignHCenter,
                "No preview",
            )

    def _paint_badge(self, p: QPainter, box: QRect, text: str) -> None:
        if text:
            self._paint_pill(p, box, text, bottom_right=False)

    def _paint_pill(self, p: QPainter, box: QRect, text: str, *, bottom_right: bool) -> None:
        f = QFont(p.font())
        f.setPointSizeF(max(7.0, f.pointSizeF() * 0.8))
        f.setBold(True)
        fm = QFontMetrics(f)
        w, h = fm.horizontalAdvance(text) + 12, fm.height() + 4
        if bottom_right:
            pill = QRectF(box.right() - w - 5, box.bottom() - h - 5, w, h)
        else:
            pill = QRectF(box.left() + 5, box.top() + 5, w, h)
        p.save()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 20, 24, 185))
        p.drawRoundedRect(pill, h / 2, h / 2)
        p.setPen(QColor(255, 255, 255))
        p.setFont(f)
        p.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        p.restore()
