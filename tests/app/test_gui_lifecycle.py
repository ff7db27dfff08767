"""The window's life: never blocking, first run, indexing progress, settings, unreadable files."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from scry.app.gui.qt import QTimer
from tests.app.conftest import Library, build_library, open_window, search_and_wait


def test_the_event_loop_keeps_turning_during_a_slow_search(qtbot, window) -> None:
    real = window.backend.search

    def slow(q, *a):  # a deliberately slow engine call (a cold disk, a huge index)
        time.sleep(1.5)
        return real(q, *a)

    window.backend.search = slow
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    t0 = time.perf_counter()
    with qtbot.waitSignal(window.results_shown, timeout=20_000):
        window.search.edit.setText("beach")
        window.run_search()
    elapsed = time.perf_counter() - t0
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)] or [elapsed]
    print(
        f"slow search {elapsed:.2f}s: {len(ticks)} timer ticks of 10 ms "
        f"(ideal {elapsed / 0.01:.0f}), longest gap {max(gaps) * 1000:.0f} ms"
    )
    assert elapsed >= 1.5
    assert len(ticks) >= 0.5 * elapsed / 0.01
    assert max(gaps) < 0.25
    assert window.model.rowCount() > 0


def test_first_run_chooses_folders_and_indexing_starts(qtbot, tmp_path, library: Library) -> None:
    folder = build_library(tmp_path / "mine")
    lib = Library(root=folder, home=tmp_path / "home", model=library.model)
    win = open_window(qtbot, lib, first_run=True, wait_ready=False)
    qtbot.waitUntil(lambda: win.first_run_dialog is not None, timeout=20_000)
    dlg = win.first_run_dialog
    assert dlg.isVisible()
    assert "Nothing indexed yet" in win.empty.headline.text()
    for p in dlg.chosen():
        dlg.folders.add(p, checked=False)
    dlg.folders.add(str(folder))
    assert dlg.chosen() == [str(folder)]
    progress_seen = []
    dlg.start_btn.click()
    qtbot.waitUntil(
        lambda: (
            progress_seen.append(win.status.progress.isVisible())
            or (win.progress.passes >= 1 and not win.progress.busy)
        ),
        timeout=60_000,
    )
    assert any(progress_seen)
    assert "Indexed:" in win.status.message.text()
    qtbot.waitUntil(lambda: (win.status_info.get("files") or 0) >= 8, timeout=10_000)
    assert win.status.errors_btn.isVisible()  # damaged.jpg
    rows = search_and_wait(qtbot, win, "beach")
    assert rows
    win.close()


def test_unreadable_files_are_listed_with_reasons(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.status.errors_btn.isVisible(), timeout=10_000)
    assert "1 unreadable file" in window.status.errors_btn.text()
    window.status.errors_btn.click()
    dlg = window.errors_dialog
    assert dlg.isVisible() and dlg.tree.topLevelItemCount() == 1
    item = dlg.tree.topLevelItem(0)
    assert item.text(0) == "damaged.jpg" and item.text(1)
    dlg.close()


def test_settings_are_saved(qtbot, private_library: Library) -> None:
    import torch

    threads = torch.get_num_threads()
    win = open_window(qtbot, private_library)
    try:
        win.open_settings()
        dlg = win.settings_dialog
        assert dlg.isVisible()
        assert dlg.folders.checked() == [str(private_library.root)]
        dlg.exclude.setPlainText("*.tmp\nScreenshots")
        dlg.rerank.setCurrentIndex(dlg.rerank.findData("off"))
        dlg.threads.setValue(1)
        dlg.accept()
        saved = json.loads((private_library.home / "settings.json").read_text())
        assert saved["exclude"] == ["*.tmp", "Screenshots"]
        assert saved["rerank"] == "off"
        assert saved.get("threads", saved.get("cpu_threads")) == 1
        assert "model" not in saved or saved["model"] is None  # unchanged model is not pinned
        assert torch.get_num_threads() == 1
        win.open_settings()  # reopening shows what was saved
        again = win.settings_dialog
        assert again.exclude.toPlainText() == "*.tmp\nScreenshots"
        assert again.rerank.currentData() == "off" and again.threads.value() == 1
        again.reject()
    finally:
        torch.set_num_threads(threads)
        win.close()


@pytest.mark.parametrize("command", [["status", "--json"], ["search", "beach", "--json"]])
def test_cli_commands_never_import_qt(tmp_path, command) -> None:
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\n"
        "from scry.app.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main({command!r} + ['--home', {str(tmp_path)!r}])\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {'PySide6','shiboken6'})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "", out.stdout + out.stderr


def test_scry_without_a_display_says_what_to_do(tmp_path, monkeypatch, capsys) -> None:
    from scry.app.cli import main

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    assert main(["--home", str(tmp_path)]) == 2
    assert "No display" in capsys.readouterr().err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


def test_the_qt_binding_does_not_leak_references_when_signals_fire(qtbot) -> None:
    """PySide6 6.12.0 dropped a reference to True on every emit(): a crash at exit (pinned out)."""
    import sys

    from scry.app.gui.qt import QObject, Signal

    class Source(QObject):
        fired = Signal()

    src = Source()
    src.fired.connect(lambda: None)
    before = sys.getrefcount(True)
    for _ in range(500):
        src.fired.emit()
    assert sys.getrefcount(True) >= before - 5


def test_removing_a_folder_in_settings_forgets_it_and_keeps_the_files(
    qtbot, private_library: Library
) -> None:
    win = open_window(qtbot, private_library)
    try:
        assert search_and_wait(qtbot, win, "beach")
        on_disk = sorted(p.name for p in private_library.root.rglob("*"))
        win.open_settings()
        dlg = win.settings_dialog
        assert not dlg.folders.remove_btn.isEnabled()
        dlg.folders.list.setCurrentRow(0)
        assert dlg.folders.remove_btn.isEnabled()
        dlg.folders.remove_btn.click()
        assert dlg.folders.checked() == []
        dlg.accept()
        qtbot.waitUntil(lambda: "files forgotten" in win.status.message.text(), timeout=90_000)
        qtbot.waitUntil(lambda: not win.status_info.get("roots"), timeout=10_000)
        assert win.status_info.get("files") == 0
        assert win.backend.service.roots() == []
        assert sorted(p.name for p in private_library.root.rglob("*")) == on_disk  # untouched
        with qtbot.waitSignal(win.results_shown, timeout=20_000):
            win.search.edit.setText("sunset")
        assert win.model.rowCount() == 0
    finally:
        win.close()


def test_settings_turn_login_startup_on_and_off(
    qtbot, private_library: Library, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = tmp_path / "config" / "autostart" / "scry.desktop"
    win = open_window(qtbot, private_library)
    try:
        for on in (True, False):
            win.open_settings()
            dlg = win.settings_dialog
            assert dlg.autostart.isChecked() is (not on)
            dlg.autostart.setChecked(on)
            dlg.accept()
            qtbot.waitUntil(lambda on=on: entry.exists() is on, timeout=10_000)
            if on:
                assert "--background" in entry.read_text()
            qtbot.waitUntil(
                lambda on=on: (
                    json.loads((private_library.home / "settings.json").read_text())["autostart"]
                    is on
                ),
                timeout=10_000,
            )
    finally:
        win.close()
