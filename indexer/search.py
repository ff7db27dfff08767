"""Search: words, images or both, over the vector indexes and the full-text index.

Raw scores of different kinds are never compared. Text-to-image cosine similarities are
systematically lower than text-to-text ones (the modality gap), and BM25 scores live on a scale
of their own. So:

1. Vectors, per modality: each cosine similarity is turned into a z-score against the *same
   query's* similarities to a random sample of that modality's index (``VectorStore.background``):
   ``z = (sim - mean) / max(std, MIN_SPREAD)``. A z-score says how unusual a match is for this
   query in this modality, which is comparable across modalities where raw cosines are not. An
   item with both an image and a text vector (a PDF page) takes its better z-score; with a model
   that reads both at once, a page has one ``combined`` vector, z-scored in its own index. This
   gives one vector ranking.
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

Image queries compare with image-like vectors (look-alikes among photos and rendered or
combined pages).
The cosine similarity of the best vector match is reported beside the score as ``similarity``.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.sql import text as sql

from . import filtering, store
from .catalog import Catalog
from .errors import BadInput, ExtractionError, ModelUnavailable
from .extract import extract, locator
from .models import Embedder
from .query import Query, describe, parse
from .vectors import IMAGE_LIKE, MODALITIES, VectorStore

log = logging.getLogger(__name__)

RRF_K = 60
MIN_SPREAD = 0.02  # cosine units; real CLIP text->image spreads are ~0.02-0.04
MODES = ("hybrid", "lexical", "vector")
NEGATIVE_STEP = 0.1
DEFAULT_WEIGHTS = {"vectors": 1.0, "keywords": 1.0, "filter": 1.0}
PARTIAL_WEIGHT = 0.5  # a keyword hit with only some of the words


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


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text, flags=re.UNICODE)


def fts_query(user_text: str) -> str | None:
    """An FTS5 MATCH expression that can never be a syntax error: every word is a quoted string."""
    words = _words(user_text)
    if not words:
        return None
    return " ".join(_quote(w) for w in words)


def _match_expr(q: Query, *, any_word: bool) -> str | None:
    """FTS5 expression for a parsed query: words (all, or any), phrases (all), minus excludes."""
    words = [_quote(w) for word in q.words for w in _words(word)]
    phrases = [_quote(" ".join(_words(p))) for p in q.phrases if _words(p)]
    if not words and not phrases:
        return None
    parts = []
    if words:
        parts.append("(" + (" OR ".join(words) if any_word else " ".join(words)) + ")")
    parts += phrases
    expr = " AND ".join(parts)
    excl = [_quote(" ".join(_words(x))) for x in q.excludes if _words(x)]
    if excl:
        expr = f"({expr}) NOT ({' OR '.join(excl)})"
    return expr


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
            banned = self._fts_items(
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
            lists["keywords"], partial = self._keyword_list(q, max(50, 3 * opts.k), allowed)
        if q.phrases:  # an exact phrase is a requirement, not a hint
            with self.catalog.session() as s:
                must = self._fts_items(
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
        hits = self._fuse(lists, zscores, opts, q, exclude_file, partial)
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
        return self._fuse(
            {"vectors": ranked}, z, SearchOptions(k=k, cutoff=False), Query(), exclude_file
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
        return self._fuse({"filter": [(i, None) for i in order]}, {}, browse, q, None)

    def _fts_items(self, s: Any, expr: str) -> set[int]:
        if not expr:
            return set()
        return {
            int(r[0])
            for r in s.execute(sql("SELECT rowid FROM fts WHERE fts MATCH :q"), {"q": expr})
        }

    def _keyword_list(
        self, q: Query, depth: int, allowed: set[int] | None
    ) -> tuple[list[tuple[int, float | None]], set[int]]:
        """Items with all the words (BM25 order), then items with only some of them.

        The second kind (returned as a set) counts for less in fusion (``PARTIAL_WEIGHT``): a note
        sharing only "in" with "trekking in the alps" must not outrank what the words mean.
        """
        where, params = filtering.filter_sql(q.filters)
        out: list[tuple[int, float | None]] = []
        seen: set[int] = set()
        partial: set[int] = set()
        exprs = [_match_expr(q, any_word=False)]
        if len([w for word in q.words for w in _words(word)]) > 1:
            exprs.append(_match_expr(q, any_word=True))  # then files with some of the words
        with self.catalog.session() as s:
            for n, expr in enumerate(exprs):
                if expr is None or len(out) >= depth:
                    continue
                rows = s.execute(
                    sql(
                        "SELECT fts.rowid FROM fts JOIN items i ON i.id = fts.rowid "
                        "JOIN files f ON f.id = i.file_id "
                        f"WHERE fts MATCH :q AND {where} "
                        "ORDER BY bm25(fts, 4.0, 2.0, 1.0, 2.0) LIMIT :n"
                    ),
                    {**params, "q": expr, "n": depth},
                )
                for (item_id,) in rows:
                    if item_id not in seen and (allowed is None or item_id in allowed):
                        seen.add(item_id)
                        out.append((int(item_id), None))
                        if n:
                            partial.add(int(item_id))
        return out[:depth], partial

    def _fuse(
        self,
        lists: dict[str, list[tuple[int, float | None]]],
        zscores: dict[int, float],
        opts: SearchOptions,
        q: Query,
        exclude_file: int | None,
        partial: set[int] | None = None,
    ) -> list[Hit]:
        live = {name: ranked for name, ranked in lists.items() if ranked}
        if not live:
            return []
        weights = {**DEFAULT_WEIGHTS, **(opts.weights or {})}
        partial = partial or set()
        scores: dict[int, float] = {}
        sims: dict[int, float] = {}
        sources: dict[int, list[str]] = {}
        ranks: dict[int, dict[str, int]] = {}
        for name, ranked in live.items():
            w = weights.get(name, 1.0)
            for rank, (item_id, sim) in enumerate(ranked):
                wi = w * (PARTIAL_WEIGHT if name == "keywords" and item_id in partial else 1.0)
                scores[item_id] = scores.get(item_id, 0.0) + wi / (RRF_K + rank + 1)
                sources.setdefault(item_id, []).append(name)
                ranks.setdefault(item_id, {})[name] = rank + 1
                if sim is not None and sim > sims.get(item_id, -2.0):
                    sims[item_id] = sim
        norm = sum(weights.get(name, 1.0) for name in live) / (RRF_K + 1)
        # Ties (first in one list each) go to the literal keyword match: the words the person typed.
        order = sorted(
            scores,
            key=lambda i: (-scores[i], "keywords" not in sources[i], -sims.get(i, -2.0), i),
        )
        with self.catalog.session() as s:
            rows = store.items_by_id(s, order)
            dates = filtering.item_dates(s, order)
        hits: list[Hit] = []
        seen_files: set[int] = set()
        for item_id in order:
            r = rows.get(item_id)
            if r is None or r.file_id in seen_files or r.file_id == exclude_file:
                continue
            seen_files.add(r.file_id)
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
                    date=dates.get(item_id),
                    explain={
                        "lexical_rank": ranks[item_id].get("keywords"),
                        "vector_rank": ranks[item_id].get("vectors"),
                        "vector_z": None if item_id not in zscores else round(zscores[item_id], 3),
                        "fused": round(scores[item_id] / norm, 6),
                        "rerank": None,
                    },
                )
            )
            if len(hits) >= opts.k and (opts.sort or q.sort) != "date":
                break
        if (opts.sort or q.sort) == "date":
            hits.sort(key=lambda h: h.date or "", reverse=True)
        return hits[: opts.k]


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


def _alike(modality: str) -> tuple[str, ...]:
    """The indexes a file's vector is compared with: text with text, images with image-likes."""
    return ("text",) if modality == "text" else IMAGE_LIKE


def _mean_vector(stored: list[tuple[int, str, np.ndarray]]) -> tuple[np.ndarray, str] | None:
    for modality in ("image", "combined", "text"):
        vecs = [v for _, m, v in stored if m == modality]
        if vecs:
            return _normalize(np.mean(vecs, axis=0)), modality
    return None
