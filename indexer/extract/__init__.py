"""Turning a file into items: an image, the pages of a PDF or TIFF, the passages of a document,
the frames of a video, with the file's metadata.

The registry in :mod:`.formats` says which reader handles a file, by its first bytes and then its
extension; files that are neither media nor documents are skipped with a reason. Readers of
native formats run in worker processes (:mod:`.sandbox`), so a decoder that crashes or hangs
fails one file; pure-Python readers (plain text, HTML) run in the calling thread. Every reader
either returns an :class:`Extracted` or raises :class:`ExtractionError` (:class:`SkipFile` for
"not something scry indexes") with a reason a person can read. Nothing here writes to a file.

Modules: ``images`` (Pillow, pillow-heif), ``exif``, ``raw`` (rawpy), ``pdf`` (pypdfium2),
``documents`` (text, HTML, docx, pptx, OpenDocument, EPUB), ``video`` (torchcodec).

Example:
    >>> ex = extract("/photos/cat.jpg", side=224)  # doctest: +SKIP
    >>> ex.kind, len(ex.items), ex.meta["width"]  # doctest: +SKIP
    ('image', 1, 4000)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ExtractionError
from .base import (
    DECODE_SIDE,
    FILE_TIMEOUT_S,
    FRAME_CAP,
    MAX_FRAMES,
    MAX_PIXELS,
    MAX_TEXT_BYTES,
    NOT_MEDIA,
    PAGE_CAP,
    Extracted,
    ExtractedItem,
    Options,
    SkipFile,
    Splitter,
    locator,
    passages,
    split_by_chars,
)
from .documents import read_text
from .formats import (
    DOCUMENT_EXTS,
    FORMATS,
    IMAGE_EXTS,
    PDF_EXTS,
    RAW_EXTS,
    TEXT_EXTS,
    VIDEO_EXTS,
    Format,
    by_extension,
    detect,
    handler_function,
    read_head,
)
from .images import decode_image
from .pdf import _PDFIUM_LOCK
from .sandbox import Sandbox, shared_sandbox

__all__ = [
    "DECODE_SIDE",
    "DOCUMENT_EXTS",
    "FILE_TIMEOUT_S",
    "FRAME_CAP",
    "IMAGE_EXTS",
    "MAX_FRAMES",
    "MAX_PIXELS",
    "MAX_TEXT_BYTES",
    "NOT_MEDIA",
    "PAGE_CAP",
    "PDF_EXTS",
    "RAW_EXTS",
    "TEXT_EXTS",
    "VIDEO_EXTS",
    "_PDFIUM_LOCK",
    "Extracted",
    "ExtractedItem",
    "ExtractionError",
    "Format",
    "Options",
    "Sandbox",
    "SkipFile",
    "Splitter",
    "decode_image",
    "detect",
    "extract",
    "extractor_for",
    "kind_of",
    "locator",
    "model_image_side",
    "read_text",
    "run_format",
    "run_handler",
    "shared_sandbox",
    "split_by_chars",
]


def extractor_for(path: str | Path) -> Format | None:
    """The format a file's extension promises; None when scry does not know the extension.

    Files with other extensions are still looked at: :func:`extract` reads their first bytes.
    """
    return by_extension(path)


def kind_of(path: str | Path) -> str:
    """The file kind for a path by extension alone (image, pdf, text, document, video, other)."""
    fmt = by_extension(path)
    return fmt.kind if fmt else "other"


def run_format(fmt: str | Format, path: str | Path, opts: Options) -> Extracted:
    """Run a format's reader here (no sandbox), mapping OS errors to reasons."""
    spec = fmt.handler if isinstance(fmt, Format) else FORMATS[fmt].handler
    return run_handler(spec, path, opts)


