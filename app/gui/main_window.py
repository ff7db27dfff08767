"""The main window: search field and filters on top, results grid and preview, status bar.

It shows at once and loads everything else in the background (``lifecycle.Lifecycle``): the
catalog, then the model. Every engine call runs in a worker through ``TaskRunner``; searches use
a latest-only lane, so typing fast never shows an older query's results.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path

from . import actions
from .backend import Backend, Found, Query, Result
from .filters import FilterBar
from .lifecycle import Lifecycle
from .mime import Payload, parse
from .preview import PREVIEW_PX, PreviewPane
from .qt import (
    QAction,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QIcon,
    QImage,
    QItemSelectionModel,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMenu,
    QModelIndex,
    QPixmap,
    QShortcut,
    QSplitter,
    QStackedWidget,
    Qt,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .results_model import ResultsModel
from .searchbar import SearchBar
from .statusbar import StatusBar
from .tasks import TaskRunner
from .thumbs import BROKEN, ThumbnailLoader
from .view import EmptyState, ResultsView

log = logging.getLogger(__name__)

DEBOUNCE_MS = 250
CHIP_PX = 48


class MainWindow(Lifecycle, QMainWindow):
    results_shown = Signal(int)  # rows shown after a search finished (tests, bench)
    milestone = Signal(str)  # "shown", "index-open", "model-ready", "first-results"

    def __init__(self, backend: Backend, icon: QIcon | None = None, *, first_run: bool = True):
        super().__init__()
        self.backend = backend
        self.icon = icon or QIcon()
        self.first_run_enabled = first_run
        self.milestones: dict[str, float] = {}
        self.setWindowTitle("scry")
        self.setWindowIcon(self.icon)
        self.resize(1180, 760)
        self.setAcceptDrops(True)

        self.runner = TaskRunner(self)
        self.runner.lane("io", 2)
        self.thumbs = ThumbnailLoader(backend.thumbnail, parent=self)
        self.thumbs.ready.connect(self._thumbnail_ready)
        self.model = ResultsModel(self.thumbs, self)
        self._query: Query | None = None
        self._build()
        self._wire()
        self._init_lifecycle()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 10, 12, 4)
        outer.setSpacing(8)

        top = QHBoxLayout()
        self.search = SearchBar()
        self.menu_btn = QToolButton()
        self.menu_btn.setText("☰")
        self.menu_btn.setToolTip("Menu")
        self.menu_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_btn.setAutoRaise(True)
        f = self.menu_btn.font()
        f.setPointSizeF(f.pointSizeF() * 1.4)
        self.menu_btn.setFont(f)
        top.addWidget(self.search, 1)
        top.addWidget(self.menu_btn)
        self.filters = FilterBar()

        self.view = ResultsView()
        self.view.setModel(self.model)
        self.model.thumb_px = round(self.view.delegate.thumb * self.devicePixelRatioF())
        self.preview = PreviewPane()
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.view)
        self.split.addWidget(self.preview)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([800, 340])
        self.split.setChildrenCollapsible(False)

        self.empty = EmptyState(self.icon)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.split)

        outer.addLayout(top)
        outer.addWidget(self.filters)
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status = StatusBar()
        self.setStatusBar(self.status)

        self.drop_overlay = QLabel("Drop an image or a file to search for things like it", central)
        self.drop_overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_overlay.setStyleSheet(
            "background: rgba(40, 110, 220, 40); border: 3px dashed palette(highlight);"
            " border-radius: 14px; font-size: 18pt; color: palette(text);"
        )
        self.drop_overlay.hide()

        menu = QMenu(self)
        self.act_add = menu.addAction("Add a folder…", self.add_folder)
        self.act_update = menu.addAction("Update the index now", self.update_index)
        self.act_update.setShortcut(QKeySequence("F5"))
        self.act_errors = menu.addAction("Files that could not be read…", self.show_errors)
        menu.addSeparator()
        self.act_settings = menu.addAction("Settings…", self.open_settings)
        self.act_settings.setShortcut(QKeySequence("Ctrl+,"))
        menu.addSeparator()
        self.act_quit = menu.addAction("Quit", self.close)
        self.act_quit.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        self.menu_btn.setMenu(menu)
        for a in (self.act_update, self.act_settings, self.act_quit):
            self.addAction(a)

        self.act_similar = QAction("Find similar", self)
        self.act_similar.setShortcut(QKeySequence("Ctrl+Shift+F"))
        self.act_similar.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.act_similar.triggered.connect(self.find_similar)
        self.addAction(self.act_similar)

    def _wire(self) -> None:
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_search)
        self.search.text_changed.connect(lambda _t: self._debounce.start())
        self.search.submitted.connect(self.run_search)
        self.search.image_changed.connect(self.run_search)
        self.search.paste_payload.connect(self.accept_payload)
        self.search.browse_image.connect(self.browse_image)
        self.search.down_pressed.connect(self.focus_results)
        self.filters.changed.connect(self.run_search)

        self.view.open_requested.connect(self.open_current)
        self.view.preview_toggled.connect(self.toggle_preview)
        self.view.type_ahead.connect(self._type_ahead)
        self.view.escape_pressed.connect(self.clear_search)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

        self.preview.open_requested.connect(self.open_current)
        self.preview.reveal_requested.connect(self.reveal_current)
        self.preview.similar_requested.connect(self.find_similar)
        self.preview.copy_requested.connect(self.copy_path)

        self.status.errors_clicked.connect(self.show_errors)
        self.status.stop_clicked.connect(self.stop_indexing)

        QShortcut(QKeySequence("Escape"), self, self.clear_search)
        QShortcut(QKeySequence("Ctrl+L"), self, self.focus_search)
        QShortcut(QKeySequence("Ctrl+F"), self, self.focus_search)
        QShortcut(QKeySequence("Ctrl+O"), self, self.browse_image)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self, self._paste_in_window)

    def mark(self, name: str) -> None:
        if name not in self.milestones:
            self.milestones[name] = time.time()
            self.milestone.emit(name)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, lambda: self.mark("shown"))

    # ------------------------------------------------------------------ search

    def current_query(self) -> Query:
        q = Query(text=self.search.text, image=self.search.image, similar=self.search.similar)
        return self.filters.apply(q)

    def run_search(self) -> None:
        self._debounce.stop()
        q = self.current_query()
        if q.is_empty():
            self.runner.invalidate("search")
            self.runner.invalidate("rerank")
            self._query = None
            self.model.set_results([])
            self.preview.clear()
            self.show_idle_state()
            return
        self._query = q
        self.runner.invalidate("rerank")
        what = q.text.strip() or (Path(q.image).name if q.image else "filters")
        self.status.say(f"Searching for “{what}”…" + self._waiting_note())
        self.runner.submit(
            "search",
            self.backend.search,
            q,
            latest_only=True,
            on_done=partial(self._show_results, q),
            on_error=partial(self._search_failed, q),
        )

    def _waiting_note(self) -> str:
        return "" if self.model_state in ("ready", "keyword-only") else " (waiting for the model)"

    def _show_results(self, q: Query, found: Found) -> None:
        rows = found.rows
        self.model.set_results(rows)
        if found.refined is not None:
            self.runner.submit(
                "rerank",
                found.refined,
                latest_only=True,
                on_done=lambda refined: self._refined(q, refined),
            )
        if rows:
            self.stack.setCurrentWidget(self.split)
            self.view.selectionModel().setCurrentIndex(
                self.model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.view.scrollToTop()
            n = len(rows)
            self.status.say(f"{n:,} result{'s' if n != 1 else ''}" + self._state_suffix())
            self.mark("first-results")
        else:
            self.preview.clear()
            what = q.text.strip() or (Path(q.image).name if q.image else "these filters")
            hint = "Try other words"
            if self.filters.active():
                hint += ", or clear the filters"
            self.empty.show_message(f"No matches for “{what}”", found.message or hint + ".")
            self.stack.setCurrentWidget(self.empty)
            self.status.say("No matches" + self._state_suffix())
        self.results_shown.emit(len(rows))

    def _search_failed(self, q: Query, exc: BaseException) -> None:
        log.info("Search failed: %s", exc)
        self.model.set_results([])
        self.preview.clear()
        self.empty.show_message("Cannot search that", str(exc))
        self.stack.setCurrentWidget(self.empty)
        self.status.say(str(exc))
        self.results_shown.emit(0)

    def _refined(self, q: Query, rows: list[Result] | None) -> None:
        if rows and q == self._query:
            self.refine_results(rows)

    def refine_results(self, rows: list[Result]) -> None:
        """New order for the same query (reranking): keep selection and scroll position."""
        if self.model.refine(rows):
            return
        cur = self.model.result(self.view.currentIndex())
        scroll = self.view.verticalScrollBar().value()
        self.model.set_results(rows)
        if cur is not None and (row := self.model.row_of(cur.key)) >= 0:
            self.view.selectionModel().setCurrentIndex(
                self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        self.view.verticalScrollBar().setValue(scroll)

    def clear_search(self) -> None:
        had = bool(self.search.text or self.search.image)
        self.search.clear()
        if had:
            self.run_search()
        self.focus_search()

    def focus_search(self) -> None:
        self.search.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.edit.selectAll()

    def focus_results(self) -> None:
        if self.model.rowCount():
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)
            if not self.view.currentIndex().isValid():
                self.view.setCurrentIndex(self.model.index(0))

    def _type_ahead(self, text: str) -> None:
        self.search.edit.setFocus()
        self.search.edit.insert(text)

    # ------------------------------------------------------------------ query images

    def accept_payload(self, payload: Payload) -> None:
        """A dropped or pasted file, image, URL or text becomes part of the query."""
        if payload.path:
            self.set_query_image(payload.path)
        elif payload.image is not None:
            image: QImage = payload.image
            target = self.backend.new_query_image_path(".png")
            self.runner.submit(
                "io",
                lambda: str(target) if image.save(str(target), "PNG") else None,
                on_done=lambda p: (
                    self.set_query_image(p)
                    if p
                    else self.status.say("Could not keep the pasted image.")
                ),
            )
        elif payload.url:
            self.status.say(f"Fetching {payload.url}…")
            self.runner.submit(
                "io",
                self.backend.fetch_image,
                payload.url,
                on_done=lambda p: self.set_query_image(str(p)),
                on_error=lambda e: self.status.say(f"Could not use that image: {e}"),
            )
        elif payload.text:
            self.search.edit.insert(payload.text)

    def set_query_image(self, path: str, *, similar: bool = False) -> None:
        cached = self.thumbs.get((path, None, CHIP_PX))
        self.search.set_image(
            path, similar=similar, pixmap=cached if isinstance(cached, QPixmap) else None
        )

    def browse_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Search with an image",
            "",
            "Images and documents (*.jpg *.jpeg *.png *.webp *.gif *.bmp *.tif *.tiff *.heic *.avif *.pdf);;All files (*)",
        )
        if path:
            self.set_query_image(path)

    def _paste_in_window(self) -> None:
        payload = parse(QApplication.clipboard().mimeData())
        if payload is not None:
            self.accept_payload(payload)
            self.focus_search()

    def dragEnterEvent(self, event) -> None:
        if event.source() is self.view:
            event.ignore()
            return
        payload = parse(event.mimeData())
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        if payload.searchable:  # words are just typed; images get the big drop target
            self.drop_overlay.setGeometry(self.centralWidget().rect().adjusted(8, 8, -8, -8))
            self.drop_overlay.raise_()
            self.drop_overlay.show()

    def dragLeaveEvent(self, event) -> None:
        self.drop_overlay.hide()

    def dropEvent(self, event) -> None:
        self.drop_overlay.hide()
        payload = parse(event.mimeData())
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.accept_payload(payload)

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
        got = self.thumbs.get((r.path, r.page, px))
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
        if r is not None and (r.path, r.page) == (path, page) and size > self.model.thumb_px:
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
                r.path, r.page, lambda: self.backend.thumbnail(r.path, r.page, 2048)
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
