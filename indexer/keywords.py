"""The keyword side of search: FTS5 match expressions that cannot be syntax errors, and the
BM25 ranking of items with all the words, then with some of them (see :mod:`.search`).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.sql import text as sql

from . import filtering
from .catalog import Catalog
from .query import Query


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


def fts_items(s: Any, expr: str) -> set[int]:
    if not expr:
        return set()
    return {
        int(r[0]) for r in s.execute(sql("SELECT rowid FROM fts WHERE fts MATCH :q"), {"q": expr})
    }


def keyword_list(
    catalog: Catalog, q: Query, depth: int, allowed: set[int] | None
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
    with catalog.session() as s:
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
