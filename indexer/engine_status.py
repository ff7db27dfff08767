"""What the engine reports about its data folder: the status summary (counts, roots, errors,
model, index size) and one file's record (:func:`inspect`). Read-only: neither writes the
catalog, and status never loads the model. :class:`.engine.Engine` answers ``status()`` and
``inspect()`` with these.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from . import store
from .errors import ModelUnavailable
from .extract import extractor_for, locator
from .models import resolve_model_files
from .schema import Embedded, File, Item, Vector

if TYPE_CHECKING:
    from .engine import Engine


def status(engine: Engine) -> dict[str, Any]:
    """Counts, roots, errors with reasons, model and index size; does not load the model."""
    with engine.catalog.session() as s:
        files = s.scalar(select(func.count(File.id))) or 0
        failed = s.scalar(select(func.count(File.id)).where(File.status == "failed")) or 0
        items = s.scalar(select(func.count(Item.id))) or 0
        errors = [
            {"path": p, "reason": r}
            for p, r in s.execute(
                select(File.path, File.reason).where(File.status == "failed").order_by(File.path)
            )
        ]
        by_kind = dict(s.execute(select(File.kind, func.count(File.id)).group_by(File.kind)).all())
        skipped_reasons = dict(
            s.execute(
                select(File.reason, func.count(File.id))
                .where(File.status == "skipped")
                .group_by(File.reason)
                .order_by(File.reason)
            ).all()
        )
        notes = [
            {"path": p, "note": r}
            for p, r in s.execute(
                select(File.path, File.reason)
                .where(File.status == "ok", File.reason.is_not(None))
                .order_by(File.path)
            )
        ]
        roots = []
        for r in store.roots(s):
            n = s.scalar(select(func.count(File.id)).where(File.root_id == r.id)) or 0
            roots.append(
                {
                    "path": r.path,
                    "online": bool(r.online) and Path(r.path).is_dir(),
                    "files": n,
                    "last_scan": r.last_scan_at,
                }
            )
        models = store.models_named(s, engine.model_name)
        model_row = models[0] if models else None
        if engine.vectors is not None:
            model_row = next((m for m in models if m.id == engine.vectors.model_id), model_row)
        embedded = vectors = video_vectors = 0
        if model_row is not None:
            embedded = (
                s.scalar(
                    select(func.count())
                    .select_from(Embedded)
                    .where(Embedded.model_id == model_row.id)
                )
                or 0
            )
            vectors = (
                s.scalar(select(func.count(Vector.id)).where(Vector.model_id == model_row.id)) or 0
            )
            video_vectors = (
                s.scalar(
                    select(func.count(Vector.id)).where(
                        Vector.model_id == model_row.id, Vector.modality == "video"
                    )
                )
                or 0
            )
    index_bytes = sum(p.stat().st_size for p in engine.home.glob("catalog.sqlite3*"))
    vec_dir = engine.home / "vectors"
    if vec_dir.is_dir():
        index_bytes += sum(p.stat().st_size for p in vec_dir.iterdir() if p.is_file())
    return {
        "files": files,
        "items": items,
        "failed": failed,
        "skipped": sum(skipped_reasons.values()),
        "skipped_reasons": skipped_reasons,
        "notes": notes,
        "video": _video_status() if by_kind.get("video") else None,
        "model": engine.model_name,
        "backend": _backend(engine),
        "dimension": model_row.dimension if model_row else None,
        "modalities": model_row.modalities.split(",")
        if model_row and model_row.modalities
        else None,
        "embedded_files": embedded,
        "vectors": vectors,
        # videos the model read whole (models that read video), besides their frames
        "video_vectors": video_vectors,
        "keyword_only": engine.model_error or _model_missing(engine, model_row),
        "kinds": by_kind,
        "roots": roots,
        "errors": errors,
        "index_bytes": index_bytes,
        "home": str(engine.home),
    }


def _backend(engine: Engine) -> dict[str, Any]:
    """The backend and precision settings, and (once the model is loaded) what really runs."""
    emb = engine.embedder
    chosen = getattr(emb, "backend_decision", None)
    prec = getattr(emb, "precision_decision", None)
    return {
        "setting": engine.settings.backend,
        "precision_setting": engine.settings.precision,
        "running": chosen.backend if chosen else None,
        "precision": prec.dtype if prec else None,
        "reason": "; ".join(x.reason for x in (chosen, prec) if x) or "the model is not loaded yet",
        "min_cosine": chosen.min_cosine if chosen else None,
    }


def _video_status() -> str | None:
    """Why video frames cannot be read here (None when they can)."""
    from .extract.video import video_support

    reason = video_support()
    return f"videos are indexed by name and metadata only: {reason}" if reason else None


def _model_missing(engine: Engine, model_row: Any) -> str | None:
    """Why the model cannot be used, when it never ran here and is not on this machine.

    Cheap: looks in the model folder or the Hugging Face cache, never downloads or loads.
    """
    if model_row is not None or engine.vectors is not None:
        return None
    try:
        resolve_model_files(engine.model_name, download=False)
    except ModelUnavailable as exc:
        return str(exc).replace(
            "it is not in the Hugging Face cache and downloads are off (HF_HUB_OFFLINE)",
            "it has not been downloaded yet",
        )
    return None


def inspect(engine: Engine, path: str | Path, *, vectors: bool = False) -> dict[str, Any]:
    """What the catalog knows about one file."""
    p = Path(path).expanduser()
    key = str(p.resolve()) if p.exists() else str(p.absolute())
    with engine.catalog.session() as s:
        row = store.file_by_path(s, key)
        if row is None:
            return {
                "path": key,
                "status": "not_indexed",
                "reason": _why_not_indexed(engine, p),
                "items": [],
            }
        model_id = None
        if vectors:
            engine.load_model()
            model_id = engine.vectors.model_id if engine.vectors else None
        items = list(s.scalars(select(Item).where(Item.file_id == row.id).order_by(Item.seq)))
        vecs: dict[int, dict[str, list[float]]] = {}
        if model_id is not None and items:
            for v in s.scalars(
                select(Vector).where(
                    Vector.item_id.in_([i.id for i in items]), Vector.model_id == model_id
                )
            ):
                import numpy as np

                vecs.setdefault(v.item_id, {})[v.modality] = np.frombuffer(
                    v.vec, dtype=np.float32
                ).tolist()
        out_items = []
        for it in items:
            entry: dict[str, Any] = {
                "locator": locator(it.page, it.char_start, it.char_end, it.time_s),
                "kind": it.kind,
            }
            if vectors:
                mine = vecs.get(it.id, {})
                entry["vector"] = next(
                    (mine[m] for m in ("image", "text", "combined", "video") if m in mine), None
                )
                entry["vectors"] = mine
                if "video" in mine:
                    entry["note"] = "the whole video, as one vector (the model reads video)"
            out_items.append(entry)
        return {
            "path": row.path,
            "status": row.status,
            "reason": row.reason,
            "kind": row.kind,
            "size": row.size,
            "fingerprint": row.fingerprint,
            "meta": json.loads(row.meta) if row.meta else {},
            "items": out_items,
            "model": engine.model_name if vectors else None,
        }


def _why_not_indexed(engine: Engine, p: Path) -> str:
    if not p.exists():
        return "no such file"
    if extractor_for(p) is None:
        return "not a file type scry indexes"
    with engine.catalog.session() as s:
        roots = [Path(r.path) for r in store.roots(s)]
    if not any(p.resolve().is_relative_to(r) for r in roots):
        return "not inside an indexed folder (scry index FOLDER adds one)"
    return "not indexed yet, or excluded by a pattern or hidden-folder rule (run scry index)"
