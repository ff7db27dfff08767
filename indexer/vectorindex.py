"""HNSW vector index (hnswlib) for one model and one modality, persisted crash-safely.

The catalog's ``vectors`` table is the durable copy of every vector; an index file is a cache
that can always be rebuilt from it. Each index file has a JSON sidecar recording how many live
labels it holds and their sum; when that disagrees with the catalog (crash between commit and
save, a deleted file, a newer catalog), the index is rebuilt from stored vectors without
re-embedding.

hnswlib is not safe for concurrent ``add_items`` and ``knn_query`` (hnswlib #29, #562), so every
operation takes one lock. ``ef`` is not persisted by hnswlib and is set again on load. Asking for
more neighbours than live elements raises, so ``k`` is clamped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import hnswlib
import numpy as np

from .config import atomic_write_text, fsync_dir

log = logging.getLogger(__name__)

EF_SEARCH = 96
EF_CONSTRUCTION = 200
M = 16


class VectorIndex:
    """A cosine HNSW index whose labels are catalog vector ids."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        self._lock = threading.RLock()
        self._index = self._new(1024)
        self._live = 0
        self._label_sum = 0
        self._dirty = False

    def _new(self, capacity: int) -> hnswlib.Index:
        idx = hnswlib.Index(space="cosine", dim=self.dim)
        idx.init_index(max_elements=capacity, ef_construction=EF_CONSTRUCTION, M=M, allow_replace_deleted=False)
        idx.set_ef(EF_SEARCH)
        return idx

    @property
    def sidecar(self) -> Path:
        return self.path.with_suffix(self.path.suffix + ".json")

    def __len__(self) -> int:
        return self._live

    @property
    def signature(self) -> tuple[int, int]:
        """(live count, sum of live labels): compared with the catalog to detect drift."""
        return (self._live, self._label_sum)

    def load(self) -> bool:
        """Load from disk; False when missing or unreadable (the caller rebuilds)."""
        with self._lock:
            try:
                meta = json.loads(self.sidecar.read_text(encoding="utf-8"))
                if meta.get("dim") != self.dim:
                    return False
                idx = hnswlib.Index(space="cosine", dim=self.dim)
                idx.load_index(str(self.path), max_elements=max(int(meta["capacity"]), 1))
                idx.set_ef(EF_SEARCH)
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                if not isinstance(exc, FileNotFoundError):
                    log.warning("Vector index %s unreadable (%s); it will be rebuilt", self.path, exc)
                return False
            self._index = idx
            self._live = int(meta["live"])
            self._label_sum = int(meta["label_sum"])
            self._dirty = False
            return True

    def rebuild(self, rows: Iterable[tuple[int, bytes]], count_hint: int = 0) -> None:
        """Replace the whole index with ``(label, float32 blob)`` rows."""
        with self._lock:
            self._index = self._new(max(1024, int(count_hint * 1.25) + 16))
            self._live = 0
            self._label_sum = 0
            batch_ids: list[int] = []
            batch_vecs: list[np.ndarray] = []
            for label, blob in rows:
                batch_ids.append(label)
                batch_vecs.append(np.frombuffer(blob, dtype=np.float32))
                if len(batch_ids) >= 4096:
                    self._add_locked(np.asarray(batch_ids), np.stack(batch_vecs))
                    batch_ids, batch_vecs = [], []
            if batch_ids:
                self._add_locked(np.asarray(batch_ids), np.stack(batch_vecs))
            self._dirty = True

    def add(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock:
            self._add_locked(np.asarray(labels, dtype=np.int64), np.asarray(vectors, dtype=np.float32))
            self._dirty = True

    def _add_locked(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        if len(labels) == 0:
            return
        need = self._index.get_current_count() + len(labels)
        cap = self._index.get_max_elements()
        if need > cap:
            self._index.resize_index(max(need, int(cap * 1.5)))
        self._index.add_items(vectors, labels)
        self._live += len(labels)
        self._label_sum += int(labels.sum())

    def remove(self, labels: Iterable[int]) -> None:
        with self._lock:
            for label in labels:
                try:
                    self._index.mark_deleted(int(label))
                except RuntimeError:
                    continue  # not in the index (already deleted, or never added)
                self._live -= 1
                self._label_sum -= int(label)
                self._dirty = True

    def query(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Nearest ``k`` labels with cosine similarity, best first."""
        with self._lock:
            k = min(k, self._live)
            if k <= 0:
                return []
            self._index.set_ef(max(EF_SEARCH, k))
            query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
            while True:
                try:
                    labels, dists = self._index.knn_query(query, k=k)
                    break
                except RuntimeError:
                    # With many deleted elements HNSW may not reach k live ones (hnswlib #321).
                    if k <= 1:
                        return []
                    k //= 2
        return [(int(lab), float(1.0 - d)) for lab, d in zip(labels[0], dists[0], strict=True)]

    def save(self) -> None:
        """Write to a temp file, fsync, rename; then the sidecar. Readers never see half a file."""
        with self._lock:
            if not self._dirty and self.path.exists():
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            self._index.save_index(str(tmp))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            fsync_dir(self.path.parent)
            meta = {
                "dim": self.dim,
                "live": self._live,
                "label_sum": self._label_sum,
                "capacity": self._index.get_max_elements(),
            }
            atomic_write_text(self.sidecar, json.dumps(meta))
            self._dirty = False
