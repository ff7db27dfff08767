"""The status bar: what the app is doing, indexing progress, and the unreadable-files button."""

from __future__ import annotations

from pathlib import Path

from .indexjob import IndexProgress, amount, duration
from .qt import QLabel, QProgressBar, QPushButton, QSizePolicy, QStatusBar, QWidget, Signal


class StatusBar(QStatusBar):
    errors_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.message = QLabel()
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress = QProgressBar()
        self.progress.setFixedWidth(180)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.stop_btn = QPushButton("Pause")
        self.stop_btn.setFlat(True)
        self.stop_btn.setToolTip("Pause indexing (what is done so far is kept)")
        self.stop_btn.clicked.connect(self.stop_clicked.emit)
        self.stop_btn.hide()
        self.errors_btn = QPushButton()
        self.errors_btn.setFlat(True)
        self.errors_btn.setToolTip("Show the files that could not be read, and why")
        self.errors_btn.clicked.connect(self.errors_clicked.emit)
        self.errors_btn.hide()
        self.addWidget(self.message, 1)
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.stop_btn)
        self.addPermanentWidget(self.errors_btn)

    def say(self, text: str, tooltip: str = "") -> None:
        self.message.setText(text)
        self.message.setToolTip(tooltip or text)

    def show_progress(self, p: IndexProgress) -> None:
        self.progress.show()
        self.stop_btn.show()
        if p.phase == "downloading" and p.download:
            d = p.download
            total, done = int(d.get("total") or 0), int(d.get("done") or 0)
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done)
            self.progress.setFormat(amount(d))
            self.say(f"Downloading the model {d['model']} (first use)…")
            return
        if p.phase == "switching" and p.switch:
            sw = p.switch
            total, done = int(sw.get("total") or 0), int(sw.get("done") or 0)
            self.progress.setRange(0, max(total, 0))
            self.progress.setValue(done)
            self.progress.setFormat(f"{done:,} / {total:,}")
            self.say(f"Re-indexing with {Path(str(sw.get('model'))).name} in the background…")
            return
        if p.phase == "scanning" or not p.total:
            self.progress.setRange(0, 0)
            self.say("Indexing: looking for new and changed files…")
            return
        self.progress.setRange(0, p.total)
        self.progress.setValue(p.done)
        self.progress.setFormat(f"{p.done:,} / {p.total:,}")
        eta = f", about {duration(p.eta_s)} left" if p.eta_s else ""
        name = Path(p.current).name if p.current else ""
        phase = "Saving the index" if p.phase == "saving" else "Indexing"
        self.say(f"{phase}{eta}{' — ' + name if name else ''}")

    def hide_progress(self) -> None:
        self.progress.hide()
        if self.stop_btn.text() != "Resume":
            self.stop_btn.hide()

    def set_paused(self, paused: bool) -> None:
        """While paused the button resumes (and stays visible)."""
        self.stop_btn.setText("Resume" if paused else "Pause")
        self.stop_btn.setToolTip(
            "Resume indexing" if paused else "Pause indexing (what is done so far is kept)"
        )
        if paused:
            self.stop_btn.show()
        elif self.progress.isHidden():
            self.stop_btn.hide()

    def set_errors(self, n: int) -> None:
        self.errors_btn.setVisible(n > 0)
        self.errors_btn.setText(f"⚠ {n:,} unreadable file{'s' if n != 1 else ''}")
