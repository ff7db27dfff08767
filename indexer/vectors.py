"""The active model's vector indexes, one HNSW per modality, kept consistent with the catalog.

Text-to-image and text-to-text similarities live on different scales (the modality gap), so
image vectors and text vectors are kept in separate indexes and never ranked against each other
by raw score. :meth:`VectorStore.background` keeps a random sample of each index so search can
tell how unusual a similarity is *for this query in this modality* (see ``search``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from . import store
from .catalog import Catalog
from .vectorindex import VectorIndex

log = logging.getLogger(__name__)

MODALITIES = ("image", "text")
BACKGROUND_SAMPLE = 512


class VectorStore:
    """HNSW indexes for one model (catalog row ``model_id``), verified against stored vectors."""

    def __init__(self, home: Path, catalog: Catalog, model_id: int, dim: int) -> None:
        self.catalog = catalog
        self.model_id = model_id
        self.dim = dim
        folder = home / "vectors"
        self.indexes = {
            m: VectorIndex(folder / f"model{model_id}-{m}.hnsw", dim) for m in MODALITIES
        }
        self.rebuilt: list[str] = []
        self._background: dict[str, tuple[int, np.ndarray]] = {}

    def open(self) -> VectorStore:
        """Load each index; rebuild from the catalog's vectors when missing or out of step."""
        for modality, idx in self.indexes.items():
            with self.catalog.session() as s:
                expected = store.vector_signature(s, self.model_id, modality)
            if idx.load() and idx.signature == expected:
                continue
            if expected[0] == 0 and not idx.path.exists():
                continue
            log.info(
                "Rebuilding %s vector index for model %d from %d stored vectors",
                modality,
                self.model_id,
                expected[0],
            )
            with self.catalog.session() as s:
                idx.rebuild(store.iter_vectors(s, self.model_id, modality), expected[0])
            idx.save()
            self.rebuilt.append(modality)
        return self

    def add(self, modality: str, labels: list[int], vectors: np.ndarray) -> None:
        self.indexes[modality].add(np.asarray(labels, dtype=np.int64), vectors)

    def remove(self, labels_by_modality: dict[str, list[int]]) -> None:
        for modality, labels in labels_by_modality.items():
            if modality in self.indexes:
                self.indexes[modality].remove(labels)

    def query(
        self, modality: str, vector: np.ndarray, k: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        return self.indexes[modality].query(vector, k, allowed)

    def background(self, modality: str) -> np.ndarray:
        """A random sample (up to 512) of the modality's stored vectors, refreshed as it grows."""
        live = len(self.indexes[modality])
        cached = self._background.get(modality)
        if cached is not None and abs(cached[0] - live) <= max(8, live // 10):
            return cached[1]
        with self.catalog.session() as s:
            blobs = store.sample_vectors(s, self.model_id, modality, BACKGROUND_SAMPLE)
        sample = (
            np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])
            if blobs
            else np.zeros((0, self.dim), dtype=np.float32)
        )
        self._background[modality] = (live, sample)
        return sample

    def count(self, modality: str | None = None) -> int:
        if modality:
            return len(self.indexes[modality])
        return sum(len(i) for i in self.indexes.values())

    def save(self) -> None:
        for idx in self.indexes.values():
            idx.save()
