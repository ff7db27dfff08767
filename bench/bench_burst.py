"""Burst of changes under a watched folder: does the catalog end equal to the disk?

With the real service and a real watchdog observer (tiny random CLIP), creates N files (small
PNGs and text notes in nested folders), waits until they are indexed, then in one burst moves
some (whole folders and single files) and deletes some (whole folders and single files). After
it settles it checks that the catalog's paths equal the files on disk exactly, that no file is
catalogued twice, that the vector indexes agree with the catalog, and that nothing was embedded
twice (every embedding call is counted by content, so a moved file embedded again shows up).

    nice -n 10 .venv/bin/python bench/bench_burst.py [--files 10000] [--moves 2000] [--deletes 2000]
        [--no-wait]   start moving and deleting while the new files are still being indexed
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import func, select

from scry.indexer.engine import Engine
from scry.indexer.schema import File, Vector
from scry.indexer.service import IndexService
from tests.conftest import make_image
from tests.tinymodels import build_clip

PER_FOLDER = 50


def count_embeddings(engine: Engine) -> Counter[str]:
    """Wrap the engine's embedder so every encoded image or text is counted by its content."""
    seen: Counter[str] = Counter()
    emb = engine.embedder
    assert emb is not None, "the model did not load"
    images, texts = emb.encode_images, emb.encode_texts

    def key(x: Any) -> str:
        data = x.tobytes() if hasattr(x, "tobytes") else str(x).encode()
        return hashlib.blake2b(data, digest_size=12).hexdigest()

    def encode_images(batch: list[Any]) -> Any:
        out = images(batch)  # counted once it succeeded: a failed batch is retried file by file
        seen.update(key(x) for x in batch)
        return out

    def encode_texts(batch: list[str], **kw: Any) -> Any:
        out = texts(batch, **kw)
        seen.update(key(x) for x in batch)
        return out

    emb.encode_images = encode_images  # type: ignore[method-assign]
    emb.encode_texts = encode_texts  # type: ignore[method-assign]
    return seen


