"""What every extractor returns, the limits they share, and the passage splitter fallback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..errors import ExtractionError

#: Images whose header declares more pixels than this are refused (decompression bombs).
MAX_PIXELS = 180_000_000
#: Decode so the shorter side is at least this when the model's input size is not known.
DECODE_SIDE = 448
MAX_TEXT_BYTES = 20 * 1024 * 1024
#: Pages read from one PDF or multi-page TIFF, unless settings say otherwise.
PAGE_CAP = 200
#: Frames sampled from one video at most.
FRAME_CAP = 16
#: Frames of the whole-video input given to models that read video (settings: ``max_frames``).
MAX_FRAMES = 32
#: Seconds one file may take to read before it is given up (settings: ``file_timeout_s``).
FILE_TIMEOUT_S = 120.0

Image.MAX_IMAGE_PIXELS = MAX_PIXELS

NOT_MEDIA = "not a photo, video or document"


class SkipFile(ExtractionError):
    """The file is fine but not something scry indexes (recorded as ``skipped``)."""


@dataclass
class ExtractedItem:
    """One searchable unit with what the model should see (``image`` and/or ``text``)."""

    kind: str  # image | page | passage | frame | video
    page: int | None = None
    char_start: int | None = None
    char_end: int | None = None
    time_s: float | None = None
    text: str = ""
    image: Image.Image | None = None
    #: a whole video for models that read video: ``{"array": [frames], "video_metadata": {...}}``
    video: dict[str, Any] | None = None

    @property
    def locator(self) -> dict[str, Any]:
        return locator(self.page, self.char_start, self.char_end, self.time_s)

    def model_inputs(self, modalities: tuple[str, ...], combined: bool) -> dict[str, Any]:
        """What the model reads of this item, keyed by the vector index it goes to.

        A page with both a rendering and text is one ``combined`` (text, image) input when the
        model reads them together (a VLM embedder); otherwise it gets an image and a text vector.
        A whole video (models that read video) goes to the ``video`` index.
        """
        if self.video is not None:
            return {"video": self.video} if "video" in modalities else {}
        text = self.text if self.text.strip() else None
        if combined and self.image is not None and text is not None:
            return {"combined": (text, self.image)}
        out: dict[str, Any] = {}
        if "image" in modalities and self.image is not None:
            out["image"] = self.image
        if "text" in modalities and text is not None:
            out["text"] = text
        return out


def locator(
    page: int | None, start: int | None, end: int | None, time_s: float | None
) -> dict[str, Any]:
    """Where in its file an item is: ``{"page": n}``, ``{"start": a, "end": b}``, ``{"time": s}``."""
    loc: dict[str, Any] = {}
    if page is not None:
        loc["page"] = page
    if start is not None:
        loc["start"] = start
        loc["end"] = end
    if time_s is not None:
        loc["time"] = round(time_s, 3)
    return loc


@dataclass
class Extracted:
    """A file's items and metadata.

    ``kind`` is the file's kind (image, pdf, text, document, video). ``note`` says what could not
    be read although the file was indexed (pages over the cap, a video read by name only); it is
    shown in status. ``text`` holds a document's whole text until it is split into passages.
    """

    kind: str
    items: list[ExtractedItem]
    meta: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Options:
    """How to read a file: the image side the model needs, page and frame caps, and what the
    model reads (``modalities``: with ``"video"`` a video also yields one whole-video item of at
    most ``max_frames`` frames, ``video_fps`` frames a second when set)."""

    side: int = DECODE_SIDE
    page_cap: int = PAGE_CAP
    frame_cap: int = FRAME_CAP
    modalities: tuple[str, ...] = ()
    max_frames: int = MAX_FRAMES
    video_fps: float | None = None


Splitter = Callable[[str], list[tuple[int, int]]]


def split_by_chars(text: str, size: int = 1000) -> list[tuple[int, int]]:
    """Passages of about ``size`` characters, cut at whitespace: for when no tokenizer is loaded."""
    ranges = []
    start = 0
    n = len(text)
    while start < n:
        end = min(n, start + size)
        if end < n:
            cut = text.rfind(" ", start, end)
            if cut > start + size // 2:
                end = cut
        if text[start:end].strip():
            ranges.append((start, end))
        start = end
    return ranges


def passages(text: str, splitter: Splitter | None) -> list[ExtractedItem]:
    ranges = (splitter or split_by_chars)(text)
    return [ExtractedItem("passage", char_start=a, char_end=b, text=text[a:b]) for a, b in ranges]
