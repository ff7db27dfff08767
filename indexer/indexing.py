"""The indexing pipeline: scan -> diff -> extract (ahead, in threads) -> embed (batches) -> store.

Files are decoded by a small thread pool a few batches ahead of the model, so neither waits for
the other; native decoders run in worker processes (``extract.sandbox``), so a file that crashes
or hangs one fails alone, within a per-file time limit. Every file found is accounted for:
``new + changed + moved + unchanged + failed + skipped == seen`` (files that are neither media nor
documents are catalogued as ``skipped`` with the reason, so status can say what was left out).

Each batch of files is embedded outside any transaction and then written in one transaction
(files, items, full text, vectors, "embedded" marks), so a crash leaves every file either
completely indexed or not at all. Vectors enter the HNSW indexes after the commit; the indexes
are saved every minute and at the end, and rebuilt from the catalog if a crash left them behind.

This module runs the pass (roots, scan, diff, reading ahead, the batch loop, progress); embedding
and writing a batch is in :mod:`.batch_writer`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select

from . import store
from .batch_writer import BatchWriter, _Work
from .catalog import Catalog
from .config import Settings
from .errors import BadInput, ExtractionError
from .extract import (
    DECODE_SIDE,
    FILE_TIMEOUT_S,
    MAX_FRAMES,
    Sandbox,
    SkipFile,
    extract,
    model_image_side,
    shared_sandbox,
    split_by_chars,
)
from .models import Embedder, merged_processor_kwargs
from .report import IndexReport, Progress
from .scan import (
    BAD_NAME,
    DiskFile,
    NoticingRules,
    diff,
    link_file,
    printable_path,
    storable_name,
    walk_scopes,
)
from .schema import File, Root
from .vectors import VectorStore

log = logging.getLogger(__name__)

SAVE_EVERY_S = 60.0


class Indexer(BatchWriter):
    """Runs one indexing pass over some roots. Create one per run.

    ``embedder``/``vectors``/``model_id`` are None in keyword-only mode: files are still
    catalogued with their text, and embedded later when a model is available.
    """

    def __init__(
        self,
        home: Path,
        catalog: Catalog,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        vectors: VectorStore | None = None,
        model_id: int | None = None,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.home = home
        self.catalog = catalog
        self.settings = settings
        self.embedder = embedder if vectors is not None else None
        self.vectors = vectors
        self.model_id = model_id
        self._progress_cb = progress
        self.cancel = cancel or threading.Event()
        self.progress = Progress()
        self._split_lock = threading.Lock()
        self._modalities: tuple[str, ...] = ()
        if self.embedder is not None:
            self._modalities = tuple(
                m for m in ("image", "text", "video") if self.embedder.supports(m)
            )
        # Pages (rendering + text) as one vector, for models that read both in one input.
        self._combined = self.embedder is not None and self.embedder.supports_combined()
        # Decode images for the model's input size; without an image model only their
        # metadata matters, and a small decode still proves the file readable.
        self._side = 64
        if "image" in self._modalities:
            self._side = model_image_side(self.embedder.load()) or DECODE_SIDE
        extra = getattr(settings, "extra", None) or {}
        # Models that read video get each video whole too, this many frames at most.
        self._video = video_options(settings)
        self._timeout = (
            float(getattr(settings, "file_timeout_s", None) or extra.get("file_timeout_s") or 0)
            or FILE_TIMEOUT_S
        )
        # "isolate_decoders": false reads native formats in the decode threads (no crash
        # isolation), for systems where starting helper processes is not possible.
        self._sandbox: Sandbox | bool = (
            shared_sandbox(max(1, int(settings.decode_workers)))
            if extra.get("isolate_decoders", True)
            else False
        )

    # ------------------------------------------------------------------ driver

    def run(self, folders: list[Path], scopes: dict[str, list[str]] | None = None) -> IndexReport:
        """Index ``folders``; for a root listed in ``scopes``, look only at those paths in it."""
        started = time.monotonic()
        report = IndexReport()
        self._emit(phase="scanning")
        online = self._register_roots(folders, report)
        rules = NoticingRules(
            include=list(self.settings.include),
            exclude=list(self.settings.exclude),
            hidden=self.settings.index_hidden,
            skip_paths={str(self.home)},
        )
        disk: dict[str, tuple[DiskFile, Root]] = {}
        for root in sorted(online, key=lambda r: -len(r.path)):  # nested roots: deepest wins
            rules.broken = []
            tops = scopes.get(root.path) if scopes is not None else None
            found = list(walk_scopes(Path(root.path), tops, rules, report.folder_errors))
            found += [df for df in map(link_file, rules.broken) if df is not None]
            for df in found:
                if df.path in disk:
                    continue
                if not storable_name(df.path):
                    report.failed += 1
                    report.failures.append((printable_path(df.path), BAD_NAME))
                    continue
                disk[df.path] = (df, root)
        root_ids = [r.id for r in online]
        self._scopes = None
        if scopes is not None:
            self._scopes = [p for r in online for p in scopes.get(r.path, [r.path])]
        work = self._apply_diff(disk, root_ids, report)
        self._process(work, report)
        if self.vectors is not None:
            self._emit(phase="saving")
            self.vectors.save()
        with self.catalog.session(write=True) as s:
            for root in online:
                if scopes is None or root.path not in scopes:  # a whole walk
                    s.get(Root, root.id).last_scan_at = time.time()
        report.seconds = time.monotonic() - started
        self._emit(phase="cancelled" if report.cancelled else "done", eta_s=0.0)
        return report

    def _register_roots(self, folders: list[Path], report: IndexReport) -> list[Root]:
        online: list[Root] = []
        with self.catalog.session(write=True) as s:
            for folder in folders:
                folder = folder.expanduser()
                known = store.root_by_path(s, str(folder.absolute()))
                if not folder.is_dir():
                    if known is not None:
                        known.online = 0
                        report.offline_roots.append(known.path)
                        log.warning(
                            "Folder %s is not available; keeping its index as it is", folder
                        )
                        continue
                    raise BadInput(
                        f"{folder} is not a folder (or does not exist). Give a folder to index."
                    )
                root = store.get_or_add_root(s, folder.resolve())
                root.online = 1
                online.append(root)
        return online

    def _apply_diff(
        self, disk: dict[str, tuple[DiskFile, Root]], root_ids: list[int], report: IndexReport
    ) -> list[_Work]:
        with self.catalog.session(write=True) as s:
            known, elsewhere = store.diff_inputs(s, root_ids, self._scopes)
            d = diff((df for df, _ in disk.values()), known, elsewhere)
            for old, df in d.moved:
                store.move_file(s, old.id, disk[df.path][1], df)
            for k, df in d.touched:
                store.touch_file(s, k.id, df)
            removed = store.delete_files(s, [k.id for k in d.deleted])
        self._forget(removed)
        report.moved, report.deleted = len(d.moved), len(d.deleted)
        report.unchanged = len(d.unchanged) + len(d.touched)
        report.new, report.changed = len(d.new), len(d.changed)
        work = [_Work(df, fp, disk[df.path][1]) for df, fp in d.new]
        work += [
            _Work(df, fp, disk[df.path][1], changed=True, origin="changed")
            for _, df, fp in d.changed
        ]
        queued = {w.disk.path for w in work}
        if self.model_id is not None:
            with self.catalog.session(write=True) as s:
                for f in store.files_missing_model(s, root_ids, self.model_id):
                    if f.path in queued or f.path not in disk:
                        continue
                    df, root = disk[f.path]
                    work.append(_Work(df, f.fingerprint, root, origin="unchanged"))
                    queued.add(f.path)
        work += self._videos_to_reread(disk, root_ids, queued)
        return work

    def _videos_to_reread(
        self, disk: dict[str, tuple[DiskFile, Root]], root_ids: list[int], queued: set[str]
    ) -> list[_Work]:
        """Videos indexed by name only (no FFmpeg then) get their frames once FFmpeg is here."""
        from .extract.video import video_support

        with self.catalog.session() as s:
            rows = [
                (f.path, f.fingerprint)
                for f in s.scalars(
                    select(File).where(
                        File.root_id.in_(root_ids),
                        File.kind == "video",
                        File.status == "ok",
                        File.reason.like("frames not read%"),
                    )
                )
                if f.path in disk and f.path not in queued
            ]
        if not rows or video_support() is not None:
            return []
        return [
            _Work(disk[p][0], fp, disk[p][1], changed=True, origin="unchanged") for p, fp in rows
        ]

    # ------------------------------------------------------------------ extraction ahead

    def _splitter(self) -> Callable[[str], list[tuple[int, int]]]:
        if self.embedder is None or "text" not in self._modalities:
            return split_by_chars

        def split(text: str) -> list[tuple[int, int]]:
            with self._split_lock:  # fast tokenizers are not safe across threads
                return self.embedder.split_passages(text)

        return split

    def _extract(self, w: _Work, splitter: Callable[[str], list[tuple[int, int]]]) -> _Work:
        try:
            w.extracted = extract(
                w.disk.path,
                splitter,
                side=self._side,
                page_cap=self.settings.pdf_page_cap,
                timeout=self._timeout,
                sandbox=self._sandbox,
                modalities=self._modalities,
                **self._video,
            )
        except SkipFile as exc:
            w.skipped = exc.reason
        except ExtractionError as exc:
            w.error = exc.reason
        except Exception as exc:
            log.exception("Unexpected error reading %s", w.disk.path)
            w.error = f"unexpected error: {type(exc).__name__}: {exc}"
        return w

    def _extracted(self, work: list[_Work]) -> Iterator[_Work | None]:
        """Files in order as their extraction finishes; None when the next one is not ready yet
        (so the caller can give the model what it has instead of waiting)."""
        splitter = self._splitter()
        workers = max(1, int(self.settings.decode_workers))
        ahead = max(8, 4 * self.settings.batch_size)
        with ThreadPoolExecutor(workers, thread_name_prefix="scry-decode") as pool:
            pending: deque[Future[_Work]] = deque()
            it = iter(work)
            for w in it:
                pending.append(pool.submit(self._extract, w, splitter))
                if len(pending) >= ahead:
                    break
            while pending:
                if self.cancel.is_set():
                    for f in pending:
                        f.cancel()
                    return
                if not pending[0].done():
                    yield None
                done = pending.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(self._extract, nxt, splitter))
                yield done

    # ------------------------------------------------------------------ batches

    def _process(self, work: list[_Work], report: IndexReport) -> None:
        total = len(work)
        self._emit(phase="indexing", total=total, done=0)
        started = time.monotonic()
        last_save = started
        batch: list[_Work] = []
        items_in_batch = 0
        done = 0
        # A full batch is most efficient for the model, but a model waiting for decoders is
        # wasted: when the next file is not decoded yet, a quarter batch is worth embedding.
        enough = max(1, self.settings.batch_size // 4)
        for w in self._extracted(work):
            if w is not None:
                batch.append(w)
                items_in_batch += len(w.extracted.items) if w.extracted else 0
            starved = w is None and items_in_batch >= enough
            if starved or items_in_batch >= self.settings.batch_size or len(batch) >= 64:
                current = batch[-1].disk.path
                done += self._flush(batch, report)
                batch, items_in_batch = [], 0
                rate = done / max(1e-6, time.monotonic() - started)
                self._emit(
                    done=done,
                    current=current,
                    files_per_s=rate,
                    eta_s=(total - done) / rate if rate > 0 else None,
                    failed=report.failed,
                    skipped=report.skipped,
                )
                if self.vectors is not None and time.monotonic() - last_save > SAVE_EVERY_S:
                    self.vectors.save()
                    last_save = time.monotonic()
            if self.cancel.is_set():
                report.cancelled = True
                break
        if batch:
            done += self._flush(batch, report)
        if self.cancel.is_set() and done < total:
            report.cancelled = True  # also when cancelled before the first file was read
        rate = done / max(1e-6, time.monotonic() - started)
        self._emit(
            done=done, files_per_s=rate, eta_s=0.0, failed=report.failed, skipped=report.skipped
        )

    def _emit(self, **changes: Any) -> None:
        for k, v in changes.items():
            setattr(self.progress, k, v)
        if self._progress_cb is not None:
            self._progress_cb(self.progress)


def video_options(settings: Settings) -> dict[str, Any]:
    """``max_frames`` and ``video_fps`` for whole-video inputs: ``processor_kwargs`` (or
    settings) ``max_frames`` (``num_frames`` too) and ``fps``; 32 frames and no rate by default."""
    kwargs = {**(getattr(settings, "extra", None) or {}), **merged_processor_kwargs(settings)}
    out: dict[str, Any] = {"max_frames": MAX_FRAMES, "video_fps": None}
    frames = kwargs.get("max_frames", kwargs.get("num_frames"))
    if isinstance(frames, int | float) and frames >= 1:
        out["max_frames"] = int(frames)
    fps = kwargs.get("fps")
    if isinstance(fps, int | float) and fps > 0:
        out["video_fps"] = float(fps)
    return out


__all__ = ["File", "IndexReport", "Indexer", "Progress"]
