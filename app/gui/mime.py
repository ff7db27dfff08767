"""What a drop or a paste carries, in order of preference: a file, image data, an image URL, text.

File managers give ``file://`` URLs; browsers give raw image data, an ``http(s)`` URL, and/or
HTML with an ``<img src>``; a clipboard may hold an image, a list of files, or a path typed as
text. :func:`parse` turns any of them into one :class:`Payload`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from .qt import QImage, QMimeData, QUrl

_IMG_SRC = re.compile(r"""<img[^>]+src\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@dataclass
class Payload:
    path: str | None = None  # an existing local file
    image: QImage | None = None  # raw image data (pasted, dragged from a browser)
    url: str | None = None  # a remote image to download
    text: str | None = None  # plain words

    @property
    def searchable(self) -> bool:
        return bool(self.path or self.image is not None or self.url)


def parse(mime: QMimeData | None) -> Payload | None:
    if mime is None:
        return None
    remote = None
    for url in mime.urls() if mime.hasUrls() else []:
        local = _local_file(url)
        if local:
            return Payload(path=local)
        if url.scheme() in ("http", "https") and remote is None:
            remote = bytes(url.toEncoded().data()).decode("ascii")
    if mime.hasImage():
        img = QImage(mime.imageData())
        if not img.isNull():
            return Payload(image=img)
    for fmt in mime.formats():
        if fmt.startswith("image/"):
            img = QImage.fromData(mime.data(fmt))
            if not img.isNull():
                return Payload(image=img)
    if remote is None and mime.hasHtml():
        m = _IMG_SRC.search(mime.html())
        if m and m.group(1).startswith(("http://", "https://")):
            remote = m.group(1)
    if remote:
        return Payload(url=remote)
    if mime.hasText():
        text = mime.text().strip()
        local = path_from_text(text)
        if local:
            return Payload(path=local)
        if text:
            return Payload(text=text)
    return None


def path_from_text(text: str) -> str | None:
    """A pasted line that names an existing file: a path, ``~/x``, ``'quoted'`` or ``file://``."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(line) > 4096 or not line:
        return None
    if line[:1] == line[-1:] and line[:1] in "'\"" and len(line) > 1:
        line = line[1:-1]
    if line.startswith("file://"):
        line = unquote(urlparse(line).path)
    p = Path(line).expanduser()
    try:
        return str(p.resolve()) if p.is_absolute() and p.is_file() else None
    except OSError:
        return None


def _local_file(url: QUrl) -> str | None:
    if not url.isLocalFile():
        return None
    p = Path(url.toLocalFile())
    return str(p) if p.is_file() else None
