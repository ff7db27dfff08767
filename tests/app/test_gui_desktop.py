"""Living on the desktop: one instance per user (hand-over over a local socket) and the tray."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scry.app.gui.indexjob import IndexProgress, describe
from scry.app.gui.instance import BadRequest, InstanceServer, parse_request, server_name
from tests.app.conftest import Library, open_window, search_and_wait

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- the protocol


def test_requests_are_validated() -> None:
    ok = parse_request(b'{"v": 1, "action": "similar", "path": "/x/cat.jpg"}')
    assert ok["path"] == "/x/cat.jpg"
    assert parse_request(b'{"v": 1, "action": "search", "text": "red car"}')["text"] == "red car"
    bad = [
        b"not json",
        b"[1, 2]",
        b'{"v": 2, "action": "show"}',
        b'{"v": 1, "action": "rm -rf"}',
        b'{"v": 1, "action": "similar"}',
        b'{"v": 1, "action": "similar", "path": "relative/cat.jpg"}',
        b'{"v": 1, "action": "show", "path": "/etc/passwd"}',
        b'{"v": 1, "action": "search", "text": 5}',
        b'{"v": 1, "action": "show", "exec": "x"}',
        b'{"v": 1, "action": "search", "text": "' + b"a" * 20000 + b'"}',
        b"\xff\xfe",
    ]
    for data in bad:
        with pytest.raises(BadRequest):
            parse_request(data)


def test_one_socket_per_user_and_data_folder(tmp_path) -> None:
    a, b = server_name(tmp_path / "a"), server_name(tmp_path / "b")
    assert a != b and a == server_name(tmp_path / "a")
    if sys.platform != "win32":
        assert os.path.isabs(a) and str(os.getuid()) in Path(a).name


# ---------------------------------------------------------------------------- the socket


@pytest.fixture
def server(qtbot, tmp_path):
    from scry.app.gui.app import make_app

    make_app()
    srv = InstanceServer(server_name(tmp_path / "home"))
    assert srv.listen()
    yield srv
    srv.close()


def _raw(name: str, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(name)
        s.sendall(data)
        out = b""
        while b"\n" not in out:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        return out


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files")
def test_malformed_messages_are_rejected_and_logged(qtbot, server, caplog) -> None:
    import threading

    got: list[dict] = []
    server.request.connect(got.append)
    replies: list[bytes] = []
    t = threading.Thread(target=lambda: replies.append(_raw(server.name, b"garbage\n")))
    with qtbot.waitSignal(server.rejected, timeout=5000):
        t.start()
    t.join(5)
    assert replies and replies[0].startswith(b"error:")
    assert not got
    assert "Rejected a message" in caplog.text
    mode = os.stat(server.name).st_mode & 0o777
    assert mode & 0o077 == 0, oct(mode)  # only this user may connect


@pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files")
def test_a_stale_socket_from_a_crashed_instance_is_replaced(qtbot, tmp_path) -> None:
    from scry.app.gui.app import make_app

    make_app()
    name = server_name(tmp_path / "crashed")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(name)  # bound, never listening: what a killed process leaves behind
    dead.close()
    assert Path(name).exists()
    srv = InstanceServer(name)
    try:
        assert srv.listen() and srv.listening
        other = InstanceServer(name)
        assert not other.listen()  # a second instance sees the first and steps back
    finally:
        srv.close()


def _launch(
    args: list[str],
    home: Path,
    qtbot=None,
    *,
    cmd: list[str] | None = None,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run ``scry ARGS`` (or ``cmd``) as a new process; with ``qtbot`` this process's event loop
    keeps turning meanwhile (the running instance lives here and must answer)."""
    env = {**os.environ, **(env or {}), "QT_QPA_PLATFORM": "offscreen", "SCRY_HOME": str(home)}
    cmd = cmd or [sys.executable, "-m", "scry.app", *args]
    if qtbot is None:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=120_000)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Nautilus script")
