"""Thumbnails (``scry.indexer.thumbnails``): cached on disk, upright, never an exception."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from scry.indexer.thumbnails import cache_dir, page_text, render, thumbnail
from tests.conftest import CORPUS, make_image


def test_photo_thumbnail_is_cached_and_refreshed_when_the_file_changes(tmp_path: Path) -> None:
    src = make_image(tmp_path / "pics" / "wide.png", (200, 30, 30), size=(640, 320))
    cache = cache_dir(tmp_path / "home")
    first = thumbnail(src, size=128, cache=cache)
    assert first is not None and first.is_file() and first.is_relative_to(cache)
    with Image.open(first) as im:
        assert max(im.size) == 128 and im.size == (128, 64)
    stamp = first.stat().st_mtime_ns
    assert thumbnail(src, size=128, cache=cache) == first
    assert first.stat().st_mtime_ns == stamp  # served from the cache, not made again
    make_image(src, (20, 200, 30), size=(300, 600))
    os.utime(src, ns=(stamp + 10**9, stamp + 10**9))
    second = thumbnail(src, size=128, cache=cache)
    assert second != first
    with Image.open(second) as im:
        assert im.size == (64, 128)
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == ["wide.png"]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    upright = render(CORPUS / "images" / "hopper.jpg", size=64)
    rotated = render(CORPUS / "images" / "hopper_orientation_6.jpg", size=64)
    assert upright is not None and rotated is not None
    assert rotated.size == upright.size  # hopper is square; check pixels roughly match
    import numpy as np

    diff = float(np.abs(np.asarray(upright, float) - np.asarray(rotated, float)).mean())
    assert diff < 20  # (a 90° turn would differ by ~70)


def test_pdf_pages_and_text_cards(tmp_path: Path) -> None:
    pdf = CORPUS / "documents" / "pdflatex-4-pages.pdf"
    cache = cache_dir(tmp_path)
    p1, p3 = (
        thumbnail(pdf, page=1, size=200, cache=cache),
        thumbnail(pdf, page=3, size=200, cache=cache),
    )
    assert p1 and p3 and p1 != p3
    with Image.open(p3) as im:
        assert max(im.size) == 200 and im.size[1] > im.size[0]  # a portrait page
    assert "text" in (page_text(pdf, 1) or "")
    note = tmp_path / "note.md"
    note.write_text("# Shopping\n\nApples, pears and a loaf of bread.", encoding="utf-8")
    card = thumbnail(note, size=160, cache=cache)
    assert card is not None and card.suffix == ".png"


def test_broken_files_yield_none_and_are_not_retried(tmp_path: Path) -> None:
    cache = cache_dir(tmp_path / "home")
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    results = {}
    for f in sorted(folder.rglob("*")):
        if f.is_file() and f.suffix.lower() != ".md":
            results[f.name] = thumbnail(f, size=96, cache=cache)  # never raises
    for broken in ("broken.png", "truncated_jpeg.jpg", "decompression_bomb.gif"):
        assert results[broken] is None, broken
    assert results["libreoffice-writer-password.pdf"] is None
    assert results["hopper.jpg"] is not None and results["flower.jpg"] is not None
    assert any(cache.rglob("*.fail"))
    assert thumbnail(tmp_path / "missing.jpg", size=96, cache=cache) is None
    assert thumbnail(folder / "images" / "broken.png", size=96, cache=None) is None


@pytest.mark.skipif(
    __import__("scry.indexer.extract.video", fromlist=["x"]).video_support() is not None,
    reason="video decoding unavailable here (scripts/setup installs ffmpeg)",
)
def test_video_frames_show_the_frame_at_their_time(tmp_path: Path) -> None:
    """A video hit at 0:01 shows red, one at 0:04 shows blue: the frame that matched."""
    from tests.indexer.test_extract_video import make_video

    clip = make_video(tmp_path / "clip.mp4")  # red 0-1.5 s, green 1.5-3 s, blue 3-4.5 s
    cache = tmp_path / "cache"
    red = thumbnail(clip, time_s=0.7, size=64, cache=cache)
    blue = thumbnail(clip, time_s=3.7, size=64, cache=cache)
    assert red and blue and red != blue
    with Image.open(red) as a, Image.open(blue) as b:
        ra, _ga, ba = a.convert("RGB").resize((1, 1)).getpixel((0, 0))
        rb, _gb, bb = b.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert ra > 150 > ba and bb > 150 > rb
    assert thumbnail(clip, size=64, cache=cache)  # no time: a frame from inside the clip
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    assert thumbnail(broken, time_s=1.0, size=64, cache=cache) is None
