"""Indexing from the window and the tray: the engine's live :class:`IndexService`, seen as plain data.

Part of the window's adapter to the engine (see ``backend``); nothing here imports Qt. The
service runs its own worker thread and watches the folders; the window polls
:func:`progress_of` its status snapshot and reads the state (idle, indexing, paused, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IndexProgress:
    """What the status bar and the tray show about indexing."""

    state: str = "stopped"  # stopped | idle | indexing | paused | error
    phase: str = "idle"  # idle | scanning | indexing | switching
    done: int = 0
    total: int = 0
    failed: int = 0
    current: str = ""
    eta_s: float | None = None
    files_per_s: float = 0.0
    offline: tuple[str, ...] = ()
    polling: tuple[str, ...] = ()
    last_error: str | None = None
    passes: int = 0
    last_report: dict[str, Any] | None = None
    switch: dict[str, Any] | None = None
    #: A model download in progress: {"model", "done", "total", "unit"} (unit: file or B).
    download: dict[str, Any] | None = None

    @property
    def busy(self) -> bool:
        return self.state == "indexing" or self.switching or self.download is not None

    @property
    def switching(self) -> bool:
        return bool(self.switch and self.switch.get("state") == "running")


def progress_of(st: Any, downloads: dict[str, dict[str, Any]] | None = None) -> IndexProgress:
    """An :class:`IndexProgress` from the service's ``ServiceStatus`` snapshot (None: the
    service has not started) and the model downloads in progress."""
    download = None
    if downloads:
        name, d = next(iter(downloads.items()))
        download = {"model": name, **d}
    if st is None:
        return IndexProgress(phase="downloading" if download else "idle", download=download)
    total = st.done + st.queued
    phase = "idle"
    if st.state == "indexing":
        phase = "indexing" if total else "scanning"
    sw = dict(st.switch) if st.switch else None
    if sw and sw.get("state") == "running" and st.state != "indexing":
        phase = "switching"
    if download is not None and st.state != "indexing":
        phase = "downloading"
    return IndexProgress(
        state=st.state,
        phase=phase,
        done=st.done,
        total=total,
        failed=st.failed,
        current=st.current,
        eta_s=st.eta_s,
        files_per_s=st.files_per_s,
        offline=tuple(r.path for r in st.roots if r.watch == "offline"),
        polling=tuple(r.path for r in st.roots if r.watch == "polling"),
        last_error=st.last_error,
        passes=st.passes,
        last_report=st.last_report,
        switch=sw,
        download=download,
    )


def describe(p: IndexProgress, errors: int = 0) -> str:
    """One line for the tray's tooltip: idle, indexing n of m (ETA), paused, offline, errors."""
    if p.state == "indexing" and p.total:
        eta = f", about {duration(p.eta_s)} left" if p.eta_s else ""
        line = f"Indexing {p.done:,} of {p.total:,}{eta}"
    elif p.state == "indexing":
        line = "Looking for new and changed files"
    elif p.state == "paused":
        line = "Indexing paused"
    elif p.state == "error":
        line = f"Indexing stopped: {p.last_error or 'an error'}"
    elif p.state == "stopped":
        line = "Not indexing"
    else:
        line = "Up to date"
    if p.download:
        d = p.download
        line += f"; downloading {d['model']} ({amount(d)})"
    if p.switching and p.switch:
        sw = p.switch
        line += (
            f"; switching to {sw.get('model')} ({sw.get('done', 0):,} of {sw.get('total', 0):,})"
        )
    if p.offline:
        n = len(p.offline)
        line += f"; {n} folder{'s' if n != 1 else ''} offline"
    if errors:
        line += f"; {errors:,} unreadable file{'s' if errors != 1 else ''}"
    return line


def amount(d: dict[str, Any]) -> str:
    """How far a download is, in words: "3 of 7 files", "120 of 350 MB"."""
    done, total = int(d.get("done") or 0), int(d.get("total") or 0)
    if d.get("unit") == "B":
        return f"{done / 1e6:,.0f} of {total / 1e6:,.0f} MB" if total else f"{done / 1e6:,.0f} MB"
    return f"{done} of {total} files" if total else f"{done} files"


def duration(s: float) -> str:
    s = int(s)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60} min"
