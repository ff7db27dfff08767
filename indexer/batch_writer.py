"""Writing a pass's batches: embed the files read (a file the model chokes on fails alone), then
store files, items, full text, vectors and "embedded" marks in one transaction per batch, and add
the vectors to the HNSW indexes after the commit.

:class:`BatchWriter` is the batch half of :class:`.indexing.Indexer`, which runs the pass (scan,
diff, reading ahead) and hands it the batches.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import store
from .catalog import Catalog
from .extract import Extracted, kind_of
from .models import Embedder
from .report import IndexReport
from .scan import DiskFile
from .schema import Root
from .vectors import VectorStore

log = logging.getLogger(__name__)


@dataclass
class _Work:
    disk: DiskFile
    fingerprint: str | None
    root: Root
    changed: bool = False  # content changed: drop all old items and vectors first
    origin: str = "new"  # the report count it is in until read: new | changed | unchanged
    extracted: Extracted | None = None
    error: str | None = None
    skipped: str | None = None
    vectors: dict[str, tuple[list[int], np.ndarray]] = field(default_factory=dict)


class BatchWriter:
    """Embeds and stores batches of files; a mixin of :class:`.indexing.Indexer`, whose
    ``catalog``, ``embedder``, ``vectors``, ``model_id`` and model modalities it uses."""

    catalog: Catalog
    embedder: Embedder | None
    vectors: VectorStore | None
    model_id: int | None
    _modalities: tuple[str, ...]
    _combined: bool

    def _forget(self, removed: store.Removed) -> None:
        if self.vectors is None or not removed:
            return
        mine: dict[str, list[int]] = {}
        for model_id, modality, label in removed:
            if model_id == self.model_id:
                mine.setdefault(modality, []).append(label)
        self.vectors.remove(mine)

    def _uncount(self, w: _Work, report: IndexReport) -> None:
        """Take a file that turned out unreadable or skipped out of the count it was in."""
        setattr(report, w.origin, getattr(report, w.origin) - 1)

    def _flush(self, batch: list[_Work], report: IndexReport) -> int:
        live = []
        for w in batch:
            if w.error is not None and not os.path.lexists(w.disk.path):
                # vanished since the scan: reported, not catalogued (the next scan sees it gone)
                self._uncount(w, report)
                report.failed += 1
                report.failures.append((w.disk.path, "file vanished while being indexed"))
                continue
            live.append(w)
        if self.embedder is not None:
            self._embed(live)
        removed: store.Removed = []
        added: dict[str, tuple[list[int], list[np.ndarray]]] = {}
        embedded_items = 0
        with self.catalog.session(write=True) as s:
            for w in live:
                ex = w.extracted
                if w.skipped is not None:
                    status, reason = "skipped", w.skipped
                elif w.error is not None:
                    status, reason = "failed", w.error
                else:
                    status, reason = "ok", ex.note if ex else None
                row = store.upsert_file(
                    s,
                    w.root,
                    w.disk,
                    w.fingerprint,
                    kind=ex.kind if ex else kind_of(w.disk.path),
                    status=status,
                    reason=reason,
                    meta=ex.meta if ex else None,
                )
                if w.changed or ex is None:
                    removed += store.clear_items(s, row.id)
                if ex is None:
                    self._uncount(w, report)
                    if w.skipped is not None:
                        report.skipped += 1
                        report.skips[w.skipped] = report.skips.get(w.skipped, 0) + 1
                    else:
                        report.failed += 1
                        report.failures.append((w.disk.path, reason or ""))
                    continue
                if ex.note:
                    report.notes.append((w.disk.path, ex.note))
                item_ids, gone = store.replace_items(s, row, w.root, ex)
                removed += gone
                if self.model_id is None:
                    continue
                have = store.existing_vectors(s, item_ids, self.model_id)
                items_with_new_vector: set[int] = set()
                for modality, (seqs, vecs) in w.vectors.items():
                    keep = [
                        i for i, seq in enumerate(seqs) if (item_ids[seq], modality) not in have
                    ]
                    if not keep:
                        continue
                    ids = [item_ids[seqs[i]] for i in keep]
                    labels = store.add_vectors(s, self.model_id, modality, ids, vecs[keep])
                    bucket = added.setdefault(modality, ([], []))
                    bucket[0].extend(labels)
                    bucket[1].append(vecs[keep])
                    items_with_new_vector.update(ids)
                embedded_items += len(items_with_new_vector)
                store.mark_embedded(s, row.id, self.model_id)
        report.embedded += embedded_items
        self._forget(removed)
        if self.vectors is not None:
            for modality, (labels, chunks) in added.items():
                self.vectors.add(modality, labels, np.concatenate(chunks))
        return len(batch)

    def _embed(self, batch: list[_Work]) -> None:
        """Fill ``w.vectors`` for every readable file; a file the model chokes on is failed alone."""
        todo = [w for w in batch if w.extracted is not None]
        try:
            self._embed_files(todo)
        except Exception:
            log.info("Batch embedding failed; retrying file by file", exc_info=True)
            for w in todo:
                w.vectors.clear()
                try:
                    self._embed_files([w])
                except Exception as exc:
                    w.vectors.clear()
                    w.extracted = None
                    w.error = f"the model could not read this file: {type(exc).__name__}: {exc}"

    def _embed_files(self, files: list[_Work]) -> None:
        todo: dict[str, tuple[list[tuple[_Work, int]], list[Any]]] = {}
        for w in files:
            for seq, item in enumerate(w.extracted.items):
                for modality, value in item.model_inputs(self._modalities, self._combined).items():
                    owners, payload = todo.setdefault(modality, ([], []))
                    owners.append((w, seq))
                    payload.append(value)
        for modality, (owners, payload) in todo.items():
            if modality == "image":
                vecs = self.embedder.encode_images(payload)
            elif modality == "combined":
                vecs = self.embedder.encode_combined(payload)
            elif modality == "video":
                vecs = self.embedder.encode_videos(payload)
            else:
                vecs = self.embedder.encode_texts(payload)
            start = 0
            while start < len(owners):
                w = owners[start][0]
                end = start
                while end < len(owners) and owners[end][0] is w:
                    end += 1
                w.vectors[modality] = ([seq for _, seq in owners[start:end]], vecs[start:end])
                start = end
