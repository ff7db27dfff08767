"""Documents read for their text: plain text, HTML, Word (.docx), PowerPoint (.pptx),
OpenDocument (.odt/.ods/.odp) and EPUB.

Each returns the whole text (and title/author where the file says); the caller splits it into
passages that fit the model, each an item with its character range. Office files are zip
archives: their declared sizes are checked before anything is inflated (zip bombs).
"""

from __future__ import annotations

import logging
import posixpath
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .base import MAX_TEXT_BYTES, Extracted, ExtractionError, Options

log = logging.getLogger(__name__)

#: Inflated size of an office file's parts we accept (a zip bomb declares far more).
MAX_UNZIPPED = 256 * 1024 * 1024
MAX_RATIO = 200
MAX_CHARS = 10_000_000


# ---------------------------------------------------------------------------- plain text


def read_text(path: Path) -> str:
    """A text file's content: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252."""
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise ExtractionError(f"text file too large ({size // (1024 * 1024)} MiB; limit 20 MiB)")
    data = path.read_bytes()
    return decode_text(data)


def decode_text(data: bytes) -> str:
    bom16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if b"\x00" in data[:4096] and not bom16:
        raise ExtractionError("binary data, not text")
    for enc in ("utf-8-sig", "utf-16") if bom16 else ("utf-8-sig",):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


def extract_text(path: Path, opts: Options) -> Extracted:
    text = read_text(path)
    return Extracted("text", [], {"chars": len(text)}, text=text)


# ---------------------------------------------------------------------------- HTML


class _HTMLText(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data)


