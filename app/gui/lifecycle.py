"""The window's background life: open the index, load the model, index folders, settings.

A mixin of :class:`MainWindow`, kept apart so each file holds one concern. Nothing here blocks
the UI thread: the catalog and the model open on the ``engine`` lane, indexing runs in the
backend's job thread and is polled every 100 ms.
"""

from __future__ import annotations

import logging
from typing import Any

from .errors_dialog import ErrorsDialog
from .first_run import FirstRunDialog
from .indexjob import IndexJob
from .qt import QFileDialog, QStandardPaths, QTimer
from .settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

POLL_MS = 100


class Lifecycle:
    """Startup, model, indexing and settings for the main window (uses its widgets)."""

    def _init_lifecycle(self) -> None:
        self.model_state = "opening"  # opening | loading | ready | keyword-only | failed
        self.model_error: str | None = None
        self.status_info: dict[str, Any] = {}
        self.job: IndexJob | None = None
        self.first_run_dialog: FirstRunDialog | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._poll_index)
        self.show_idle_state()

    def start(self) -> None:
        """Open the index and load the model in the background (call once, after show())."""
        self.status.say("Opening the index…")
        self.runner.submit(
            "engine", self.backend.open, on_done=self._opened, on_error=self._open_failed
        )

    # ------------------------------------------------------------------ startup

    def _opened(self, status: dict[str, Any]) -> None:
        self.mark("index-open")
        self._apply_status(status)
        self.model_state = "loading"
        self.status.say("Loading the model…")
        self.show_idle_state()
        self.runner.submit(
            "engine",
            self.backend.load_model,
            on_done=self._model_loaded,
            on_error=self._open_failed,
        )
        if self.first_run_enabled and not status.get("roots") and not status.get("files"):
            self.show_first_run()

    def _open_failed(self, exc: BaseException) -> None:
        log.error("Could not open the index: %s", exc)
        self.model_state = "failed"
        self.model_error = str(exc)
        self.status.say(f"scry cannot work: {exc}")
        self.empty.show_message("scry cannot open its index", str(exc))
        self.stack.setCurrentWidget(self.empty)

    def _model_loaded(self, error: str | None) -> None:
        self.model_error = error
        self.model_state = "keyword-only" if error else "ready"
        self.mark("model-ready")
        if error:
            self.status.say("Keyword search only: the model is not available.", tooltip=error)
        else:
            self.status.say("Ready" + self._state_suffix())
        if self._query is None:
            self.show_idle_state()

    def _state_suffix(self) -> str:
        n = self.status_info.get("files") or 0
        return f" · {n:,} files indexed" if n else ""

    def show_idle_state(self) -> None:
        """The empty page when nothing is searched: what is going on and what to do."""
        files = self.status_info.get("files") or 0
        if self.model_state == "opening":
            self.empty.show_message("Opening your index…")
        elif self.model_state == "failed":
            return
        elif not files and not (self.job and self.job.running):
            self.empty.show_message(
                "Nothing indexed yet",
                "Choose folders to index from the menu (☰ → Add a folder…).",
            )
        else:
            loading = "  Loading the model…" if self.model_state == "loading" else ""
            self.empty.show_message(
                "Type to search, or drop an image here",
                f"Search {files:,} photos and documents by what they show and say. "
                "Paste an image with Ctrl+V; filters: type, folder, dates." + loading,
            )
        self.stack.setCurrentWidget(self.empty)

    def refresh_status(self) -> None:
        self.runner.submit("io", self.backend.status, on_done=self._apply_status)

    def _apply_status(self, status: dict[str, Any]) -> None:
        self.status_info = status
        self.filters.set_folders([r["path"] for r in status.get("roots", [])])
        self.status.set_errors(len(status.get("errors") or []))

    # ------------------------------------------------------------------ indexing

    def start_indexing(self, folders: list[str] | None = None) -> None:
        from pathlib import Path

        paths = [Path(f) for f in folders] if folders else None
        self.status.say("Starting to index…")
        self.runner.submit(
            "io",
            self.backend.start_index,
            paths,
            on_done=self._index_started,
            on_error=lambda e: self.status.say(f"Cannot index: {e}"),
        )

    def _index_started(self, job: IndexJob) -> None:
        self.job = job
        self._poll.start()
        self._poll_index()
        if self._query is None:
            self.show_idle_state()

    def _poll_index(self) -> None:
        job = self.job
        if job is None:
            self._poll.stop()
            return
        if job.running:
            self.status.show_progress(job.snapshot())
            return
        self._poll.stop()
        self.status.hide_progress()
        self.job = None
        if job.error:
            self.status.say(f"Indexing stopped: {job.error}")
        elif job.report:
            r = job.report
            what = "Stopped" if r.get("cancelled") else "Indexed"
            self.status.say(
                f"{what}: {r['new']:,} new, {r['changed']:,} changed, {r['deleted']:,} removed, "
                f"{r['failed']:,} unreadable ({r['seconds']:.1f} s)"
            )
        self.refresh_status()
        if self._query is not None:
            self.run_search()
        else:
            QTimer.singleShot(300, self.show_idle_state)

    def stop_indexing(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.say("Stopping after the current files…")

    def update_index(self) -> None:
        self.start_indexing(None)

    def add_folder(self) -> None:
        start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation)
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to index", start)
        if folder:
            self.start_indexing([folder])

    # ------------------------------------------------------------------ dialogs

    def show_first_run(self) -> None:
        dlg = FirstRunDialog(self)
        self.first_run_dialog = dlg
        dlg.accepted.connect(lambda: self.start_indexing(dlg.chosen()))
        dlg.open()

    def show_errors(self) -> None:
        dlg = ErrorsDialog(self.status_info.get("errors") or [], self)
        self.errors_dialog = dlg
        dlg.open()

    def open_settings(self) -> None:
        s = self.backend.settings()
        from scry.indexer.config import DEFAULT_MODEL

        dlg = SettingsDialog(
            folders=[r["path"] for r in self.status_info.get("roots", [])],
            exclude=list(s.exclude),
            model=self.backend.model_name or s.model or DEFAULT_MODEL,
            default_model=DEFAULT_MODEL,
            rerank=self.backend.rerank_mode(s),
            threads=self.backend.cpu_threads(s),
            parent=self,
        )
        self.settings_dialog = dlg
        dlg.accepted.connect(lambda: self._save_settings(dlg))
        dlg.open()

    def _save_settings(self, dlg: SettingsDialog) -> None:
        v = dlg.values()
        changed = self.backend.save_settings(
            model=v.model, exclude=v.exclude, rerank=v.rerank, threads=v.threads
        )
        if changed:
            self.model_state = "loading"
            self.status.say("Loading the new model…")
            self.runner.submit(
                "engine",
                self.backend.reload,
                v.model or None,
                on_done=lambda err: (
                    self._model_loaded(err),
                    self.start_indexing(v.folders or None),
                ),
                on_error=self._open_failed,
            )
        elif v.new_folders:
            self.start_indexing(v.new_folders)
        else:
            self.status.say("Settings saved")

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event) -> None:
        self._poll.stop()
        self._debounce.stop()
        self.runner.shutdown()
        self.thumbs.shutdown()
        try:
            self.backend.close()
        except Exception as exc:
            log.warning("Closing the index: %s", exc)
        super().closeEvent(event)
