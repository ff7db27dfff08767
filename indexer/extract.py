"""Turning a file into items: an image, the pages of a PDF, the passages of a text.

A registry maps extensions to extractor functions; files without a known extension are sniffed
by their first bytes. Every extractor either returns an :class:`Extracted` or raises
:class:`ExtractionError` with a reason a person can read; nothing here writes to the file.

Images are decoded close to the size the model needs: JPEGs through ``Image.draft`` (DCT
scaling), everything else by a high-quality reduction once decoded, always with EXIF orientation
applied first, so the model sees what the person sees.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ExtractionError

log = logging.getLogger(__name__)

#: Images whose header declares more pixels than this are refused (decompression bombs).
MAX_PIXELS = 180_000_000
#: Decode so the shorter side is at least this; larger images are reduced to about it.
DECODE_SIDE = 448
MAX_TEXT_BYTES = 20 * 1024 * 1024
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# Pillow warns about oddities in damaged files (TIFF tags, EXIF); the file's reason says enough.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

try:  # HEIC/HEIF/AVIF through libheif, when installed
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - optional at runtime
    pass

# PDFium is not thread-safe: every call into pypdfium2 happens under this lock.
_PDFIUM_LOCK = threading.Lock()


@dataclass
class ExtractedItem:
    """One searchable unit with what the model should see (``image`` and/or ``text``)."""

    kind: str  # image | page | passage | frame
    page: int | None = None
    char_start: int | None = None
    char_end: int | None = None
    time_s: float | None = None
    text: str = ""
    image: Image.Image | None = None

    @property
    def locator(self) -> dict[str, Any]:
        return locator(self.page, self.char_start, self.char_end, self.time_s)


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
    kind: str  # image | pdf | text
    items: list[ExtractedItem]
    meta: dict[str, Any] = field(default_factory=dict)


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


# ---------------------------------------------------------------------------- images


def decode_image(path: str | Path, side: int = DECODE_SIDE) -> tuple[Image.Image, dict[str, Any]]:
    """Open an image, apply EXIF orientation, convert to RGB, reduce to about ``side`` px.

    Returns the image and its metadata (original size, format, EXIF basics).
    """
    try:
        src = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ExtractionError(f"image too large to decode safely ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ExtractionError("not a readable image (unknown or damaged format)") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot open image: {exc}") from exc
    with src:
        try:
            width, height = src.size
            if width * height > MAX_PIXELS:
                raise ExtractionError(f"image too large to decode safely ({width}x{height} pixels)")
            meta: dict[str, Any] = {"width": width, "height": height, "format": src.format}
            meta.update(_exif_basics(src))
            if src.format == "JPEG":
                src.draft("RGB", (side, side))
            src.load()
            img = _to_rgb(ImageOps.exif_transpose(src))
            short = min(img.size)
            if short > 2 * side:
                scale = side * 2 / short
                img = img.resize(
                    (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                    Image.Resampling.LANCZOS,
                    reducing_gap=3.0,
                )
            elif img is src:
                img = src.copy()  # detach from the file, which closes now
            return img, meta
        except ExtractionError:
            raise
        except Image.DecompressionBombError as exc:
            raise ExtractionError(f"image too large to decode safely ({exc})") from exc
        except (OSError, ValueError, SyntaxError, EOFError, ZeroDivisionError, TypeError) as exc:
            raise ExtractionError(f"damaged image: {exc}") from exc


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit greyscale: scale to 8 bits instead of clipping to white.
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        hi = float(arr.max()) or 1.0
        return Image.fromarray((arr * (255.0 / hi)).astype("uint8"), "L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    return img.convert("RGB")


_EXIF_TAGS = {0x010F: "camera_make", 0x0110: "camera_model"}
_EXIF_DATE_TAGS = (0x9003, 0x9004, 0x0132)  # DateTimeOriginal, DateTimeDigitized, DateTime


def _exif_basics(img: Image.Image) -> dict[str, Any]:
    """Capture date, camera make and model; broken EXIF yields nothing, never an error."""
    out: dict[str, Any] = {}
    try:
        exif = img.getexif()
        for tag, key in _EXIF_TAGS.items():
            val = exif.get(tag)
            if isinstance(val, str) and val.strip("\x00 "):
                out[key] = val.strip("\x00 ")
        sub = exif.get_ifd(0x8769)
        for tag in _EXIF_DATE_TAGS:
            val = sub.get(tag) or exif.get(tag)
            if isinstance(val, str) and len(val) >= 10 and val[:4].isdigit():
                out["taken"] = val[:10].replace(":", "-") + val[10:19].replace(" ", "T", 1)
                break
    except Exception as exc:
        log.debug("Ignoring damaged EXIF in %s: %s", getattr(img, "filename", "?"), exc)
    return out


def extract_image(path: Path, splitter: Splitter | None = None) -> Extracted:
    img, meta = decode_image(path)
    return Extracted("image", [ExtractedItem("image", image=img)], meta)


# ---------------------------------------------------------------------------- PDF


def extract_pdf(
    path: Path, splitter: Splitter | None = None, *, page_cap: int = 200, side: int = DECODE_SIDE
) -> Extracted:
    """One item per page: its text, and the page rendered so its shorter side is about ``side``."""
    import pypdfium2 as pdfium

    items: list[ExtractedItem] = []
    with _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            msg = str(exc)
            if "password" in msg.lower():
                raise ExtractionError("encrypted: the PDF needs a password") from exc
            raise ExtractionError(f"damaged PDF: {msg}") from exc
        try:
            n = len(doc)
            meta: dict[str, Any] = {"pages": n}
            try:
                info = doc.get_metadata_dict(skip_empty=True)
                for key in ("Title", "Author", "Subject", "Keywords"):
                    val = info.get(key)
                    if isinstance(val, str) and val.strip("\x00 "):
                        meta[key.lower()] = val.strip("\x00 ")[:500]
            except Exception as exc:
                log.debug("Unreadable PDF metadata in %s: %s", path, exc)
            if n > page_cap:
                meta["pages_indexed"] = page_cap
            for i in range(min(n, page_cap)):
                try:
                    page = doc[i]
                    try:
                        textpage = page.get_textpage()
                        text = textpage.get_text_bounded().replace("\r\n", "\n").strip()
                        textpage.close()
                        w, h = page.get_size()
                        scale = max(0.1, min(4.0, side / max(1.0, min(w, h))))
                        image = page.render(scale=scale).to_pil().convert("RGB")
                    finally:
                        page.close()
                except pdfium.PdfiumError as exc:
                    log.info("Skipping unreadable page %d of %s: %s", i + 1, path, exc)
                    continue
                items.append(ExtractedItem("page", page=i + 1, text=text, image=image))
        finally:
            doc.close()
    if not items and n:
        raise ExtractionError("no page of this PDF could be read")
    return Extracted("pdf", items, meta)


# ---------------------------------------------------------------------------- text


def read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise ExtractionError(f"text file too large ({size // (1024 * 1024)} MiB; limit 20 MiB)")
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError("binary data, not text")
    for enc in (
        ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",)
    ):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


def extract_text(path: Path, splitter: Splitter | None = None) -> Extracted:
    try:
        text = read_text(path)
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    ranges = (splitter or split_by_chars)(text)
    items = [ExtractedItem("passage", char_start=a, char_end=b, text=text[a:b]) for a, b in ranges]
    return Extracted("text", items, {"chars": len(text)})


# ---------------------------------------------------------------------------- registry

Extractor = Callable[..., Extracted]

IMAGE_EXTS = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".png",
    ".webp",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".avif",
    ".mpo",
    ".psd",
    ".ico",
}
TEXT_EXTS = {".txt", ".md", ".markdown", ".rst", ".text", ".org"}
PDF_EXTS = {".pdf"}

REGISTRY: dict[str, Extractor] = {
    **{e: extract_image for e in IMAGE_EXTS},
    **{e: extract_text for e in TEXT_EXTS},
    **{e: extract_pdf for e in PDF_EXTS},
}

_MAGIC: list[tuple[bytes, Extractor]] = [
    (b"%PDF-", extract_pdf),
    (b"\xff\xd8\xff", extract_image),
    (b"\x89PNG\r\n\x1a\n", extract_image),
    (b"GIF8", extract_image),
    (b"BM", extract_image),
    (b"II*\x00", extract_image),
    (b"MM\x00*", extract_image),
]


def extractor_for(path: str | Path) -> Extractor | None:
    """The extractor for a file, by extension; None when scry does not handle it."""
    return REGISTRY.get(Path(path).suffix.lower())


def sniff(path: Path) -> Extractor | None:
    """Find an extractor by content when the extension does not say (or lies)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    for magic, fn in _MAGIC:
        if head.startswith(magic):
            return fn
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return extract_image
    return None


def extract(path: str | Path, splitter: Splitter | None = None, **options: Any) -> Extracted:
    """Extract items from ``path``; raises :class:`ExtractionError` with a reason on failure."""
    p = Path(path)
    fn = extractor_for(p)
    if fn is None:
        fn = sniff(p)
    if fn is None:
        raise ExtractionError("not a supported file type")
    kwargs = {k: v for k, v in options.items() if k == "page_cap" and fn is extract_pdf}
    try:
        result = fn(p, splitter, **kwargs)
    except ExtractionError:
        raise
    except MemoryError as exc:
        raise ExtractionError("out of memory while reading this file") from exc
    except FileNotFoundError as exc:
        raise ExtractionError("file vanished while being read") from exc
    except PermissionError as exc:
        raise ExtractionError("permission denied") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc}") from exc
    return result
