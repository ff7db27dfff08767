"""The system tray icon: indexing state at a glance, and a menu to search, pause, rescan, quit.

The icon carries a small badge for the state (blue: indexing, grey: paused, orange: a folder is
offline, red: an error or unreadable files) and its tooltip says it in words ("Indexing 1,204 of
5,000, about 3 min left"). Where the desktop has no tray (``isSystemTrayAvailable()`` is False:
some desktops, Xvfb, offscreen), scry keeps a normal window instead and this class is not used.
"""

from __future__ import annotations

import logging
from typing import Any

from .indexjob import IndexProgress, describe
from .qt import (
    QAction,
    QColor,
    QIcon,
    QMenu,
    QObject,
    QPainter,
    QPen,
    QPixmap,
    QSystemTrayIcon,
    Qt,
)

log = logging.getLogger(__name__)

BADGES = {
    "indexing": "#2f7de1",
    "paused": "#8a8f98",
    "offline": "#e39b20",
    "error": "#d83b3b",
}


def available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


def badge_of(p: IndexProgress, errors: int = 0) -> str | None:
    """Which badge the icon wears: the most urgent state wins."""
    if p.state == "error":
        return "error"
    if p.state == "paused":
        return "paused"
    if p.busy:
        return "indexing"
    if p.offline:
        return "offline"
    if errors:
        return "error"
    return None


def badged(icon: QIcon, badge: str | None, size: int = 64) -> QIcon:
    """The app icon with a coloured dot in its lower right corner."""
    if badge is None:
        return icon
    pix = icon.pixmap(size, size)
    if pix.isNull():
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
    out = QPixmap(pix)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    d = size * 0.42
    painter.setPen(QPen(QColor("white"), size * 0.06))
    painter.setBrush(QColor(BADGES[badge]))
    painter.drawEllipse(int(size - d - 1), int(size - d - 1), int(d), int(d))
    painter.end()
    return QIcon(out)


class Tray(QObject):
    """The tray icon of one window; its actions drive the window and the indexing service."""

    def __init__(self, window: Any, icon: QIcon) -> None:
        super().__init__(window)
        self.window = window
        self.base_icon = icon
        self.badge: str | None = None
        self.icon = QSystemTrayIcon(icon, self)
        self.icon.setToolTip("scry")
        self.menu = QMenu()
        self.act_search = QAction("Search…", self)
        self.act_search.triggered.connect(window.show_and_raise)
        self.act_pause = QAction("Pause indexing", self)
        self.act_pause.triggered.connect(self.toggle_pause)
        self.act_rescan = QAction("Rescan now", self)
        self.act_rescan.triggered.connect(window.update_index)
        self.act_settings = QAction("Settings…", self)
        self.act_settings.triggered.connect(self.open_settings)
        self.act_quit = QAction("Quit scry", self)
        self.act_quit.triggered.connect(window.quit_app)
        self.menu.addAction(self.act_search)
        self.menu.addSeparator()
        self.menu.addAction(self.act_pause)
        self.menu.addAction(self.act_rescan)
        self.menu.addAction(self.act_settings)
        self.menu.addSeparator()
        self.menu.addAction(self.act_quit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.told_hidden = False
        window.indexing_changed.connect(self.update)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    @property
    def active(self) -> bool:
        """True when the icon is really in a tray (closing the window then keeps scry running)."""
        return self.icon.isVisible() and available()

    def update(self, p: IndexProgress) -> None:
        errors = len(self.window.status_info.get("errors") or [])
        self.icon.setToolTip("scry — " + describe(p, errors))
        paused = p.state == "paused"
        self.act_pause.setText("Resume indexing" if paused else "Pause indexing")
        badge = badge_of(p, errors)
        if badge != self.badge:
            self.badge = badge
            self.icon.setIcon(badged(self.base_icon, badge))

    def toggle_pause(self) -> None:
        if self.window.progress.state == "paused":
            self.window.resume_indexing()
        else:
            self.window.pause_indexing()

    def open_settings(self) -> None:
        self.window.show_and_raise()
        self.window.open_settings()

    def tell_hidden(self) -> None:
        """Once per run: closing the window does not stop scry."""
        if self.told_hidden:
            return
        self.told_hidden = True
        self.icon.showMessage(
            "scry keeps indexing",
            "scry is still following your folders. Quit from this icon's menu.",
            QSystemTrayIcon.MessageIcon.Information,
            4000,
        )

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            if self.window.isVisible() and self.window.isActiveWindow():
                self.window.hide()
            else:
                self.window.show_and_raise()
