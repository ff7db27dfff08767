"""RAW camera files by their embedded preview (rawpy / LibRaw), with hand-built DNGs.

A DNG is a TIFF: IFD0 holds the camera's JPEG preview (NewSubFileType 1) and points through
SubIFDs to the sensor data (a Bayer CFA), the layout cameras and Adobe's converter write.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scry.indexer.engine import Engine
from scry.indexer.errors import ExtractionError
from scry.indexer.extract import extract
from scry.indexer.extract.raw import NO_PREVIEW

pytest.importorskip("rawpy")

BYTE, ASCII, SHORT, LONG, SRATIONAL = 1, 2, 3, 4, 10
RED, BLUE = (220, 20, 20), (20, 20, 220)


def _tag(tag: int, typ: int, values: tuple[int, ...] | str) -> tuple[int, int, int, bytes]:
    if isinstance(values, str):
        raw = values.encode() + b"\0"
        return tag, typ, len(raw), raw
    fmt = {BYTE: "B", SHORT: "H", LONG: "I", SRATIONAL: "i"}[typ]
    count = len(values) // 2 if typ == SRATIONAL else len(values)
    return tag, typ, count, struct.pack(f"<{len(values)}{fmt}", *values)


def _ifd(entries: list[tuple[int, int, int, bytes]], at: int) -> bytes:
    """An IFD written at offset ``at``, values over 4 bytes right after it."""
    entries = sorted(entries)
    size = 2 + 12 * len(entries) + 4
    head, data = struct.pack("<H", len(entries)), b""
    for tag, typ, count, raw in entries:
        if len(raw) <= 4:
            head += struct.pack("<HHI", tag, typ, count) + raw.ljust(4, b"\0")
        else:
            head += struct.pack("<HHII", tag, typ, count, at + size + len(data))
            data += raw + b"\0" * (len(raw) % 2)
    return head + struct.pack("<I", 0) + data


def write_dng(
    path: Path,
    preview: Image.Image | None,
    *,
    orientation: int = 1,
    sensor: tuple[int, int] = (64, 48),
    truncate: bool = False,
) -> Path:
    """A DNG with a Bayer sensor image of ``sensor`` size and, if given, a JPEG preview."""
    w, h = sensor
    cfa = np.full((h, w), 20000, np.uint16).tobytes()  # flat grey: nothing like the preview
    jpeg = b""
    if preview is not None:
        buf = io.BytesIO()
        preview.save(buf, "JPEG", quality=95)
        jpeg = buf.getvalue()
    ifd0_at, sub_at = 8, 8 + 1024
    jpeg_at = sub_at + 1024
    cfa_at = jpeg_at + len(jpeg)
    camera = [
        _tag(271, ASCII, "Scry"),
        _tag(272, ASCII, "TestCam 1"),
        _tag(274, SHORT, (orientation,)),
        _tag(50706, BYTE, (1, 4, 0, 0)),  # DNGVersion
        _tag(50708, ASCII, "Scry TestCam 1"),
        _tag(50721, SRATIONAL, (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1)),
        _tag(50778, SHORT, (21,)),  # CalibrationIlluminant1: D65
    ]
    sensor_ifd = [
        _tag(254, LONG, (0,)),
        _tag(256, LONG, (w,)),
        _tag(257, LONG, (h,)),
        _tag(258, SHORT, (16,)),
        _tag(259, SHORT, (1,)),
        _tag(262, SHORT, (32803,)),  # CFA
        _tag(273, LONG, (cfa_at,)),
        _tag(277, SHORT, (1,)),
        _tag(278, LONG, (h,)),
        _tag(279, LONG, (len(cfa),)),
        _tag(33421, SHORT, (2, 2)),
        _tag(33422, BYTE, (0, 1, 1, 2)),  # RGGB
        _tag(50717, LONG, (65535,)),
    ]
    if preview is None:
        body = _ifd(camera + sensor_ifd, ifd0_at).ljust(2048, b"\0")
    else:
        ifd0 = [
            *camera,
            _tag(254, LONG, (1,)),  # a reduced-resolution copy: the preview
            _tag(256, LONG, (preview.width,)),
            _tag(257, LONG, (preview.height,)),
            _tag(258, SHORT, (8, 8, 8)),
            _tag(259, SHORT, (7,)),  # JPEG
            _tag(262, SHORT, (6,)),
            _tag(273, LONG, (jpeg_at,)),
            _tag(277, SHORT, (3,)),
            _tag(278, LONG, (preview.height,)),
            _tag(279, LONG, (len(jpeg),)),
            _tag(330, LONG, (sub_at,)),  # SubIFDs: the sensor data
        ]
        body = _ifd(ifd0, ifd0_at).ljust(1024, b"\0") + _ifd(sensor_ifd, sub_at).ljust(1024, b"\0")
    data = b"II*\x00" + struct.pack("<I", ifd0_at) + body + jpeg + cfa
    path.write_bytes(data[: cfa_at + 16] if truncate else data)
    return path


def halves(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """Red left half, blue right half: which way it ends up shows the orientation applied."""
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return img


def _mean(img: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(img.crop(box).convert("RGB"), dtype=float).reshape(-1, 3).mean(axis=0)


def test_the_embedded_preview_is_what_the_model_sees_upright(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "IMG_0002.dng", halves(), orientation=6)
    ex = extract(path, side=32)
    assert ex.kind == "image" and ex.meta["format"] == "RAW" and ex.note is None
    assert ex.meta["camera_make"] == "Scry" and ex.meta["camera_model"] == "TestCam 1"
    assert (ex.meta["width"], ex.meta["height"]) == (48, 64)  # the sensor's size, turned upright
    img = ex.items[0].image
    # The preview's colours (not the grey sensor data), turned 90 degrees clockwise: the red
    # left half is now on top, the blue right half at the bottom.
    assert img.width < img.height
    top = _mean(img, (0, 0, img.width, img.height // 3))
    bottom = _mean(img, (0, 2 * img.height // 3, img.width, img.height))
    assert top[0] > 180 and top[2] < 60
    assert bottom[2] > 180 and bottom[0] < 60


def test_a_preview_smaller_than_the_model_needs_is_developed_instead(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "tiny_preview.dng", halves((24, 16)), sensor=(96, 64))
    ex = extract(path, side=32)
    assert ex.note == NO_PREVIEW
    colour = _mean(ex.items[0].image, (0, 0, *ex.items[0].image.size))
    assert abs(colour[0] - colour[2]) < 40  # the grey sensor data, not the red/blue preview


def test_a_raw_without_preview_says_why_it_was_slow(tmp_path: Path) -> None:
    ex = extract(write_dng(tmp_path / "no_preview.dng", None), side=16)
    assert ex.note == NO_PREVIEW
    assert ex.items[0].image is not None and ex.items[0].image.mode == "RGB"


def test_a_raw_without_preview_and_with_cut_sensor_data_fails_with_a_reason(
    tmp_path: Path,
) -> None:
    path = write_dng(tmp_path / "cut.dng", None, truncate=True)
    with pytest.raises(ExtractionError) as info:
        extract(path, side=16)
    assert info.value.reason.startswith("damaged RAW file")


def test_indexing_reports_raw_files_with_their_reasons(tmp_path: Path, home: Path) -> None:
    root = tmp_path / "camera"
    root.mkdir()
    write_dng(root / "good.dng", halves(), orientation=6)
    write_dng(root / "plain.dng", None)
    write_dng(root / "cut.dng", None, truncate=True)
    eng = Engine(home=home, model="nobody/uncached")  # keyword-only: no model needed here
    report = eng.index([root])
    assert report.new + report.failed == 3 and report.failed == 1
    assert [Path(p).name for p, _ in report.failures] == ["cut.dng"]
    assert "damaged RAW file" in report.failures[0][1]
    assert [(Path(p).name, why) for p, why in report.notes] == [("plain.dng", NO_PREVIEW)]
    assert Path(eng.search("TestCam", k=5)[0].path).parent == root