def run_handler(spec: str, path: str | Path, opts: Options) -> Extracted:
    """Run the reader named by ``spec`` here, mapping OS errors to reasons."""
    try:
        return handler_function(spec)(Path(path), opts)
    except ExtractionError:
        raise
    except MemoryError as exc:
        raise ExtractionError("out of memory while reading this file") from exc
    except FileNotFoundError as exc:
        raise ExtractionError("file vanished while being read") from exc
    except PermissionError as exc:
        raise ExtractionError("permission denied: scry may not read this file") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc


def extract(
    path: str | Path,
    splitter: Splitter | None = None,
    *,
    side: int = DECODE_SIDE,
    page_cap: int = PAGE_CAP,
    frame_cap: int = FRAME_CAP,
    timeout: float = FILE_TIMEOUT_S,
    sandbox: Sandbox | bool | None = True,
    modalities: tuple[str, ...] = (),
    max_frames: int = MAX_FRAMES,
    video_fps: float | None = None,
    **_ignored: Any,
) -> Extracted:
    """Extract items from ``path``; raises :class:`ExtractionError` with a reason on failure.

    Args:
        splitter: cuts a document's text into passages (the model's tokenizer when loaded).
        side: the model's image input size; images are decoded to between 1x and 2x of it.
        page_cap: pages read from a PDF or multi-page TIFF.
        frame_cap: frames sampled from a video at most.
        timeout: seconds a native reader may take before it is stopped.
        sandbox: ``True`` for the shared worker processes, a :class:`Sandbox`, or ``False``/None
            to run native readers in this thread (no crash isolation; tests and tools).
        modalities: what the model reads; with ``"video"`` a video also gives one whole-video
            item of at most ``max_frames`` frames (``video_fps`` a second when set).

    Raises:
        SkipFile: the file is empty, a broken link, or neither media nor a document.
        ExtractionError: the file cannot be read; ``reason`` says why.
    """
    p = Path(path)
    fmt = _identify(p)
    opts = Options(
        side=max(8, int(side)),
        page_cap=max(1, page_cap),
        frame_cap=max(1, frame_cap),
        modalities=tuple(modalities),
        max_frames=max(1, int(max_frames)),
        video_fps=float(video_fps) if video_fps else None,
    )
    if fmt.isolated and sandbox:
        pool = shared_sandbox() if sandbox is True else sandbox
        result = pool.run(fmt, os.fspath(p), opts, timeout)
    else:
        result = run_format(fmt, p, opts)
    if result.text is not None:
        result.items = passages(result.text, splitter)
        result.text = None
    return result


def _identify(p: Path) -> Format:
    try:
        st = os.stat(p)
    except FileNotFoundError as exc:
        if os.path.islink(p):
            target = os.readlink(p)
            raise SkipFile(f"broken link: it points to {target}, which does not exist") from None
        raise ExtractionError("file vanished while being read") from exc
    except PermissionError as exc:
        raise ExtractionError("permission denied: scry may not read this file") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    if st.st_size == 0:
        raise SkipFile("empty file (0 bytes)")
    try:
        fmt = detect(p, read_head(p))
    except FileNotFoundError as exc:
        raise ExtractionError("file vanished while being read") from exc
    except PermissionError as exc:
        raise ExtractionError("permission denied: scry may not read this file") from exc
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    if fmt is None:
        raise SkipFile(NOT_MEDIA)
    return fmt


def model_image_side(model: Any) -> int | None:
    """The image input size of a loaded sentence-transformers model (224 for CLIP B/32), if any.

    Decoding to this size (instead of a fixed one) keeps JPEG DCT scaling as strong as the model
    allows; None when the model has no image processor we can read.
    """
    try:
        modules = list(model)
    except TypeError:
        modules = [model]
    for module in modules:
        processor = getattr(module, "processor", None)
        image_processor = getattr(processor, "image_processor", None)
        for attr in ("crop_size", "size"):
            size = getattr(image_processor, attr, None)
            if size is None:
                continue
            get = size.get if isinstance(size, dict) else lambda k, s=size: getattr(s, k, None)
            for key in ("shortest_edge", "height", "width"):
                value = get(key)
                if isinstance(value, int) and value > 0:
                    return value
    return None
