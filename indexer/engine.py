"""The engine facade: the one object the CLI, the window and the tray talk to.

It owns the data folder (catalog, vector indexes, settings), loads the embedding model lazily,
falls back to keyword-only search when the model is unavailable, and answers index, search,
similar, status and inspect requests (the status and inspect reports are built in
:mod:`.engine_status`). It never imports Qt.

Example:
    >>> eng = Engine(home=Path("/tmp/scry"), model="/models/clip")  # doctest: +SKIP
    >>> eng.index([Path("~/Pictures").expanduser()]).as_json()  # doctest: +SKIP
    {'new': 120, 'changed': 0, ...}
    >>> [h.path for h in eng.search("dog on a beach")]  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from . import engine_status, store
from .calibration import Calibration
from .catalog import Catalog
from .config import DEFAULT_MODEL, Settings, data_home
from .errors import BadInput, CatalogError, ModelUnavailable
from .indexing import Indexer, IndexReport, Progress
from .models import Embedder, indexed_model, merged_processor_kwargs
from .rerank import DEFAULT_RERANKER, Reranker, RerankRunner, default_depth
from .schema import Model
from .search import Hit, Searcher, SearchOptions, SearchResult
from .vectors import VectorStore

log = logging.getLogger(__name__)


def data_folder_error(exc: OSError, home: Path) -> CatalogError | None:
    """A full disk or an unwritable data folder, as a sentence naming the fix; None otherwise."""
    where = Path(exc.filename) if isinstance(exc.filename, str) else None
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return CatalogError(
            f"The disk holding the data folder {home} is full. Free some space and run the "
            "command again; nothing indexed so far was lost."
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and (
        where is None or where.is_relative_to(home)
    ):
        return CatalogError(
            f"The data folder {home} cannot be written ({exc.strerror}). Give your user write "
            "access to it, or set SCRY_HOME to a writable folder."
        )
    return None


def choose_model(explicit: str | None, settings: Settings, home: Path | None = None) -> str:
    """The model to use: --model, then SCRY_MODEL, then the settings, then the default.

    The default is the model the index at ``home`` was built with, else the hardware's choice
    (:func:`.hardware.default_models`: Qwen3-VL on a big enough CUDA GPU, CLIP elsewhere).
    """
    for candidate in (explicit, os.environ.get("SCRY_MODEL"), settings.model):
        if candidate:
            local = Path(candidate).expanduser()
            return str(local.resolve()) if local.is_dir() else candidate
    from .hardware import default_models

    return (indexed_model(home) if home else None) or default_models()[0] or DEFAULT_MODEL


def _default_reranker(embedder: str) -> str:
    """The hardware's reranker, unless the embedder stayed on the CPU default (then its pair)."""
    from .hardware import default_models

    emb, rer = default_models()
    return rer if embedder == emb else DEFAULT_RERANKER


