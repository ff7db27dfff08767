"""Thumbnails for the grid and the preview, made off the UI thread and kept in memory (LRU).

The delegate asks for a thumbnail while painting; the request goes to a small pool that works
newest-first (what is on screen now beats what scrolled past), reads or makes the disk-cached
file through the backend, decodes it into a ``QImage`` (safe outside the UI thread) and hands it
back. The UI thread turns it into a pixmap and tells the model which rows to repaint. A file that
cannot be shown is remembered as broken and painted as a placeholder.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .qt import QImage, QObject, QPixmap, Qt, Signal

ThumbKey = tuple[str, int | None, int]  # path, page, pixel size
BROKEN = "broken"
MAX_PENDING = 300


class ThumbnailLoader(QObject):
    ready = Signal(object)  # ThumbKey

    def __init__(
        self,
        make: Callable[[str, int | None, int], Path | None],
        *,
        workers: int = 2,
        capacity: int = 600,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._make = make
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="scry-thumb")
        self._lock = threading.Lock()
        self._pending: deque[ThumbKey] = deque()
        self._queued: set[ThumbKey] = set()
        self._cache: OrderedDict[ThumbKey, QPixmap | str] = OrderedDict()
        self._capacity = capacity
        # Finished work waits in a queue; a bare signal wakes the UI thread to collect it (no
        # Python objects travel through queued signals, which PySide handles poorly at exit).
        self._done: queue.SimpleQueue[tuple[ThumbKey, QImage | None]] = queue.SimpleQueue()
        self._wake = _Wake()
        self._wake.wake.connect(self._collect, Qt.ConnectionType.QueuedConnection)

    def get(self, key: ThumbKey) -> QPixmap | str | None:
        """The pixmap, ``BROKEN``, or None (requested; ``ready`` fires when it is there)."""
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        self.request(key)
        return None

    def request(self, key: ThumbKey) -> None:
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)
            self._pending.append(key)
            while len(self._pending) > MAX_PENDING:  # scrolled far past: forget the oldest
                self._queued.discard(self._pending.popleft())
        self._pool.submit(self._work)

    def _work(self) -> None:
        with self._lock:
            if not self._pending:
                return
            key = self._pending.pop()  # newest first
        path, page, size = key
        image: QImage | None = None
        try:
            made = self._make(path, page, size)
            if made is not None:
                image = QImage(str(made))
                if image.isNull():
                    image = None
        except Exception:
            image = None
        self._done.put((key, image))
        self._wake.wake.emit()

    def _collect(self) -> None:
        while True:
            try:
                key, image = self._done.get_nowait()
            except queue.Empty:
                return
            self._on_loaded(key, image)

    def _on_loaded(self, key: ThumbKey, image: QImage | None) -> None:
        with self._lock:
            self._queued.discard(key)
        self._cache[key] = QPixmap.fromImage(image) if image is not None else BROKEN
        self._cache.move_to_end(key)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        self.ready.emit(key)

    def busy(self) -> bool:
        with self._lock:
            return bool(self._queued)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Wake(QObject):
    wake = Signal()
