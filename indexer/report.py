"""What an indexing pass tells its caller: a live progress snapshot and the final report.

``IndexReport.as_json`` is the public contract of ``scry index --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Progress:
    """A snapshot of a running index job, for progress bars and status lines."""

    phase: str = "starting"  # scanning | indexing | saving | done | cancelled
    done: int = 0
    total: int = 0
    failed: int = 0
    skipped: int = 0
    current: str = ""
    files_per_s: float = 0.0
    eta_s: float | None = None


@dataclass
class IndexReport:
    new: int = 0
    changed: int = 0
    moved: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    embedded: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    offline_roots: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skips: dict[str, int] = field(default_factory=dict)  # reason -> files skipped for it
    notes: list[tuple[str, str]] = field(default_factory=list)  # indexed, with a caveat
    folder_errors: list[tuple[str, str]] = field(default_factory=list)
    keyword_only: str | None = None

    @property
    def seen(self) -> int:
        """Files found under the roots: each counts in exactly one of the other counts."""
        return self.new + self.changed + self.moved + self.unchanged + self.failed + self.skipped

    def as_json(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "changed": self.changed,
            "moved": self.moved,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "skipped": self.skipped,
            "seen": self.seen,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "offline_roots": self.offline_roots,
            "failures": [{"path": p, "reason": r} for p, r in self.failures],
            "skipped_reasons": dict(sorted(self.skips.items())),
            "notes": [{"path": p, "note": n} for p, n in self.notes],
            "folder_errors": [{"path": p, "reason": r} for p, r in self.folder_errors],
            "keyword_only": self.keyword_only,
        }
