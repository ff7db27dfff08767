"""Start the window: a QApplication, the icon, the main window shown at once, then the engine.

``SCRY_GUI_BENCH=1`` prints a JSON line per startup milestone (wall-clock times) to stdout and,
with ``--query``, quits after the first results: ``bench/bench_gui_startup.py`` reads them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

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


def run(
    *,
    home: Path | None = None,
    model: str | None = None,
    query: str | None = None,
    image: str | None = None,
    similar: str | None = None,
) -> int:
    t0 = time.time()
    bench = os.environ.get("SCRY_GUI_BENCH") == "1"
    app = make_app()
    from .backend import Backend
    from .main_window import MainWindow

    win = MainWindow(Backend(home=home, model=model), app_icon())
    if bench:

        def report(name: str) -> None:
            print(json.dumps({"event": name, "t": win.milestones[name], "t0": t0}), flush=True)
            if name == "first-results" and query:
                app.quit()

        win.milestone.connect(report)
    if query:
        win.search.edit.setText(query)
    if image:
        win.set_query_image(str(Path(image).expanduser().resolve()))
    elif similar:
        win.set_query_image(str(Path(similar).expanduser().resolve()), similar=True)
    win.show()
    win.start()
    code = app.exec()
    if win.isVisible():
        win.close()
    return code
