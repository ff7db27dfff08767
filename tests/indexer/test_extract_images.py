"""Image formats: every kind a camera, phone or editor writes becomes the items a person expects."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scry.indexer.extract import (
    NOT_MEDIA,
    ExtractionError,
    SkipFile,
    decode_image,
    detect,
    extract,
)
from tests.conftest import CORPUS, make_image

IMAGES = CORPUS / "images"


def solid(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (64, 48), **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path, **kw)
    return path


def mean_color(img: Image.Image) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(img.convert("RGB")).reshape(-1, 3).mean(axis=0))


@pytest.mark.parametrize(
    "name",
    [
        "hopper.jpg",
        "hopper.png",
        "hopper.webp",
        "hopper.gif",
        "hopper.bmp",
        "hopper.tif",
        "hopper.psd",
        "hopper.ico",
        "avif_hopper.avif",
        "avif_hopper.heif",
        "frozenpond.mpo",
        "flower.jpg",
        "flower2.webp",
        "16bit.cropped.tif",
        "pil_sample_cmyk.jpg",
        "broken_data_stream.png",
    ],
)
def test_corpus_image_formats_give_one_rgb_item(name: str) -> None:
    ex = extract(IMAGES / name, side=32)
    assert ex.kind == "image"
    assert [it.kind for it in ex.items] == ["image"]
    img = ex.items[0].image
    assert img.mode == "RGB" and min(img.size) >= 1
    assert ex.meta["width"] > 0 and ex.meta["height"] > 0 and ex.meta["format"]


def test_sixteen_bit_tiff_is_scaled_not_clipped_to_white() -> None:
    img = extract(IMAGES / "16bit.cropped.tif", side=32).items[0].image
    arr = np.asarray(img)
    assert 10 < arr.mean() < 245 and arr.std() > 5


def test_mpo_gives_its_first_picture_and_camera_metadata() -> None:
    ex = extract(IMAGES / "frozenpond.mpo", side=224)
    assert len(ex.items) == 1
    assert ex.meta["camera_make"] == "Nintendo" and ex.meta["width"] == 640


def test_animated_gif_gives_one_item_from_the_middle(tmp_path: Path) -> None:
    colors = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0), (0, 250, 250)]
    frames = [Image.new("RGB", (40, 30), c) for c in colors]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    ex = extract(path, side=16)
    assert len(ex.items) == 1 and ex.meta["frames"] == 5
    r, g, b = mean_color(ex.items[0].image)
    assert b > 200 and r < 50 and g < 50  # frame 2 of 0..4: the blue one


def test_corpus_animated_gifs() -> None:
    for name, n in (("iss634.gif", 42), ("dispose_prev.gif", 5)):
        ex = extract(IMAGES / name, side=32)
        assert len(ex.items) == 1 and ex.meta["frames"] == n


def test_multipage_tiff_gives_one_item_per_page_up_to_the_cap(tmp_path: Path) -> None:
    colors = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 200)]
    pages = [Image.new("RGB", (50, 40), c) for c in colors]
    path = tmp_path / "scan.tiff"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    ex = extract(path, side=16)
    assert [it.page for it in ex.items] == [1, 2, 3, 4]
    assert {it.kind for it in ex.items} == {"page"}
    assert [mean_color(it.image) for it in ex.items] == [c for c in colors]
    capped = extract(path, side=16, page_cap=2)
    assert [it.page for it in capped.items] == [1, 2]
    assert "first 2 pages" in (capped.note or "")
    corpus = extract(IMAGES / "multipage.tiff", side=16)
    assert [it.page for it in corpus.items] == [1, 2, 3]


def test_heic_uses_its_embedded_thumbnail_when_large_enough(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    big = Image.fromarray(np.random.default_rng(0).integers(0, 255, (600, 800, 3), dtype=np.uint8))
    path = tmp_path / "IMG_0001.HEIC"
    pillow_heif.from_pillow(big).save(path, quality=60, thumbnails=[300])
    ex = extract(path, side=128)
    assert ex.meta["format"] == "HEIF" and (ex.meta["width"], ex.meta["height"]) == (800, 600)
    assert max(ex.items[0].image.size) == 300  # the thumbnail, not the 800x600 picture
    # a model that needs more than the thumbnail gets the full picture
    assert min(extract(path, side=256).items[0].image.size) >= 256


def test_avif_written_by_pillow(tmp_path: Path) -> None:
    path = solid(tmp_path / "a.avif", (10, 120, 200), size=(80, 60), format="AVIF")
    ex = extract(path, side=16)
    assert ex.meta["format"] == "AVIF"
    r, _, b = mean_color(ex.items[0].image)
    assert b > 150 and r < 60


def test_ico_uses_its_largest_size(tmp_path: Path) -> None:
    path = solid(tmp_path / "favicon.ico", (0, 0, 0), size=(64, 64), sizes=[(16, 16), (64, 64)])
    assert extract(path, side=64).items[0].image.size == (64, 64)


def test_large_jpeg_is_decoded_reduced_never_at_full_size(tmp_path: Path) -> None:
    path = make_image(tmp_path / "big.jpg", (90, 140, 200), size=(3000, 2000), pattern=5)
    img, meta = decode_image(path, 224)
    assert (meta["width"], meta["height"]) == (3000, 2000)
    assert 224 <= min(img.size) <= 448
    assert img.size == (375, 250)  # DCT scaling 1/8: never decoded at 3000x2000


def test_type_is_detected_by_content_not_extension(tmp_path: Path) -> None:
    jpeg_named_dat = shutil.copy(IMAGES / "hopper.jpg", tmp_path / "photo.dat")
    assert extract(jpeg_named_dat, side=16).meta["format"] == "JPEG"
    png_named_jpg = shutil.copy(IMAGES / "hopper.png", tmp_path / "really-a-png.jpg")
    assert extract(png_named_jpg, side=16).meta["format"] == "PNG"
    pdf_named_jpg = shutil.copy(
        CORPUS / "documents" / "minimal-document.pdf", tmp_path / "scan.jpg"
    )
    assert extract(pdf_named_jpg, side=16).kind == "pdf"
    no_ext = shutil.copy(IMAGES / "hopper.webp", tmp_path / "download")
    assert extract(no_ext, side=16).meta["format"] == "WEBP"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("song.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(200)),
        ("archive.zip", None),
        ("program.exe", b"MZ\x90\x00" + bytes(300)),
        ("random.bin", bytes(range(256)) * 4),
    ],
)
def test_files_that_are_not_media_are_skipped_with_a_reason(
    tmp_path: Path, name: str, data: bytes | None
) -> None:
    path = tmp_path / name
    if data is None:
        import zipfile

        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.txt", "hello")
    else:
        path.write_bytes(data)
    with pytest.raises(SkipFile) as info:
        extract(path)
    assert info.value.reason == NOT_MEDIA


def test_weak_signatures_do_not_override_a_text_extension(tmp_path: Path) -> None:
    note = tmp_path / "BM notes.txt"
    note.write_text("BM is what this note starts with, and it is text.", encoding="utf-8")
    assert detect(note).name == "text"


def test_damaged_images_fail_with_reasons() -> None:
    cases = {
        "broken.png": "not a readable image",
        "truncated_jpeg.jpg": "truncated",
        "decompression_bomb.gif": "too large to decode safely",
        "crash-0c7e0e8e11ce787078f00b5b0ca409a167f070e0.tif": "damaged image",
    }
    for name, words in cases.items():
        with pytest.raises(ExtractionError) as info:
            extract(IMAGES / name, side=32)
        assert words in info.value.reason, (name, info.value.reason)


def test_pixel_limit_refuses_declared_giant_png(tmp_path: Path) -> None:
    # a valid PNG header declaring 100000 x 100000 pixels, with almost no data behind it
    img = Image.new("L", (1, 1))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = (100_000).to_bytes(4, "big") * 2
    import zlib

    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    path = tmp_path / "bomb.png"
    path.write_bytes(bytes(data))
    with pytest.raises(ExtractionError) as info:
        extract(path, side=32)
    assert "too large to decode safely" in info.value.reason


def write_dng(path: Path) -> Path:
    """A tiny Bayer DNG (no preview, turned by EXIF orientation 6) that LibRaw develops."""
    from PIL.TiffImagePlugin import ImageFileDirectory_v2

    cfa = np.full((64, 96), 1000, np.uint16)
    cfa[0::2, 0::2] = 3000  # R sites of an RGGB pattern
    cfa[1::2, 1::2] = 500  # B sites
    tags = ImageFileDirectory_v2()
    tags[50706] = bytes([1, 4, 0, 0])  # DNGVersion
    tags.tagtype[50706] = 1
    tags[50708] = "Test Cam"
    tags[271], tags[272] = "TestMake", "TestModel"
    tags[262] = 32803  # PhotometricInterpretation: CFA
    tags[33421] = (2, 2)  # CFARepeatPatternDim
    tags.tagtype[33421] = 3
    tags[33422] = bytes([0, 1, 1, 2])  # CFAPattern: RGGB
    tags.tagtype[33422] = 1
    tags[306] = "2021:06:01 12:00:00"
    tags[274] = 6
    Image.fromarray(cfa).save(path, format="TIFF", tiffinfo=tags)
    return path


def test_raw_camera_file_is_developed_upright_with_its_metadata(tmp_path: Path) -> None:
    pytest.importorskip("rawpy")
    ex = extract(write_dng(tmp_path / "IMG_0001.DNG"), side=16)
    assert ex.kind == "image" and ex.meta["format"] == "RAW"
    assert ex.meta["camera_make"] == "TestMake" and ex.meta["camera_model"] == "TestModel"
    assert ex.meta["taken"] == "2021-06-01T12:00:00"
    assert (ex.meta["width"], ex.meta["height"]) == (64, 96)  # portrait, as the camera was held
    img = ex.items[0].image
    assert img.mode == "RGB" and img.width < img.height


def test_damaged_raw_fails_with_a_reason(tmp_path: Path) -> None:
    pytest.importorskip("rawpy")
    path = tmp_path / "broken.nef"
    path.write_bytes(b"II*\x00" + bytes(100))
    with pytest.raises(ExtractionError) as info:
        extract(path)
    assert "RAW" in info.value.reason
