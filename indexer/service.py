"""The background indexing service shared by the CLI (`scry watch`), the window and the tray.

One worker thread runs the engine's indexing passes. Start-up and periodic reconciliation and
explicit rescans walk whole roots; watchdog events only ask for a pass over the paths they name
(a saved file is one stat, a moved folder a walk of its old and new place). Because every pass
is the engine's diff (stat, fingerprint, move detection), events only decide *where and when* to
look, never *what* changed: a missed event is repaired by the next reconciliation, and a vanished
root is reported offline, never de-indexed.

Pause cancels the running pass at the next batch boundary (everything committed so far stays) and
resume scans again, which skips what is already indexed. The status snapshot is a frozen
dataclass built under a lock: pollers (a GUI timer) read it from any thread. Nothing here imports
Qt or calls back into a GUI.

This module holds the service's control and worker loop; the snapshot types are in
:mod:`.service_state`, the background model switch in :mod:`.model_switch`, and the battery and
priority checks in :mod:`.politeness`.

Example:
    >>> svc = IndexService(Engine())  # doctest: +SKIP
    >>> svc.start(); svc.add_folder(Path("~/Pictures").expanduser())  # doctest: +SKIP
    >>> svc.status().state  # doctest: +SKIP
    'indexing'
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from . import store
from .engine import Engine
from .errors import ScryError
from .indexing import IndexReport, Progress
from .model_switch import ModelSwitching, _Switch
from .politeness import _be_polite, on_battery
from .scan import narrowest_scopes
from .service_state import RootStatus, ServiceStatus
from .watcher import Debouncer, Watcher

log = logging.getLogger(__name__)


class IndexService(ModelSwitching):
    def __init__(
        self,
        engine: Engine,
        *,
        watch: bool = True,
        settle_s: float = 1.0,
        reconcile_every_s: float = 900.0,
        poll_interval_s: float = 5.0,
        force_polling: bool = False,
        pause_on_battery: bool | None = None,
    ) -> None:
        self.engine = engine
        self.reconcile_every_s = reconcile_every_s
        self.pause_on_battery = (
            engine.settings.extra.get("pause_on_battery", False)
            if pause_on_battery is None
            else pause_on_battery
        )
        self._debouncer = Debouncer(settle_s=settle_s)
        self._watcher = (
            Watcher(self._on_paths, poll_interval_s=poll_interval_s, force_polling=force_polling)
            if watch
            else None
        )
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._requested: set[str] = set()  # roots to rescan whole
        self._retry: set[str] = set()  # changed paths whose pass did not finish
        self._forgotten: set[str] = set()  # roots removed while this service runs
        self._pass_lock = threading.Lock()  # held by a pass; removing a root waits for it
        self._retry_at = 0.0
        self._failures = 0
        self._cancel = threading.Event()
        self._paused = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._state = "stopped"
        self._progress = Progress()
        self._last_error: str | None = None
        self._last_report: IndexReport | None = None
        self._passes = 0
        self._idle = threading.Event()
        self._last_reconcile = 0.0
        self._roots_cached: list[str] = []
        self._switch: _Switch | None = None
        self._switch_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        """Start the worker: load the model, watch every root, reconcile everything once."""
        with self._lock:
            if self._thread is not None:
                return
            self._stopping = False
            self._state = "idle"
            self._thread = threading.Thread(target=self._run, name="scry-indexer", daemon=True)
        for root in self._roots():
            self._watch(Path(root))
        self.rescan()
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop at the next batch boundary; everything committed so far stays."""
        with self._lock:
            self._stopping = True
            self._cancel.set()
            self._wake.notify_all()
            thread = self._thread
        if self._watcher is not None:
            self._watcher.stop()
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            self._thread = None
            self._state = "stopped"

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            self._cancel.set()
            self._wake.notify_all()

    def resume(self) -> None:
        roots = self._roots()
        with self._lock:
            if self._paused:
                self._paused = False
                self._requested.update(roots)  # pick up where the pause cut in
                self._wake.notify_all()

    def rescan(self, folders: list[Path] | None = None) -> None:
        """Ask for a pass over these roots (all roots when None)."""
        roots = [str(f) for f in folders] if folders else self._roots()
        with self._lock:
            self._requested.update(roots)
            self._idle.clear()
            self._wake.notify_all()

    def add_folder(self, folder: Path) -> None:
        """Index a new folder (it becomes a root) and follow it."""
        folder = folder.expanduser().resolve()
        if not folder.is_dir():
            raise ScryError(
                f"{folder} is not a folder (or does not exist). Give a folder to index."
            )
        with self._lock:
            self._forgotten.discard(str(folder))
        self._watch(folder)
        self.rescan([folder])

    def remove_folder(self, folder: Path) -> int:
        """Stop following a folder and forget everything indexed in it (nothing on disk is
        touched). A pass running meanwhile stops at its next batch; the other folders are looked
        at again afterwards. Returns how many files were forgotten."""
        p = Path(folder).expanduser()
        keys = {str(p), str(p.absolute()), str(p.resolve())}
        key = next((r for r in self.roots() if r in keys), str(p.resolve()))
        with self._lock:
            self._forgotten.add(key)
            self._requested.discard(key)
            self._cancel.set()  # a running pass stops at its next batch and is asked again
        if self._watcher is not None:
            self._watcher.unwatch(Path(key))
        try:
            with self._pass_lock:
                removed = self.engine.remove_root(key)
        finally:
            with self._lock:
                self._roots_cached = [r for r in self._roots_cached if r != key]
                self._retry = {x for x in self._retry if not _inside(x, key)}
                self._wake.notify_all()
        return removed

    def roots(self) -> list[str]:
        """The folders this service follows (indexed ones and ones just added)."""
        return self._roots()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is queued or running (for tests and `scry watch --once`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle.wait(timeout=0.05) and len(self._debouncer) == 0:
                with self._lock:
                    if (
                        not self._requested
                        and not self._retry
                        and self._state in ("idle", "paused", "stopped")
                    ):
                        return True
        return False

    # ------------------------------------------------------------------ snapshot

    def status(self) -> ServiceStatus:
        with self._lock:
            p = self._progress
            running = self._state == "indexing"
            roots = []
            watched = self._watcher.roots if self._watcher is not None else {}
            for r in self._roots_cached:
                rw = watched.get(r)
                if self._watcher is None:
                    roots.append(RootStatus(r, "off"))
                elif rw is None:
                    roots.append(RootStatus(r, "offline" if not Path(r).is_dir() else "off"))
                else:
                    roots.append(RootStatus(r, rw.mode, rw.reason))
            return ServiceStatus(
                state=self._state,
                queued=(max(0, p.total - p.done) if running else 0) + len(self._debouncer),
                done=p.done if running else 0,
                failed=p.failed if running else 0,
                current=p.current if running else "",
                files_per_s=p.files_per_s if running else 0.0,
                eta_s=p.eta_s if running else None,
                last_error=self._last_error,
                model_error=self.engine.model_error,
                passes=self._passes,
                last_report=self._last_report.as_json() if self._last_report else None,
                roots=tuple(roots),
                model=self.engine.model_name,
                switch=self._switch.snapshot() if self._switch is not None else None,
            )

    # ------------------------------------------------------------------ worker

    def _roots(self) -> list[str]:
        with self.engine.catalog.session() as s:
            indexed = {r.path for r in store.roots(s)}
        with self._lock:
            added = {r for r in self._roots_cached if r not in indexed}  # added, not indexed yet
            roots = sorted((indexed | added) - self._forgotten)
            self._roots_cached = roots
        return roots

    def _watch(self, root: Path) -> None:
        if self._watcher is not None:
            self._watcher.watch(root)
        with self._lock:
            if str(root) not in self._roots_cached:
                self._roots_cached = [*self._roots_cached, str(root)]

    def _on_paths(self, paths: list[str]) -> None:
        """Watcher events: changed paths, minus the data folder's own (it may lie in a root)."""
        home = str(self.engine.home)
        paths = [p for p in paths if not _inside(p, home)]
        if paths:
            self._debouncer.add(paths)

    def _root_of(self, path: str, roots: list[str]) -> str | None:
        best = None
        for r in roots:
            if _inside(path, r) and (best is None or len(r) > len(best)):
                best = r
        return best

    def _run(self) -> None:
        _be_polite()
        try:
            self.engine.load_model()
        except ScryError as exc:
            self._last_error = str(exc)
        while True:
            with self._lock:
                if self._stopping:
                    break
                if self._paused or (self.pause_on_battery and on_battery()):
                    self._state = "paused"
                    self._idle.set()
                    self._wake.wait(timeout=5.0)
                    continue
            dirty = self._debouncer.take(timeout=0.2)
            roots = self._roots_cached or self._roots()
            whole: set[str] = set()
            if self._watcher is not None and self._watcher.check():
                whole.update(roots)  # a root went offline or came back: look again
            with self._lock:
                if time.monotonic() < self._retry_at:  # the last pass failed: wait a little
                    self._requested.update(whole)
                    self._retry.update(dirty)
                    self._wake.wait(timeout=min(1.0, self._retry_at - time.monotonic()))
                    continue
                whole.update(self._requested)
                self._requested.clear()
                dirty.update(self._retry)
                self._retry.clear()
            if time.monotonic() - self._last_reconcile > self.reconcile_every_s:
                whole.update(roots)
            scoped: dict[str, list[str]] = {}
            for p in dirty:
                r = self._root_of(p, roots)
                if r is not None and r not in whole:
                    scoped.setdefault(r, []).append(p)
            if not whole and not scoped:
                with self._lock:
                    if self._state != "paused":
                        self._state = "idle"
                    if not self._requested and not self._retry and len(self._debouncer) == 0:
                        self._idle.set()
                continue
            self._pass(sorted(whole), {r: narrowest_scopes(ps) for r, ps in scoped.items()})
        with self._lock:
            self._state = "stopped"
            self._idle.set()

    def _pass(self, roots: list[str], scopes: dict[str, list[str]]) -> None:
        """One indexing pass: ``roots`` walked whole, and the ``scopes`` (changed paths) of
        other roots. A pass that is cancelled or fails is asked for again (after a pause that
        grows with repeated failures, so a full disk is not hammered)."""
        with self._pass_lock:
            with self._lock:
                roots = [r for r in roots if r not in self._forgotten]
                scopes = {r: ps for r, ps in scopes.items() if r not in self._forgotten}
                if not roots and not scopes:
                    return
                if self._stopping or self._paused:
                    self._requeue(roots, scopes)
                    return
                self._idle.clear()
                self._cancel.clear()
                self._state = "indexing"
                self._progress = Progress()
            if set(roots) >= set(self._roots_cached):
                self._last_reconcile = time.monotonic()
            error = None
            try:
                report = self.engine.index(
                    [Path(r) for r in [*roots, *scopes]],
                    progress=self._on_progress,
                    cancel=self._cancel,
                    scopes=scopes or None,
                )
            except ScryError as exc:
                log.warning("Indexing pass failed: %s", exc)
                error = str(exc)
            except Exception as exc:
                log.exception("Indexing pass crashed")
                error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if error is not None:
                    self._failures += 1
                    self._retry_at = time.monotonic() + min(60.0, 2.0**self._failures)
                    self._last_error = error
                    self._state = "error"
                    self._requeue(roots, scopes)
                    return
                self._failures = 0
                self._last_error = None
                self._passes += 1
                self._last_report = report
                if report.cancelled and not self._stopping:
                    self._requeue(roots, scopes)  # paused or interrupted mid-pass: finish later
                self._state = "paused" if self._paused else "idle"

    def _requeue(self, roots: list[str], scopes: dict[str, list[str]]) -> None:
        self._requested.update(roots)
        for paths in scopes.values():
            self._retry.update(paths)

    def _on_progress(self, p: Progress) -> None:
        with self._lock:
            self._progress = Progress(**vars(p))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
