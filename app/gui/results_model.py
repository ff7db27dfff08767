"""The results grid's model: a flat list of :class:`Result` rows, cheap at 100,000 rows.

``data`` is O(1) per call and the model never touches the disk: thumbnails come from the
:class:`ThumbnailLoader`, which tells the model (through ``thumbnail_ready``) which rows to repaint.
Rows can be *refined* in place (a reranker's new order) without losing the selection, the
current item or the scroll position.
"""

from __future__ import annotations

from collections.abc import Sequence

from .qt import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt, QUrl
from .thumbs import BROKEN, ThumbKey, ThumbnailLoader
from .values import Result

ResultRole = Qt.ItemDataRole.UserRole + 1
PathRole = Qt.ItemDataRole.UserRole + 2
BadgeRole = Qt.ItemDataRole.UserRole + 3
ScoreRole = Qt.ItemDataRole.UserRole + 4
ThumbRole = Qt.ItemDataRole.UserRole + 5  # QPixmap, "broken" or None (loading)
ThumbStateRole = Qt.ItemDataRole.UserRole + 6  # "ready" | "broken" | "loading"


class ResultsModel(QAbstractListModel):
    def __init__(self, thumbs: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[Result] = []
        self._by_thumb: dict[tuple[str, int | None], list[int]] = {}
        self.thumbs = thumbs
        self.thumb_px = 150
        thumbs.ready.connect(self._thumbnail_ready)

    # -- contents

    @property
    def rows(self) -> list[Result]:
        return self._rows

    def set_results(self, rows: Sequence[Result]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._reindex()
        self.endResetModel()

    def refine(self, rows: Sequence[Result]) -> bool:
        """Reorder to ``rows`` in place, keeping selection and current item; False if the set
        of results differs (the caller then resets and restores by key)."""
        new = list(rows)
        if len(new) != len(self._rows) or {r.key for r in new} != {r.key for r in self._rows}:
            return False
        pos = {r.key: i for i, r in enumerate(new)}
        self.layoutAboutToBeChanged.emit()
        old_persistent = self.persistentIndexList()
        moved = [self.index(pos[self._rows[p.row()].key]) for p in old_persistent]
        self._rows = new
        self._reindex()
        self.changePersistentIndexList(old_persistent, moved)
        self.layoutChanged.emit()
        return True

    def row_of(self, key: tuple[str, str]) -> int:
        for i, r in enumerate(self._rows):
            if r.key == key:
                return i
        return -1

    def result(self, index: QModelIndex | int) -> Result | None:
        row = index if isinstance(index, int) else index.row()
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def thumb_key(self, r: Result) -> ThumbKey:
        return (r.path, r.part, self.thumb_px)

    def _reindex(self) -> None:
        self._by_thumb = {}
        for i, r in enumerate(self._rows):
            self._by_thumb.setdefault((r.path, r.part), []).append(i)

    def _thumbnail_ready(self, key: ThumbKey) -> None:
        for row in self._by_thumb.get((key[0], key[1]), ()):
            ix = self.index(row)
            self.dataChanged.emit(ix, ix, [ThumbRole, ThumbStateRole])

    # -- Qt model interface

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return r.name
        if role == ResultRole:
            return r
        if role == PathRole:
            return r.path
        if role == BadgeRole:
            return r.badge
        if role == ScoreRole:
            return r.score
        if role == ThumbRole:
            return self.thumbs.get(self.thumb_key(r))
        if role == ThumbStateRole:
            t = self.thumbs.get(self.thumb_key(r))
            return "loading" if t is None else ("broken" if t == BROKEN else "ready")
        if role == Qt.ItemDataRole.ToolTipRole:
            sim = "" if r.similarity is None else f", similarity {r.similarity:.3f}"
            return f"{r.path}\n{r.badge} · score {r.score:.3f}{sim}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{r.name}, {r.badge}"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list", "text/plain"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Dragging results out: file URLs (file managers, mail, editors) and plain paths."""
        paths = list(dict.fromkeys(self._rows[i.row()].path for i in indexes if i.isValid()))
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        mime.setText("\n".join(paths))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.LinkAction
