"""Search: text, image and "similar" queries over the vector indexes and the full-text index.

Raw scores of different kinds are never compared. Text-to-image cosine similarities are
systematically lower than text-to-text ones (the modality gap), and BM25 scores live on a scale
of their own. So:

1. Vectors, per modality: each cosine similarity is turned into a z-score against the *same
   query's* similarities to a random sample of that modality's index (``VectorStore.background``):
   ``z = (sim - mean) / max(std, MIN_SPREAD)``. A z-score says how unusual a match is for this query in this
   modality, which is comparable across modalities where raw cosines are not. An item with both an
   image and a text vector (a PDF page) takes its better z-score. This gives one vector ranking.
2. Keywords: FTS5 BM25 gives a second ranking.
3. The two rankings are combined with reciprocal rank fusion,
   ``score(item) = sum over lists of 1 / (RRF_K + rank)``, normalised so that an item ranked first
   in every available list scores 1.0.

The cosine similarity of the best vector match is reported beside the score as ``similarity``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.sql import text as sql

from . import store
from .catalog import Catalog
from .errors import BadInput, ExtractionError, ModelUnavailable
from .extract import extract, locator
from .models import Embedder
from .vectors import MODALITIES, VectorStore

log = logging.getLogger(__name__)

RRF_K = 60
MIN_SPREAD = 0.02  # cosine units; real CLIP text->image spreads are ~0.02-0.04


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

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "locator": self.locator,
            "score": round(self.score, 6),
            "similarity": None if self.similarity is None else round(self.similarity, 6),
            "file_kind": self.file_kind,
            "sources": self.sources,
        }


def fts_query(user_text: str) -> str | None:
    """An FTS5 MATCH expression that can never be a syntax error: every word is a quoted string."""
    words = re.findall(r"\w+", user_text, flags=re.UNICODE)
    if not words:
        return None
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


class Searcher:
    def __init__(
        self, catalog: Catalog, embedder: Embedder | None, vectors: VectorStore | None
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder if vectors is not None else None
        self.vectors = vectors

    # ---------------------------------------------------------------- public

    def text(self, query: str, k: int = 20) -> list[Hit]:
        """Hybrid search for words: vector lists (when a model is loaded) plus keywords."""
        query = query.strip()
        if not query:
            raise BadInput("The search text is empty. Type some words, or search by --image PATH.")
        lists: dict[str, list[tuple[int, float | None]]] = {}
        if self.embedder is not None and self.embedder.supports("text"):
            qvec = self.embedder.encode_texts([query], query=True)[0]
            lists.update(self._vector_lists(qvec, k))
        lists["keywords"] = self._keyword_list(query, max(50, 3 * k))
        return self._fuse(lists, k)

    def vector(
        self,
        qvec: np.ndarray,
        k: int = 20,
        exclude_file: int | None = None,
        modalities: tuple[str, ...] = MODALITIES,
    ) -> list[Hit]:
        """Nearest items to a query vector, in the given modalities' indexes."""
        hits = self._fuse(
            self._vector_lists(qvec, k + 64 if exclude_file else k, modalities), k + 64
        )
        if exclude_file is not None:
            hits = [h for h in hits if h.file_id != exclude_file]
        return hits[:k]

    def image(self, path: str | Path, k: int = 20) -> list[Hit]:
        """Search with an image file as the query: look-alikes, among images and page renderings."""
        qvec, _file_id, modality = self.query_vector_for_file(path, prefer_stored=False)
        return self.vector(qvec, k, modalities=(modality,))

    def combined(self, query: str, image: str | Path, k: int = 20) -> list[Hit]:
        """Words plus an image: the normalised sum of both query vectors, fused with keywords."""
        emb = self._require_model()
        ivec = self.query_vector_for_file(image, prefer_stored=False)[0]
        qvec = (
            emb.encode_texts([query], query=True)[0]
            if emb.supports("text")
            else np.zeros_like(ivec)
        )
        lists = self._vector_lists(_normalize(ivec + qvec), k)
        lists["keywords"] = self._keyword_list(query, max(50, 3 * k))
        return self._fuse(lists, k)

    def similar(self, path: str | Path, k: int = 20) -> list[Hit]:
        """Files like ``path``: its stored vectors when indexed, else it is read and encoded now."""
        qvec, file_id, modality = self.query_vector_for_file(path, prefer_stored=True)
        return self.vector(qvec, k, exclude_file=file_id, modalities=(modality,))

    # ---------------------------------------------------------------- pieces

    def _require_model(self) -> Embedder:
        if self.embedder is None:
            raise ModelUnavailable(
                "Searching by image needs the embedding model, which is not available "
                "(see `scry status`). Keyword search still works."
            )
        return self.embedder

    def query_vector_for_file(
        self, path: str | Path, *, prefer_stored: bool
    ) -> tuple[np.ndarray, int | None, str]:
        """The query vector for a file, its catalog id (if indexed) and the vector's modality.

        Image-like files (photos, PDF page renderings) give an image vector; text files a text
        vector. Looking for files *like* another one compares within that modality: cross-modal
        matches (a photo against passages) are what words are for.
        """
        emb = self._require_model()
        p = Path(path).expanduser()
        file_id = None
        with self.catalog.session() as s:
            row = (
                store.file_by_path(s, str(p.resolve()))
                if p.exists()
                else store.file_by_path(s, str(p.absolute()))
            )
            if row is not None:
                file_id = row.id
                if prefer_stored and self.vectors is not None:
                    stored = store.vectors_of_file(s, row.id, self.vectors.model_id)
                    found = _mean_vector(stored)
                    if found is not None:
                        return found[0], file_id, found[1]
        if not p.is_file():
            raise BadInput(f"{p} is not a file scry can read (missing, or a folder).")
        try:
            ex = extract(p)
        except ExtractionError as exc:
            raise BadInput(f"Cannot use {p} as a query: {exc.reason}.") from exc
        images = [it.image for it in ex.items if it.image is not None]
        texts = [it.text for it in ex.items if it.text.strip()]
        if images and emb.supports("image"):
            vecs, modality = emb.encode_images(images[:16]), "image"
        elif texts and emb.supports("text"):
            vecs, modality = emb.encode_texts(texts[:16]), "text"
        else:
            raise BadInput(
                f"The model {emb.name} cannot read {p} ({ex.kind}); it reads {', '.join(emb.info().modalities)}."
            )
        return _normalize(vecs.mean(axis=0)), file_id, modality

    def _vector_lists(
        self, qvec: np.ndarray, k: int, modalities: tuple[str, ...] = MODALITIES
    ) -> dict[str, list[tuple[int, float | None]]]:
        """One ranking of items by vector similarity, modalities made comparable by z-scores."""
        if self.vectors is None:
            return {}
        depth = max(50, 3 * k)
        best: dict[int, tuple[float, float]] = {}  # item -> (z-score, cosine)
        for modality in modalities:
            found = self.vectors.query(modality, qvec, depth)
            if not found:
                continue
            mean, std = _background_stats(self.vectors.background(modality), qvec)
            with self.catalog.session() as s:
                item_of = store.item_ids_for_labels(s, [lab for lab, _ in found])
            for label, sim in found:
                item_id = item_of.get(label)
                if item_id is None:
                    continue
                z = (sim - mean) / std
                if item_id not in best or z > best[item_id][0]:
                    best[item_id] = (z, sim)
        if not best:
            return {}
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return {"vectors": [(item_id, sim) for item_id, (_z, sim) in ranked]}

    def _keyword_list(self, query: str, depth: int) -> list[tuple[int, float | None]]:
        match = fts_query(query)
        if match is None:
            return []
        with self.catalog.session() as s:
            rows = s.execute(
                sql(
                    "SELECT rowid FROM fts WHERE fts MATCH :q ORDER BY bm25(fts, 4.0, 2.0, 1.0, 2.0) LIMIT :n"
                ),
                {"q": match, "n": depth},
            )
            return [(int(r[0]), None) for r in rows]

    def _fuse(self, lists: dict[str, list[tuple[int, float | None]]], k: int) -> list[Hit]:
        live = {name: ranked for name, ranked in lists.items() if ranked}
        if not live:
            return []
        scores: dict[int, float] = {}
        sims: dict[int, float] = {}
        sources: dict[int, list[str]] = {}
        for name, ranked in live.items():
            for rank, (item_id, sim) in enumerate(ranked):
                scores[item_id] = scores.get(item_id, 0.0) + 1.0 / (RRF_K + rank + 1)
                sources.setdefault(item_id, []).append(name)
                if sim is not None and sim > sims.get(item_id, -2.0):
                    sims[item_id] = sim
        norm = len(live) / (RRF_K + 1)
        # Ties (first in one list each) go to the literal keyword match: the words the person typed.
        best = sorted(
            scores,
            key=lambda i: (-scores[i], "keywords" not in sources[i], -sims.get(i, -2.0), i),
        )[:k]
        with self.catalog.session() as s:
            rows = store.items_by_id(s, best)
        hits = []
        for item_id in best:
            r = rows.get(item_id)
            if r is None:
                continue
            hits.append(
                Hit(
                    path=r.path,
                    kind=r.kind,
                    locator=locator(r.page, r.char_start, r.char_end, r.time_s),
                    score=scores[item_id] / norm,
                    item_id=item_id,
                    file_id=r.file_id,
                    file_kind=r.file_kind,
                    similarity=sims.get(item_id),
                    sources=sources[item_id],
                )
            )
        return hits


def _background_stats(sample: np.ndarray, qvec: np.ndarray) -> tuple[float, float]:
    """Mean and spread of the query's similarity to a modality's stored vectors."""
    if len(sample) < 2:
        return 0.0, 1.0
    sims = sample @ qvec.astype(np.float32)
    # A floor on the spread: when a modality's vectors are near-identical (many similar notes),
    # a tiny std would turn a trivial difference into a huge z-score.
    return float(sims.mean()), max(float(sims.std()), MIN_SPREAD)


def _normalize(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)


def _mean_vector(stored: list[tuple[int, str, np.ndarray]]) -> tuple[np.ndarray, str] | None:
    for modality in ("image", "text"):
        vecs = [v for _, m, v in stored if m == modality]
        if vecs:
            return _normalize(np.mean(vecs, axis=0)), modality
    return None
