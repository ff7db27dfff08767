"""Native decoders run in worker processes, so a crash or a hang fails one file, not the run.

libjpeg, libpng, libtiff, libheif, LibRaw, PDFium and FFmpeg are C code fed with whatever is in
a person's folders; fuzzers keep finding files that crash or hang them. Each worker is a spawned
Python process that reads one file at a time and sends back the :class:`Extracted` (images
already reduced to the model's size, so little crosses the pipe). A worker that dies (a
segfault, an abort, the OOM killer) or passes the per-file time limit is killed and replaced;
the file is recorded with the reason.

Decode threads of the indexer each borrow a worker for the duration of one file, so decoding runs
in parallel with the model in the main process without sharing its interpreter lock.

Example:
    >>> pool = Sandbox(workers=2)  # doctest: +SKIP
    >>> pool.run("image", "/photos/cat.jpg", Options(side=224), timeout=60).items  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from .base import Extracted, ExtractionError, Options
from .formats import FORMATS, Format

log = logging.getLogger(__name__)

#: Files one worker reads before it is replaced (bounds slow leaks in native libraries).
MAX_TASKS = 1000


class _Worker:
    """One decoder process, talking over a pair of pipes (pickled requests and replies).

    A plain ``python -c`` child, not a multiprocessing one: nothing of the parent's main script
    is re-imported there, whatever started scry (a console script, a test runner, a GUI).
    """

    def __init__(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        code = f"from {__name__} import _serve_fds; _serve_fds({to_child_r}, {from_child_w})"
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(to_child_r, from_child_w),
                env=env,
                stdin=subprocess.DEVNULL,
                # libtiff & co. print warnings about damaged files; the reason says enough
                stderr=None if log.isEnabledFor(logging.DEBUG) else subprocess.DEVNULL,
                close_fds=True,
                start_new_session=False,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.send = Connection(to_child_w, readable=False)
        self.recv = Connection(from_child_r, writable=False)
        self.tasks = 0

    def exitcode(self, wait: float = 2.0) -> int | None:
        try:
            return self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._close()

    def stop(self) -> None:
        try:
            self.send.send(None)
            self.proc.wait(2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            self.kill()
            return
        self._close()

    def _close(self) -> None:
        for conn in (self.send, self.recv):
            with contextlib.suppress(OSError):
                conn.close()


class Sandbox:
    """A small pool of decoder processes; :meth:`run` is safe to call from many threads."""

    def __init__(self, workers: int = 2) -> None:
        self.size = max(1, workers)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._count = 0
        self._all: set[_Worker] = set()
        self._closed = False
        self.crashes = 0
        self.timeouts = 0

    def resize(self, workers: int) -> None:
        with self._lock:
            self.size = max(self.size, workers)

    def _checkout(self) -> _Worker:
        while True:
            try:
                return self._idle.get_nowait()
            except queue.Empty:
                pass
            with self._lock:
                if self._closed:
                    raise ExtractionError("scry is shutting down")
                if self._count < self.size:
                    self._count += 1
                    try:
                        worker = _Worker()
                    except Exception:
                        self._count -= 1
                        raise
                    self._all.add(worker)
                    return worker
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def _retire(self, worker: _Worker, *, kill: bool) -> None:
        worker.kill() if kill else worker.stop()
        with self._lock:
            self._count -= 1
            self._all.discard(worker)

    def run(self, fmt: Format | str, path: str, opts: Options, timeout: float) -> Extracted:
        """Read ``path`` with the reader of ``fmt`` in a worker, within ``timeout`` seconds."""
        spec = fmt.handler if isinstance(fmt, Format) else FORMATS[fmt].handler
        worker = self._checkout()
        started = time.monotonic()
        try:
            worker.send.send((spec, path, opts))
            if not worker.recv.poll(timeout):
                self.timeouts += 1
                self._retire(worker, kill=True)
                raise ExtractionError(
                    f"took longer than {timeout:.0f} s to read, so it was stopped (damaged, or "
                    'very large: "file_timeout_s" in settings.json allows more time)'
                )
            status, payload = worker.recv.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            code = worker.exitcode()
            self.crashes += 1
            self._retire(worker, kill=True)
            raise ExtractionError(_crash_reason(code)) from exc
        worker.tasks += 1
        if worker.tasks >= MAX_TASKS:
            self._retire(worker, kill=False)
        else:
            self._idle.put(worker)
        log.debug("%s read in a worker in %.3fs", path, time.monotonic() - started)
        if status == "ok":
            return payload
        raise payload

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the live workers (Linux; None where /proc is missing)."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        with self._lock:
            pids = [w.proc.pid for w in self._all]
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                return None
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        return total

    def close(self) -> None:
        """Stop idle workers; kill busy ones (a reader stuck at exit must not outlive scry)."""
        with self._lock:
            self._closed = True
            busy = set(self._all)
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            busy.discard(worker)
            self._retire(worker, kill=False)
        for worker in busy:
            self._retire(worker, kill=True)


def _crash_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGKILL":
            return "the decoder was killed while reading this file (out of memory?)"
        return f"the decoder crashed on this file ({name}); the file is probably damaged"
    return f"the decoder stopped unexpectedly on this file (exit code {code})"


def _serve_fds(rfd: int, wfd: int) -> None:
    """A worker's loop: read requests until told to stop or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    parent = os.getppid()

    def orphaned() -> None:  # the parent was killed: do not read on, whatever the file does
        while True:
            time.sleep(2.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=orphaned, name="scry-orphan-watch", daemon=True).start()
    logging.basicConfig(level=logging.WARNING, format="scry decoder: %(levelname)s: %(message)s")
    from . import run_handler

    inbox = Connection(rfd, writable=False)
    outbox = Connection(wfd, readable=False)
    while True:
        try:
            request = inbox.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        spec, path, opts = request
        try:
            reply: tuple[str, Any] = ("ok", run_handler(spec, path, opts))
        except ExtractionError as exc:
            reply = ("error", exc)
        except BaseException as exc:  # a Python-level failure of a reader: fail the file only
            reply = ("error", ExtractionError(f"unexpected error: {type(exc).__name__}: {exc}"))
        try:
            outbox.send(reply)
        except (OSError, ValueError, TypeError, AttributeError) as exc:  # cannot be pickled
            try:
                outbox.send(("error", ExtractionError(f"unexpected error: {exc}")))
            except OSError:
                return


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox(workers: int = 2) -> Sandbox:
    """The process-wide sandbox (workers are started on first use and reused across runs)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox(workers)
            atexit.register(_shared.close)
        else:
            _shared.resize(workers)
        return _shared
