"""Photo metadata and orientation: what EXIF says is kept, searchable, and never fails a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scry.indexer.engine import Engine
from scry.indexer.extract import decode_image, extract
from tests.conftest import CORPUS
from tests.tinymodels import build_clip

IMAGES = CORPUS / "images"


def photo_with_exif(path: Path, *, gps: bool = True, original: bool = True) -> Path:
    img = Image.fromarray(np.random.default_rng(3).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x010F] = "Panasonic"
    exif[0x0110] = "DMC-GX80"
    exif[0x0132] = "2021:01:02 03:04:05"  # DateTime: when the file was last changed
    sub = exif.get_ifd(0x8769)
    if original:
        sub[0x9003] = "2019:07:14 10:22:01"  # DateTimeOriginal: when it was taken
    sub[0xA434] = "LUMIX G VARIO 12-32"
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[2] = "S", (33.0, 51.0, 36.0)
        g[3], g[4] = "E", (151.0, 12.0, 54.0)
        g[5], g[6] = b"\x00", 58.0
    img.save(path, exif=exif, quality=92)
    return path


def test_exif_metadata_is_kept(tmp_path: Path) -> None:
    meta = extract(photo_with_exif(tmp_path / "P1000.JPG"), side=16).meta
    assert meta["camera_make"] == "Panasonic" and meta["camera_model"] == "DMC-GX80"
    assert meta["lens"] == "LUMIX G VARIO 12-32"
    assert meta["taken"] == "2019-07-14T10:22:01" and meta["taken_from"] == "exif"
    assert meta["gps_lat"] == pytest.approx(-33.86, abs=0.001)
    assert meta["gps_lon"] == pytest.approx(151.215, abs=0.001)
    assert meta["gps_alt"] == pytest.approx(58.0)
    assert (meta["width"], meta["height"]) == (64, 48)


def test_capture_date_falls_back_to_the_file_datetime(tmp_path: Path) -> None:
    meta = extract(photo_with_exif(tmp_path / "a.jpg", original=False), side=16).meta
    assert meta["taken"] == "2021-01-02T03:04:05"


@pytest.mark.parametrize(
    "name", ["exif_typeerror.jpg", "exif-dpi-zerodivision.jpg", "exif_gps.jpg", "flower.jpg"]
)
def test_broken_exif_never_fails_the_file(name: str) -> None:
    ex = extract(IMAGES / name, side=16)
    assert len(ex.items) == 1
    lat = ex.meta.get("gps_lat")
    assert lat is None or -90 <= lat <= 90  # exif_gps.jpg declares 4294967295 degrees


def test_corpus_capture_dates() -> None:
    assert extract(IMAGES / "flower.jpg", side=16).meta["taken"] == "2003-12-14T12:01:44"
    assert extract(IMAGES / "exif_typeerror.jpg", side=16).meta["taken"] == "2010-08-15T13:58:09"


@pytest.mark.parametrize("name", ["hopper_orientation_3.jpg", "hopper_orientation_6.jpg"])
def test_orientation_is_applied_before_the_model_sees_the_image(name: str) -> None:
    upright = np.asarray(extract(IMAGES / "hopper.jpg", side=128).items[0].image, dtype=float)
    turned = np.asarray(extract(IMAGES / name, side=128).items[0].image, dtype=float)
    raw = np.asarray(Image.open(IMAGES / name).convert("RGB"), dtype=float)
    assert turned.shape == upright.shape
    assert np.abs(turned - upright).mean() < 12  # the same picture, up to JPEG noise
    assert np.abs(raw - upright).mean() > 30  # the stored pixels are not upright


def test_orientation_swaps_the_recorded_size(tmp_path: Path) -> None:
    img = Image.new("RGB", (80, 40), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(tmp_path / "portrait.jpg", exif=exif)
    ex = extract(tmp_path / "portrait.jpg", side=64)
    assert (ex.meta["width"], ex.meta["height"]) == (40, 80)
    assert ex.items[0].image.size == (40, 80)


def test_embedding_of_rotated_jpeg_equals_the_upright_one(
    home: Path, tmp_path: Path, clip_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    upright = Image.fromarray(
        np.random.default_rng(7).integers(0, 255, (60, 40, 3), dtype=np.uint8)
    ).resize((40, 60), Image.Resampling.NEAREST)
    folder = tmp_path / "phone"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = 8  # stored turned; the camera says "turn 90 degrees clockwise to view"
    upright.transpose(Image.Transpose.ROTATE_270).save(
        folder / "IMG_1.jpg", exif=exif, quality=100, subsampling=0
    )
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([folder])
    stored = np.asarray(eng.inspect(folder / "IMG_1.jpg", vectors=True)["items"][0]["vector"])
    model = SentenceTransformer(str(clip_dir), device="cpu")
    expected = model.encode([upright], normalize_embeddings=True)[0]
    assert float(stored @ expected) >= 0.999


def test_metadata_is_searchable_by_keyword(home: Path, tmp_path: Path, clip_dir: Path) -> None:
    folder = tmp_path / "camera"
    folder.mkdir()
    photo_with_exif(folder / "P1000123.JPG")
    Image.new("RGB", (32, 32), (0, 90, 0)).save(folder / "other.jpg")
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([folder])
    hits = eng.search("Panasonic", k=2)
    assert hits and hits[0].path.endswith("P1000123.JPG")
    assert eng.inspect(folder / "P1000123.JPG")["meta"]["gps_lat"] < 0


def test_reduced_decoding_stays_within_cosine_099_of_full_decoding(tmp_path: Path) -> None:
    """JPEG DCT scaling + reduction vs a full decode, seen by a CLIP with a 224 px input."""
    from sentence_transformers import SentenceTransformer

    model_dir = build_clip(tmp_path / "clip224", image_size=224, patch=32, hidden=64, layers=2)
    model = SentenceTransformer(str(model_dir), device="cpu")
    h, w = 1800, 2400
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(0)
    scene = np.stack(
        [
            128 + 100 * np.sin(xx / 97.0) * np.cos(yy / 131.0),
            (xx / w) * 255,
            np.where((xx - 1200) ** 2 + (yy - 700) ** 2 < 400**2, 230, 40),
        ],
        axis=-1,
    ) + rng.normal(0, 10, (h, w, 3))
    path = tmp_path / "DSC_0001.jpg"
    Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(path, quality=90)

    reduced, _ = decode_image(path, 224)
    assert max(reduced.size) < 700  # it really was decoded small
    with Image.open(path) as im:
        full = im.convert("RGB")
    other = full.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    v_red, v_full, v_other = model.encode([reduced, full, other], normalize_embeddings=True)
    cos = float(v_red @ v_full)
    assert cos >= 0.99
    assert cos > float(v_other @ v_full)  # the metric does tell different pictures apart
