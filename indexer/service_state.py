"""The index service's status snapshot: per-folder watch state and the service's state, frozen
dataclasses that pollers (a GUI timer) may read from any thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RootStatus:
    path: str
    watch: str  # events | polling | offline | off
    note: str | None = None


@dataclass(frozen=True)
class ServiceStatus:
    """A consistent snapshot; safe to read from any thread."""

    state: str  # stopped | idle | indexing | paused | error
    queued: int = 0  # files left in the current pass plus paths waiting to settle
    done: int = 0
    failed: int = 0
    current: str = ""
    files_per_s: float = 0.0
    eta_s: float | None = None
    last_error: str | None = None
    model_error: str | None = None
    passes: int = 0
    last_report: dict[str, Any] | None = None
    roots: tuple[RootStatus, ...] = field(default_factory=tuple)
    model: str = ""
    #: A model switch in progress or just ended: {"model", "state", "done", "total", "error"}.
    switch: dict[str, Any] | None = None

    @property
    def offline_roots(self) -> tuple[str, ...]:
        """Folders not available now (their records are kept)."""
        return tuple(r.path for r in self.roots if r.watch == "offline")

    @property
    def polling_roots(self) -> tuple[tuple[str, str], ...]:
        """(folder, why) for folders followed by polling instead of change events."""
        return tuple((r.path, r.note or "") for r in self.roots if r.watch == "polling")
