"""Using the results: keyboard, find similar, open, copy, drag out, thumbnails, big result lists."""

from __future__ import annotations

import time
from pathlib import Path

from scry.app.gui.backend import Result
from scry.app.gui.qt import QDesktopServices, QGuiApplication, QObject, Qt, Slot
from scry.app.gui.results_model import ThumbStateRole
from tests.app.conftest import Library, open_window, search_and_wait


class UrlCatcher(QObject):
    """Receives file:// URLs that the window asks the desktop to open (nothing really opens)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot("QUrl")
    def handle(self, url) -> None:
        self.urls.append(url.toLocalFile())


def test_keyboard_alone(qtbot, window) -> None:
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "handle")
    try:
        rows = search_and_wait(qtbot, window, "trip")
        assert len(rows) >= 2
        qtbot.keyClick(window.search.edit, Qt.Key.Key_Down)
        assert window.view.hasFocus()
        assert window.view.currentIndex().row() == 0
        qtbot.keyClick(window.view, Qt.Key.Key_Right)
        assert window.view.currentIndex().row() == 1
        assert window.preview.title.text() == rows[1].name
        qtbot.keyClick(window.view, Qt.Key.Key_Return)
        assert catcher.urls == [rows[1].path]
        assert window.preview.isVisible()
        qtbot.keyClick(window.view, Qt.Key.Key_Space)
        assert not window.preview.isVisible()
        qtbot.keyClick(window.view, Qt.Key.Key_Space)
        assert window.preview.isVisible()
        qtbot.keyClick(window.view, "x")  # typing in the grid goes to the search field
        assert window.search.edit.hasFocus() and window.search.text.endswith("x")
        window.view.setFocus()
        qtbot.keyClick(window.view, Qt.Key.Key_Escape)
        assert window.search.text == "" and window.search.edit.hasFocus()
    finally:
        QDesktopServices.unsetUrlHandler("file")


def test_context_menu_find_similar(qtbot, window, library: Library) -> None:
    rows = search_and_wait(qtbot, window, "lake")
    lake = library.root / "trip" / "blue lake.png"
    assert rows[0].path == str(lake)
    pos = window.view.visualRect(window.model.index(0)).center()
    window.view.customContextMenuRequested.emit(pos)
    menu = window.context_menu
    labels = [a.text() for a in menu.actions() if a.text()]
    assert labels == ["Open", "Show in folder", "Copy path", "Copy image", "Find similar"]
    similar = next(a for a in menu.actions() if a.text() == "Find similar")
    assert similar.shortcut().toString() == "Ctrl+Shift+F"
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        similar.trigger()
    menu.close()
    assert window.search.image == str(lake) and window.search.similar
    assert window.search.chip.label.text().startswith("like ")
    paths = [r.path for r in window.model.rows]
    assert paths and str(lake) not in paths  # files *like* it, not the file itself


def test_find_similar_by_shortcut_and_preview_button(qtbot, window) -> None:
    rows = search_and_wait(qtbot, window, "beach")
    window.view.setFocus()
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        qtbot.keyClick(
            window.view,
            Qt.Key.Key_F,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert window.search.image == rows[0].path and window.search.similar
    second = window.model.rows[0]
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        qtbot.mouseClick(window.preview.similar_btn, Qt.MouseButton.LeftButton)
    assert window.search.image == second.path


def test_copy_path_copy_image_and_drag_out(qtbot, window) -> None:
    rows = search_and_wait(qtbot, window, "beach")
    photo = next(i for i, r in enumerate(rows) if r.kind == "image")
    window.view.setCurrentIndex(window.model.index(photo))
    window.copy_path()
    clip = QGuiApplication.clipboard()
    assert clip.text() == rows[photo].path
    assert clip.mimeData().urls()[0].toLocalFile() == rows[photo].path
    window.copy_image()
    qtbot.waitUntil(lambda: clip.mimeData().hasImage(), timeout=10_000)
    assert not clip.image().isNull()
    mime = window.model.mimeData([window.model.index(photo)])
    assert [u.toLocalFile() for u in mime.urls()] == [rows[photo].path]


def test_thumbnails_load_and_a_broken_file_shows_a_placeholder(
    qtbot, private_library: Library, monkeypatch
) -> None:
    # damage a photo after it was indexed: its thumbnail cannot be made any more. The index
    # still lists it as it was (the live service would notice and re-read it: keep it from
    # starting, so the window shows the moment before it does)
    from scry.app.gui.backend import Backend

    monkeypatch.setattr(Backend, "start_service", lambda self: None)
    damaged = private_library.root / "red car.png"
    damaged.write_bytes(b"\x89PNG\r\n\x1a\n not a png any more")
    win = open_window(qtbot, private_library)
    rows = search_and_wait(qtbot, win, "png")
    bad = next(i for i, r in enumerate(rows) if r.path == str(damaged))
    good = next(i for i, r in enumerate(rows) if r.path != str(damaged))

    def state(i: int) -> str:
        return win.model.index(i).data(ThumbStateRole)

    qtbot.waitUntil(lambda: state(bad) != "loading" and state(good) != "loading", timeout=10_000)
    assert state(bad) == "broken"
    assert state(good) == "ready"
    win.view.setCurrentIndex(win.model.index(bad))
    qtbot.waitUntil(lambda: win.preview.image.text() == "No preview for this file", timeout=10_000)
    assert not win.view.grab().isNull()  # painting the placeholder raises nothing
    cache = private_library.home / "cache" / "thumbnails"
    assert any(cache.rglob("*.jpg")) and any(cache.rglob("*.fail"))
    win.close()


def test_refined_results_keep_selection_and_scroll(qtbot, window) -> None:
    rows = [
        Result(path=f"/nowhere/img{i:05d}.jpg", kind="image", locator={}, score=1 - i / 1e4)
        for i in range(3000)
    ]
    window.model.set_results(rows)
    window.stack.setCurrentWidget(window.split)
    bar = window.view.verticalScrollBar()
    last = window.model.index(2999)
    qtbot.waitUntil(lambda: window.view.visualRect(last).isValid(), timeout=10_000)  # laid out
    window.view.setCurrentIndex(window.model.index(1200))
    window.view.scrollTo(window.model.index(1200))
    qtbot.waitUntil(lambda: bar.value() > 0, timeout=5_000)
    scroll = window.view.verticalScrollBar().value()
    assert scroll > 0
    reordered = rows[::-1]
    window.refine_results(reordered)
    assert window.current_result() == rows[1200]
    assert window.view.currentIndex().row() == 3000 - 1 - 1200
    assert window.view.verticalScrollBar().value() == scroll


def test_a_hundred_thousand_results_stay_smooth(qtbot, window) -> None:
    rows = [
        Result(path=f"/nowhere/{i:06d}.jpg", kind="image", locator={}, score=1.0)
        for i in range(100_000)
    ]
    window.stack.setCurrentWidget(window.split)
    t = time.perf_counter()
    window.model.set_results(rows)
    window.view.setCurrentIndex(window.model.index(0))
    qtbot.wait(1)
    loaded = time.perf_counter() - t
    bar = window.view.verticalScrollBar()
    last = window.model.index(99_999)
    t = time.perf_counter()
    qtbot.waitUntil(lambda: window.view.visualRect(last).isValid(), timeout=20_000)
    laid_out = time.perf_counter() - t
    worst = 0.0
    for frac in (0.25, 0.5, 0.75, 1.0, 0.1):
        t = time.perf_counter()
        bar.setValue(int(bar.maximum() * frac))
        window.view.viewport().repaint()
        worst = max(worst, time.perf_counter() - t)
    t = time.perf_counter()
    qtbot.keyClick(window.view, Qt.Key.Key_End)
    key_end = time.perf_counter() - t
    print(
        f"100k rows: set {loaded * 1000:.0f} ms, batched layout {laid_out * 1000:.0f} ms, "
        f"worst scroll+paint {worst * 1000:.1f} ms, End key {key_end * 1000:.1f} ms"
    )
    assert loaded < 1.5
    assert worst < 0.1  # a frame or so: only visible cells are painted
    assert key_end < 0.2
    assert window.view.currentIndex().row() == 99_999
    assert Path(window.current_result().path).name == "099999.jpg"
