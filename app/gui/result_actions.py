"""What a person does with results: preview, open, reveal, copy, drag out and find similar.

A mixin of :class:`MainWindow` (uses its view, model, preview pane, runner and status bar).
File actions run in workers; nothing here blocks the UI thread.
"""

from __future__ import annotations

from . import actions
from .preview import PREVIEW_PX
from .qt import QImage, QKeySequence, QMenu, QModelIndex, QPixmap
from .query_input import CHIP_PX
from .thumbs import BROKEN
from .values import Result


class ResultActions:
    # ------------------------------------------------------------------ current result

    def current_result(self) -> Result | None:
        return self.model.result(self.view.currentIndex())

    def selected_results(self) -> list[Result]:
        rows = sorted(ix.row() for ix in self.view.selectionModel().selectedIndexes())
        out = [r for r in (self.model.result(i) for i in rows) if r is not None]
        cur = self.current_result()
        return out or ([cur] if cur else [])

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        r = self.model.result(current)
        if r is None:
            self.preview.clear()
            return
        if self.preview.isVisible() or self.preview.result is None:
            self._show_preview(r)

    def _show_preview(self, r: Result) -> None:
        self.preview.show_result(r)
        px = round(PREVIEW_PX * self.devicePixelRatioF())
        got = self.thumbs.get((r.path, r.part, px))
        if got is not None:
            self.preview.set_image(got)
        terms = self._query.terms() if self._query else []
        self.runner.submit(
            "details",
            self.backend.details,
            r,
            latest_only=True,
            on_done=lambda d: self.preview.set_details(d, terms),
        )

    def _thumbnail_ready(self, key: tuple) -> None:
        path, page, size = key
        r = self.preview.result
        if r is not None and (r.path, r.part) == (path, page) and size > self.model.thumb_px:
            self.preview.set_image(self.thumbs.get(key))
        if size == CHIP_PX and path == self.search.image:
            got = self.thumbs.get(key)
            self.search.chip.set_pixmap(got if isinstance(got, QPixmap) else None)

    def toggle_preview(self) -> None:
        show = not self.preview.isVisible()
        self.preview.setVisible(show)
        r = self.current_result()
        if show and r is not None:
            self._show_preview(r)

    def thumb_state(self, row: int) -> str:
        got = self.thumbs.get(self.model.thumb_key(self.model.rows[row]))
        return "loading" if got is None else ("broken" if got == BROKEN else "ready")

    # ------------------------------------------------------------------ actions

    def open_current(self) -> None:
        for r in self.selected_results()[:10]:
            if not actions.open_result(r):
                self.status.say(f"No application could open {r.path}")

    def reveal_current(self) -> None:
        r = self.current_result()
        if r is None:
            return
        self.runner.submit(
            "io",
            actions.run_reveal,
            r.path,
            on_done=lambda ok: ok or actions.open_folder(r.path),
        )

    def copy_path(self) -> None:
        paths = [r.path for r in self.selected_results()]
        if paths:
            actions.copy_paths(paths)
            self.status.say("Copied " + (paths[0] if len(paths) == 1 else f"{len(paths)} paths"))

    def copy_image(self) -> None:
        r = self.current_result()
        if r is None:
            return

        def load() -> QImage | None:
            return actions.load_image(
                r.path, r.page, lambda: self.backend.thumbnail(r.path, r.part, 2048)
            )

        def done(img: QImage | None) -> None:
            if img is None:
                self.status.say(f"Cannot read an image from {r.name}")
            else:
                actions.copy_image(img, r.path)
                self.status.say(f"Copied the image of {r.name}")

        self.runner.submit("io", load, on_done=done)

    def find_similar(self) -> None:
        r = self.current_result()
        if r is None:
            return
        self.search.edit.blockSignals(True)
        self.search.edit.clear()
        self.search.edit.blockSignals(False)
        self.set_query_image(r.path, similar=True)

    def _context_menu(self, pos) -> None:
        ix = self.view.indexAt(pos)
        if not ix.isValid():
            return
        if not self.view.selectionModel().isSelected(ix):
            self.view.setCurrentIndex(ix)
        menu = QMenu(self.view)
        menu.addAction("Open", self.open_current).setShortcut(QKeySequence("Return"))
        menu.addAction("Show in folder", self.reveal_current)
        menu.addSeparator()
        menu.addAction("Copy path", self.copy_path)
        menu.addAction("Copy image", self.copy_image)
        menu.addSeparator()
        menu.addAction(self.act_similar)
        self.context_menu = menu
        menu.popup(self.view.viewport().mapToGlobal(pos))
