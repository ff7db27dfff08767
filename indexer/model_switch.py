"""Switching the index service to another embedding model in the background.

The new model re-embeds every root under its own model id while the current engine keeps
answering; when it has embedded every readable file it becomes the service's engine in one
assignment under the service's lock. Cancelling (or a failure) leaves the current index as it was.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from .engine import Engine
from .errors import ScryError
from .report import Progress

log = logging.getLogger(__name__)


class _Switch:
    """A background re-embedding with a new model."""

    def __init__(self, engine: Engine, cancel: threading.Event) -> None:
        self.engine = engine
        self.cancel = cancel
        self.state = "running"  # running | done | cancelled | incomplete | failed
        self.error: str | None = None
        self.done = 0
        self.total = 0

    def on_progress(self, p: Progress) -> None:
        if p.phase == "indexing":
            self.done, self.total = p.done, p.total

    def snapshot(self) -> dict[str, Any]:
        state = "cancelled" if self.cancel.is_set() and self.state == "running" else self.state
        return {
            "model": self.engine.model_name,
            "state": state,
            "done": self.done,
            "total": self.total,
            "error": self.error,
        }


class ModelSwitching:
    """The model-switch half of :class:`.service.IndexService` (a mixin). It uses the service's
    ``engine`` and ``_lock`` (every reader of ``engine`` takes it), ``_roots()`` and ``rescan()``."""

    engine: Engine
    _lock: threading.Lock
    _switch: _Switch | None
    _switch_thread: threading.Thread | None

    def switch_model(self, model: str) -> None:
        """Re-embed everything with ``model`` in the background, then switch atomically.

        The current engine keeps answering queries (and following changes) meanwhile. When the new
        model has embedded every readable file, it becomes the service's engine and the settings'
        model; :meth:`cancel_switch` (or a failure) leaves the current index exactly as it was.
        The new model's vectors are stored under their own model id, so nothing is ever mixed.
        """
        with self._lock:
            if (
                self._switch is not None
                and self._switch_thread is not None
                and self._switch_thread.is_alive()
            ):
                raise ScryError("A model switch is already running; cancel it first.")
            new = Engine(home=self.engine.home, model=model, settings=self.engine.settings)
            cancel = threading.Event()
            self._switch = _Switch(new, cancel)
            self._switch_thread = threading.Thread(
                target=self._run_switch, args=(self._switch,), name="scry-model-switch", daemon=True
            )
            self._switch_thread.start()

    def cancel_switch(self, timeout: float = 30.0) -> None:
        with self._lock:
            sw, thread = self._switch, self._switch_thread
        if sw is not None:
            sw.cancel.set()
        if thread is not None:
            thread.join(timeout)

    def _run_switch(self, sw: _Switch) -> None:
        try:
            if not sw.engine.load_model():
                raise ScryError(sw.engine.model_error or "the model could not be loaded")
            roots = [Path(r) for r in self._roots()]
            report = sw.engine.index(roots, progress=sw.on_progress, cancel=sw.cancel)
            if report.cancelled or sw.cancel.is_set():
                sw.state = "cancelled"
                return
            st = sw.engine.status()
            if st["embedded_files"] < st["files"] - st["failed"] - st.get("skipped", 0):
                sw.state = "incomplete"
                sw.error = "not every file could be embedded by the new model"
                return
        except ScryError as exc:
            sw.state, sw.error = "failed", str(exc)
            return
        except Exception as exc:
            log.exception("Model switch failed")
            sw.state, sw.error = "failed", f"{type(exc).__name__}: {exc}"
            return
        with self._lock:  # the switch: one assignment, under the lock every reader takes
            old = self.engine
            self.engine = sw.engine
            sw.state = "done"
            self.engine.settings.model = sw.engine.model_name
        try:
            self.engine.settings.save(self.engine.home)
        except OSError as exc:
            log.warning("Could not save the new model in the settings: %s", exc)
        self.rescan()  # anything that changed during the switch
        old.close()
