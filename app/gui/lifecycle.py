"""The window's background life: open the index, load the model, index folders, settings.

A mixin of :class:`MainWindow`, kept apart so each file holds one concern. Nothing here blocks
the UI thread: the catalog and the model open on the ``engine`` lane, indexing runs in the
engine's live indexing service (its own thread, watching the folders), whose status snapshot is
polled every 250 ms.
"""

from __future__ import annotations

import logging
from typing import Any

from .errors_dialog import ErrorsDialog
from .first_run import FirstRunDialog
from .indexjob import IndexProgress
from .qt import QFileDialog, QStandardPaths, QTimer
from .settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

POLL_MS = 250


class Lifecycle:
    """Startup, model, indexing and settings for the main window (uses its widgets)."""

    def _init_lifecycle(self) -> None:
        self.model_state = "opening"  # opening | loading | ready | keyword-only | failed
        self.model_error: str | None = None
        self.status_info: dict[str, Any] = {}
        self.progress = IndexProgress()
        self.first_run_dialog: FirstRunDialog | None = None
        self.tray = None  # a tray.Tray when the desktop has a system tray
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._poll_index)
        self.show_idle_state()

    def start(self) -> None:
        """Open the index and load the model in the background (call once, after show())."""
        self.status.say("Opening the index…")
        self._poll.start()  # model downloads, then the indexing service
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
        if self.status_info.get("roots"):
            self.runner.submit("io", self.backend.start_service, on_done=self._following)

    def _following(self, _=None) -> None:
        """The service runs: poll its status for the status bar, the tray and result refreshes."""
        if not self._poll.isActive():
            self._poll.start()
            self._poll_index()

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
        elif not files and not self.progress.busy:
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

    def _index_started(self, _=None) -> None:
        self._following()
        if self._query is None:
            self.show_idle_state()

    def _poll_index(self) -> None:
        before, p = self.progress, self.backend.index_progress()
        self.progress = p
        if p.busy:
            self.status.show_progress(p)
        elif before.busy:
            self.status.hide_progress()
        if p.state == "paused" and before.state != "paused":
            self.status.say("Indexing paused")
        self.status.set_paused(p.state == "paused")
        self.indexing_changed.emit(p)
        if p.passes > before.passes and not p.busy:
            self._pass_finished(p)
        sw, was = p.switch or {}, before.switch or {}
        if sw.get("state") != was.get("state") and sw.get("state") not in (None, "running"):
            self._switch_finished(sw)

    def _pass_finished(self, p: IndexProgress) -> None:
        r = p.last_report or {}
        changed = any(r.get(k) for k in ("new", "changed", "deleted", "moved", "failed"))
        if p.last_error and p.state == "error":
            self.status.say(f"Indexing stopped: {p.last_error}")
        elif changed:
            self.status.say(
                f"Indexed: {r['new']:,} new, {r['changed']:,} changed, {r['deleted']:,} removed, "
                f"{r['failed']:,} unreadable ({r['seconds']:.1f} s)"
            )
        elif r:
            self.status.say("Up to date" + self._state_suffix())
        self.refresh_status()
        if not changed:
            return
        if self._query is not None:
            self.refresh_search()  # new files may match; selection and scroll stay
        else:
            QTimer.singleShot(300, self.show_idle_state)

    def _switch_finished(self, sw: dict[str, Any]) -> None:
        state = sw.get("state")
        if state == "done":
            self.status.say(f"Now searching with {sw.get('model')}")
            self.refresh_status()
            if self._query is not None:
                self.run_search()
        elif state == "cancelled":
            self.status.say("Model change cancelled: the previous model keeps answering")
        else:
            self.status.say(
                f"Could not switch to {sw.get('model')}: {sw.get('error') or state}; "
                "the previous model keeps answering"
            )

    def stop_indexing(self) -> None:
        """The status bar's Pause/Resume button."""
        if self.progress.state == "paused":
            self.resume_indexing()
        else:
            self.pause_indexing()

    def pause_indexing(self) -> None:
        self.runner.submit("io", self.backend.pause)
        self.status.say("Pausing after the current files…")

    def resume_indexing(self) -> None:
        self.runner.submit("io", self.backend.resume)
        self.status.say("Resuming indexing…")

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
        from scry.indexer.hardware import default_models

        default = default_models()[0]
        dlg = SettingsDialog(
            folders=[r["path"] for r in self.status_info.get("roots", [])],
            exclude=list(s.exclude),
            model=self.backend.model_name or s.model or default,
            default_model=default,
            rerank=self.backend.rerank_mode(s),
            threads=self.backend.cpu_threads(s),
            autostart=self.backend.autostart(),
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
        if v.autostart != dlg.initial_autostart:
            self.runner.submit(
                "io",
                self.backend.set_autostart,
                v.autostart,
                on_error=lambda e: self.status.say(f"Cannot change the login startup: {e}"),
            )
        for folder in v.removed_folders:
            self.runner.submit(
                "io",
                self.backend.remove_folder,
                folder,
                on_done=lambda n, f=folder: (
                    self.status.say(f"Stopped following {f}; {n:,} files forgotten"),
                    self.refresh_status(),
                ),
                on_error=lambda e: self.status.say(f"Cannot remove the folder: {e}"),
            )
        if v.new_folders:
            self.start_indexing(v.new_folders)
        if changed:
            self.status.say(
                "Re-indexing with the new model in the background; "
                "the current one keeps answering until it is done"
            )
            self.runner.submit(
                "io",
                self.backend.switch_model,
                v.model or None,
                on_done=self._following,
                on_error=lambda e: self.status.say(f"Cannot change the model: {e}"),
            )
        elif not v.new_folders and not v.removed_folders:
            self.status.say("Settings saved")

    # ------------------------------------------------------------------ closing

    def show_and_raise(self) -> None:
        """Bring the window to the front (tray, a second launch)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def handle_request(self, req: dict[str, Any]) -> None:
        """A request from a later launch (see ``instance``): show the window with its search."""
        action = req.get("action")
        if action == "background":
            return
        self.show_and_raise()
        if action == "search":
            self.search.chip.clear()
            self.search.edit.setText(req.get("text", ""))
            self.run_search()
        elif action in ("similar", "image"):
            self.search.edit.blockSignals(True)
            self.search.edit.setText(req.get("text", ""))
            self.search.edit.blockSignals(False)
            self.set_query_image(req["path"], similar=action == "similar")

    def quit_app(self) -> None:
        """Quit for real (the tray's Quit): stop indexing cleanly, then leave."""
        self._quitting = True
        self.close()
        self.quit_requested.emit()  # the app leaves its event loop (see app.run)

    def closeEvent(self, event) -> None:
        tray = getattr(self, "tray", None)
        if tray is not None and tray.active and not getattr(self, "_quitting", False):
            self.hide()  # the tray keeps scry (and indexing) alive
            tray.tell_hidden()
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every worker and the indexing service; safe to call twice."""
        if getattr(self, "_shut", False):
            return
        self._shut = True
        self._poll.stop()
        self._debounce.stop()
        self.runner.shutdown()
        self.thumbs.shutdown()
        try:
            self.backend.close()
        except Exception as exc:
            log.warning("Closing the index: %s", exc)