def create(folder: Path, n: int) -> list[Path]:
    """``n`` distinct files, 50 to a folder, folders nested two deep; one in five is a note."""
    out = []
    for i in range(n):
        sub = folder / f"album{i // (PER_FOLDER * 10):02d}" / f"day{i // PER_FOLDER:04d}"
        if i % 5 == 4:
            p = sub / f"note{i:05d}.txt"
            sub.mkdir(parents=True, exist_ok=True)
            p.write_text(f"Note {i}: the {i * 7919 % 10007}th entry of the diary.", "utf-8")
        else:
            color = (i % 251, (i // 251) % 251, (i * 37) % 251)
            p = make_image(sub / f"img{i:05d}.png", color, size=(24, 16), pattern=i % 5 + 2)
        out.append(p)
    return out


def churn(folder: Path, moves: int, deletes: int, rng: random.Random) -> tuple[int, int]:
    """Move ``moves`` files (half as whole folders) and delete ``deletes`` (half as folders)."""
    days = sorted(folder.glob("album*/day*"))
    rng.shuffle(days)
    moved = deleted = 0
    target = folder / "moved"
    target.mkdir(exist_ok=True)
    while days and moved < moves // 2:  # whole folders, to another album
        d = days.pop()
        n = sum(1 for _ in d.iterdir())
        d.rename(target / f"{d.parent.name}-{d.name}")
        moved += n
    while days and deleted < deletes // 2:
        d = days.pop()
        deleted += sum(1 for _ in d.iterdir())
        shutil.rmtree(d)
    singles = [p for d in days for p in sorted(d.iterdir())]
    rng.shuffle(singles)
    loose = folder / "loose"
    loose.mkdir(exist_ok=True)
    for p in singles:
        if moved < moves:
            p.rename(loose / f"{p.parent.name}-{p.name}")
            moved += 1
        elif deleted < deletes:
            p.unlink()
            deleted += 1
        else:
            break
    return moved, deleted


def on_disk(folder: Path) -> set[str]:
    return {os.path.join(d, f) for d, _, files in os.walk(folder) for f in files}


def catalogued(engine: Engine) -> tuple[set[str], int]:
    with engine.catalog.session() as s:
        rows = list(s.scalars(select(File.path)))
    return set(rows), len(rows)


def settle(
    svc: IndexService, folder: Path, timeout: float, log: Callable[[str], None] = print
) -> bool:
    """Wait until the service is idle and the catalog lists exactly the files on disk."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        idle = svc.wait_idle(timeout=max(1.0, deadline - time.monotonic()))
        if idle and catalogued(svc.engine)[0] == on_disk(folder):
            time.sleep(1.5)  # nothing still on its way from the observer?
            if svc.wait_idle(5) and catalogued(svc.engine)[0] == on_disk(folder):
                return True
        time.sleep(0.2)
    disk, cat = on_disk(folder), catalogued(svc.engine)[0]
    st = svc.status()
    log(
        f"did not settle in {timeout:.0f}s: {len(disk - cat)} files not catalogued "
        f"(say {sorted(disk - cat)[:3]}), {len(cat - disk)} not on disk "
        f"(say {sorted(cat - disk)[:3]}); service {st.state}, queued {st.queued}, "
        f"last error {st.last_error}, last pass {st.last_report}"
    )
    return False


def burst(
    tmp: Path,
    model: Path,
    *,
    files: int = 10_000,
    moves: int = 2_000,
    deletes: int = 2_000,
    wait_between: bool = True,
    settle_s: float = 1.0,
    timeout: float = 3600.0,
    seed: int = 5,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    folder = tmp / "watched"
    folder.mkdir()
    engine = Engine(home=tmp / "home", model=str(model))
    engine.load_model()
    embedded = count_embeddings(engine)
    # No periodic reconciliation: every change must come through the watcher's events.
    svc = IndexService(engine, settle_s=settle_s, reconcile_every_s=1e9)
    out: dict[str, Any] = {"files": files}
    try:
        svc.start()
        svc.add_folder(folder)
        assert svc.wait_idle(60)
        t0 = time.monotonic()
        create(folder, files)
        out["create_s"] = time.monotonic() - t0
        if wait_between:
            out["indexed"] = settle(svc, folder, timeout, log)
            out["index_s"] = time.monotonic() - t0
            log(
                f"created {files} files in {out['create_s']:.1f}s, indexed after {out['index_s']:.1f}s"
            )
        before = sum(embedded.values())
        t1 = time.monotonic()
        out["moved"], out["deleted"] = churn(folder, moves, deletes, random.Random(seed))
        out["churn_s"] = time.monotonic() - t1
        out["settled"] = settle(svc, folder, timeout, log)
        out["settle_s"] = time.monotonic() - t1
        out["embedded_after_churn"] = sum(embedded.values()) - before
    finally:
        svc.stop()
    disk = on_disk(folder)
    paths, rows = catalogued(engine)
    with engine.catalog.session() as s:
        vectors = s.scalar(select(func.count(Vector.id))) or 0
    live = sum(len(ix) for ix in engine.vectors.indexes.values()) if engine.vectors else 0
    out.update(
        on_disk=len(disk),
        catalogued=rows,
        missing=len(disk - paths),
        extra=len(paths - disk),
        duplicate_rows=rows - len(paths),
        embedded_items=sum(embedded.values()),
        embedded_twice=sum(1 for n in embedded.values() if n > 1),
        vectors=vectors,
        hnsw_live=live,
        passes=svc.status().passes,
        integrity=engine.catalog.integrity_check(),
    )
    engine.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--moves", type=int, default=2_000)
    ap.add_argument("--deletes", type=int, default=2_000)
    ap.add_argument("--no-wait", action="store_true", help="churn while still indexing")
    ap.add_argument("--settle", type=float, default=1.0, help="the service's settle time (s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = build_clip(tmp / "tiny-clip")
        r = burst(
            tmp,
            model,
            files=args.files,
            moves=args.moves,
            deletes=args.deletes,
            wait_between=not args.no_wait,
            settle_s=args.settle,
        )
    print(
        f"moved {r['moved']} and deleted {r['deleted']} files in {r['churn_s']:.2f}s; "
        f"settled {r['settle_s']:.1f}s later ({'ok' if r['settled'] else 'NOT SETTLED'}); "
        f"{r['embedded_after_churn']} items embedded after the churn"
    )
    print(
        f"disk {r['on_disk']} files, catalog {r['catalogued']} rows: {r['missing']} missing, "
        f"{r['extra']} extra, {r['duplicate_rows']} duplicates; {r['embedded_items']} items "
        f"embedded, {r['embedded_twice']} of them more than once; vectors {r['vectors']} in the "
        f"catalog, {r['hnsw_live']} live in HNSW; {r['passes']} passes; integrity {r['integrity']}"
    )


if __name__ == "__main__":
    main()
