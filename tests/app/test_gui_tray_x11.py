"""The tray for real: an X server (Xvfb) with a system tray (trayer), `scry --background`, then a
second launch `scry --show`. Looked at through screenshots of the X screen."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.app.conftest import Library

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1200, 800)

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("trayer") is None,
    reason="needs Xvfb and trayer (scripts/setup installs them for the tests)",
)

XVFB = ["Xvfb", "-nolisten", "tcp"]
TRAYER = [
    *("trayer", "--edge", "top", "--align", "right", "--width", "10", "--height", "32"),
    *("--SetDockType", "true", "--transparent", "false", "--tint", "0x333333"),
]

GRAB = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
app.primaryScreen().grabWindow(0).save(sys.argv[1])
"""


@pytest.fixture
def display():
    r, w = os.pipe()
    xvfb = subprocess.Popen(
        [*XVFB, "-displayfd", str(w), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as fh:
        number = fh.readline().strip()
    env = {**os.environ, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    tray = subprocess.Popen(
        TRAYER,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    yield env
    tray.kill()
    tray.wait(10)
    xvfb.send_signal(signal.SIGTERM)
    xvfb.wait(10)


def grab(env: dict, path: Path) -> np.ndarray:
    subprocess.run([sys.executable, "-c", GRAB, str(path)], env=env, check=True, timeout=60)
    return np.asarray(Image.open(path).convert("RGB"), dtype=float)


def wait_for(predicate, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_background_start_lives_in_the_tray_and_show_raises_the_window(
    display, tmp_path, private_library: Library
) -> None:
    env = {**display, "SCRY_HOME": str(private_library.home)}
    log = (tmp_path / "scry.log").open("w")
    scry = subprocess.Popen(
        [sys.executable, "-m", "scry.app", "--background", "--model", str(private_library.model)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        from scry.app.gui.instance import server_name

        sock = server_name(private_library.home)
        assert wait_for(lambda: os.path.exists(sock), 60), "scry --background did not start"
        time.sleep(2.0)
        before = grab(env, tmp_path / "background.png")
        middle = before[200:600, 200:1000]
        assert middle.std() < 3 and middle.mean() < 10, "a window is showing; only the tray should"
        icon = before[0:32, SCREEN[0] - 60 : SCREEN[0]]  # the tray at the top right
        assert icon.std() > 20, "no tray icon"
        assert scry.poll() is None

        # a second launch raises the running instance's window, and exits
        second = subprocess.run(
            [sys.executable, "-m", "scry.app", "--show"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stderr

        def window_shown() -> bool:
            shot = grab(env, tmp_path / "shown.png")
            return shot[200:600, 200:1000].std() > 10

        assert wait_for(window_shown, 30), "the window did not come up"
        assert scry.poll() is None  # still the one instance
    finally:
        scry.send_signal(signal.SIGTERM)
        try:
            scry.wait(20)
        except subprocess.TimeoutExpired:
            scry.kill()
        log.close()
