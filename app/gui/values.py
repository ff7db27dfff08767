"""The window's plain value types: what a person asked for, and what a search gave back.

:class:`Query` (words, a query image, filters, sort), :class:`Result` (one row of the grid),
:class:`Found` (a search's rows and its pending refinement) and :class:`Details` (the preview's
metadata). The backend maps the engine's types onto these; the widgets only see these.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".jpe", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff",
    ".heic", ".heif", ".avif", ".mpo", ".psd", ".ico",
}  # fmt: skip

#: UI type filter -> the query language's ``type:`` value and the engine's file kinds it keeps.
TYPES: dict[str, tuple[str, frozenset[str] | None]] = {
    "": ("", None),
    "photo": ("photo", frozenset({"image"})),
    "pdf": ("pdf", frozenset({"pdf"})),
    "doc": ("doc", None),  # documents: anything that is not a photo, PDF or video
    "video": ("video", frozenset({"video"})),
}
NOT_DOC = frozenset({"image", "pdf", "video"})

# ---------------------------------------------------------------------------- value types


@dataclass(frozen=True)
class Query:
    """What the person asked for: words, an optional query image, filters and a sort order."""

    text: str = ""
    image: str | None = None
    kind: str = ""
    folder: str = ""
    after: date | None = None
    before: date | None = None
    sort: str = "relevance"  # relevance | date
    similar: bool = False  # the image is an indexed result: use its stored vectors

    def is_empty(self) -> bool:
        """Filters alone do not search: they narrow what words or an image find."""
        return not self.text.strip() and not self.image

    def filter_tokens(self) -> list[str]:
        """The filters as query-language tokens (``type:pdf in:"/x y" after:2023-06-01``)."""
        out = []
        if self.kind and TYPES.get(self.kind, ("",))[0]:
            out.append(f"type:{TYPES[self.kind][0]}")
        if self.folder:
            out.append("in:" + (shlex.quote(self.folder) if " " in self.folder else self.folder))
        if self.after:
            out.append(f"after:{self.after.isoformat()}")
        if self.before:
            out.append(f"before:{self.before.isoformat()}")
        if self.sort == "date":
            out.append("sort:date")
        return out

    def engine_text(self) -> str:
        """The one search-box string the engine's query language reads."""
        return " ".join([self.text.strip(), *self.filter_tokens()]).strip()

    def terms(self) -> list[str]:
        """Words worth highlighting in a snippet: no filters, no negations, no short words."""
        words = []
        for tok in re.findall(r'"[^"]+"|\S+', self.text):
            if tok.startswith("-") or re.match(r"^\w+:", tok):
                continue
            words.extend(w for w in re.findall(r"\w+", tok) if len(w) > 1)
        return words


@dataclass(frozen=True)
class Result:
    """One row of the results grid: an item of a file and how well it matched."""

    path: str
    kind: str  # image | page | passage | frame
    locator: dict[str, Any]
    score: float
    file_kind: str = ""
    similarity: float | None = None
    sources: tuple[str, ...] = ()
    when: float | None = None  # a date for sorting (photo taken, else modified), when known

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, repr(sorted(self.locator.items())))

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def page(self) -> int | None:
        return self.locator.get("page")

    @property
    def part(self) -> int | float | None:
        """Which picture of the file the thumbnail shows: a PDF page (int), a video time in
        seconds (float), or None for the file as a whole."""
        if self.page is not None:
            return self.page
        if "time" in self.locator:
            return float(self.locator["time"] or 0.0)
        return None

    @property
    def badge(self) -> str:
        """Short type label: Photo, PDF p.3, Video 1:05, Document."""
        if self.kind == "page" or self.page is not None:
            return f"PDF p.{self.page}" if self.page else "PDF"
        if self.kind == "frame" or "time" in self.locator:
            t = int(self.locator.get("time") or 0)
            return f"Video {t // 60}:{t % 60:02d}"
        if self.kind == "video" or self.file_kind == "video":  # a video matched as a whole
            return "Video"
        if self.kind == "image":
            return "Photo"
        return "Document"


@dataclass
class Found:
    """A search's rows, and (when a reranker runs) a blocking call giving the refined rows."""

    rows: list[Result]
    refined: Callable[[], list[Result] | None] | None = None
    message: str | None = None


@dataclass
class Details:
    """What the preview pane shows about one result."""

    path: str
    folder: str
    size: int | None = None
    modified: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    snippet: str = ""
    status: str = "ok"


def is_image_path(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
