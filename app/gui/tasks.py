"""Run blocking work off the UI thread and hand results back to it (Anki's taskman pattern).

Work runs on a thread pool per *lane*; its result or exception comes back to the UI thread
through a queued Qt signal, where the callbacks run. A lane can be *latest-only*: submitting a
new task there cancels the ones still waiting and marks the running one stale, so a slow old
search can never overwrite the results of a newer one.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .qt import QObject, Qt, Signal

log = logging.getLogger(__name__)


class _Wake(QObject):
    """Wakes the UI thread to collect finished tasks (queued; carries no Python objects)."""

    wake = Signal()


class TaskRunner(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._generation: dict[str, int] = {}
        self._pending: dict[str, list[Future]] = {}
        self._done: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wake = _Wake()
        self._wake.wake.connect(self._collect, Qt.ConnectionType.QueuedConnection)
        self.active = 0

    def lane(self, name: str, workers: int = 1) -> None:
        if name not in self._pools:
            self._pools[name] = ThreadPoolExecutor(workers, thread_name_prefix=f"scry-{name}")

    def submit(
        self,
        lane: str,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        latest_only: bool = False,
    ) -> int:
        """Run ``fn(*args)`` on ``lane``; returns the task's generation number in that lane."""
        self.lane(lane)
        gen = self._generation.get(lane, 0) + 1
        self._generation[lane] = gen
        if latest_only:
            for fut in self._pending.get(lane, []):
                fut.cancel()
            self._pending[lane] = []
        done, wake = self._done, self._wake

        def work() -> None:
            try:
                value, error = fn(*args), None
            except BaseException as exc:
                value, error = None, exc
            done.put((lane, gen, latest_only, value, error, on_done, on_error))
            wake.wake.emit()

        self.active += 1
        fut = self._pools[lane].submit(work)
        fut.add_done_callback(self._forget_cancelled)
        self._pending.setdefault(lane, []).append(fut)
        return gen

    def invalidate(self, lane: str) -> None:
        """Drop whatever a latest-only lane is doing or about to do."""
        self._generation[lane] = self._generation.get(lane, 0) + 1
        for fut in self._pending.get(lane, []):
            fut.cancel()

    def _forget_cancelled(self, fut: Future) -> None:
        if fut.cancelled():
            self._done.put(None)
            self._wake.wake.emit()

    def _collect(self) -> None:
        while True:
            try:
                payload = self._done.get_nowait()
            except queue.Empty:
                return
            self._deliver(payload)

    def is_current(self, lane: str, gen: int) -> bool:
        return self._generation.get(lane) == gen

    def _deliver(self, payload: Any) -> None:
        self.active -= 1
        if payload is None:
            return
        lane, gen, latest_only, value, error, on_done, on_error = payload
        self._pending[lane] = [f for f in self._pending.get(lane, []) if not f.done()]
        if latest_only and not self.is_current(lane, gen):
            log.debug("dropping stale %s result (generation %d)", lane, gen)
            return
        if error is not None:
            if on_error is not None:
                on_error(error)
            else:
                log.error("%s task failed", lane, exc_info=error)
            return
        if on_done is not None:
            on_done(value)

    def shutdown(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
