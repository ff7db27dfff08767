"""What a search returns: one result (:class:`Hit`), the options a search takes and the result.

Kept apart from :mod:`.search` so the pieces that build results (fusion, reranking) need not
import the searcher.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .query import Query


@dataclass
class Hit:
    """One result: an item of a file, where in the file it is, and how well it matched."""

    path: str
    kind: str
    locator: dict[str, Any]
    score: float
    item_id: int
    file_id: int
    file_kind: str
    similarity: float | None = None
    sources: list[str] = field(default_factory=list)
    date: str | None = None
    explain: dict[str, Any] = field(default_factory=dict)

    def as_json(self, *, explain: bool = False) -> dict[str, Any]:
        out = {
            "path": self.path,
            "kind": self.kind,
            "locator": self.locator,
            "score": round(self.score, 6),
            "similarity": None if self.similarity is None else round(self.similarity, 6),
            "file_kind": self.file_kind,
            "sources": self.sources,
            "date": self.date,
        }
        if explain:
            out["explain"] = self.explain
        return out


@dataclass
class SearchOptions:
    k: int = 20
    mode: str = "hybrid"  # hybrid | lexical | vector
    cutoff: bool = True
    sort: str | None = None  # relevance | date; None: what the query says
    weights: dict[str, float] | None = None  # per list: {"vectors": 1.0, "keywords": 1.0}


@dataclass
class SearchResult:
    query: Query
    hits: list[Hit]
    hidden: int = 0  # vector-only matches below the relevance cutoff
    message: str | None = None
    threshold: float | None = None
    #: The reranked list, when a reranker runs: resolves later (or is cancelled by a newer query).
    rerank: Future[list[Hit]] | None = None
    rerank_note: str | None = None
