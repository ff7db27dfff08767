"""Fixtures for the window's tests: offscreen Qt, an indexed sample library, a started window.

The window is real and so is the engine (tiny random CLIP from ``clip_dir``); keyword matches
(file names, note and PDF text) make the expected results predictable.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# Before any QApplication exists: the GUI tests never need a display.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from tests.conftest import CORPUS, make_image


@pytest.fixture(autouse=True)
def _empty_clipboard():
    """Each test starts and ends with an empty clipboard. (Offscreen Qt's clipboard also crashes
    at exit if it still holds mime data made in Python; the real X11 one does not.)"""
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.clipboard().clear()


@dataclass
class Library:
    root: Path  # the indexed folder
    home: Path  # scry's data folder, already indexed
    model: Path


def build_library(root: Path) -> Path:
    make_image(root / "red car.png", (220, 20, 20), size=(160, 120))
    make_image(root / "beach sunset.jpg", (240, 150, 40), size=(160, 120), pattern=3)
    make_image(root / "trip" / "blue lake.png", (20, 40, 220), size=(120, 160), pattern=5)
    make_image(root / "trip" / "green forest.webp", (30, 170, 60), size=(160, 120), pattern=7)
    (root / "notes").mkdir(parents=True, exist_ok=True)
    (root / "notes" / "dogs.txt").write_text(
        "My dog loves running on the beach and chasing the waves every morning.",
        encoding="utf-8",
    )
    (root / "notes" / "tax.md").write_text(
        "# Taxes\n\nThe income tax return is due in April; keep the receipts and invoices.",
        encoding="utf-8",
    )
    shutil.copy(CORPUS / "documents" / "pdflatex-4-pages.pdf", root / "report.pdf")
    (root / "damaged.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    return root


def index_into(home: Path, folder: Path, model: Path) -> None:
    from scry.indexer.engine import Engine

    eng = Engine(home=home, model=str(model))
    try:
        eng.index([folder])
    finally:
        eng.close()


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory, clip_dir: Path) -> Library:
    base = tmp_path_factory.mktemp("gui-lib")
    root = build_library(base / "library")
    home = base / "home"
    index_into(home, root, clip_dir)
    return Library(root=root, home=home, model=clip_dir)


@pytest.fixture
def private_library(tmp_path: Path, library: Library) -> Library:
    """A copy of the indexed library for tests that change files or settings."""
    root = tmp_path / "library"
    shutil.copytree(library.root, root)
    home = tmp_path / "home"
    index_into(home, root, library.model)
    return Library(root=root, home=home, model=library.model)


def open_window(qtbot, lib: Library, *, first_run: bool = False, wait_ready: bool = True):
    from scry.app.gui.app import app_icon
    from scry.app.gui.backend import Backend
    from scry.app.gui.main_window import MainWindow

    win = MainWindow(Backend(home=lib.home, model=str(lib.model)), app_icon(), first_run=first_run)
    qtbot.addWidget(win)
    win.show()
    win.start()
    if wait_ready:
        qtbot.waitUntil(lambda: win.model_state in ("ready", "keyword-only"), timeout=30_000)
        assert win.model_state == "ready", win.model_error
    return win


@pytest.fixture
def window(qtbot, library: Library):
    win = open_window(qtbot, library)
    yield win
    win.close()


def search_and_wait(qtbot, win, text: str | None = None, *, timeout: int = 20_000) -> list:
    """Type ``text`` (if given) and wait for the next results; returns the result rows."""
    with qtbot.waitSignal(win.results_shown, timeout=timeout):
        if text is not None:
            win.search.edit.clear()
            qtbot.keyClicks(win.search.edit, text)
    return list(win.model.rows)
