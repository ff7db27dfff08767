"""Searching in the window: typing, filters, sort, the empty state, and stale results."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

from scry.app.gui.qt import Qt
from tests.app.conftest import Library, search_and_wait


def names(rows) -> list[str]:
    return [Path(r.path).name for r in rows]


def test_window_shows_at_once_with_a_loading_state(qtbot, library: Library) -> None:
    from tests.app.conftest import open_window

    t = time.perf_counter()
    win = open_window(qtbot, library, wait_ready=False)
    shown = time.perf_counter() - t
    assert win.isVisible()
    assert shown < 2.0, f"window took {shown:.2f}s to show"
    assert win.stack.currentWidget() is win.empty
    assert win.status.message.text()  # "Opening the index…" / "Loading the model…"
    qtbot.waitUntil(lambda: win.model_state == "ready", timeout=30_000)
    assert "files indexed" in win.status.message.text()
    assert "Type to search" in win.empty.headline.text()
    win.close()


def test_typing_a_query_shows_results_and_a_preview(qtbot, window) -> None:
    rows = search_and_wait(qtbot, window, "beach")
    assert "beach sunset.jpg" in names(rows) or "dogs.txt" in names(rows)
    assert window.stack.currentWidget() is window.split
    first = window.model.rows[0]
    assert window.view.currentIndex().row() == 0
    assert window.preview.title.text() == first.name
    assert "result" in window.status.message.text()
    # the grid's cells carry the type badge and the score in their tooltip
    from scry.app.gui.results_model import BadgeRole

    badges = {window.model.index(i).data(BadgeRole) for i in range(window.model.rowCount())}
    assert badges & {"Photo", "Document"}
    tip = window.model.index(0).data(3)  # ToolTipRole
    assert "score" in tip and first.path in tip


def test_document_preview_highlights_the_query_words(qtbot, window) -> None:
    rows = search_and_wait(qtbot, window, "receipts invoices")
    row = names(rows).index("tax.md")
    window.view.setCurrentIndex(window.model.index(row))
    qtbot.waitUntil(lambda: window.preview.snippet.isVisible(), timeout=10_000)
    html = window.preview.snippet.toHtml()
    assert "receipts" in html and "background-color:#ffe27a" in html


def test_pdf_pages_show_page_badges_and_their_text(qtbot, window) -> None:
    rows = search_and_wait(qtbot, window, "printed text")
    pages = [r for r in rows if r.path.endswith("report.pdf")]
    assert pages and pages[0].badge.startswith("PDF p.")
    window.view.setCurrentIndex(window.model.index(rows.index(pages[0])))
    qtbot.waitUntil(lambda: window.preview.snippet.isVisible(), timeout=10_000)
    assert "text" in window.preview.snippet.toPlainText().lower()


def test_typing_fast_searches_once_after_a_pause(qtbot, window) -> None:
    calls = []
    real = window.backend.search

    def counting(q, *a):
        calls.append(q.text)
        return real(q, *a)

    window.backend.search = counting
    search_and_wait(qtbot, window, "sunset")
    assert calls == ["sunset"], calls


def test_nothing_found_says_so(qtbot, window) -> None:
    window.filters.after.set_value(date.today() + timedelta(days=2))
    rows = search_and_wait(qtbot, window, "beach")
    assert rows == []
    assert window.stack.currentWidget() is window.empty
    assert "No matches" in window.empty.headline.text()
    assert "clear the filters" in window.empty.hint.text() or window.empty.hint.text()


def test_type_filter_builds_query_language_and_keeps_only_that_type(qtbot, window) -> None:
    search_and_wait(qtbot, window, "beach")
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        window.filters.type.setCurrentIndex(window.filters.type.findData("photo"))
    q = window.current_query()
    assert "type:photo" in q.engine_text()
    assert window.model.rows and all(r.file_kind == "image" for r in window.model.rows)
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        window.filters.type.setCurrentIndex(window.filters.type.findData("doc"))
    assert all(r.file_kind not in ("image", "pdf") for r in window.model.rows)


def test_folder_filter_and_date_sort(qtbot, window, library: Library) -> None:
    trip = str(library.root / "trip")
    qtbot.waitUntil(lambda: window.filters.folder.count() > 1, timeout=10_000)
    # the folder list holds the indexed roots; narrow to a subfolder through the query
    window.filters.add_folder(trip)
    search_and_wait(qtbot, window, "trip")
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        window.filters.folder.setCurrentIndex(window.filters.folder.findData(trip))
    assert "in:" + trip in window.current_query().engine_text()
    assert len(window.model.rows) == 2
    assert all(r.path.startswith(trip + "/") for r in window.model.rows)
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        window.filters.sort.setCurrentIndex(window.filters.sort.findData("date"))
    assert "sort:date" in window.current_query().engine_text()
    whens = [r.when for r in window.model.rows]
    assert whens == sorted(whens, reverse=True)


def test_a_newer_search_wins_over_a_slow_older_one(qtbot, window) -> None:
    real = window.backend.search

    def slow_for_red(q, *a):
        if "red" in q.text:
            time.sleep(1.2)
        return real(q, *a)

    window.backend.search = slow_for_red
    shown = []
    window.results_shown.connect(shown.append)
    window.search.edit.setText("red car")
    window.run_search()
    window.search.edit.setText("lake")
    window.run_search()
    qtbot.waitUntil(lambda: len(shown) >= 1, timeout=20_000)
    qtbot.wait(1500)  # the slow "red car" search finishes meanwhile and must be ignored
    assert len(shown) == 1
    assert window.current_query().text == "lake"
    assert "red car.png" not in names(window.model.rows[:1])


def test_escape_clears_the_search(qtbot, window) -> None:
    search_and_wait(qtbot, window, "beach")
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Escape)
    assert window.search.text == ""
    assert window.model.rowCount() == 0
    assert window.stack.currentWidget() is window.empty
