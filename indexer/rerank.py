"""Second stage: a sentence-transformers ``CrossEncoder`` reorders the top candidates.

Stage one (vectors + keywords) answers at once; the reranker scores (query, candidate) pairs
afterwards, within a time budget, on one background thread, and a newer query cancels an older
rerank. Text rerankers score a candidate's text (a PDF page, a passage) and skip candidates with
none; multimodal rerankers (``model.modalities`` includes ``image``) also score photos, but only
when asked (``rerank_photos``): published numbers show VL rerankers helping documents much more
than photos. Reranked candidates are reordered among the places they held, so photos the reranker
did not score keep theirs.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import CancelledError, Future
from dataclasses import replace
from typing import Any

from sqlalchemy.sql import text as sql

from .catalog import Catalog
from .errors import ExtractionError, ModelUnavailable
from .models import _short, load_options, pick_device, resolve_model_files
from .search_types import Hit

log = logging.getLogger(__name__)

DEFAULT_RERANKER = "cross-encoder/ms-marco-MiniLM-L6-v2"
BATCH = 8


def default_depth(device: str) -> int:
    """How many candidates to rerank: a GPU affords more than a CPU within the same budget."""
    return 50 if device.startswith("cuda") else 30


class Reranker:
    """A lazily loaded CrossEncoder (Hugging Face id or local folder).

    Text cross-encoders (BERT-style sequence classifiers) and multimodal ones (a VLM loaded as
    ``Transformer(transformer_task="any-to-any")`` + ``LogitScore``, like the Qwen3-VL rerankers)
    load the same way; :attr:`modalities` tells them apart.
    """

    def __init__(self, name: str, *, device: str | None = None, download: bool = True) -> None:
        self.name = name
        self._device = device
        self._download = download
        self._model: Any = None
        self._error: str | None = None
        self._lock = threading.Lock()

    def load(self) -> Any:
        with self._lock:
            if self._model is None:
                if self._error is not None:
                    raise ModelUnavailable(self._error)
                try:
                    self._model = self._load()
                except ModelUnavailable as exc:
                    self._error = str(exc)
                    raise
            return self._model

    def _load(self) -> Any:
        options = load_options(self.name, role="reranker")  # remote code; missing packages
        folder = resolve_model_files(self.name, download=self._download, role="reranker")
        from sentence_transformers import CrossEncoder

        try:
            return CrossEncoder(
                str(folder), device=pick_device(self._device), local_files_only=True, **options
            )
        except (OSError, ValueError, KeyError, RuntimeError, ImportError) as exc:
            raise ModelUnavailable(
                f"The reranker in {folder} could not be loaded ({type(exc).__name__}: {_short(exc)})."
            ) from exc

    def available(self) -> bool:
        try:
            self.load()
            return True
        except ModelUnavailable:
            return False

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(getattr(self.load(), "modalities", ("text",)))

    @property
    def device(self) -> str:
        return str(self.load().device)

    def predict(self, pairs: list[tuple[str, Any]]) -> list[float]:
        scores = self.load().predict(pairs, batch_size=BATCH, show_progress_bar=False)
        return [float(x) for x in scores]


def candidate_texts(catalog: Catalog, item_ids: list[int]) -> dict[int, str]:
    """Each item's text (PDF page text, passage) from the full-text index."""
    if not item_ids:
        return {}
    with catalog.session() as s:
        rows = s.execute(
            sql(
                f"SELECT rowid, body FROM fts WHERE rowid IN ({','.join(str(int(i)) for i in item_ids)})"
            )
        )
        return {int(r[0]): r[1] for r in rows if r[1] and r[1].strip()}


class RerankRunner:
    """Runs reranks one at a time in the background; a newer request cancels the older one."""

    def __init__(
        self, reranker: Reranker, catalog: Catalog, *, rerank_photos: bool = False
    ) -> None:
        self.reranker = reranker
        self.catalog = catalog
        self.rerank_photos = rerank_photos
        self._lock = threading.Lock()  # guards _current only: submit never waits for a rerank
        self._run_lock = threading.Lock()  # one rerank at a time
        self._current: threading.Event | None = None

    def submit(
        self, query: str, hits: list[Hit], *, depth: int, budget_s: float
    ) -> Future[list[Hit]]:
        """Rerank the first ``depth`` hits for ``query``; the future holds the new full list."""
        future: Future[list[Hit]] = Future()
        cancel = threading.Event()
        with self._lock:
            if self._current is not None:
                self._current.set()
            self._current = cancel
        future.add_done_callback(lambda f: cancel.set() if f.cancelled() else None)
        thread = threading.Thread(
            target=self._run,
            args=(future, cancel, query, hits, depth, budget_s),
            name="scry-rerank",
            daemon=True,
        )
        thread.start()
        return future

    def _run(
        self,
        future: Future[list[Hit]],
        cancel: threading.Event,
        query: str,
        hits: list[Hit],
        depth: int,
        budget_s: float,
    ) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            with self._run_lock:
                result = self._rerank(cancel, query, hits, depth, time.monotonic() + budget_s)
        except CancelledError as exc:
            future.set_exception(exc)
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def _payloads(self, top: list[Hit]) -> dict[int, Any]:
        payloads: dict[int, Any] = dict(candidate_texts(self.catalog, [h.item_id for h in top]))
        if self.rerank_photos and "image" in self.reranker.modalities:
            from .extract import decode_image

            for h in top:
                if h.item_id not in payloads and h.kind == "image":
                    try:
                        payloads[h.item_id] = decode_image(h.path)[0]
                    except ExtractionError:
                        continue
        return payloads

    def _rerank(
        self, cancel: threading.Event, query: str, hits: list[Hit], depth: int, deadline: float
    ) -> list[Hit]:
        top = hits[:depth]
        payloads = self._payloads(top)
        todo = [h for h in top if h.item_id in payloads]
        scores: dict[int, float] = {}
        for start in range(0, len(todo), BATCH):
            if cancel.is_set():
                raise CancelledError("a newer query replaced this one")
            if time.monotonic() > deadline and scores:
                log.info("Rerank budget spent after %d of %d candidates", len(scores), len(todo))
                break
            chunk = todo[start : start + BATCH]
            for h, score in zip(
                chunk,
                self.reranker.predict([(query, payloads[h.item_id]) for h in chunk]),
                strict=True,
            ):
                scores[h.item_id] = score
        if cancel.is_set():
            raise CancelledError("a newer query replaced this one")
        slots = [i for i, h in enumerate(top) if h.item_id in scores]
        ranked = sorted((top[i] for i in slots), key=lambda h: -scores[h.item_id])
        new_top = list(top)
        for slot, h in zip(slots, ranked, strict=True):
            new_top[slot] = h
        out = []
        for h in new_top + hits[depth:]:
            explain = dict(
                h.explain, rerank=None if h.item_id not in scores else round(scores[h.item_id], 6)
            )
            out.append(replace(h, explain=explain))
        return out
