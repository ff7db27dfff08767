"""The query language of the one search box.

    dog beach                 words: meaning (vectors) and keywords (hybrid)
    "birthday cake"           an exact phrase: results must contain it (lexical phrase)
    -cat                      exclude: no keyword match on "cat", and the vector query moves away
                              from the meaning of "cat" (as rclip does); -33.8 is a number
    type:photo|image|pdf|doc|video    kind of file (several: type:pdf,doc)
    in:FOLDER                 under a folder: a path (~/Pictures/2023) or a folder name (holidays)
    after:2023-06  before:2024  year:2023   capture date (EXIF), else the file's modification date;
                              after: includes the period it names, before: excludes it
    camera:canon              camera make or model (EXIF)
    lens:50mm                 lens model (EXIF LensModel)
    ext:heic                  file extension
    sort:date | sort:relevance

Anything that does not parse as a filter (``foo:bar`` with an unknown key, a bad date) stays a
plain word, so no query is ever an error. :func:`parse` never raises.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "photo": ("image",),
    "photos": ("image",),
    "image": ("image",),
    "images": ("image",),
    "picture": ("image",),
    "pdf": ("pdf",),
    "doc": ("text", "document"),
    "docs": ("text", "document"),
    "document": ("text", "document"),
    "text": ("text", "document"),
    "video": ("video",),
    "videos": ("video",),
}

#: "-33.857" is a negative number (a GPS latitude), not "exclude 33.857".
_NUMBER = re.compile(r"^-\d+(?:[.,]\d+)?$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


@dataclass
class Filters:
    kinds: set[str] = field(default_factory=set)
    folders: list[str] = field(default_factory=list)  # absolute path prefixes
    folder_names: list[str] = field(default_factory=list)  # folder name parts, lower case
    after: str | None = None  # ISO date, inclusive
    before: str | None = None  # ISO date, exclusive
    cameras: list[str] = field(default_factory=list)
    lenses: list[str] = field(default_factory=list)
    exts: set[str] = field(default_factory=set)

    def active(self) -> bool:
        return bool(
            self.kinds
            or self.folders
            or self.folder_names
            or self.after
            or self.before
            or self.cameras
            or self.lenses
            or self.exts
        )


@dataclass
class Query:
    """A parsed query. ``text`` is what the vector side embeds (words and phrases)."""

    raw: str = ""
    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    sort: str = "relevance"

    @property
    def text(self) -> str:
        return " ".join([*self.words, *self.phrases]).strip()

    @property
    def empty(self) -> bool:
        return not self.text and not self.filters.active()


def _period(value: str) -> tuple[date, date] | None:
    """The [start, end) of ``2023``, ``2023-06`` or ``2023-06-15``; None when not a date."""
    m = _DATE.match(value)
    if not m:
        return None
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d is not None:
            start = date(y, int(mo), int(d))
            return start, date.fromordinal(start.toordinal() + 1)
        if mo is not None:
            start = date(y, int(mo), 1)
            return start, (date(y + 1, 1, 1) if int(mo) == 12 else date(y, int(mo) + 1, 1))
        return date(y, 1, 1), date(y + 1, 1, 1)
    except ValueError:
        return None


def _tokens(raw: str) -> list[tuple[str, bool]]:
    """Split into (token, was_quoted). Unbalanced quotes are treated as plain characters."""
    out: list[tuple[str, bool]] = []
    pattern = re.compile(r'(-?)"([^"]*)"|(\S+)')
    for m in pattern.finditer(raw):
        if m.group(2) is not None:
            out.append(((m.group(1) or "") + m.group(2), True))
        else:
            out.append((m.group(3), False))
    return out


def parse(raw: str) -> Query:
    """Parse the search box text. Never raises."""
    q = Query(raw=raw)
    f = q.filters
    for token, quoted in _tokens(raw or ""):
        if quoted:
            if token.startswith("-"):
                if token[1:].strip():
                    q.excludes.append(token[1:].strip())
            elif token.strip():
                q.phrases.append(token.strip())
            continue
        if (
            token.startswith("-")
            and len(token) > 1
            and ":" not in token
            and not _NUMBER.match(token)
        ):
            q.excludes.append(token[1:])
            continue
        key, sep, value = token.partition(":")
        key = key.lower()
        if sep and value and _apply_filter(q, key, value):
            continue
        q.words.append(token)
    if f.after and f.before and f.after >= f.before:
        pass  # an empty range is what was asked for; it simply matches nothing
    return q


def _apply_filter(q: Query, key: str, value: str) -> bool:
    f = q.filters
    if key == "type":
        kinds = [TYPE_ALIASES.get(v.lower()) for v in value.split(",")]
        if not all(kinds):
            return False
        for k in kinds:
            f.kinds.update(k or ())
        return True
    if key == "in":
        if "/" in value or value.startswith("~") or "\\" in value:
            f.folders.append(str(Path(value).expanduser().resolve()))
        else:
            f.folder_names.append(value.lower())
        return True
    if key in ("after", "before", "year"):
        period = _period(value)
        if period is None:
            return False
        start, end = period
        if key == "after":
            f.after = max(f.after or "", start.isoformat())
        elif key == "before":
            f.before = min(f.before or "9999", start.isoformat())
        else:
            f.after = max(f.after or "", start.isoformat())
            f.before = min(f.before or "9999", end.isoformat())
        return True
    if key == "camera":
        f.cameras.append(value.lower())
        return True
    if key == "lens":
        f.lenses.append(value.lower())
        return True
    if key == "ext":
        f.exts.update("." + v.lower().lstrip(".") for v in value.split(",") if v)
        return True
    if key == "sort" and value.lower() in ("date", "relevance"):
        q.sort = value.lower()
        return True
    return False


def describe(q: Query) -> str:
    """A short human description, for "No good matches for ..." messages."""
    parts = [*q.words, *(f'"{p}"' for p in q.phrases), *(f"-{x}" for x in q.excludes)]
    return shlex.join(parts) if parts else q.raw.strip()
