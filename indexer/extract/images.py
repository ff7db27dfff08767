"""Images through Pillow (and pillow-heif): decoded near the size the model needs, upright.

JPEGs are decoded at reduced scale by ``Image.draft`` (DCT scaling: a 12 MP photo never exists
at full size in memory); HEIC/AVIF files use an embedded thumbnail when one is large enough
(pillow-heif's ``draft``); everything else is reduced once decoded. EXIF orientation is applied
first, so the model sees what the person sees.

Multi-page TIFFs (scans, faxes) give one item per page up to the page cap; reduced-resolution
copies inside the TIFF are not pages. Animated GIF/PNG/WebP give one item: the middle frame,
which shows what the animation is about more often than a fade-in first frame does.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from .base import DECODE_SIDE, MAX_PIXELS, Extracted, ExtractedItem, ExtractionError, Options
from .exif import orientation, photo_meta, upright

log = logging.getLogger(__name__)

# Pillow warns about oddities in damaged files (TIFF tags, EXIF); the file's reason says enough.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

try:  # HEIC/HEIF through libheif, when installed (AVIF is Pillow's own since Pillow 11.3)
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - optional at runtime
    pass

_ANIMATED = {"GIF", "PNG", "WEBP"}
_DRAFTABLE = {"JPEG", "MPO", "HEIF"}
#: Frames of an animation stepped through at most to reach its middle.
_MIDDLE_FRAME_CAP = 60
_DAMAGED = (OSError, ValueError, SyntaxError, EOFError, ZeroDivisionError, TypeError, IndexError)


def open_image(path: str | Path) -> Image.Image:
    """``Image.open`` with its failures turned into reasons a person can read."""
    try:
        return Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ExtractionError(f"image too large to decode safely ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise ExtractionError("not a readable image (unknown or damaged format)") from exc
    except (FileNotFoundError, PermissionError):
        raise
    except _DAMAGED as exc:
        raise ExtractionError(f"damaged image: {exc}") from exc


def decode_image(path: str | Path, side: int = DECODE_SIDE) -> tuple[Image.Image, dict[str, Any]]:
    """Open an image, apply EXIF orientation, convert to RGB, reduce to about ``side`` px.

    The shorter side of the result is at least ``side`` (unless the image is smaller) and at
    most ``2 * side``. Returns the image and its metadata (size, format, EXIF).
    """
    with open_image(path) as src:
        try:
            _check_pixels(src)
            meta = _meta(src)
            return _frame(src, side), meta
        except ExtractionError:
            raise
        except Image.DecompressionBombError as exc:
            raise ExtractionError(f"image too large to decode safely ({exc})") from exc
        except _DAMAGED as exc:
            raise ExtractionError(f"damaged image: {exc}") from exc


def extract_image(path: Path, opts: Options) -> Extracted:
    with open_image(path) as src:
        try:
            _check_pixels(src)
            meta = _meta(src)
            n = _frame_count(src)
            if src.format == "TIFF" and n > 1:
                return _tiff_pages(src, n, opts, meta)
            if src.format in _ANIMATED and n > 1:
                meta["frames"] = n
                src.seek(min(n // 2, _MIDDLE_FRAME_CAP))
            image = _frame(src, opts.side)
        except ExtractionError:
            raise
        except Image.DecompressionBombError as exc:
            raise ExtractionError(f"image too large to decode safely ({exc})") from exc
        except _DAMAGED as exc:
            raise ExtractionError(f"damaged image: {exc}") from exc
    return Extracted("image", [ExtractedItem("image", image=image)], meta)


def _tiff_pages(src: Image.Image, n: int, opts: Options, meta: dict[str, Any]) -> Extracted:
    items: list[ExtractedItem] = []
    errors: list[str] = []
    for i in range(n):
        if len(items) >= opts.page_cap:
            break
        try:
            src.seek(i)
            if i and _reduced_copy(src):
                continue
            _check_pixels(src)
            items.append(ExtractedItem("page", page=len(items) + 1, image=_frame(src, opts.side)))
        except ExtractionError:
            raise
        except _DAMAGED as exc:
            log.info("Skipping unreadable page %d of %s: %s", i + 1, src.filename, exc)
            errors.append(str(exc))
    if not items:
        raise ExtractionError(f"damaged image: no page could be read ({errors[0]})")
    note = None
    if len(items) == 1:
        items = [ExtractedItem("image", image=items[0].image)]
    else:
        meta["pages"] = len(items)
    if len(items) >= opts.page_cap and n > opts.page_cap:
        note = f"only the first {opts.page_cap} pages are indexed (page cap)"
    elif errors:
        note = f"{len(errors)} damaged page(s) left out"
    return Extracted("image", items, meta, note=note)


def _reduced_copy(img: Image.Image) -> bool:
    """A TIFF subfile marked as a reduced-resolution copy (a preview), not a page."""
    try:
        return bool(int(img.tag_v2.get(254, 0)) & 1)  # NewSubfileType
    except (AttributeError, TypeError, ValueError):
        return False


def _frame_count(img: Image.Image) -> int:
    try:
        return max(1, int(getattr(img, "n_frames", 1)))
    except _DAMAGED:
        return 1


def _check_pixels(img: Image.Image) -> None:
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ExtractionError(f"image too large to decode safely ({width}x{height} pixels)")
    if width <= 0 or height <= 0:
        raise ExtractionError(f"damaged image: it declares {width}x{height} pixels")


def _meta(img: Image.Image) -> dict[str, Any]:
    meta: dict[str, Any] = {"format": img.format}
    meta.update(photo_meta(img))
    width, height = img.size
    if meta.get("orientation", 1) >= 5:  # turned a quarter: the person sees it the other way
        width, height = height, width
    meta["width"], meta["height"] = width, height
    return meta


def _frame(src: Image.Image, side: int) -> Image.Image:
    """The current frame, upright, RGB, with its shorter side in [side, 2 * side]."""
    turn = orientation(src)
    if src.format in _DRAFTABLE:
        src.draft("RGB", (side, side))
    src.load()
    img = to_rgb(src)
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
    return upright(img, turn)


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB for the model: 16-bit greyscale scaled (not clipped), transparency on white."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return Image.fromarray(((arr - lo) * scale).astype("uint8"), "L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    return img.convert("RGB")
