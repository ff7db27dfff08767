"""The window's one adapter to the engine: every call into ``scry.indexer`` goes through here.

The engine's API grows in parallel (a query language, reranking, a live indexing service), so
the window never touches ``Engine``, ``Hit`` or ``Progress`` directly: it speaks in the plain
types below (:class:`Query`, :class:`Result`, :class:`Details`; :class:`IndexProgress` in ``indexjob``) and this module
maps them onto whatever the engine offers today (the types live in ``values``). Everything here may block and is meant to run in
worker threads (``tasks.TaskRunner``); nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import uuid
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from scry.indexer.config import DEFAULT_MODEL, Settings, data_home

from .indexjob import IndexProgress, progress_of
from .values import (  # noqa: F401  (the window's value types; importable from here as before)
    IMAGE_SUFFIXES,
    NOT_DOC,
    TYPES,
    Details,
    Found,
    Query,
    Result,
    is_image_path,
)

log = logging.getLogger(__name__)

DEFAULT_K = 200
MAX_QUERY_IMAGES = 20
MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024

_FIELDS = {f.name for f in fields(Settings)}
_HAS_RERANK_FIELD = "rerank" in _FIELDS
_HAS_THREADS_FIELD = "threads" in _FIELDS


# ---------------------------------------------------------------------------- the adapter


class Backend:
    """Owns one engine for the window; every method may block (call it from a worker)."""

    def __init__(self, home: Path | None = None, model: str | None = None) -> None:
        self.home = Path(home) if home else data_home()
        self._model = model
        self._service: Any = None
        self._lock = threading.Lock()
        self.watch = True  # follow the folders with the OS's file events (tests may turn it off)

    # -- lifecycle

    @property
    def service(self) -> Any:
        """The live indexing service (created with its engine on first use; not yet started)."""
        with self._lock:
            if self._service is None:
                from scry.indexer.engine import Engine
                from scry.indexer.service import IndexService

                engine = Engine(home=self.home, model=self._model)
                _apply_threads(engine.settings)
                self._service = IndexService(engine, watch=self.watch)
            return self._service

    @property
    def engine(self) -> Any:
        """The engine answering queries now (after a model switch, the new one)."""
        return self.service.engine

    @property
    def _engine(self) -> Any:
        svc = self._service
        return svc.engine if svc is not None else None

    def open(self) -> dict[str, Any]:
        """Open the catalog (fast) and return the status; the model loads separately."""
        return self.status()

    def load_model(self) -> str | None:
        """Load the embedding model; returns why it is unavailable (keyword-only), or None."""
        eng = self.engine
        eng.load_model()
        return eng.model_error

    @property
    def model_name(self) -> str:
        return self._engine.model_name if self._engine is not None else (self._model or "")

    def switch_model(self, model: str | None) -> None:
        """Re-embed everything with ``model`` in the background; the current index keeps answering
        until the new one is complete (see ``IndexService.switch_model``)."""
        self._model = model or None
        self.service.switch_model(model or _default_model())

    def cancel_switch(self) -> None:
        self.service.cancel_switch(timeout=0.5)

    def close(self) -> None:
        with self._lock:
            svc, self._service = self._service, None
        if svc is None:
            return
        svc.cancel_switch(timeout=5)
        svc.stop(timeout=30)
        svc.engine.close()

    # -- search

    def search(self, q: Query, k: int = DEFAULT_K) -> Found:
        """Stage-one results now; ``Found.refined`` (blocking) gives the reranked order later."""
        eng = self.engine
        text = q.engine_text()
        if q.image and q.similar and not q.text.strip():
            return Found(self._finish([_result(h) for h in eng.similar(q.image, k)], q))
        if hasattr(eng, "query"):  # the query-language API (filters, sort, cutoff, rerank)
            from scry.indexer.search import SearchOptions

            opts = SearchOptions(k=k, sort="date" if q.sort == "date" else None)
            res = eng.query(text, image=q.image, options=opts)
            rows = self._finish([_result(h) for h in res.hits], q)
            fut = getattr(res, "rerank", None)
            refined = None
            if fut is not None:

                def refined() -> list[Result] | None:
                    try:
                        hits = fut.result(timeout=120)
                    except BaseException:  # cancelled by a newer query, or failed: keep stage one
                        return None
                    return self._finish([_result(h) for h in hits], q)

            return Found(rows, refined, getattr(res, "message", None))
        if q.image and q.text.strip():
            hits = eng.search_combined(text, q.image, k)
        elif q.image:
            hits = eng.search_image(q.image, k)
        else:
            hits = eng.search(text, k)
        return Found(self._finish([_result(h) for h in hits], q))

    def _finish(self, rows: list[Result], q: Query) -> list[Result]:
        """Filters and date sort on our side, harmless once the engine does them itself."""
        keep = TYPES.get(q.kind, ("", None))[1]
        if keep is not None:
            rows = [r for r in rows if r.file_kind in keep]
        elif q.kind == "doc":
            rows = [r for r in rows if r.file_kind not in NOT_DOC]
        if q.folder:
            base = Path(q.folder)
            rows = [r for r in rows if Path(r.path).is_relative_to(base)]
        if q.after or q.before or q.sort == "date":
            dates = {p: self._date_of(p) for p in {r.path for r in rows}}
            rows = [replace(r, when=dates[r.path]) for r in rows]
            if q.after:
                lo = datetime.combine(q.after, datetime.min.time()).timestamp()
                rows = [r for r in rows if r.when is not None and r.when >= lo]
            if q.before:
                hi = datetime.combine(q.before, datetime.min.time()).timestamp()
                rows = [r for r in rows if r.when is not None and r.when < hi]
            if q.sort == "date":
                rows.sort(key=lambda r: -(r.when or 0.0))
        return rows

    def _date_of(self, path: str) -> float | None:
        with contextlib.suppress(Exception):
            taken = (self.engine.inspect(path).get("meta") or {}).get("taken")
            if taken:
                return datetime.fromisoformat(str(taken)[:19]).timestamp()
        try:
            return os.stat(path).st_mtime
        except OSError:
            return None

    # -- one file

    def details(self, r: Result) -> Details:
        """Metadata and the matching text of a result, for the preview pane."""
        p = Path(r.path)
        d = Details(path=r.path, folder=str(p.parent))
        with contextlib.suppress(OSError):
            st = p.stat()
            d.size, d.modified = st.st_size, st.st_mtime
        try:
            info = self.engine.inspect(r.path)
            d.meta, d.status = dict(info.get("meta") or {}), info.get("status", "ok")
        except Exception as exc:
            log.debug("inspect %s failed: %s", r.path, exc)
        d.snippet = self.snippet(r)
        return d

    def snippet(self, r: Result, limit: int = 1200) -> str:
        """The matching passage (by its character range) or page text, read from the file."""
        from scry.indexer.extract import TEXT_EXTS, read_text
        from scry.indexer.thumbnails import document_text, page_text

        try:
            if "start" in r.locator:
                p = Path(r.path)
                text = read_text(p) if p.suffix.lower() in TEXT_EXTS else document_text(p)
                return text[r.locator["start"] : r.locator["end"]][:limit]
            if r.page:
                return (page_text(r.path, r.page) or "").strip()[:limit]
        except Exception as exc:
            log.debug("No snippet for %s: %s", r.path, exc)
        return ""

    def thumbnail(self, path: str, part: int | float | None, size: int) -> Path | None:
        """A cached thumbnail: ``part`` is a PDF page (int) or a video time in seconds (float)."""
        from scry.indexer.thumbnails import cache_dir, thumbnail

        if isinstance(part, float):
            return thumbnail(path, time_s=part, size=size, cache=cache_dir(self.home))
        return thumbnail(path, page=part, size=size, cache=cache_dir(self.home))

    # -- status and indexing

    def status(self) -> dict[str, Any]:
        return self.engine.status()

    def start_service(self) -> None:
        """Start following the folders: watch them and bring the index up to date."""
        self.service.start()

    def start_index(self, folders: list[Path] | None = None) -> None:
        """Index new folders (they are followed from now on), or look at every folder again."""
        svc = self.service
        svc.start()
        if folders:
            for f in folders:
                svc.add_folder(Path(f))
        else:
            svc.rescan()

    def remove_folder(self, folder: str) -> int:
        """Stop following a folder and forget what was indexed there (the folder is untouched)."""
        return self.service.remove_folder(Path(folder))

    def index_progress(self) -> IndexProgress:
        """The indexing state right now (cheap; called by a timer on the UI thread)."""
        from scry.indexer.modelfiles import active_downloads

        svc = self._service
        return progress_of(svc.status() if svc is not None else None, active_downloads())

    def pause(self) -> None:
        self.service.pause()

    def resume(self) -> None:
        self.service.resume()

    # -- settings

    def settings(self) -> Settings:
        return Settings.load(self.home)

    def rerank_mode(self, s: Settings | None = None) -> str:
        """auto | on | off."""
        s = s or self.settings()
        value = getattr(s, "rerank", None) if _HAS_RERANK_FIELD else s.extra.get("rerank")
        return value if value in ("auto", "on", "off") else "auto"

    def cpu_threads(self, s: Settings | None = None) -> int:
        """CPU threads for the model; 0 means automatic."""
        n = _threads_of(s or self.settings())
        return n if n > 0 else 0

    def save_settings(
        self,
        *,
        model: str | None,
        exclude: list[str],
        rerank: str,
        threads: int,
    ) -> bool:
        """Persist the settings dialog; True when the model changed (the engine must reload).

        ``model`` None leaves the model as it is; "" goes back to the default.
        """
        s = self.settings()
        before = s.model or self.model_name or _default_model()
        if model is not None:
            s.model = model or None
        s.exclude = exclude
        if _HAS_RERANK_FIELD:
            s.rerank = rerank
        else:
            s.extra["rerank"] = rerank
        if _HAS_THREADS_FIELD:
            s.threads = int(threads) or None
        else:
            s.extra["cpu_threads"] = int(threads)
        s.save(self.home)
        if self._engine is not None:
            live = self._engine.settings
            live.exclude = list(exclude)
            live.extra.update(s.extra)
            if _HAS_RERANK_FIELD:
                live.rerank = rerank
            if _HAS_THREADS_FIELD:
                live.threads = s.threads
        _apply_threads(s)
        return model is not None and (s.model or _default_model()) != before

    def autostart(self) -> bool:
        """Whether scry starts (in the tray) at login."""
        from scry.app.integrate import autostart_enabled

        try:
            return autostart_enabled()
        except Exception as exc:  # an unreadable entry: show it as off
            log.debug("Cannot tell the autostart state: %s", exc)
            return False

    def set_autostart(self, on: bool) -> None:
        """Write or remove the login entry, and remember the choice in the settings."""
        from scry.app.integrate import set_autostart

        set_autostart(on)
        s = self.settings()
        s.autostart = on
        s.save(self.home)

    # -- query images (pasted, dropped raw data, downloaded)

    def query_image_dir(self) -> Path:
        d = self.home / "cache" / "queries"
        d.mkdir(parents=True, exist_ok=True)
        files = sorted(d.iterdir(), key=lambda f: f.stat().st_mtime)
        for old in files[:-MAX_QUERY_IMAGES]:
            old.unlink(missing_ok=True)
        return d

    def new_query_image_path(self, suffix: str = ".png") -> Path:
        return self.query_image_dir() / f"query-{int(time.time())}-{uuid.uuid4().hex[:8]}{suffix}"

    def fetch_image(self, url: str) -> Path:
        """Download an image dragged from a browser (by URL) into the query cache."""
        import urllib.request

        from PIL import Image

        req = urllib.request.Request(url, headers={"User-Agent": "scry"})
        with urllib.request.urlopen(req, timeout=15) as resp:
            data = resp.read(MAX_DOWNLOAD_BYTES + 1)
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise ValueError(f"The image at {url} is larger than 40 MB.")
        target = self.new_query_image_path(Path(url.split("?")[0]).suffix.lower() or ".img")
        target.write_bytes(data)
        try:
            with Image.open(target) as im:
                im.verify()
        except Exception as exc:
            target.unlink(missing_ok=True)
            raise ValueError(f"{url} is not an image scry can read.") from exc
        return target


def _result(h: Any) -> Result:
    return Result(
        path=h.path,
        kind=h.kind,
        locator=dict(h.locator),
        score=float(h.score),
        file_kind=getattr(h, "file_kind", "") or "",
        similarity=getattr(h, "similarity", None),
        sources=tuple(getattr(h, "sources", ()) or ()),
    )


def _default_model() -> str:
    from scry.indexer.hardware import default_models

    return default_models()[0] or DEFAULT_MODEL


def _threads_of(s: Settings) -> int:
    n = getattr(s, "threads", None) if _HAS_THREADS_FIELD else s.extra.get("cpu_threads")
    return n if isinstance(n, int) and n > 0 else 0


def _apply_threads(s: Settings) -> None:
    n = _threads_of(s)
    if n > 0:
        import torch

        torch.set_num_threads(n)
