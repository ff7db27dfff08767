"""Camera RAW files (CR2, NEF, ARW, DNG, RAF, ORF ...) through rawpy (LibRaw).

The camera's own embedded preview (usually a full-size or 1-2 MP JPEG) is what the model sees:
it has the camera's colour rendering and costs a JPEG decode, not a demosaic. Files without a
usable preview are developed at half size, and say so in their note. EXIF comes from the RAW's TIFF header where Pillow can
read it, else from the preview.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from PIL import Image

from .base import MAX_PIXELS, Extracted, ExtractedItem, ExtractionError, Options
from .exif import exif_meta, orientation, photo_meta, upright
from .images import _frame, to_rgb

log = logging.getLogger(__name__)

NO_PREVIEW = "no usable embedded preview: developed from the sensor data at half size (slower)"
#: LibRaw's ``flip`` to EXIF orientation (LibRaw turns developed images itself, not previews).
_FLIP_TO_ORIENTATION = {3: 3, 5: 8, 6: 6}


def extract_raw(path: Path, opts: Options) -> Extracted:
    try:
        import rawpy
    except ImportError as exc:
        raise ExtractionError(
            "RAW camera files need the rawpy package (pip install rawpy in scry's environment)"
        ) from exc
    try:
        raw = rawpy.imread(str(path))
    except (rawpy.LibRawFileUnsupportedError, rawpy.LibRawIOError) as exc:
        raise ExtractionError(f"not a RAW file LibRaw can read ({_why(exc)})") from exc
    except rawpy.LibRawError as exc:
        raise ExtractionError(f"damaged RAW file ({_why(exc)})") from exc
    with raw:
        sizes = raw.sizes
        if sizes.raw_width * sizes.raw_height > MAX_PIXELS:
            raise ExtractionError(
                f"image too large to decode safely ({sizes.raw_width}x{sizes.raw_height} pixels)"
            )
        meta: dict[str, Any] = {"format": "RAW"}
        meta.update(_header_meta(path))
        image, preview_meta = _preview(raw, opts.side, _FLIP_TO_ORIENTATION.get(sizes.flip, 1))
        note = None
        if image is None:
            note = NO_PREVIEW
            try:
                rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
            except rawpy.LibRawError as exc:
                raise ExtractionError(f"damaged RAW file ({_why(exc)})") from exc
            image = _fit(Image.fromarray(rgb), opts.side)
        for key, value in preview_meta.items():
            meta.setdefault(key, value)
        width, height = sizes.width, sizes.height
        if sizes.flip in (5, 6):
            width, height = height, width
        meta["width"], meta["height"] = width, height
    meta.pop("orientation", None)  # applied; the stored size is the upright one
    return Extracted("image", [ExtractedItem("image", image=image)], meta, note=note)


def _preview(raw: Any, side: int, flip: int) -> tuple[Image.Image | None, dict[str, Any]]:
    """The embedded preview, upright, if it is large enough for the model."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None, {}
    except rawpy.LibRawError as exc:
        log.info("Unreadable RAW preview: %s", _why(exc))
        return None, {}
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            with Image.open(io.BytesIO(thumb.data)) as src:
                meta = photo_meta(src)
                own = orientation(src)
                if min(src.size) < side:
                    return None, meta
                image = _frame(src, side)  # applies the preview's own orientation, if any
            return (image if own != 1 else upright(image, flip)), meta
        image = Image.fromarray(thumb.data)
    except (OSError, ValueError, SyntaxError, EOFError, TypeError) as exc:
        log.info("Unreadable RAW preview: %s", exc)
        return None, {}
    if min(image.size) < side:
        return None, {}
    return upright(_fit(to_rgb(image), side), flip), {}


def _fit(img: Image.Image, side: int) -> Image.Image:
    short = min(img.size)
    if short <= 2 * side:
        return img
    scale = 2 * side / short
    return img.resize(
        (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
        Image.Resampling.LANCZOS,
        reducing_gap=3.0,
    )


def _header_meta(path: Path) -> dict[str, Any]:
    """EXIF from a TIFF-based RAW's header (CR2, NEF, ARW, DNG ...), without decoding pixels."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4 << 20)
        if not head.startswith((b"II*\x00", b"MM\x00*")):
            return {}
        exif = Image.Exif()
        exif.load(head)
        return exif_meta(exif)
    except Exception as exc:
        log.debug("No EXIF header in %s: %s", path, exc)
        return {}


def _why(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text or type(exc).__name__
