"""Indexing from the window: ``Engine.index`` in a thread of its own, polled by the window.

Part of the window's adapter to the engine (see ``backend``); nothing here imports Qt.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class IndexProgress:
    phase: str = "starting"
    done: int = 0
    total: int = 0
    failed: int = 0
    current: str = ""
    eta_s: float | None = None


# ---------------------------------------------------------------------------- indexing job


class IndexJob:
    """``Engine.index`` in a thread of its own, with a progress snapshot to poll and a cancel flag.

    The live-indexing service (pause/resume, watcher) replaces this class in one place.
    """

    def __init__(self, engine: Any, folders: list[Path] | None) -> None:
        self._engine = engine
        self._folders = folders
        self._cancel = threading.Event()
        self._progress = IndexProgress()
        self.report: dict[str, Any] | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="scry-index", daemon=True)

    def start(self) -> IndexJob:
        self._thread.start()
        return self

    def _on_progress(self, p: Any) -> None:
        self._progress = IndexProgress(p.phase, p.done, p.total, p.failed, p.current, p.eta_s)

    def _run(self) -> None:
        try:
            rep = self._engine.index(self._folders, progress=self._on_progress, cancel=self._cancel)
            self.report = rep.as_json()
        except Exception as exc:  # shown in the status bar; the window keeps working
            log.warning("Indexing failed: %s", exc)
            self.error = str(exc)
        finally:
            if self._progress.phase not in ("done", "cancelled"):
                self._progress = replace(self._progress, phase="done")

    def snapshot(self) -> IndexProgress:
        return self._progress

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()