def html_text(markup: str) -> tuple[str, str]:
    """(title, text) of an HTML page; scripts and styles left out, blocks on their own lines."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return _tidy(" ".join(parser.title)), _tidy("".join(parser.parts))


def extract_html(path: Path, opts: Options) -> Extracted:
    title, text = html_text(read_text(path))
    return _document(text, {"format": "HTML", "title": title})


# ---------------------------------------------------------------------------- office files


def _open_zip(path: Path, what: str) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ExtractionError(f"damaged {what} file: {exc}") from exc
    total = sum(i.file_size for i in zf.infolist())
    packed = sum(i.compress_size for i in zf.infolist()) or 1
    if total > MAX_UNZIPPED or (total / packed > MAX_RATIO and total > 16 * 1024 * 1024):
        zf.close()
        raise ExtractionError(
            f"{what} file inflates to {total // (1024 * 1024)} MiB: too large to read safely"
        )
    if any(i.flag_bits & 0x1 for i in zf.infolist()):
        zf.close()
        raise ExtractionError(f"encrypted: the {what} file needs a password")
    return zf


def _office_error(what: str, exc: BaseException) -> ExtractionError:
    return ExtractionError(f"damaged {what} file: {type(exc).__name__}: {exc}"[:300])


def extract_docx(path: Path, opts: Options) -> Extracted:
    _open_zip(path, "Word").close()
    try:
        import docx
    except ImportError as exc:
        raise ExtractionError("Word files need the python-docx package") from exc
    try:
        doc = docx.Document(str(path))
        parts = [p.text for p in doc.paragraphs]
        for table in doc.tables:
            for row in table.rows:
                parts.append("\t".join(cell.text for cell in row.cells))
        props = doc.core_properties
        meta = {
            "format": "DOCX",
            "title": props.title,
            "author": props.author,
            "subject": props.subject,
            "keywords": props.keywords,
        }
    except ExtractionError:
        raise
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors ...
        raise _office_error("Word", exc) from exc
    return _document("\n".join(parts), meta)


def extract_pptx(path: Path, opts: Options) -> Extracted:
    _open_zip(path, "PowerPoint").close()
    try:
        import pptx
    except ImportError as exc:
        raise ExtractionError("PowerPoint files need the python-pptx package") from exc
    try:
        deck = pptx.Presentation(str(path))
        slides = []
        for slide in deck.slides:
            lines = [
                shape.text_frame.text
                for shape in slide.shapes
                if getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip()
            ]
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                lines.append(slide.notes_slide.notes_text_frame.text)
            slides.append("\n".join(lines))
        props = deck.core_properties
        meta = {
            "format": "PPTX",
            "slides": len(slides),
            "title": props.title,
            "author": props.author,
            "subject": props.subject,
            "keywords": props.keywords,
        }
    except Exception as exc:
        raise _office_error("PowerPoint", exc) from exc
    return _document("\n\n".join(slides), meta)


def extract_odf(path: Path, opts: Options) -> Extracted:
    """OpenDocument text, spreadsheet or presentation: every paragraph and heading, in order."""
    _open_zip(path, "OpenDocument").close()
    try:
        from odf import teletype
        from odf.namespaces import DCNS, METANS, TEXTNS
        from odf.opendocument import load
    except ImportError as exc:
        raise ExtractionError("OpenDocument files need the odfpy package") from exc
    try:
        doc = load(str(path))
        parts: list[str] = []
        stack = [doc.body]
        while stack:
            node = stack.pop()
            if node.qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                parts.append(teletype.extractText(node))
                continue
            stack.extend(reversed(getattr(node, "childNodes", [])))
        meta: dict[str, Any] = {"format": "ODF"}
        for ns, name, key in (
            (DCNS, "title", "title"),
            (DCNS, "creator", "author"),
            (DCNS, "subject", "subject"),
            (METANS, "keyword", "keywords"),
        ):
            for el in doc.meta.getElementsByType(_odf_class(ns, name)):
                meta[key] = teletype.extractText(el)
    except Exception as exc:
        raise _office_error("OpenDocument", exc) from exc
    return _document("\n".join(parts), meta)


def _odf_class(ns: str, name: str) -> Any:
    from odf.element import Element

    class _Typed(Element):
        qname = (ns, name)

    return _Typed


def extract_epub(path: Path, opts: Options) -> Extracted:
    """An EPUB's chapters in reading order (its spine), as text."""
    zf = _open_zip(path, "EPUB")
    with zf:
        try:
            container = ElementTree.fromstring(zf.read("META-INF/container.xml"))
            rootfile = next(e for e in container.iter() if e.tag.endswith("rootfile"))
            opf_path = rootfile.attrib["full-path"]
            opf = ElementTree.fromstring(zf.read(opf_path))
            manifest = {
                e.attrib.get("id"): e.attrib.get("href", "")
                for e in opf.iter()
                if e.tag.endswith("}item")
            }
            spine = [e.attrib.get("idref") for e in opf.iter() if e.tag.endswith("}itemref")]
            meta: dict[str, Any] = {"format": "EPUB"}
            for e in opf.iter():
                for suffix, key in (("}title", "title"), ("}creator", "author")):
                    if e.tag.endswith(suffix) and e.text and key not in meta:
                        meta[key] = e.text.strip()
            base = posixpath.dirname(opf_path)
            chapters = []
            for idref in spine:
                href = manifest.get(idref)
                if not href:
                    continue
                name = posixpath.normpath(posixpath.join(base, href.split("#")[0]))
                try:
                    markup = zf.read(name).decode("utf-8", errors="replace")
                except KeyError:
                    continue
                chapters.append(html_text(markup)[1])
        except (KeyError, StopIteration, ElementTree.ParseError, zipfile.BadZipFile) as exc:
            raise _office_error("EPUB", exc) from exc
    return _document("\n\n".join(chapters), meta)


# ---------------------------------------------------------------------------- helpers


def _document(text: str, meta: dict[str, Any]) -> Extracted:
    meta = {k: (v.strip()[:500] if isinstance(v, str) else v) for k, v in meta.items() if v}
    note = None
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        note = f"only the first {MAX_CHARS:,} characters are indexed"
    meta["chars"] = len(text)
    return Extracted("document", [], meta, note=note, text=text)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" ?\n ?", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