def test_a_second_launch_hands_find_similar_to_the_running_window(
    qtbot, private_library: Library, tmp_path, monkeypatch
) -> None:
    """The file manager's "Find similar with scry" (the Nautilus script that `scry integrate
    install` writes, run as Nautilus runs it) reaches the running window."""
    from scry.app import integrate
    from scry.app.gui.app import request_of, start_instance

    xdg = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    for k, v in xdg.items():
        monkeypatch.setenv(k, v)
    integrate.install()
    script = tmp_path / "data" / "nautilus" / "scripts" / "Find similar with scry"
    assert os.access(script, os.X_OK)

    win = start_instance(private_library.home, request_of(), model=str(private_library.model))
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: win.model_state == "ready", timeout=30_000)
        win.hide()  # as if closed to the tray
        target = private_library.root / "red car.png"
        with qtbot.waitSignal(win.results_shown, timeout=60_000):
            proc = _launch([], private_library.home, qtbot, cmd=[str(script), str(target)], env=xdg)
            assert proc.returncode == 0, proc.stderr
        assert win.isVisible()  # raised
        assert win.search.image == str(target) and win.search.similar
        paths = [r.path for r in win.model.rows]
        assert paths and str(target) not in paths  # files like it, found with its stored vectors
        # a plain second `scry` only raises the window; `scry search --window` types the words
        win.hide()
        assert _launch(["--show"], private_library.home, qtbot).returncode == 0
        qtbot.waitUntil(win.isVisible, timeout=10_000)
        with qtbot.waitSignal(win.results_shown, timeout=60_000):
            proc = _launch(["search", "beach", "--window"], private_library.home, qtbot)
            assert proc.returncode == 0, proc.stderr
        assert win.search.text == "beach" and win.search.image is None
    finally:
        win.shutdown()
        win.server.close()
        win.close()


def test_scry_search_without_window_still_prints_for_scripts(private_library: Library) -> None:
    """The hand-over is for window launches only: scripts keep getting their JSON."""
    proc = _launch(
        ["search", "beach", "--json", "--model", str(private_library.model)],
        private_library.home,
    )
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert any(h["path"].endswith("beach sunset.jpg") for h in hits)


# ---------------------------------------------------------------------------- the tray


def test_tray_state_in_words_and_badges() -> None:
    from scry.app.gui.tray import badge_of

    idle = IndexProgress(state="idle")
    busy = IndexProgress(state="indexing", phase="indexing", done=1204, total=5000, eta_s=190)
    assert describe(idle) == "Up to date" and badge_of(idle) is None
    assert describe(busy) == "Indexing 1,204 of 5,000, about 3 min left"
    assert badge_of(busy) == "indexing"
    paused = IndexProgress(state="paused")
    assert describe(paused) == "Indexing paused" and badge_of(paused) == "paused"
    offline = IndexProgress(state="idle", offline=("/media/usb",))
    assert "1 folder offline" in describe(offline) and badge_of(offline) == "offline"
    assert "3 unreadable files" in describe(idle, errors=3) and badge_of(idle, 3) == "error"
    err = IndexProgress(state="error", last_error="disk full")
    assert describe(err) == "Indexing stopped: disk full" and badge_of(err) == "error"


@pytest.fixture
def tray_window(qtbot, private_library: Library):
    from scry.app.gui.app import app_icon
    from scry.app.gui.tray import Tray

    win = open_window(qtbot, private_library)
    win.tray = Tray(win, app_icon())
    win.tray.show()
    qtbot.waitUntil(lambda: win.progress.passes >= 1 and not win.progress.busy, timeout=60_000)
    yield win
    win.shutdown()
    win.close()