class Engine:
    def __init__(
        self,
        home: Path | None = None,
        model: str | None = None,
        *,
        settings: Settings | None = None,
        download: bool = True,
    ) -> None:
        self.home = home or data_home()
        self.settings = settings or Settings.load(self.home)
        self.model_name = choose_model(model, self.settings, self.home)
        self._download = download
        self._catalog: Catalog | None = None
        self.embedder: Embedder | None = None
        self.vectors: VectorStore | None = None
        self.model_error: str | None = None
        self._model_tried = False
        self._calibration: Calibration | None = None
        self._reranker: Reranker | None = None
        self._rerank_runner_obj: RerankRunner | None = None
        self._lock = threading.RLock()

    # ---------------------------------------------------------------- plumbing

    @property
    def catalog(self) -> Catalog:
        with self._lock:
            if self._catalog is None:
                self._catalog = Catalog.open(self.home)
            return self._catalog

    def load_model(self) -> bool:
        """Load the embedding model and its vector indexes once; False means keyword-only mode."""
        with self._lock:
            if self._model_tried:
                return self.vectors is not None
            self._model_tried = True
            if self.settings.threads:
                import torch

                torch.set_num_threads(max(1, int(self.settings.threads)))
            emb = Embedder(
                self.model_name,
                device=self.settings.device,
                batch_size=self.settings.batch_size,
                download=self._download,
                processor_kwargs=merged_processor_kwargs(self.settings),
                precision=self.settings.precision,
                backend=self.settings.backend,
                home=self.home,
            )
            try:
                info = emb.info()
            except ModelUnavailable as exc:
                self.model_error = str(exc)
                log.info("Keyword-only mode: %s", exc)
                return False
            with self.catalog.session(write=True) as s:
                row = store.get_or_add_model(s, self.model_name, info.dimension, info.modalities)
                model_id = row.id
            self.embedder = emb
            self.vectors = VectorStore(self.home, self.catalog, model_id, info.dimension).open()
            if "image" not in info.modalities:
                log.info(
                    "The model %s reads text only: images are searchable by file name, "
                    "folder and metadata, not by what they show.",
                    self.model_name,
                )
            return True

    @property
    def keyword_only(self) -> bool:
        return self.vectors is None

    def _searcher(self) -> Searcher:
        self.load_model()
        searcher = Searcher(self.catalog, self.embedder, self.vectors)
        if self.vectors is not None and self.embedder is not None:
            with self._lock:
                if self._calibration is None:
                    self._calibration = Calibration(
                        self.catalog, self.vectors, self.embedder, searcher.top_z
                    )
            searcher._threshold = self._calibration.threshold
        return searcher

    # ---------------------------------------------------------------- commands

    def index(
        self,
        folders: list[Path] | None = None,
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        scopes: dict[str, list[str]] | None = None,
    ) -> IndexReport:
        """Index ``folders`` (added as roots), or every known root when none are given.

        ``scopes`` maps a root to the paths in it that changed (files or folders): only those
        are looked at, which is what the watcher asks for. Roots not in it are walked whole.
        """
        self.load_model()
        if not folders:
            with self.catalog.session() as s:
                folders = [Path(r.path) for r in store.roots(s)]
        indexer = Indexer(
            self.home,
            self.catalog,
            self.settings,
            embedder=self.embedder,
            vectors=self.vectors,
            model_id=self.vectors.model_id if self.vectors else None,
            progress=progress,
            cancel=cancel,
        )
        try:
            report = indexer.run([Path(f) for f in folders], scopes)
        except OSError as exc:
            err = data_folder_error(exc, self.home)
            if err is None:
                raise
            raise err from exc
        report.keyword_only = self.model_error
        return report

    def search(self, query: str, k: int = 20) -> list[Hit]:
        """Stage-one results for a query (query language applies), one per file, best first."""
        return self._searcher().text(query, k)

    def query(
        self,
        text: str = "",
        *,
        image: str | Path | None = None,
        options: SearchOptions | None = None,
        rerank: bool | None = None,
    ) -> SearchResult:
        """Full search: stage one at once, plus ``result.rerank`` (a future) when reranking.

        ``rerank`` None follows the ``rerank`` setting (auto: when a reranker is at hand).
        A newer query cancels the previous query's rerank.
        """
        result = self._searcher().run(text, image=image, options=options)
        want = self._rerank_wanted(rerank)
        if not want or not result.hits or not result.query.text:
            return result
        runner, note = self._rerank_runner(explicit=rerank is True)
        result.rerank_note = note
        if runner is not None:
            depth = self.settings.rerank_depth or default_depth(runner.reranker.device)
            result.rerank = runner.submit(
                result.query.text, result.hits, depth=depth, budget_s=self.settings.rerank_budget_s
            )
        return result

    def _rerank_wanted(self, rerank: bool | None) -> bool:
        if rerank is not None:
            return rerank
        return self.settings.rerank in ("auto", "on")

    def _rerank_runner(self, *, explicit: bool) -> tuple[RerankRunner | None, str | None]:
        """The reranker, loaded once; in auto mode only from the cache (never a download)."""
        with self._lock:
            if self._reranker is None:
                name = (
                    os.environ.get("SCRY_RERANKER")
                    or self.settings.reranker
                    or _default_reranker(self.model_name)
                )
                download = self._download and (explicit or self.settings.rerank == "on")
                self._reranker = Reranker(name, device=self.settings.device, download=download)
            try:
                self._reranker.load()
            except ModelUnavailable as exc:
                return None, str(exc)
            if self._rerank_runner_obj is None:
                self._rerank_runner_obj = RerankRunner(
                    self._reranker, self.catalog, rerank_photos=self.settings.rerank_photos
                )
            return self._rerank_runner_obj, None

    def search_image(self, path: str | Path, k: int = 20) -> list[Hit]:
        return self._searcher().image(path, k)

    def search_combined(self, query: str, image: str | Path, k: int = 20) -> list[Hit]:
        """Words and an image together: the sum of their normalised query vectors."""
        return self._searcher().combined(query, image, k)

    def similar(self, path: str | Path, k: int = 20) -> list[Hit]:
        return self._searcher().similar(path, k)

    def status(self) -> dict[str, Any]:
        """Counts, roots, errors with reasons, model and index size; does not load the model."""
        return engine_status.status(self)

    def inspect(self, path: str | Path, *, vectors: bool = False) -> dict[str, Any]:
        """What the catalog knows about one file."""
        return engine_status.inspect(self, path, vectors=vectors)

    def remove_root(self, path: str | Path) -> int:
        """Forget an indexed folder: its files, items, text and vectors (marked deleted in every
        model's vector index). Nothing on disk is touched. Returns how many files were removed.
        """
        p = Path(path).expanduser()
        keys = {str(p), str(p.absolute()), str(p.resolve())}
        with self._lock, self.catalog.session() as s:
            root = next((r for r in store.roots(s) if r.path in keys), None)
            if root is None:
                raise BadInput(f"{path} is not an indexed folder (scry status lists them).")
            root_id, models = root.id, [(m.id, m.dimension) for m in s.scalars(select(Model))]
        with self._lock:
            # Other models' indexes are loaded first, so removing labels keeps them in step
            # with the catalog instead of forcing a rebuild when they are next opened.
            stores = [
                VectorStore(self.home, self.catalog, mid, dim).open()
                for mid, dim in models
                if (self.vectors is None or mid != self.vectors.model_id)
                and any((self.home / "vectors").glob(f"model{mid}-*.hnsw"))
            ]
            if self.vectors is not None:
                stores.append(self.vectors)
            with self.catalog.session(write=True) as s:
                files, removed = store.delete_root(s, root_id)
            for vs in stores:
                labels: dict[str, list[int]] = {}
                for model_id, modality, label in removed:
                    if model_id == vs.model_id:
                        labels.setdefault(modality, []).append(label)
                vs.remove(labels)
                vs.save()
        log.info("Forgot %s: %d files", path, files)
        return files

    def close(self) -> None:
        with self._lock:
            if self.vectors is not None:
                try:
                    self.vectors.save()
                except OSError as exc:  # the catalog holds every vector: rebuilt on next open
                    log.warning("Could not save the vector index: %s", exc)
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None
