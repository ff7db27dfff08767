"""Catalog reads: roots and models, what a pass diffs the disk against, vectors and items.

Every function takes an open SQLAlchemy session and only reads. The writes live in
:mod:`.store`, which re-exports these, so callers keep using ``store.<name>`` for both.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .scan import KnownFile
from .schema import Embedded, File, Item, Model, Root, Vector

# ----------------------------------------------------------------------------- roots & models


def root_by_path(s: Session, path: str) -> Root | None:
    return s.scalar(select(Root).where(Root.path == path))


def roots(s: Session) -> list[Root]:
    return list(s.scalars(select(Root).order_by(Root.path)))


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


# ----------------------------------------------------------------------------- vectors & items


def existing_vectors(s: Session, item_ids: Sequence[int], model_id: int) -> set[tuple[int, str]]:
    rows = s.execute(
        select(Vector.item_id, Vector.modality).where(
            Vector.item_id.in_(item_ids), Vector.model_id == model_id
        )
    )
    return {(r.item_id, r.modality) for r in rows}


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
