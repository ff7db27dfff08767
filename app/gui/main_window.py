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

from .backend import Backend
from .filters import FilterBar
from .lifecycle import Lifecycle
from .preview import PreviewPane
from .qt import (
    QAction,
    QHBoxLayout,
    QIcon,
    QItemSelectionModel,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMenu,
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
from .query_input import QueryInput
from .result_actions import ResultActions
from .results_model import ResultsModel
from .searchbar import SearchBar
from .statusbar import StatusBar
from .tasks import TaskRunner
from .thumbs import ThumbnailLoader
from .values import Found, Query, Result
from .view import EmptyState, ResultsView

log = logging.getLogger(__name__)

DEBOUNCE_MS = 250


class MainWindow(Lifecycle, QueryInput, ResultActions, QMainWindow):
    results_shown = Signal(int)  # rows shown after a search finished (tests, bench)
    milestone = Signal(str)  # "shown", "index-open", "model-ready", "first-results"
    quit_requested = Signal()  # the tray's Quit: leave the application, not just this window
    indexing_changed = Signal(object)  # an IndexProgress, every poll (the tray listens)

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

    def refresh_search(self) -> None:
        """Search again in place (new files were indexed): keep selection and scroll position."""
        q = self._query
        if q is None:
            return

        def done(found: Found) -> None:
            if q != self._query:
                return
            if found.rows:
                self.stack.setCurrentWidget(self.split)
                self.refine_results(found.rows)
            if found.refined is not None:
                self.runner.submit(
                    "rerank", found.refined, latest_only=True, on_done=lambda r: self._refined(q, r)
                )

        self.runner.submit("search", self.backend.search, q, latest_only=True, on_done=done)

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
