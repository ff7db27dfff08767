"""What you can do with a result: open it (at its page where the viewer allows), show it in its
folder, copy its path or its image. Nothing here writes to the user's files."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .qt import QDesktopServices, QGuiApplication, QImage, QMimeData, QtCore, QtGui, QUrl
from .values import Result

log = logging.getLogger(__name__)

# Default PDF viewer (desktop file id fragment) -> its binary and how it takes a page number.
_PAGE_ARGS: dict[str, tuple[str, Callable[[int], list[str]]]] = {
    "evince": ("evince", lambda n: [f"--page-index={n}"]),
    "okular": ("okular", lambda n: ["-p", str(n)]),
    "zathura": ("zathura", lambda n: ["-P", str(n)]),
    "atril": ("atril", lambda n: ["-i", str(n)]),
    "xreader": ("xreader", lambda n: ["-i", str(n)]),
}


@functools.cache
def default_pdf_viewer() -> str:
    """The desktop file of the default PDF viewer on Linux ("" elsewhere or when unknown)."""
    if not sys.platform.startswith("linux") or shutil.which("xdg-mime") is None:
        return ""
    try:
        out = subprocess.run(
            ["xdg-mime", "query", "default", "application/pdf"],
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        )
        return out.stdout.strip().lower()
    except (OSError, subprocess.SubprocessError):
        return ""


def open_command(r: Result) -> list[str] | None:
    """A command that opens a PDF at the result's page, when the default viewer can; else None."""
    if not r.page or Path(r.path).suffix.lower() != ".pdf":
        return None
    viewer = default_pdf_viewer()
    for key, (binary, args) in _PAGE_ARGS.items():
        if key in viewer and shutil.which(binary):
            return [binary, *args(r.page), r.path]
    return None


def open_result(r: Result) -> bool:
    """Open with the default application (at the page for PDFs where the viewer allows)."""
    cmd = open_command(r)
    if cmd is not None and QtCore.QProcess.startDetached(cmd[0], cmd[1:]):
        return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(r.path))


def reveal_command(path: str) -> list[str] | None:
    """A command that shows the file selected in the file manager, or None (open the folder)."""
    if sys.platform == "darwin":
        return ["open", "-R", path]
    if sys.platform == "win32":
        return ["explorer", "/select,", str(Path(path))]
    if shutil.which("dbus-send"):
        return [
            "dbus-send",
            "--session",
            "--print-reply",
            "--reply-timeout=3000",
            "--dest=org.freedesktop.FileManager1",
            "/org/freedesktop/FileManager1",
            "org.freedesktop.FileManager1.ShowItems",
            f"array:string:{QUrl.fromLocalFile(path).toString()}",
            "string:",
        ]
    return None


def run_reveal(path: str) -> bool:
    """Blocking (call from a worker): True when the file manager showed the file."""
    cmd = reveal_command(path)
    if cmd is None:
        return False
    try:
        return subprocess.run(cmd, capture_output=True, timeout=5, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def open_folder(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))


def copy_paths(paths: list[str]) -> None:
    mime = QMimeData()
    mime.setText("\n".join(paths))
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    QGuiApplication.clipboard().setMimeData(mime)


def load_image(path: str, page: int | None, fallback: Callable[[], Path | None]) -> QImage | None:
    """Blocking (worker): the full image, upright; ``fallback`` renders pages, HEIC and the like."""
    img = QImage()
    if page is None:
        reader = QtGui.QImageReader(path)
        reader.setAutoTransform(True)
        img = reader.read()
    if img.isNull():
        made = fallback()
        img = QImage(str(made)) if made else QImage()
    return None if img.isNull() else img


def copy_image(img: QImage, path: str) -> None:
    mime = QMimeData()
    mime.setImageData(img)
    mime.setUrls([QUrl.fromLocalFile(path)])
    QGuiApplication.clipboard().setMimeData(mime)
