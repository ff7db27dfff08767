"""Turning query filters into the set of items that may appear in results.

Filters are applied inside retrieval, not after it: the keyword query is restricted in SQL and
the vector indexes only visit allowed labels, so a narrow filter (one folder) still returns its
best matches instead of an empty page.

A file's date is its capture date from EXIF (``meta.taken``) when known, else its modification
time; both are ISO strings so ranges compare as text.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlalchemy.sql import text

from .query import Filters

#: SQL expression for a file's date (alias ``f`` for files).
DATE_SQL = (
    "COALESCE(json_extract(f.meta, '$.taken'), "
    "strftime('%Y-%m-%dT%H:%M:%S', f.mtime_ns / 1000000000, 'unixepoch'))"
)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filter_sql(filters: Filters) -> tuple[str, dict[str, object]]:
    """A WHERE clause over ``files f`` and its parameters; ("1", {}) when nothing is filtered."""
    clauses: list[str] = []
    params: dict[str, object] = {}
    if filters.kinds:
        names = []
        for i, kind in enumerate(sorted(filters.kinds)):
            params[f"kind{i}"] = kind
            names.append(f":kind{i}")
        clauses.append(f"f.kind IN ({', '.join(names)})")
    ors = []
    for i, folder in enumerate(filters.folders):
        params[f"folder{i}"] = _like_escape(folder.rstrip("/")) + "/%"
        ors.append(f"f.path LIKE :folder{i} ESCAPE '\\'")
    for i, name in enumerate(filters.folder_names):
        params[f"fname{i}"] = "%/" + _like_escape(name) + "/%"
        ors.append(f"lower(f.path) LIKE :fname{i} ESCAPE '\\'")
    if ors:
        clauses.append("(" + " OR ".join(ors) + ")")
    if filters.after:
        params["after"] = filters.after
        clauses.append(f"{DATE_SQL} >= :after")
    if filters.before:
        params["before"] = filters.before
        clauses.append(f"{DATE_SQL} < :before")
    cams = []
    for i, cam in enumerate(filters.cameras):
        params[f"cam{i}"] = "%" + _like_escape(cam) + "%"
        cams.append(
            f"(lower(COALESCE(json_extract(f.meta, '$.camera_make'), '') || ' ' || "
            f"COALESCE(json_extract(f.meta, '$.camera_model'), '')) LIKE :cam{i} ESCAPE '\\')"
        )
    if cams:
        clauses.append("(" + " OR ".join(cams) + ")")
    lenses = []
    for i, lens in enumerate(filters.lenses):
        params[f"lens{i}"] = "%" + _like_escape(lens) + "%"
        lenses.append(
            f"lower(COALESCE(json_extract(f.meta, '$.lens'), '')) LIKE :lens{i} ESCAPE '\\'"
        )
    if lenses:
        clauses.append("(" + " OR ".join(lenses) + ")")
    exts = []
    for i, ext in enumerate(sorted(filters.exts)):
        params[f"ext{i}"] = "%" + _like_escape(ext)
        exts.append(f"lower(f.path) LIKE :ext{i} ESCAPE '\\'")
    if exts:
        clauses.append("(" + " OR ".join(exts) + ")")
    return (" AND ".join(clauses) or "1"), params


def allowed_items(s: Session, filters: Filters) -> set[int] | None:
    """Item ids that pass the filters; None when there are no filters (everything passes)."""
    if not filters.active():
        return None
    where, params = filter_sql(filters)
    rows = s.execute(
        text(f"SELECT i.id FROM items i JOIN files f ON f.id = i.file_id WHERE {where}"), params
    )
    return {int(r[0]) for r in rows}


def labels_for_items(s: Session, item_ids: set[int], model_id: int, modality: str) -> set[int]:
    """The vector labels of these items for one model and modality."""
    if not item_ids:
        return set()
    out: set[int] = set()
    ids = sorted(item_ids)
    for start in range(0, len(ids), 30000):
        chunk = ids[start : start + 30000]
        rows = s.execute(
            text(
                "SELECT id FROM vectors WHERE model_id = :m AND modality = :mod AND item_id IN "
                f"({','.join(str(int(i)) for i in chunk)})"
            ),
            {"m": model_id, "mod": modality},
        )
        out.update(int(r[0]) for r in rows)
    return out


def item_dates(s: Session, item_ids: list[int]) -> dict[int, str]:
    """Each item's file date (ISO), for sorting by date."""
    if not item_ids:
        return {}
    rows = s.execute(
        text(
            f"SELECT i.id, {DATE_SQL} FROM items i JOIN files f ON f.id = i.file_id "
            f"WHERE i.id IN ({','.join(str(int(i)) for i in item_ids)})"
        )
    )
    return {int(r[0]): r[1] or "" for r in rows}
