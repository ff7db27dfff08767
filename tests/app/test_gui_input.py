"""Images into the query: dropped files, raw image data from a browser, URLs, and pasting."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from scry.app.gui.qt import (
    QApplication,
    QGuiApplication,
    QImage,
    QMimeData,
    QPointF,
    Qt,
    QtGui,
    QUrl,
)
from tests.app.conftest import Library, search_and_wait


def drop(win, mime: QMimeData, *, overlay: bool = True) -> None:
    pos = win.rect().center()
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:
        enter = QtGui.QDragEnterEvent(QPointF(pos), *args)  # Qt 6.12+
    except TypeError:
        enter = QtGui.QDragEnterEvent(pos, *args)
    QApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    assert win.drop_overlay.isVisible() == overlay
    ev = QtGui.QDropEvent(
        QPointF(pos),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(win, ev)
    assert not win.drop_overlay.isVisible()


def test_dropping_an_image_file_searches_by_it(qtbot, window, library: Library) -> None:
    target = library.root / "trip" / "blue lake.png"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(target))])
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        drop(window, mime)
    assert window.search.image == str(target)
    assert window.search.chip.isVisible()
    assert "blue lake.png" in window.search.chip.label.text()
    assert window.model.rows[0].path == str(target)  # the picture itself looks most like it


def test_dropped_image_combines_with_words(qtbot, window, library: Library) -> None:
    target = library.root / "red car.png"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(target))])
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        drop(window, mime)
    rows = search_and_wait(qtbot, window, "beach")
    q = window.current_query()
    assert q.image == str(target) and q.text == "beach"
    assert rows  # words + image together still find things
    # the chip's × removes the image; the words keep searching
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        qtbot.mouseClick(window.search.chip.close_btn, Qt.MouseButton.LeftButton)
    assert window.search.image is None and not window.search.chip.isVisible()
    assert window.current_query().text == "beach"


def test_backspace_in_an_empty_field_removes_the_chip(qtbot, window, library: Library) -> None:
    window.set_query_image(str(library.root / "red car.png"))
    assert window.search.chip.isVisible()
    window.search.edit.setFocus()
    qtbot.keyClick(window.search.edit, Qt.Key.Key_Backspace)
    assert window.search.image is None
    assert window.stack.currentWidget() is window.empty


def test_dropping_raw_image_data_from_a_browser(qtbot, window, library: Library) -> None:
    img = QImage(str(library.root / "beach sunset.jpg"))
    assert not img.isNull()
    mime = QMimeData()
    mime.setImageData(img)
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        drop(window, mime)
    saved = Path(window.search.image)
    assert saved.is_file()
    assert saved.parent == library.home / "cache" / "queries"  # never next to the user's files
    assert window.model.rows


def test_dropping_an_image_url_downloads_it(qtbot, window, library: Library) -> None:
    folder = library.root

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(folder), **kw)

        def log_message(self, *a) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/red%20car.png"
        mime = QMimeData()
        mime.setUrls([QUrl(url)])
        mime.setHtml(f'<img src="{url}">')
        with qtbot.waitSignal(window.results_shown, timeout=20_000):
            drop(window, mime)
    except Exception:
        print("status:", window.status.message.text())
        raise
    finally:
        server.shutdown()
        server.server_close()
    assert Path(window.search.image).parent == library.home / "cache" / "queries"
    assert window.model.rows


def test_dropping_plain_text_types_it(qtbot, window) -> None:
    mime = QMimeData()
    mime.setText("beach")
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        drop(window, mime, overlay=False)
    assert window.search.text == "beach"


@pytest.mark.parametrize("kind", ["image", "path", "file-url"])
def test_ctrl_v_pastes_an_image_or_a_path(qtbot, window, library: Library, kind: str) -> None:
    src = library.root / "trip" / "green forest.webp"
    clip = QGuiApplication.clipboard()
    if kind == "image":
        clip.setImage(QImage(str(library.root / "red car.png")))
    elif kind == "path":
        clip.setText(f"'{src}'")
    else:
        m = QMimeData()
        m.setUrls([QUrl.fromLocalFile(str(src))])
        clip.setMimeData(m)
    window.search.edit.setFocus()
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        qtbot.keyClick(window.search.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.search.text == ""  # nothing pasted as text
    if kind == "image":
        assert Path(window.search.image).parent == library.home / "cache" / "queries"
    else:
        assert window.search.image == str(src)
        assert window.model.rows[0].path == str(src)


def test_ctrl_v_with_words_pastes_words(qtbot, window) -> None:
    QGuiApplication.clipboard().setText("sunset")
    window.search.edit.setFocus()
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        qtbot.keyClick(window.search.edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.search.text == "sunset"
    assert window.search.image is None


def test_pasting_into_the_grid_searches_by_the_image(qtbot, window, library: Library) -> None:
    search_and_wait(qtbot, window, "beach")
    QGuiApplication.clipboard().setText(str(library.root / "red car.png"))
    window.view.setFocus()
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        qtbot.keyClick(window.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.search.image == str(library.root / "red car.png")
