"""The active model's vector indexes, one HNSW per modality, kept consistent with the catalog.

Text-to-image and text-to-text similarities live on different scales (the modality gap), so
image vectors and text vectors are kept in separate indexes and never ranked against each other
by raw score. Models that read a page's rendering and text as one input (VLM embedders) give a
PDF page one ``combined`` vector, kept in a third index for the same reason; models that read
video give each video one whole-video vector, kept in a ``video`` index.
:meth:`VectorStore.background` keeps a random sample of each index so search can tell how
unusual a similarity is *for this query in this modality* (see ``search``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from . import store
from .catalog import Catalog
from .vectorindex import VectorIndex

log = logging.getLogger(__name__)

MODALITIES = ("image", "text", "combined", "video")
#: What an image query (or "more like this photo") is compared with: photos, whole pages, videos.
IMAGE_LIKE = ("image", "combined", "video")
#: Indexes that exist only once a model that gives such vectors has used them.
ON_DEMAND = ("combined", "video")
BACKGROUND_SAMPLE = 512


class VectorStore:
    """HNSW indexes for one model (catalog row ``model_id``), verified against stored vectors."""

    def __init__(self, home: Path, catalog: Catalog, model_id: int, dim: int) -> None:
        self.catalog = catalog
        self.model_id = model_id
        self.dim = dim
        self.folder = home / "vectors"
        # The combined and video indexes exist only once a model that gives them has used them.
        self.indexes = {m: self._make(m) for m in MODALITIES if m not in ON_DEMAND}
        self.rebuilt: list[str] = []
        self._background: dict[str, tuple[int, np.ndarray]] = {}

    def _make(self, modality: str) -> VectorIndex:
        return VectorIndex(self.folder / f"model{self.model_id}-{modality}.hnsw", self.dim)

    def open(self) -> VectorStore:
        """Load each index; rebuild from the catalog's vectors when missing or out of step."""
        for modality in MODALITIES:
            idx = self.indexes[modality] if modality in self.indexes else self._make(modality)
            with self.catalog.session() as s:
                expected = store.vector_signature(s, self.model_id, modality)
            if modality not in self.indexes:
                if expected[0] == 0 and not idx.path.exists():
                    continue
                self.indexes[modality] = idx
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
        if modality not in self.indexes:
            self.indexes[modality] = self._make(modality)
        self.indexes[modality].add(np.asarray(labels, dtype=np.int64), vectors)

    def remove(self, labels_by_modality: dict[str, list[int]]) -> None:
        for modality, labels in labels_by_modality.items():
            if modality in self.indexes:
                self.indexes[modality].remove(labels)

    def query(
        self, modality: str, vector: np.ndarray, k: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        idx = self.indexes.get(modality)
        return idx.query(vector, k, allowed) if idx is not None else []

    def background(self, modality: str) -> np.ndarray:
        """A random sample (up to 512) of the modality's stored vectors, refreshed as it grows."""
        live = self.count(modality)
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
            return len(self.indexes[modality]) if modality in self.indexes else 0
        return sum(len(i) for i in self.indexes.values())

    def save(self) -> None:
        for idx in self.indexes.values():
            idx.save()
