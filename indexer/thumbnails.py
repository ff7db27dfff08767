"""Thumbnails and previews of indexed files, cached on disk under the data folder.

Qt-free, so the window, the tray and anything else can share it. A thumbnail is a small JPEG
(photos, PDF pages) or PNG (a text card for documents) whose longer side is ``size`` pixels,
stored under ``<home>/cache/thumbnails`` keyed by the file's path, modification time, size, page
and the thumbnail size, so a changed file gets a fresh thumbnail and an unchanged one is decoded
once. Nothing is ever written next to the user's files.

A file that cannot be read (damaged, encrypted, vanished, a format Pillow does not know) yields
``None`` and a small failure marker in the cache, so it is not decoded again: never an exception.

Example:
    >>> p = thumbnail("/photos/cat.jpg", size=256, cache=Path("/tmp/thumbs"))  # doctest: +SKIP
    >>> p.suffix  # doctest: +SKIP
    '.jpg'
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .extract import (
    _PDFIUM_LOCK,
    DOCUMENT_EXTS,
    PDF_EXTS,
    TEXT_EXTS,
    VIDEO_EXTS,
    decode_image,
    read_text,
)
from .extract.video import frame_at

log = logging.getLogger(__name__)

#: Bump when the rendering changes, so old cache entries are not reused.
VERSION = 3
TEXT_CARD_CHARS = 700


def cache_dir(home: Path) -> Path:
    """Where thumbnails live inside the data folder ``home``."""
    return Path(home) / "cache" / "thumbnails"


def cache_key(
    path: str | Path, page: int | None, size: int, time_s: float | None = None
) -> str | None:
    """A key that changes whenever the file does; None when the file cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    at = page if time_s is None else f"t{time_s:.3f}"
    raw = f"{VERSION}\0{Path(path).absolute()}\0{st.st_mtime_ns}\0{st.st_size}\0{at}\0{size}"
    return hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()


def thumbnail(
    path: str | Path,
    *,
    page: int | None = None,
    size: int = 256,
    cache: Path | None = None,
    time_s: float | None = None,
) -> Path | None:
    """The path of a cached thumbnail of ``path`` (its ``page`` for PDFs, the frame at
    ``time_s`` for videos), made if needed.

    Returns None for a file that cannot be shown. Without ``cache`` nothing is written and the
    result is always None; use :func:`render` for an in-memory image.
    """
    if cache is None:
        return None
    key = cache_key(path, page, size, time_s)
    if key is None:
        return None
    folder = Path(cache) / key[:2]
    for suffix in (".jpg", ".png"):
        hit = folder / (key + suffix)
        if hit.is_file():
            return hit
    failed = folder / (key + ".fail")
    if failed.exists():
        return None
    img = render(path, page=page, size=size, time_s=time_s)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if img is None:
            failed.touch()
            return None
        is_card = img.info.get("scry_card") is not None
        target = folder / (key + (".png" if is_card else ".jpg"))
        _atomic_save(img, target, "PNG" if is_card else "JPEG")
        return target
    except OSError as exc:  # a full or read-only cache: show nothing rather than fail
        log.warning("Cannot write thumbnail cache %s: %s", folder, exc)
        return None


def render(
    path: str | Path, *, page: int | None = None, size: int = 256, time_s: float | None = None
) -> Image.Image | None:
    """An RGB image of ``path`` whose longer side is at most ``size``; None when unreadable.

    Videos show the frame at ``time_s`` (a third of the way in when not given).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix in VIDEO_EXTS:
            img = frame_at(p, time_s if time_s is not None else _a_third_in(p), size)
        elif suffix in PDF_EXTS or page is not None:
            img = _render_pdf_page(p, page or 1, size)
        elif suffix in TEXT_EXTS:
            img = _text_card(read_text(p)[:TEXT_CARD_CHARS], size)
        elif suffix in DOCUMENT_EXTS:
            img = _text_card(document_text(p)[:TEXT_CARD_CHARS], size)
        else:
            img, _meta = decode_image(p, side=max(16, size))
            img.thumbnail((size, size), Image.Resampling.LANCZOS)
        return img
    except Exception as exc:  # every failure mode of every decoder: the caller shows a placeholder
        log.debug("No thumbnail for %s: %s", p, exc)
        return None


def _a_third_in(path: Path) -> float:
    from .extract.video import mp4_meta

    try:
        return float(mp4_meta(path).get("duration_s") or 3.0) / 3
    except Exception:
        return 1.0


def page_text(path: str | Path, page: int) -> str | None:
    """The text of one PDF page (1-based), for previews; None when it cannot be read."""
    try:
        import pypdfium2 as pdfium

        with _PDFIUM_LOCK:
            doc = pdfium.PdfDocument(str(path))
            try:
                pg = doc[page - 1]
                try:
                    tp = pg.get_textpage()
                    text = tp.get_text_bounded()
                    tp.close()
                finally:
                    pg.close()
            finally:
                doc.close()
        return text.replace("\r\n", "\n")
    except Exception as exc:
        log.debug("No text for page %s of %s: %s", page, path, exc)
        return None


def document_text(path: str | Path) -> str:
    """The text of an office document, e-book or web page (what the index read from it)."""
    from .extract import extract

    ex = extract(path, sandbox=False)
    text = getattr(ex, "text", None)  # the whole text; passages' character ranges point into it
    return text if isinstance(text, str) else "\n\n".join(it.text for it in ex.items)


# ---------------------------------------------------------------------------- pieces


def _render_pdf_page(path: Path, page: int, size: int) -> Image.Image:
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        doc = pdfium.PdfDocument(str(path))
        try:
            pg = doc[max(0, page - 1)]
            try:
                w, h = pg.get_size()
                scale = max(0.05, min(8.0, size / max(1.0, w, h)))
                img = pg.render(scale=scale).to_pil().convert("RGB")
            finally:
                pg.close()
        finally:
            doc.close()
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return img


def _font(px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSans.ttf", "Arial.ttf", "Helvetica.ttc"):
        try:
            return ImageFont.truetype(name, px)
        except OSError:
            continue
    return ImageFont.load_default(size=px)


def _text_card(text: str, size: int) -> Image.Image:
    """A page-like card showing the first lines of a document."""
    w, h = round(size * 0.75), size
    img = Image.new("RGB", (w, h), (252, 252, 250))
    draw = ImageDraw.Draw(img)
    px = max(6, size // 18)
    font = _font(px)
    margin = max(4, size // 14)
    chars_per_line = max(8, int((w - 2 * margin) / (px * 0.55)))
    y = round(size * 0.15)  # room for the type badge the grid paints over the top corner
    for para in text.replace("\t", "    ").splitlines() or [""]:
        for line in textwrap.wrap(para, chars_per_line) or [""]:
            if y + px > h - margin:
                break
            draw.text((margin, y), line, fill=(60, 60, 64), font=font)
            y += round(px * 1.35)
    draw.rectangle((0, 0, w - 1, h - 1), outline=(210, 210, 214))
    img.info["scry_card"] = "text"
    return img


def _atomic_save(img: Image.Image, target: Path, fmt: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=target.stem[:8] + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if fmt == "JPEG":
                img.save(fh, fmt, quality=86, optimize=True)
            else:
                img.save(fh, fmt, optimize=True)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
