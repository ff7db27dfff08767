"""PDFs through pypdfium2: one item per page, with its text and the page rendered as an image.

The text serves full-text search (and a text vector when the model reads text); the rendering
serves the image vector, which is what finds slides, scans and screenshots. Encrypted PDFs are
recorded as such; pages past the cap are left out and the file says so.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import Any

from .base import Extracted, ExtractedItem, ExtractionError, Options

log = logging.getLogger(__name__)

# PDFium is not thread-safe: every call into pypdfium2 in one process happens under this lock.
_PDFIUM_LOCK = threading.Lock()
_MAX_RENDER_PIXELS = 16_000_000


def extract_pdf(path: Path, opts: Options) -> Extracted:
    """One item per page: its text, and the page rendered so its shorter side is ``opts.side``."""
    import pypdfium2 as pdfium

    items: list[ExtractedItem] = []
    bad_pages = 0
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
            meta: dict[str, Any] = {"format": "PDF", "pages": n}
            meta.update(_info(doc, path))
            for i in range(min(n, opts.page_cap)):
                try:
                    items.append(_page(doc, i, opts.side))
                except pdfium.PdfiumError as exc:
                    log.info("Skipping unreadable page %d of %s: %s", i + 1, path, exc)
                    bad_pages += 1
        finally:
            doc.close()
    if not items and n:
        raise ExtractionError("damaged PDF: no page could be read")
    note = None
    if n > opts.page_cap:
        meta["pages_indexed"] = opts.page_cap
        note = f"only the first {opts.page_cap} of {n} pages are indexed (page cap)"
    elif bad_pages:
        note = f"{bad_pages} damaged page(s) left out"
    return Extracted("pdf", items, meta, note=note)


def _page(doc: Any, i: int, side: int) -> ExtractedItem:
    page = doc[i]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_bounded().replace("\r\n", "\n").strip()
        finally:
            textpage.close()
        w, h = page.get_size()
        scale = max(0.05, min(100.0, side / max(1.0, min(w, h))))
        scale = min(scale, math.sqrt(_MAX_RENDER_PIXELS / max(1.0, w * h)))  # long thin pages
        image = page.render(scale=scale).to_pil().convert("RGB")
    finally:
        page.close()
    return ExtractedItem("page", page=i + 1, text=text, image=image)


def _info(doc: Any, path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        info = doc.get_metadata_dict(skip_empty=True)
    except Exception as exc:  # metadata that cannot be parsed never fails the file
        log.debug("Unreadable PDF metadata in %s: %s", path, exc)
        return out
    for key in ("Title", "Author", "Subject", "Keywords"):
        val = info.get(key)
        if isinstance(val, str) and val.strip("\x00 "):
            out[key.lower()] = val.strip("\x00 ")[:500]
    return out
