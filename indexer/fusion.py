"""Making rankings comparable and combining them: z-scores of vector similarities against a
background sample, and reciprocal rank fusion of the vector and keyword lists into one result per
file (the method is described in :mod:`.search`).
"""

from __future__ import annotations

import numpy as np

from . import filtering, store
from .catalog import Catalog
from .extract import locator
from .query import Query
from .search_types import Hit, SearchOptions

RRF_K = 60
MIN_SPREAD = 0.02  # cosine units; real CLIP text->image spreads are ~0.02-0.04
DEFAULT_WEIGHTS = {"vectors": 1.0, "keywords": 1.0, "filter": 1.0}
PARTIAL_WEIGHT = 0.5  # a keyword hit with only some of the words


def fuse(
    catalog: Catalog,
    lists: dict[str, list[tuple[int, float | None]]],
    zscores: dict[int, float],
    opts: SearchOptions,
    q: Query,
    exclude_file: int | None,
    partial: set[int] | None = None,
) -> list[Hit]:
    """Reciprocal rank fusion of the ranked lists: hits, one per file, best first (newest first
    when sorting by date), scores normalised so that first in every list is 1.0."""
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
    with catalog.session() as s:
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