def test_every_tray_action(qtbot, tray_window, private_library: Library, monkeypatch) -> None:
    from scry.app.gui.tray import Tray

    win, tray = tray_window, tray_window.tray
    assert [a.text() for a in tray.menu.actions() if a.text()] == [
        "Search…",
        "Pause indexing",
        "Rescan now",
        "Settings…",
        "Quit scry",
    ]
    qtbot.waitUntil(lambda: tray.icon.toolTip().startswith("scry — Up to date"), timeout=5000)
    assert tray.badge == "error"  # the library holds one unreadable file

    # Pause / Resume
    tray.act_pause.trigger()
    qtbot.waitUntil(lambda: win.progress.state == "paused", timeout=10_000)
    assert tray.act_pause.text() == "Resume indexing" and tray.badge == "paused"
    assert "Indexing paused" in tray.icon.toolTip()
    assert win.status.stop_btn.text() == "Resume"
    tray.act_pause.trigger()
    qtbot.waitUntil(lambda: win.progress.state != "paused", timeout=10_000)
    assert tray.act_pause.text() == "Pause indexing"

    # Rescan now: a new file appears in the index without waiting for the watcher
    qtbot.waitUntil(lambda: not win.progress.busy, timeout=30_000)
    before = win.progress.passes
    (private_library.root / "notes" / "kayak.txt").write_text("kayak trip on the fjord")
    tray.act_rescan.trigger()
    qtbot.waitUntil(lambda: win.progress.passes > before and not win.progress.busy, timeout=60_000)
    assert any(r.name == "kayak.txt" for r in search_and_wait(qtbot, win, "kayak"))

    # Search…: the hidden window comes back
    win.hide()
    tray.act_search.trigger()
    assert win.isVisible()

    # Settings…
    tray.act_settings.trigger()
    qtbot.waitUntil(lambda: getattr(win, "settings_dialog", None) is not None, timeout=5000)
    assert win.settings_dialog.isVisible()
    win.settings_dialog.reject()

    # Closing the window keeps scry (and indexing) running in the tray ...
    monkeypatch.setattr(Tray, "active", property(lambda self: True))
    win.close()
    assert not win.isVisible() and win.backend._service is not None
    assert win.backend.index_progress().state in ("idle", "indexing")
    # ... and Quit stops it cleanly
    tray.act_quit.trigger()
    assert win.backend._service is None and not win.isVisible()


# ---------------------------------------------------------------------------- open at the page


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdg default viewers")
def test_a_pdf_hit_opens_at_its_page(qtbot, tmp_path, monkeypatch) -> None:
    """With Evince as the default PDF viewer, page 3 of a hit opens at page 3."""
    from scry.app.gui import actions
    from scry.app.gui.app import make_app
    from scry.app.gui.backend import Result

    make_app()
    log = tmp_path / "evince-args.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "evince"
    # the arguments, one per line, written whole at once (write then rename)
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{log}.tmp" && mv "{log}.tmp" "{log}"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(actions, "default_pdf_viewer", lambda: "org.gnome.evince.desktop")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    hit = Result(path=str(pdf), kind="page", locator={"page": 3}, score=1.0, file_kind="pdf")
    assert actions.open_result(hit)
    qtbot.waitUntil(lambda: log.exists() and log.read_text().endswith("\n"), timeout=10_000)
    assert log.read_text().split("\n")[:2] == ["--page-index=3", str(pdf)]
    photo = Result(path=str(tmp_path / "a.jpg"), kind="image", locator={}, score=1.0)
    assert actions.open_command(photo) is None  # everything else: the default application


# ---------------------------------------------------------------------------- model downloads


def test_a_model_download_shows_its_progress(qtbot, window) -> None:
    """While a model downloads (first use, or a new model chosen in settings) the status bar
    and the tray's tooltip say how far it is."""
    import io

    from scry.indexer import modelfiles

    bar_cls = modelfiles._progress_class("org/big-model")  # what snapshot_download is given
    bar = bar_cls(total=7, file=io.StringIO(), desc="Fetching 7 files")
    try:
        bar.update(3)
        assert modelfiles.active_downloads()["org/big-model"] == {
            "done": 3,
            "total": 7,
            "unit": "file",
        }
        qtbot.waitUntil(lambda: window.progress.download is not None, timeout=5000)
        assert "Downloading the model org/big-model" in window.status.message.text()
        assert window.status.progress.format() == "3 of 7 files"
        assert "downloading org/big-model (3 of 7 files)" in describe(window.progress)
    finally:
        bar.close()
        modelfiles._DOWNLOADS.pop("org/big-model", None)
    qtbot.waitUntil(lambda: window.progress.download is None, timeout=5000)
