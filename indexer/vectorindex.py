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

import errno
import json
import logging
import os
import struct
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
EXACT_SCAN_MAX = 4096


class VectorIndex:
    """A cosine HNSW index whose labels are catalog vector ids."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim
        self._lock = threading.RLock()
        self._index = self._new(1024)
        self._labels: set[int] = set()  # live labels
        self._deleted: set[int] = set()  # marked deleted, still in the graph
        self._label_sum = 0
        self._dirty = False

    def _new(self, capacity: int) -> hnswlib.Index:
        idx = hnswlib.Index(space="cosine", dim=self.dim)
        idx.init_index(
            max_elements=capacity, ef_construction=EF_CONSTRUCTION, M=M, allow_replace_deleted=False
        )
        idx.set_ef(EF_SEARCH)
        return idx

    @property
    def sidecar(self) -> Path:
        return self.path.with_suffix(self.path.suffix + ".json")

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def signature(self) -> tuple[int, int]:
        """(live count, sum of live labels): compared with the catalog to detect drift."""
        return (len(self._labels), self._label_sum)

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
                    log.warning(
                        "Vector index %s unreadable (%s); it will be rebuilt", self.path, exc
                    )
                return False
            deleted = {int(x) for x in meta.get("deleted", [])}
            labels = {int(x) for x in idx.get_ids_list()} - deleted
            if len(labels) != int(meta["live"]) or sum(labels) != int(meta["label_sum"]):
                log.warning(
                    "Vector index %s disagrees with its sidecar; it will be rebuilt", self.path
                )
                return False
            self._index = idx
            self._labels, self._deleted = labels, deleted
            self._label_sum = sum(labels)
            self._dirty = False
            return True

    def rebuild(self, rows: Iterable[tuple[int, bytes]], count_hint: int = 0) -> None:
        """Replace the whole index with ``(label, float32 blob)`` rows."""
        with self._lock:
            self._index = self._new(max(1024, int(count_hint * 1.25) + 16))
            self._labels, self._deleted = set(), set()
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
            self._add_locked(
                np.asarray(labels, dtype=np.int64), np.asarray(vectors, dtype=np.float32)
            )
            self._dirty = True

    def _add_locked(self, labels: np.ndarray, vectors: np.ndarray) -> None:
        """Add or replace: hnswlib updates a known label in place (and revives a deleted one)."""
        if len(labels) == 0:
            return
        need = self._index.get_current_count() + len(labels)
        cap = self._index.get_max_elements()
        if need > cap:
            self._index.resize_index(max(need, int(cap * 1.5)))
        self._index.add_items(vectors, labels)
        for label in labels.tolist():
            if label not in self._labels:
                self._labels.add(label)
                self._label_sum += label
            self._deleted.discard(label)

    def remove(self, labels: Iterable[int]) -> None:
        with self._lock:
            for label in labels:
                label = int(label)
                if label not in self._labels:
                    continue  # not in the index (already deleted, or never added)
                self._index.mark_deleted(label)
                self._labels.remove(label)
                self._deleted.add(label)
                self._label_sum -= label
                self._dirty = True

    def _compact_locked(self) -> None:
        """Rebuild without deleted elements once they are a quarter of the graph."""
        if len(self._deleted) < 256 or len(self._deleted) < len(self._labels) // 3:
            return
        live = sorted(self._labels)
        vectors = np.asarray(self._index.get_items(live), dtype=np.float32) if live else None
        self._index = self._new(max(1024, int(len(live) * 1.25) + 16))
        self._labels, self._deleted, self._label_sum = set(), set(), 0
        if vectors is not None:
            self._add_locked(np.asarray(live, dtype=np.int64), vectors)

    def query(
        self, vector: np.ndarray, k: int, allowed: set[int] | None = None
    ) -> list[tuple[int, float]]:
        """Nearest ``k`` labels with cosine similarity, best first; only ``allowed`` labels if given.

        A small allowed set is scanned exactly (a filtered graph walk could miss its members);
        a large one filters the HNSW walk.
        """
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        with self._lock:
            if allowed is not None:
                allowed = allowed & self._labels if len(allowed) < len(self._labels) else allowed
                if len(allowed) <= EXACT_SCAN_MAX:
                    return self._exact_locked(query[0], k, allowed)
                live = len(allowed)
            else:
                live = len(self._labels)
            k = min(k, live)
            if k <= 0:
                return []
            self._index.set_ef(max(EF_SEARCH, k if allowed is None else 4 * k))
            flt = None if allowed is None else allowed.__contains__
            while True:
                try:
                    labels, dists = self._index.knn_query(query, k=k, filter=flt)
                    break
                except RuntimeError:
                    # With many deleted elements HNSW may not reach k live ones (hnswlib #321).
                    if k <= 1:
                        return []
                    k = max(1, k - max(1, k // 8))
        return [(int(lab), float(1.0 - d)) for lab, d in zip(labels[0], dists[0], strict=True)]

    def _exact_locked(
        self, query: np.ndarray, k: int, allowed: set[int]
    ) -> list[tuple[int, float]]:
        labels = sorted(lab for lab in allowed if lab in self._labels)
        if not labels or k <= 0:
            return []
        vecs = np.asarray(self._index.get_items(labels), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        sims = (vecs @ query) / np.maximum(norms, 1e-12)
        order = np.argsort(-sims)[:k]
        return [(labels[i], float(sims[i])) for i in order]

    def save(self) -> None:
        """Write to a temp file, fsync, rename; then the sidecar. Readers never see half a file."""
        with self._lock:
            if not self._dirty and self.path.exists():
                return
            self._compact_locked()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            self._index.save_index(str(tmp))
            if not _complete(tmp):  # hnswlib does not report a failed write (a full disk)
                tmp.unlink(missing_ok=True)
                raise OSError(
                    errno.ENOSPC, "the vector index could not be written completely", str(tmp)
                )
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            fsync_dir(self.path.parent)
            meta = {
                "dim": self.dim,
                "live": len(self._labels),
                "label_sum": self._label_sum,
                "capacity": self._index.get_max_elements(),
                "deleted": sorted(self._deleted),
            }
            atomic_write_text(self.sidecar, json.dumps(meta))
            self._dirty = False


HEADER_BYTES = 96  # hnswlib 0.8 saveIndex: 10 size_t, 2 ints, 1 double, in this order


def _complete(path: Path) -> bool:
    """Whether an index file hnswlib wrote is whole: the check its loadIndex makes (the
    per-element link lists end exactly at the end of the file), done before it replaces a good
    index. hnswlib writes through an unchecked ofstream, so a full disk leaves a short file."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(HEADER_BYTES)
            if len(head) < HEADER_BYTES:
                return False
            count, per_element = struct.unpack_from("<QQ", head, 16)
            fh.seek(HEADER_BYTES + count * per_element)
            links = fh.read()
    except OSError:
        return False
    pos = 0
    for _ in range(count):
        if pos + 4 > len(links):
            return False
        pos += 4 + struct.unpack_from("<I", links, pos)[0]
    return HEADER_BYTES + count * per_element + pos == size
