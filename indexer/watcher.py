"""Following the user's folders: watchdog observers that report which paths changed.

The watcher does not index anything itself. It turns file-system events into a set of *dirty
paths* (both ends of a move) that the service rescans after they settle; the engine's diff then
decides what is new, changed, moved or gone. So an editor's save through a temp file and a rename
ends as one update of the real file, and a folder moved within a root is a move of everything
under it, never a re-embedding.

Each root gets a native observer (inotify, FSEvents, ReadDirectoryChangesW). Where the OS refuses
more watches (the inotify limit) or the root is on a network file system, that root falls back to
a polling observer, and status says so.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)

NETWORK_FS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "sshfs",
    "fuse.sshfs",
    "9p",
    "afpfs",
    "davfs",
    "fuse.rclone",
}


def filesystem_type(path: Path) -> str | None:
    """The file system type of the mount holding ``path`` (Linux /proc/mounts); None elsewhere."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    best, fstype = "", None
    target = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
            best, fstype = mnt, parts[2]
    return fstype


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: Callable[[list[str]], None]) -> None:
        self.sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reading a file changes nothing
        if event.is_directory and event.event_type == "modified":
            # A folder's entries changed: each entry has its own event. Looking at the whole
            # folder again would turn one saved file into a walk of all its neighbours.
            return
        paths = [os.fsdecode(event.src_path)]
        dest = getattr(event, "dest_path", "")
        if dest:
            paths.append(os.fsdecode(dest))
        self.sink(paths)


@dataclass
class RootWatch:
    path: str
    mode: str  # events | polling | offline
    reason: str | None = None


class Watcher:
    """Observers on a set of roots; changed paths go to ``sink``."""

    def __init__(
        self,
        sink: Callable[[list[str]], None],
        *,
        poll_interval_s: float = 5.0,
        force_polling: bool = False,
    ) -> None:
        self.sink = sink
        self.poll_interval_s = poll_interval_s
        self.force_polling = force_polling
        self._observers: dict[str, BaseObserver] = {}
        self.roots: dict[str, RootWatch] = {}
        self._lock = threading.Lock()

    def watch(self, root: Path) -> RootWatch:
        key = str(root)
        with self._lock:
            if key in self._observers:
                return self.roots[key]
            if not root.is_dir():
                self.roots[key] = RootWatch(key, "offline", "folder not available")
                return self.roots[key]
            fstype = filesystem_type(root)
            reason = None
            if self.force_polling:
                reason = "polling requested"
            elif fstype in NETWORK_FS:
                reason = f"network file system ({fstype}): change events are unreliable, polling"
            observer: BaseObserver | None = None
            if reason is None:
                observer = Observer()
                try:
                    observer.schedule(_Handler(self.sink), key, recursive=True)
                    observer.start()
                except OSError as exc:
                    # ENOSPC from inotify_add_watch: the per-user watch limit is used up.
                    reason = f"the system refused more watches ({exc.strerror or exc}); polling"
                    _stop(observer)
                    observer = None
            if observer is None:
                observer = PollingObserver(timeout=self.poll_interval_s)
                observer.schedule(_Handler(self.sink), key, recursive=True)
                observer.start()
                log.warning("Watching %s by polling: %s", key, reason)
            self._observers[key] = observer
            self.roots[key] = RootWatch(key, "polling" if reason else "events", reason)
            return self.roots[key]

    def unwatch(self, root: Path) -> None:
        with self._lock:
            observer = self._observers.pop(str(root), None)
            self.roots.pop(str(root), None)
        if observer is not None:
            _stop(observer)

    def check(self) -> list[str]:
        """Roots whose folder vanished or came back since the last check (observers restarted)."""
        changed = []
        for key, rw in list(self.roots.items()):
            present = Path(key).is_dir()
            if rw.mode == "offline" and present:
                self.roots.pop(key, None)
                self.watch(Path(key))
                changed.append(key)
            elif rw.mode != "offline" and not present:
                self.unwatch(Path(key))
                self.roots[key] = RootWatch(key, "offline", "folder not available")
                changed.append(key)
        return changed

    def stop(self) -> None:
        with self._lock:
            observers = list(self._observers.values())
            self._observers.clear()
        for observer in observers:
            _stop(observer)


def _stop(observer: BaseObserver) -> None:
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5)
    except (RuntimeError, OSError):
        pass


class Debouncer:
    """Collects dirty paths; hands out each one once no new event arrived *for that path* for
    ``settle_s`` seconds (or ``max_wait_s`` after its first event, so a file written forever
    still gets indexed). A steady stream of new files therefore flows through with a delay of
    about ``settle_s`` each, instead of waiting for the whole stream to stop.

    Paths reported together (both ends of a move) stay together: none of them is handed out
    before all have settled, so one pass sees a file leave and arrive and keeps its vectors,
    instead of forgetting it in one pass and embedding it anew in the next."""

    def __init__(self, settle_s: float = 1.0, max_wait_s: float = 10.0) -> None:
        self.settle_s = settle_s
        self.max_wait_s = max_wait_s
        self._paths: dict[str, tuple[float, float]] = {}  # path -> (first event, last event)
        self._links: dict[str, set[str]] = {}  # path -> paths it moved from or to
        self._cond = threading.Condition()

    def add(self, paths: list[str]) -> None:
        now = time.monotonic()
        with self._cond:
            was_empty = not self._paths
            for p in paths:
                first = self._paths.get(p, (now, now))[0]
                self._paths[p] = (first, now)
            if len(paths) > 1:
                for p in paths:
                    self._links.setdefault(p, set()).update(q for q in paths if q != p)
            if was_empty:  # a waiting take() only needs waking when there was nothing to wait for
                self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._paths)

    def _settled(self, p: str, now: float) -> bool:
        first, last = self._paths[p]
        return now - last >= self.settle_s or now - first >= self.max_wait_s

    def _group(self, p: str) -> set[str]:
        group, todo = {p}, [p]
        while todo:
            for q in self._links.get(todo.pop(), ()):
                if q not in group and q in self._paths:
                    group.add(q)
                    todo.append(q)
        return group

    def _ready(self, now: float) -> set[str]:
        ready: set[str] = set()
        held: set[str] = set()
        for p in self._paths:
            if p in ready or p in held or not self._settled(p, now):
                continue
            group = self._group(p)
            if all(self._settled(q, now) for q in group):
                ready |= group
            else:
                held |= group
        return ready

    def take(self, timeout: float) -> set[str]:
        """Wait up to ``timeout`` for settled paths; returns them (possibly none)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                ready = self._ready(now)
                if ready:
                    for p in ready:
                        del self._paths[p]
                        for q in self._links.pop(p, ()):
                            if q in self._links:
                                self._links[q].discard(p)
                                if not self._links[q]:
                                    del self._links[q]
                    return ready
                if now >= deadline:
                    return set()
                wait = deadline - now
                pending = [v for p, v in self._paths.items() if not self._settled(p, now)]
                if pending:
                    soonest = min(
                        min(self.settle_s - (now - last), self.max_wait_s - (now - first))
                        for first, last in pending
                    )
                    wait = min(wait, soonest)
                self._cond.wait(max(0.01, wait))
