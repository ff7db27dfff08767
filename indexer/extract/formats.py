"""Which reader handles a file: a registry of formats, found by content first, then by extension.

Strong signatures (four or more bytes: ``%PDF-``, JPEG, PNG, ``ftyp`` boxes, Matroska ...) win over
the extension, so a JPEG saved as ``.png`` or a PDF named ``scan.jpg`` is read for what it is.
Weak ones (``BM``, the ICO header) only count when the extension says nothing. Text has no
signature: it is recognised by extension, or, for files with no extension at all (``README``),
by being valid UTF-8 without control characters.
"""

from __future__ import annotations

import importlib
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .base import Extracted, Options


@dataclass(frozen=True)
class Format:
    """A family of files read by one function.

    ``kind`` is the file kind stored in the catalog (image, pdf, text, document, video).
    ``isolated`` readers run in a separate process (native decoders: a crash or a hang there
    fails one file, not the run); the others are pure Python and run in a decode thread.
    """

    name: str
    kind: str
    handler: str  # "module:function": a module of this package, or a dotted absolute one
    isolated: bool = True

    def function(self) -> Callable[[Path, Options], Extracted]:
        return handler_function(self.handler)


def handler_function(spec: str) -> Callable[[Path, Options], Extracted]:
    """The reader named by ``spec`` ("images:extract_image", "pkg.mod:func")."""
    module, func = spec.split(":")
    name = module if "." in module else f"{__package__}.{module}"
    return getattr(importlib.import_module(name), func)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("image", "image", "images:extract_image"),
        Format("raw", "image", "raw:extract_raw"),
        Format("pdf", "pdf", "pdf:extract_pdf"),
        Format("video", "video", "video:extract_video"),
        Format("docx", "document", "documents:extract_docx"),
        Format("pptx", "document", "documents:extract_pptx"),
        Format("odf", "document", "documents:extract_odf"),
        Format("epub", "document", "documents:extract_epub"),
        Format("html", "document", "documents:extract_html", isolated=False),
        Format("text", "text", "documents:extract_text", isolated=False),
    )
}

IMAGE_EXTS = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".jfif",
    ".png",
    ".apng",
    ".webp",
    ".gif",
    ".bmp",
    ".dib",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".hif",
    ".avif",
    ".mpo",
    ".psd",
    ".ico",
    ".jp2",
    ".j2k",
    ".tga",
    ".pcx",
    ".ppm",
    ".pgm",
    ".pbm",
    ".pnm",
    ".qoi",
}
#: Camera RAW files, read by their embedded preview (rawpy / LibRaw).
RAW_EXTS = {
    ".cr2",
    ".cr3",
    ".crw",
    ".nef",
    ".nrw",
    ".arw",
    ".srf",
    ".sr2",
    ".dng",
    ".raf",
    ".orf",
    ".rw2",
    ".pef",
    ".srw",
    ".x3f",
    ".3fr",
    ".iiq",
    ".erf",
    ".mef",
    ".mos",
    ".mrw",
    ".kdc",
    ".dcr",
    ".rwl",
}
VIDEO_EXTS = {
    ".mp4",
    ".m4v",
    ".mov",
    ".qt",
    ".mkv",
    ".webm",
    ".avi",
    ".wmv",
    ".asf",
    ".flv",
    ".mpg",
    ".mpeg",
    ".m2ts",
    ".mts",
    ".ts",
    ".3gp",
    ".3g2",
    ".ogv",
}
PDF_EXTS = {".pdf"}
#: Plain text, read as it is (thumbnails show these as a text card).
TEXT_EXTS = {".txt", ".md", ".markdown", ".rst", ".text", ".org", ".adoc", ".asciidoc", ".tex"}
HTML_EXTS = {".html", ".htm", ".xhtml"}
#: Office and e-book documents, read for their text.
DOCUMENT_EXTS = {".docx", ".docm", ".pptx", ".odt", ".ods", ".odp", ".epub", *HTML_EXTS}

_BY_EXT: dict[str, str] = {
    **dict.fromkeys(IMAGE_EXTS, "image"),
    **dict.fromkeys(RAW_EXTS, "raw"),
    **dict.fromkeys(VIDEO_EXTS, "video"),
    **dict.fromkeys(PDF_EXTS, "pdf"),
    **dict.fromkeys(TEXT_EXTS, "text"),
    **dict.fromkeys(HTML_EXTS, "html"),
    ".docx": "docx",
    ".docm": "docx",
    ".pptx": "pptx",
    ".odt": "odf",
    ".ods": "odf",
    ".odp": "odf",
    ".epub": "epub",
}

HEAD_BYTES = 512

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}


def by_extension(path: str | Path) -> Format | None:
    """The format an extension promises, or None."""
    name = _BY_EXT.get(os.path.splitext(str(path))[1].lower())
    return FORMATS[name] if name else None


def read_head(path: str | Path, n: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def detect(path: str | Path, head: bytes | None = None) -> Format | None:
    """The format of ``path`` by its first bytes, then its extension; None for anything else."""
    if head is None:
        head = read_head(path)
    ext = os.path.splitext(str(path))[1].lower()
    by_ext = _BY_EXT.get(ext)
    name = _strong(head, ext, path)
    if name == "":  # a container scry does not read (audio, archive)
        return None
    if name is None:
        name = by_ext or _weak(head, ext)
    return FORMATS[name] if name else None


def _strong(head: bytes, ext: str, path: str | Path) -> str | None:
    """A format name from an unambiguous signature; "" for known non-media; None when unknown."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"8BPS")):
        return "image"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "raw" if ext in RAW_EXTS else "image"
    if head.startswith((b"IIRO", b"IIRS", b"MMOR", b"IIU\x00", b"FUJIFILMCCD-RAW", b"FOVb")):
        return "raw"
    if head[6:14] == b"HEAPCCDR":
        return "raw"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51", b"qoif")):
        return "image"
    if head[:4] == b"RIFF":
        return {b"WEBP": "image", b"AVI ": "video"}.get(head[8:12], "")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS or brand in _AVIF_BRANDS:
            return "image"
        if brand == b"crx ":
            return "raw"
        return "" if brand in _AUDIO_BRANDS else "video"
    if head.startswith(
        (b"\x1a\x45\xdf\xa3", b"FLV\x01", b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", b"\x00\x00\x01\xba")
    ):
        return "video"
    if head.startswith(b"OggS"):
        return "video" if ext == ".ogv" else ""
    if head.startswith((b"ID3", b"fLaC")):
        return ""
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(head, ext, path)
    return None


def _weak(head: bytes, ext: str) -> str | None:
    """Signatures too short to trust over an extension; and text for files with no extension."""
    if head[:2] == b"BM" and len(head) > 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "image"
    if head[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00") and len(head) > 6 and head[4]:
        return "image"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return "video"  # MPEG transport stream
    if not ext and head and _looks_like_text(head):
        return "text"
    return None


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end is fine
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    return all(c.isprintable() or c in "\n\r\t\f" for c in text)


def _zip_kind(head: bytes, ext: str, path: str | Path) -> str:
    """OpenDocument and EPUB say what they are in a stored ``mimetype`` entry; OOXML by names."""
    if ext in _BY_EXT and _BY_EXT[ext] in {"docx", "pptx", "odf", "epub"}:
        return _BY_EXT[ext]
    if head[30:38] == b"mimetype":
        if b"application/vnd.oasis.opendocument." in head[38:120]:
            return "odf"
        if b"application/epub+zip" in head[38:80]:
            return "epub"
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return ""
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    return ""
