"""Catalog reads and writes used by indexing and search (one module, one writer).

Every function takes an open SQLAlchemy session; the caller owns the transaction, so a batch of
files lands completely or not at all.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import text

from .extract import Extracted
from .scan import DiskFile, KnownFile
from .schema import Embedded, File, Item, Model, Root, Vector

# ----------------------------------------------------------------------------- roots & models


def get_or_add_root(s: Session, path: Path) -> Root:
    root = s.scalar(select(Root).where(Root.path == str(path)))
    if root is None:
        root = Root(path=str(path), added_at=time.time(), online=1)
        s.add(root)
        s.flush()
    return root


def root_by_path(s: Session, path: str) -> Root | None:
    return s.scalar(select(Root).where(Root.path == path))


def roots(s: Session) -> list[Root]:
    return list(s.scalars(select(Root).order_by(Root.path)))


def get_or_add_model(s: Session, name: str, dimension: int, modalities: Sequence[str]) -> Model:
    model = s.scalar(select(Model).where(Model.name == name, Model.dimension == dimension))
    if model is None:
        model = Model(name=name, dimension=dimension, created_at=time.time())
        s.add(model)
    model.modalities = ",".join(modalities)
    s.flush()
    return model


def models_named(s: Session, name: str) -> list[Model]:
    return list(s.scalars(select(Model).where(Model.name == name).order_by(Model.id.desc())))


# ----------------------------------------------------------------------------- files


def _known(row: Any) -> KnownFile:
    return KnownFile(row.id, row.path, row.size, row.mtime_ns, row.fingerprint)


def known_files(s: Session, root_ids: Sequence[int]) -> list[KnownFile]:
    rows = s.execute(
        select(File.id, File.path, File.size, File.mtime_ns, File.fingerprint).where(
            File.root_id.in_(root_ids)
        )
    )
    return [_known(r) for r in rows]


def files_with_fingerprint(s: Session, fp: str, outside_roots: Sequence[int]) -> list[KnownFile]:
    rows = s.execute(
        select(File.id, File.path, File.size, File.mtime_ns, File.fingerprint).where(
            File.fingerprint == fp, File.root_id.not_in(outside_roots)
        )
    )
    return [_known(r) for r in rows]


def known_files_under(
    s: Session, root_ids: Sequence[int], scopes: Sequence[str]
) -> list[KnownFile]:
    """Catalog files of the roots at or under any of ``scopes`` (a range scan of the path index
    per scope: a changed file in a root of 100,000 costs one index lookup)."""
    found: dict[int, KnownFile] = {}
    for scope in scopes:
        base = scope.rstrip(os.sep)
        rows = s.execute(
            select(File.id, File.path, File.size, File.mtime_ns, File.fingerprint).where(
                File.path >= base,
                File.path < base + chr(ord(os.sep) + 1),
                File.root_id.in_(root_ids),
            )
        )
        for r in rows:
            if r.path == base or r.path.startswith(base + os.sep):
                found[r.id] = _known(r)
    return list(found.values())


def diff_inputs(
    s: Session, root_ids: Sequence[int], scopes: Sequence[str] | None
) -> tuple[list[KnownFile], Callable[[str], list[KnownFile]]]:
    """What a pass compares the disk with: the roots' files (or those within ``scopes``), and
    where else to look for a new file's earlier self (a move from outside what was scanned)."""
    if scopes is None:
        return known_files(s, root_ids), lambda fp: files_with_fingerprint(s, fp, root_ids)
    known = known_files_under(s, root_ids, scopes)
    ids = {k.id for k in known}
    return known, lambda fp: [k for k in files_with_fingerprint(s, fp, []) if k.id not in ids]


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


def file_by_path(s: Session, path: str) -> File | None:
    return s.scalar(select(File).where(File.path == path))


def files_missing_model(s: Session, root_ids: Sequence[int], model_id: int) -> list[File]:
    """Readable files under the roots that the model has not (completely) embedded."""
    done = select(Embedded.file_id).where(Embedded.model_id == model_id)
    return list(
        s.scalars(
            select(File).where(
                File.root_id.in_(root_ids), File.status == "ok", File.id.not_in(done)
            )
        )
    )


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


def existing_vectors(s: Session, item_ids: Sequence[int], model_id: int) -> set[tuple[int, str]]:
    rows = s.execute(
        select(Vector.item_id, Vector.modality).where(
            Vector.item_id.in_(item_ids), Vector.model_id == model_id
        )
    )
    return {(r.item_id, r.modality) for r in rows}


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


def vector_signature(s: Session, model_id: int, modality: str) -> tuple[int, int]:
    count, total = s.execute(
        select(func.count(Vector.id), func.coalesce(func.sum(Vector.id), 0)).where(
            Vector.model_id == model_id, Vector.modality == modality
        )
    ).one()
    return int(count), int(total)


def iter_vectors(s: Session, model_id: int, modality: str) -> Iterable[tuple[int, bytes]]:
    result = s.execute(
        select(Vector.id, Vector.vec)
        .where(Vector.model_id == model_id, Vector.modality == modality)
        .execution_options(yield_per=4096)
    )
    for row in result:
        yield int(row.id), bytes(row.vec)


def sample_vectors(s: Session, model_id: int, modality: str, n: int) -> list[bytes]:
    """Up to ``n`` stored vectors, drawn with a fixed seed: the same index gives the same sample."""
    ids = list(
        s.scalars(select(Vector.id).where(Vector.model_id == model_id, Vector.modality == modality))
    )
    if len(ids) > n:
        ids = random.Random(f"{model_id}-{modality}-{len(ids)}").sample(ids, n)
    if not ids:
        return []
    return [bytes(b) for b in s.scalars(select(Vector.vec).where(Vector.id.in_(ids)))]


@dataclass(frozen=True)
class ItemRow:
    item_id: int
    file_id: int
    path: str
    kind: str
    file_kind: str
    page: int | None
    char_start: int | None
    char_end: int | None
    time_s: float | None


def item_ids_for_labels(s: Session, labels: Sequence[int]) -> dict[int, int]:
    """label (vector id) -> item id."""
    if not labels:
        return {}
    rows = s.execute(select(Vector.id, Vector.item_id).where(Vector.id.in_(labels)))
    return {int(label): int(item_id) for label, item_id in rows}


def items_by_id(s: Session, item_ids: Sequence[int]) -> dict[int, ItemRow]:
    if not item_ids:
        return {}
    rows = s.execute(
        select(
            Item.id,
            Item.file_id,
            File.path,
            Item.kind,
            File.kind,
            Item.page,
            Item.char_start,
            Item.char_end,
            Item.time_s,
        )
        .join(File, File.id == Item.file_id)
        .where(Item.id.in_(item_ids))
    )
    return {int(r[0]): ItemRow(*r) for r in rows}


def vectors_of_file(s: Session, file_id: int, model_id: int) -> list[tuple[int, str, np.ndarray]]:
    rows = s.execute(
        select(Item.seq, Vector.modality, Vector.vec)
        .join(Item, Item.id == Vector.item_id)
        .where(Item.file_id == file_id, Vector.model_id == model_id)
        .order_by(Item.seq)
    )
    return [(int(r.seq), r.modality, np.frombuffer(r.vec, dtype=np.float32)) for r in rows]
