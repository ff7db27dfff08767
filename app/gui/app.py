"""Start the window: a QApplication, the icon, the main window shown at once, then the engine.

``SCRY_GUI_BENCH=1`` prints a JSON line per startup milestone (wall-clock times) to stdout and,
with ``--query``, quits after the first results: ``bench/bench_gui_startup.py`` reads them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "scry.svg"


def display_problem() -> str | None:
    """Why no window can open here (no display on Linux), or None."""
    if not sys.platform.startswith("linux"):
        return None
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "No display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). "
        "Run scry from your desktop session, or use the commands: scry search, scry index."
    )


def app_icon():
    from .qt import QIcon

    return QIcon(str(ICON)) if ICON.is_file() else QIcon()


def make_app(argv: list[str] | None = None):
    from .qt import QApplication, QGuiApplication, Qt

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(argv or [sys.argv[0]])
        app.setApplicationName("scry")
        app.setApplicationDisplayName("scry")
        app.setDesktopFileName("scry")
        app.setWindowIcon(app_icon())
    return app


def request_of(
    *,
    query: str | None = None,
    image: str | None = None,
    similar: str | None = None,
    background: bool = False,
) -> dict:
    """What this launch asks for, as a message for the running instance (see ``instance``)."""
    from .instance import make_request

    if similar:
        return make_request("similar", text=query or "", path=similar)
    if image:
        return make_request("image", text=query or "", path=image)
    if query:
        return make_request("search", text=query)
    return make_request("background" if background else "show")


def start_instance(
    home: Path,
    request: dict,
    *,
    model: str | None = None,
    background: bool = False,
):
    """Become the running scry (window, tray, instance socket) and return the window, or hand
    ``request`` over to the scry already running for ``home`` and return None."""
    from .instance import InstanceServer, send, server_name

    make_app()
    server = InstanceServer(server_name(home))
    if not server.listen() and send(server.name, request):
        return None  # another scry runs for this data folder: it takes over
    from . import tray as tray_mod
    from .backend import Backend
    from .main_window import MainWindow

    win = MainWindow(Backend(home=home, model=model), app_icon())
    server.setParent(win)
    server.request.connect(win.handle_request)
    win.server = server
    if tray_mod.available():
        win.tray = tray_mod.Tray(win, app_icon())
        win.tray.show()
    if background and win.tray is not None:
        win.start()  # only the tray: index and follow the folders
        return win
    if background:
        log.info("No system tray here: showing the window instead of starting in the tray")
    win.show()
    win.start()
    win.handle_request(request)
    return win


def run(
    *,
    home: Path | None = None,
    model: str | None = None,
    query: str | None = None,
    image: str | None = None,
    similar: str | None = None,
    background: bool = False,
) -> int:
    """Open the window (or only the tray icon with ``background``), unless scry already runs:
    then hand this launch's request over to it and return 0."""
    t0 = time.time()
    from scry.indexer.config import data_home

    request = request_of(query=query, image=image, similar=similar, background=background)
    app = make_app()
    bench = os.environ.get("SCRY_GUI_BENCH") == "1"
    win = start_instance(
        Path(home) if home else data_home(), request, model=model, background=background
    )
    if win is None:
        return 0
    win.quit_requested.connect(app.quit)
    if win.tray is not None:
        app.setQuitOnLastWindowClosed(False)  # closing the window keeps scry in the tray
    if bench:
        for name in win.milestones:  # already reached before we listened
            print(json.dumps({"event": name, "t": win.milestones[name], "t0": t0}), flush=True)

        def report(name: str) -> None:
            print(json.dumps({"event": name, "t": win.milestones[name], "t0": t0}), flush=True)
            if name == "first-results" and query:
                app.quit()

        win.milestone.connect(report)
    code = app.exec()
    win.shutdown()
    win.server.close()
    return code
