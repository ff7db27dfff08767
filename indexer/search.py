"""Search: words, images or both, over the vector indexes and the full-text index.

Raw scores of different kinds are never compared. Text-to-image cosine similarities are
systematically lower than text-to-text ones (the modality gap), and BM25 scores live on a scale
of their own. So:

1. Vectors, per modality: each cosine similarity is turned into a z-score against the *same
   query's* similarities to a random sample of that modality's index (``VectorStore.background``):
   ``z = (sim - mean) / max(std, MIN_SPREAD)``. A z-score says how unusual a match is for this
   query in this modality, which is comparable across modalities where raw cosines are not. An
   item with both an image and a text vector (a PDF page) takes its better z-score; with a model
   that reads both at once, a page has one ``combined`` vector, z-scored in its own index; with a
   model that reads video, a video has one whole-video vector besides its frames' image vectors,
   z-scored in the ``video`` index. This gives one vector ranking.
2. Keywords: FTS5 BM25 gives a second ranking: items with all the words first, then items with
   some of them, which count half in fusion.
3. The two rankings are combined with reciprocal rank fusion,
   ``score(item) = sum over lists of weight / (RRF_K + rank)`` (weights configurable, 1 by
   default), normalised so that an item ranked first
   in every available list scores 1.0. Results are grouped per file: the best item of a file
   stands for it, so one PDF does not flood the page with its pages.
4. Relevance cutoff (word queries): an item found only by vectors must have a z-score at least as
   high as the best match of a typical *unrelated* query on this index (the threshold is measured
   per model from the index itself, see ``calibration``); otherwise it is hidden, so a query with
   no good match says so instead of listing random photos. Keyword matches are always shown.

Image queries compare with image-like vectors (look-alikes among photos, rendered or combined
pages, and whole videos).
The cosine similarity of the best vector match is reported beside the score as ``similarity``.

This module holds the :class:`Searcher` (query vectors, vector ranking, the cutoff); the keyword
side is in :mod:`.keywords`, z-scores and fusion in :mod:`.fusion`, and the result types in
:mod:`.search_types` (re-exported here).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from . import filtering, store
from .catalog import Catalog
from .errors import BadInput, ExtractionError, ModelUnavailable
from .extract import extract
from .fusion import _background_stats, _normalize, fuse
from .keywords import _quote, _words, fts_items, fts_query, keyword_list  # noqa: F401 (re-export)
from .models import Embedder
from .query import Query, describe, parse
from .search_types import Hit, SearchOptions, SearchResult  # importers use them from here
from .vectors import IMAGE_LIKE, MODALITIES, VectorStore

log = logging.getLogger(__name__)

MODES = ("hybrid", "lexical", "vector")
NEGATIVE_STEP = 0.1


class Searcher:
    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder | None,
        vectors: VectorStore | None,
        threshold: Any = None,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder if vectors is not None else None
        self.vectors = vectors
        self._threshold = threshold  # callable () -> float | None, measured lazily

    # ---------------------------------------------------------------- public

    def run(
        self,
        query: str = "",
        *,
        image: str | Path | None = None,
        options: SearchOptions | None = None,
        exclude_file: int | None = None,
        image_vector: np.ndarray | None = None,
    ) -> SearchResult:
        """Search with words (query language), an image, or both."""
        opts = options or SearchOptions()
        if opts.mode not in MODES:
            raise BadInput(f"Unknown search mode {opts.mode!r}: use hybrid, lexical or vector.")
        q = parse(query or "")
        if q.empty and image is None and image_vector is None:
            raise BadInput("The search text is empty. Type some words, or search by --image PATH.")
        ivec = image_vector
        if image is not None:
            ivec, _img_file, _mod = self.query_vector_for_file(image, prefer_stored=False)
        with self.catalog.session() as s:
            allowed = filtering.allowed_items(s, q.filters)
            banned = fts_items(
                s, " OR ".join(_quote(" ".join(_words(x))) for x in q.excludes if _words(x))
            )
        lists: dict[str, list[tuple[int, float | None]]] = {}
        zscores: dict[int, float] = {}
        partial: set[int] = set()
        if not q.text and ivec is None:  # filters alone: browse what matches, newest first
            if allowed is not None:
                allowed -= banned
            return SearchResult(q, self._browse(allowed or set(), opts, q))
        if opts.mode in ("hybrid", "lexical") and (q.words or q.phrases):
            lists["keywords"], partial = keyword_list(self.catalog, q, max(50, 3 * opts.k), allowed)
        if q.phrases:  # an exact phrase is a requirement, not a hint
            with self.catalog.session() as s:
                must = fts_items(
                    s, " AND ".join(_quote(" ".join(_words(p))) for p in q.phrases if _words(p))
                )
            allowed = must if allowed is None else (allowed & must)
        vec_query = None
        if opts.mode in ("hybrid", "vector") and self.vectors is not None:
            vec_query, modalities = self._query_vector(q, ivec)
            if vec_query is not None:
                ranked, zscores = self._vector_ranking(
                    vec_query, opts.k, modalities, allowed, banned
                )
                lists["vectors"] = ranked
        elif opts.mode == "vector" and self.vectors is None:
            raise ModelUnavailable(
                "Vector search needs the embedding model, which is not available (see `scry "
                "status`). Keyword search still works: --mode lexical."
            )
        threshold = None
        hidden = 0
        word_query = bool(q.text) and ivec is None
        if opts.cutoff and word_query and "vectors" in lists and self._threshold is not None:
            threshold = self._threshold()
            if threshold is not None:
                keyword_items = {i for i, _ in lists.get("keywords", [])}
                kept = [
                    (i, s_)
                    for i, s_ in lists["vectors"]
                    if zscores[i] >= threshold or i in keyword_items
                ]
                hidden = len(lists["vectors"]) - len(kept)
                lists["vectors"] = kept
        hits = fuse(self.catalog, lists, zscores, opts, q, exclude_file, partial)
        result = SearchResult(q, hits, hidden=hidden, threshold=threshold)
        if not hits:
            what = describe(q) or "this image"
            result.message = f"No good matches for {what}."
            if hidden:
                result.message += f" {hidden} weaker matches are hidden (show them with --all)."
        return result

    def text(self, query: str, k: int = 20) -> list[Hit]:
        """Hybrid search for words; the query language applies."""
        return self.run(query, options=SearchOptions(k=k)).hits

    def vector(
        self,
        qvec: np.ndarray,
        k: int = 20,
        exclude_file: int | None = None,
        modalities: tuple[str, ...] = MODALITIES,
    ) -> list[Hit]:
        """Nearest files to a query vector, in the given modalities' indexes."""
        if self.vectors is None:
            raise ModelUnavailable(
                "Searching by image needs the embedding model, which is not available "
                "(see `scry status`). Keyword search still works."
            )
        ranked, z = self._vector_ranking(
            qvec, k + (1 if exclude_file else 0), modalities, None, set()
        )
        return fuse(
            self.catalog,
            {"vectors": ranked},
            z,
            SearchOptions(k=k, cutoff=False),
            Query(),
            exclude_file,
        )

    def image(self, path: str | Path, k: int = 20) -> list[Hit]:
        """Search with an image file as the query: look-alikes, among images and page renderings."""
        qvec, _file_id, modality = self.query_vector_for_file(path, prefer_stored=False)
        return self.vector(qvec, k, modalities=_alike(modality))

    def combined(self, query: str, image: str | Path, k: int = 20) -> list[Hit]:
        """Words plus an image: the normalised sum of both query vectors, fused with keywords."""
        return self.run(query, image=image, options=SearchOptions(k=k)).hits

    def similar(self, path: str | Path, k: int = 20) -> list[Hit]:
        """Files like ``path``: its stored vectors when indexed, else it is read and encoded now."""
        qvec, file_id, modality = self.query_vector_for_file(path, prefer_stored=True)
        return self.vector(qvec, k, exclude_file=file_id, modalities=_alike(modality))

    # ---------------------------------------------------------------- pieces

    def _require_model(self) -> Embedder:
        if self.embedder is None:
            raise ModelUnavailable(
                "Searching by image needs the embedding model, which is not available "
                "(see `scry status`). Keyword search still works."
            )
        return self.embedder

    def _query_vector(
        self, q: Query, ivec: np.ndarray | None
    ) -> tuple[np.ndarray | None, tuple[str, ...]]:
        """The vector side of a query: words (minus excluded meanings), plus an image if given."""
        emb = self.embedder
        if emb is None:
            return None, ()
        parts: list[np.ndarray] = []
        text_ok = emb.supports("text")
        if q.text and text_ok:
            parts.append(emb.encode_texts([q.text], query=True)[0])
        if ivec is not None:
            parts.append(ivec)
        if not parts:
            return None, ()
        vec = _normalize(np.sum(parts, axis=0))
        if q.excludes and text_ok:
            # Negative terms move the query away from what is excluded (as rclip does). Rather
            # than subtracting the whole embedding, which also pushes away everything the two
            # share ("pets -cat" would flee from animals), remove the query's component along
            # each excluded meaning and then step a little further away.
            for neg in emb.encode_texts(q.excludes, query=True):
                neg = _normalize(neg)
                vec = _normalize(vec - (max(0.0, float(vec @ neg)) + NEGATIVE_STEP) * neg)
        modalities = IMAGE_LIKE if (ivec is not None and not q.text) else MODALITIES
        return vec, modalities

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
                f"The model {emb.name} cannot read {p} ({ex.kind}); "
                f"it reads {', '.join(emb.info().modalities)}."
            )
        return _normalize(vecs.mean(axis=0)), file_id, modality

    def top_z(self, qvec: np.ndarray, modalities: tuple[str, ...] = MODALITIES) -> float | None:
        """The best z-score any item reaches for this query vector (used for calibration)."""
        _ranked, z = self._vector_ranking(qvec, 1, modalities, None, set())
        return max(z.values()) if z else None

    def _vector_ranking(
        self,
        qvec: np.ndarray,
        k: int,
        modalities: tuple[str, ...],
        allowed: set[int] | None,
        banned: set[int],
    ) -> tuple[list[tuple[int, float | None]], dict[int, float]]:
        """Items ranked by vector similarity, modalities made comparable by z-scores."""
        assert self.vectors is not None
        depth = max(50, 3 * k)
        best: dict[int, tuple[float, float]] = {}  # item -> (z-score, cosine)
        for modality in modalities:
            labels = None
            if allowed is not None:
                with self.catalog.session() as s:
                    labels = filtering.labels_for_items(s, allowed, self.vectors.model_id, modality)
                if not labels:
                    continue
            found = self.vectors.query(modality, qvec, depth, labels)
            if not found:
                continue
            mean, std = _background_stats(self.vectors.background(modality), qvec)
            with self.catalog.session() as s:
                item_of = store.item_ids_for_labels(s, [lab for lab, _ in found])
            for label, sim in found:
                item_id = item_of.get(label)
                if item_id is None or item_id in banned:
                    continue
                z = (sim - mean) / std
                if item_id not in best or z > best[item_id][0]:
                    best[item_id] = (z, sim)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [(i, sim) for i, (_z, sim) in ranked], {i: z for i, (z, _s) in best.items()}

    def _browse(self, allowed: set[int], opts: SearchOptions, q: Query) -> list[Hit]:
        """Files matching filters only, newest first (or by the requested sort)."""
        with self.catalog.session() as s:
            dates = filtering.item_dates(s, sorted(allowed))
        order = sorted(dates, key=lambda i: (dates[i], -i), reverse=True)
        browse = SearchOptions(k=opts.k, mode=opts.mode, cutoff=False, sort="date")
        return fuse(self.catalog, {"filter": [(i, None) for i in order]}, {}, browse, q, None)


def _alike(modality: str) -> tuple[str, ...]:
    """The indexes a file's vector is compared with: text with text, images with image-likes."""
    return ("text",) if modality == "text" else IMAGE_LIKE


def _mean_vector(stored: list[tuple[int, str, np.ndarray]]) -> tuple[np.ndarray, str] | None:
    for modality in ("image", "combined", "video", "text"):
        vecs = [v for _, m, v in stored if m == modality]
        if vecs:
            return _normalize(np.mean(vecs, axis=0)), modality
    return None
