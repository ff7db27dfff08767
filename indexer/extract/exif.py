"""Photo metadata from EXIF (and XMP): orientation, capture date, camera, lens, GPS position.

Every field is read on its own and checked for sense (a date that is a date, a latitude within
±90°), so damaged EXIF loses that field and never the file. Keys are stable, as filters and
full-text search read them: ``taken`` (ISO ``YYYY-MM-DDTHH:MM:SS``, local camera time) with
``taken_from`` (``exif``, ``gps`` or ``xmp``), ``camera_make``, ``camera_model``, ``lens``,
``gps_lat``, ``gps_lon``, ``gps_alt`` (degrees, metres) and ``orientation`` (1-8).
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime
from typing import Any

from PIL import Image

log = logging.getLogger(__name__)

ORIENTATION = 0x0112
_MAKE, _MODEL, _DATETIME = 0x010F, 0x0110, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATE_ORIGINAL, _DATE_DIGITIZED, _LENS_MODEL = 0x9003, 0x9004, 0xA434

#: How to turn an image upright for each EXIF orientation (what ``ImageOps.exif_transpose`` does).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_XMP_DATE = re.compile(
    rb"(?:exif:DateTimeOriginal|xmp:CreateDate|photoshop:DateCreated)"
    rb"(?:=\"|>)(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?)"
)


def orientation(img: Image.Image) -> int:
    """The EXIF (or XMP) orientation, 1 when missing or damaged."""
    try:
        value = img.getexif().get(ORIENTATION)
        value = int(value) if value is not None else 1
    except Exception:
        return 1
    return value if 1 <= value <= 8 else 1


def upright(img: Image.Image, value: int) -> Image.Image:
    """``img`` turned as orientation ``value`` says, so it looks as the person saw it."""
    method = _TRANSPOSE.get(value)
    return img.transpose(method) if method is not None else img


def photo_meta(img: Image.Image) -> dict[str, Any]:
    """What the EXIF (or XMP) of an opened image says; missing or broken fields are left out."""
    try:
        exif = img.getexif()
    except Exception as exc:
        log.debug("Unreadable EXIF in %s: %s", getattr(img, "filename", "?"), exc)
        exif = None
    out = exif_meta(exif) if exif is not None else {}
    if "taken" not in out and (taken := _xmp_date(img)):
        out["taken"], out["taken_from"] = taken, "xmp"
    return out


def exif_meta(exif: Image.Exif) -> dict[str, Any]:
    """Camera, lens, orientation, capture date and GPS position from parsed EXIF."""
    out: dict[str, Any] = {}
    sub = _ifd(exif, _EXIF_IFD)
    gps = _ifd(exif, _GPS_IFD)
    for tag, key in ((_MAKE, "camera_make"), (_MODEL, "camera_model")):
        if text := _text(exif.get(tag)):
            out[key] = text
    if text := _text(sub.get(_LENS_MODEL)):
        out["lens"] = text
    try:
        value = int(exif.get(ORIENTATION) or 1)
    except (TypeError, ValueError):
        value = 1
    if 2 <= value <= 8:
        out["orientation"] = value
    for source, raw in (
        ("exif", sub.get(_DATE_ORIGINAL)),
        ("exif", sub.get(_DATE_DIGITIZED)),
        ("exif", exif.get(_DATETIME)),
        ("gps", _gps_date(gps)),
    ):
        if taken := _date(raw):
            out["taken"], out["taken_from"] = taken, source
            break
    out.update(_gps(gps))
    return out


def _ifd(exif: Image.Exif, tag: int) -> Any:
    try:
        return exif.get_ifd(tag)
    except Exception:
        return {}


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 \t\r\n")
    if not value or not value.isprintable():
        return None
    return value[:100]


def _date(value: Any) -> str | None:
    """``YYYY:MM:DD HH:MM:SS`` (EXIF) or ISO-like, checked, as ISO; None otherwise."""
    text = _text(value)
    if not text or len(text) < 10:
        return None
    text = text[:19]
    formats = (
        "%Y:%m:%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y:%m:%d",
        "%Y-%m-%d",
    )
    for fmt in formats:
        try:
            when = datetime.strptime(text[: len(fmt) + 2], fmt)
        except ValueError:
            continue
        if 1826 <= when.year <= 2200:  # the first photograph; and no camera clock goes further
            return when.strftime("%Y-%m-%dT%H:%M:%S")
    return None


def _gps_date(gps: Any) -> str | None:
    day = _text(gps.get(0x1D))
    stamp = gps.get(0x07)
    if not day:
        return None
    try:
        h, m, s = (int(float(x)) for x in stamp)
        return f"{day} {h:02d}:{m:02d}:{s:02d}"
    except Exception:
        return day


def _degrees(value: Any) -> float | None:
    try:
        if isinstance(value, tuple | list):
            parts = [float(x) for x in value] + [0.0, 0.0]
            deg = parts[0] + parts[1] / 60 + parts[2] / 3600
        else:
            deg = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return deg if math.isfinite(deg) else None


def _gps(gps: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    lat, lon = _degrees(gps.get(0x02)), _degrees(gps.get(0x04))
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return out
    if _text(gps.get(0x01)) == "S":
        lat = -lat
    if _text(gps.get(0x03)) == "W":
        lon = -lon
    if lat == 0 and lon == 0:  # "no fix" on many phones
        return out
    out["gps_lat"], out["gps_lon"] = round(lat, 7), round(lon, 7)
    try:
        alt = float(gps.get(0x06))
        if math.isfinite(alt) and abs(alt) < 20_000:
            out["gps_alt"] = round(-alt if gps.get(0x05) in (1, b"\x01") else alt, 1)
    except (TypeError, ValueError, ZeroDivisionError):
        pass
    return out


def _xmp_date(img: Image.Image) -> str | None:
    xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    if not isinstance(xmp, bytes):
        return None
    m = _XMP_DATE.search(xmp)
    return _date(m.group(1).decode().replace("T", " ")) if m else None
