"""Catalog writes used by indexing (one module, one writer), and the door to the reads.

Every function takes an open SQLAlchemy session; the caller owns the transaction, so a batch of
files lands completely or not at all. The read-only queries live in :mod:`.store_reads` and are
re-exported here, so callers use ``store.<name>`` for reads and writes alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import text

from .extract import Extracted
from .scan import DiskFile
from .schema import Embedded, File, Item, Model, Root, Vector

# The reads, re-exported: callers use ``store.<name>`` for both.
from .store_reads import (  # noqa: F401
    ItemRow,
    diff_inputs,
    existing_vectors,
    file_by_path,
    files_missing_model,
    files_with_fingerprint,
    item_ids_for_labels,
    items_by_id,
    iter_vectors,
    known_files,
    known_files_under,
    models_named,
    root_by_path,
    roots,
    sample_vectors,
    vector_signature,
    vectors_of_file,
)

# ----------------------------------------------------------------------------- roots & models


def get_or_add_root(s: Session, path: Path) -> Root:
    root = s.scalar(select(Root).where(Root.path == str(path)))
    if root is None:
        root = Root(path=str(path), added_at=time.time(), online=1)
        s.add(root)
        s.flush()
    return root


def get_or_add_model(s: Session, name: str, dimension: int, modalities: Sequence[str]) -> Model:
    model = s.scalar(select(Model).where(Model.name == name, Model.dimension == dimension))
    if model is None:
        model = Model(name=name, dimension=dimension, created_at=time.time())
        s.add(model)
    model.modalities = ",".join(modalities)
    s.flush()
    return model


# ----------------------------------------------------------------------------- files


def delete_root(s: Session, root_id: int) -> tuple[int, Removed]:
    """Forget a root and everything indexed under it; returns (files removed, vectors removed)."""
    file_ids = list(s.scalars(select(File.id).where(File.root_id == root_id)))
    removed: Removed = []
    for start in range(0, len(file_ids), 500):
        chunk = file_ids[start : start + 500]
        removed += _delete_items(s, list(s.scalars(select(Item.id).where(Item.file_id.in_(chunk)))))
        s.execute(delete(Embedded).where(Embedded.file_id.in_(chunk)))
        s.execute(delete(File).where(File.id.in_(chunk)))
    s.execute(delete(Root).where(Root.id == root_id))
    return len(file_ids), removed


def _search_words(path: str, root: str) -> tuple[str, str]:
    p = Path(path)
    try:
        rel_parts = p.parent.relative_to(root).parts
    except ValueError:
        rel_parts = p.parent.parts[-3:]
    folders = [Path(root).name, *rel_parts]
    return p.name, " ".join(x for x in folders if x)


def _meta_words(meta: dict[str, Any]) -> str:
    """The metadata full-text search sees: camera, lens, date, document fields, and the GPS
    position as ``gps LAT LON`` (3 decimals, ~100 m), so "gps 48.858 2.294" finds a photo."""
    keep = (
        "camera_make",
        "camera_model",
        "lens",
        "taken",
        "title",
        "author",
        "subject",
        "keywords",
        "format",
    )
    words = [str(meta[k]) for k in keep if meta.get(k)]
    lat, lon = meta.get("gps_lat"), meta.get("gps_lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        words.append(f"gps {lat:.3f} {lon:.3f}")
    return " ".join(words)


def upsert_file(
    s: Session,
    root: Root,
    df: DiskFile,
    fp: str | None,
    *,
    kind: str,
    status: str,
    reason: str | None,
    meta: dict[str, Any] | None,
) -> File:
    row = file_by_path(s, df.path)
    if row is None:
        row = File(path=df.path)
        s.add(row)
    row.root_id = root.id
    row.size, row.mtime_ns, row.fingerprint = df.size, df.mtime_ns, fp
    row.kind, row.status, row.reason = kind, status, reason
    row.meta = json.dumps(meta, ensure_ascii=False, default=str) if meta else None
    row.indexed_at = time.time()
    s.flush()
    return row


Removed = list[tuple[int, str, int]]  # (model_id, modality, label) of deleted vectors


def replace_items(
    s: Session, file: File, root: Root, extracted: Extracted
) -> tuple[list[int], Removed]:
    """Store the file's items (and their full text), reusing item ids where the shape matches.

    Reuse keeps vectors of other models attached when a file is only re-read, not changed.
    Returns the item ids in order and the vectors deleted on the way.
    """
    removed: Removed = []
    old = {it.seq: it for it in s.scalars(select(Item).where(Item.file_id == file.id))}
    name, folders = _search_words(file.path, root.path)
    meta_words = _meta_words(extracted.meta)
    ids: list[int] = []
    for seq, ex in enumerate(extracted.items):
        it = old.pop(seq, None)
        same = it is not None and (it.kind, it.page, it.char_start, it.char_end, it.time_s) == (
            ex.kind,
            ex.page,
            ex.char_start,
            ex.char_end,
            ex.time_s,
        )
        if it is not None and not same:
            removed += _delete_items(s, [it.id])
            it = None
        if it is None:
            it = Item(
                file_id=file.id,
                seq=seq,
                kind=ex.kind,
                page=ex.page,
                char_start=ex.char_start,
                char_end=ex.char_end,
                time_s=ex.time_s,
            )
            s.add(it)
            s.flush()
        s.execute(text("DELETE FROM fts WHERE rowid = :id"), {"id": it.id})
        s.execute(
            text("INSERT INTO fts(rowid, name, folders, body, meta) VALUES (:id, :n, :f, :b, :m)"),
            {"id": it.id, "n": name, "f": folders, "b": ex.text, "m": meta_words},
        )
        ids.append(it.id)
    if old:
        removed += _delete_items(s, [it.id for it in old.values()])
    return ids, removed


def _delete_items(s: Session, item_ids: list[int]) -> Removed:
    if not item_ids:
        return []
    removed = [
        (int(r.model_id), r.modality, int(r.id))
        for r in s.execute(
            select(Vector.id, Vector.model_id, Vector.modality).where(Vector.item_id.in_(item_ids))
        )
    ]
    s.execute(delete(Vector).where(Vector.item_id.in_(item_ids)))
    s.execute(text(f"DELETE FROM fts WHERE rowid IN ({','.join(str(int(i)) for i in item_ids)})"))
    s.execute(delete(Item).where(Item.id.in_(item_ids)))
    return removed


def clear_items(s: Session, file_id: int) -> Removed:
    removed = _delete_items(s, list(s.scalars(select(Item.id).where(Item.file_id == file_id))))
    s.execute(delete(Embedded).where(Embedded.file_id == file_id))
    return removed


def delete_files(s: Session, file_ids: Iterable[int]) -> Removed:
    removed: Removed = []
    for fid in file_ids:
        removed += clear_items(s, fid)
        s.execute(delete(File).where(File.id == fid))
    return removed


def move_file(s: Session, file_id: int, root: Root, df: DiskFile) -> None:
    s.execute(
        update(File)
        .where(File.id == file_id)
        .values(
            path=df.path,
            root_id=root.id,
            size=df.size,
            mtime_ns=df.mtime_ns,
            indexed_at=time.time(),
        )
    )
    name, folders = _search_words(df.path, root.path)
    for (item_id,) in s.execute(select(Item.id).where(Item.file_id == file_id)):
        s.execute(
            text("UPDATE fts SET name = :n, folders = :f WHERE rowid = :id"),
            {"n": name, "f": folders, "id": item_id},
        )


def touch_file(s: Session, file_id: int, df: DiskFile) -> None:
    s.execute(update(File).where(File.id == file_id).values(size=df.size, mtime_ns=df.mtime_ns))


# ----------------------------------------------------------------------------- vectors


def add_vectors(
    s: Session, model_id: int, modality: str, item_ids: Sequence[int], vecs: np.ndarray
) -> list[int]:
    """Insert vectors; returns their ids, which are the HNSW labels."""
    if not len(item_ids):
        return []
    params = [
        {
            "item_id": item_id,
            "model_id": model_id,
            "modality": modality,
            "vec": np.ascontiguousarray(vec, dtype=np.float32).tobytes(),
        }
        for item_id, vec in zip(item_ids, vecs, strict=True)
    ]
    stmt = insert(Vector).returning(Vector.id, sort_by_parameter_order=True)
    return [int(r[0]) for r in s.execute(stmt, params)]


def mark_embedded(s: Session, file_id: int, model_id: int) -> None:
    s.merge(Embedded(file_id=file_id, model_id=model_id))
