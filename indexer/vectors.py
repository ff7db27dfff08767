"""The active model's vector indexes, one HNSW per modality, kept consistent with the catalog.

Text-to-image and text-to-text similarities live on different scales (the modality gap), so
image vectors and text vectors are kept in separate indexes and never ranked against each other
by raw score; search fuses their result lists by rank.
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


class VectorStore:
    """HNSW indexes for one model (catalog row ``model_id``), verified against stored vectors."""

    def __init__(self, home: Path, catalog: Catalog, model_id: int, dim: int) -> None:
        self.catalog = catalog
        self.model_id = model_id
        self.dim = dim
        folder = home / "vectors"
        self.indexes = {m: VectorIndex(folder / f"model{model_id}-{m}.hnsw", dim) for m in MODALITIES}
        self.rebuilt: list[str] = []

    def open(self) -> VectorStore:
        """Load each index; rebuild from the catalog's vectors when missing or out of step."""
        for modality, idx in self.indexes.items():
            with self.catalog.session() as s:
                expected = store.vector_signature(s, self.model_id, modality)
            if idx.load() and idx.signature == expected:
                continue
            if expected[0] == 0 and not idx.path.exists():
                continue
            log.info("Rebuilding %s vector index for model %d from %d stored vectors",
                     modality, self.model_id, expected[0])
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

    def query(self, modality: str, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.indexes[modality].query(vector, k)

    def count(self, modality: str | None = None) -> int:
        if modality:
            return len(self.indexes[modality])
        return sum(len(i) for i in self.indexes.values())

    def save(self) -> None:
        for idx in self.indexes.values():
            idx.save()
