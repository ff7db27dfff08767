"""The relevance cutoff, measured per model from the index itself.

A word query's vector matches are only shown when they stand out at least as much as the best
match of a *random* query on the same index. Random queries are made of words drawn from the
index's own vocabulary (file names, folder names, document text) mixed with everyday words, so
they speak the collection's language but ask for nothing in particular. The threshold is the
median of their best z-scores (see ``search``): half of such unrelated queries would show nothing.

The threshold is cached per model in the vectors folder and measured again when the index grows
or shrinks by a quarter. Collections too small for statistics (fewer than ``MIN_VECTORS``
vectors) get no cutoff.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy.sql import text

from .catalog import Catalog
from .config import atomic_write_text
from .models import Embedder
from .vectors import VectorStore

log = logging.getLogger(__name__)

MIN_VECTORS = 48
N_QUERIES = 32
EVERYDAY = [
    "table",
    "window",
    "river",
    "morning",
    "music",
    "chair",
    "letter",
    "garden",
    "street",
    "winter",
    "paper",
    "light",
    "travel",
    "kitchen",
    "friend",
    "history",
    "metal",
    "forest",
    "market",
    "evening",
    "number",
    "animal",
    "colour",
    "machine",
    "school",
    "summer",
    "money",
    "island",
    "bridge",
    "office",
    "cloud",
    "stone",
    "glass",
    "family",
    "road",
    "door",
    "ocean",
    "field",
    "book",
]


class Calibration:
    """Lazily measured cutoff threshold for one model's index."""

    def __init__(
        self,
        catalog: Catalog,
        vectors: VectorStore,
        embedder: Embedder,
        top_z: Callable[[np.ndarray], float | None],
    ) -> None:
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.top_z = top_z
        self.path: Path = (
            vectors.indexes["image"].path.parent / f"model{vectors.model_id}-cutoff.json"
        )
        self._lock = threading.Lock()
        self._cached: tuple[int, float | None] | None = None

    def threshold(self) -> float | None:
        size = self.vectors.count()
        with self._lock:
            if self._cached is None:
                self._cached = self._load()
            if self._cached is not None and _close(self._cached[0], size):
                return self._cached[1]
            value = self._measure() if size >= MIN_VECTORS else None
            self._cached = (size, value)
            if size >= MIN_VECTORS:
                try:
                    atomic_write_text(self.path, json.dumps({"size": size, "threshold": value}))
                except OSError as exc:
                    log.info("Cannot cache the relevance cutoff in %s: %s", self.path, exc)
            return value

    def _load(self) -> tuple[int, float | None] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return int(data["size"]), (
                None if data["threshold"] is None else float(data["threshold"])
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def random_queries(self) -> list[str]:
        with self.catalog.session() as s:
            s.execute(
                text(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_words USING fts5vocab(main, fts, row)"
                )
            )
            vocab = [
                r[0]
                for r in s.execute(
                    text(
                        "SELECT term FROM temp.fts_words WHERE length(term) > 2 "
                        "AND term NOT GLOB '*[0-9]*' ORDER BY doc DESC, term LIMIT 2000"
                    )
                )
            ]
        rng = random.Random(1234)  # the same index gives the same queries, hence the same cutoff
        pool = sorted(set(vocab)) + list(EVERYDAY)
        return [" ".join(rng.sample(pool, 3)) for _ in range(N_QUERIES)]

    def _measure(self) -> float | None:
        if not self.embedder.supports("text"):
            return None
        queries = self.random_queries()
        vecs = self.embedder.encode_texts(queries, query=True)
        tops = [z for z in (self.top_z(v) for v in vecs) if z is not None]
        if len(tops) < N_QUERIES // 2:
            return None
        value = float(np.median(tops))
        log.info(
            "Relevance cutoff for model %d: z >= %.2f (from %d random queries)",
            self.vectors.model_id,
            value,
            len(tops),
        )
        return value


def _close(a: int, b: int) -> bool:
    return abs(a - b) <= max(4, a // 4)
