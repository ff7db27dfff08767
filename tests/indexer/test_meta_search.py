"""Lens and GPS position are searchable words; ``lens:`` filters by lens model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scry.indexer.engine import Engine
from scry.indexer.query import parse


def photo(path: Path, lens: str | None, gps: tuple[float, float] | None, seed: int = 0) -> Path:
    """A JPEG with EXIF LensModel and a GPS position in degrees/minutes/seconds."""
    img = Image.fromarray(np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Fujifilm", "X-T4"
    if lens:
        exif.get_ifd(0x8769)[0xA434] = lens
    if gps:
        g = exif.get_ifd(0x8825)
        for ref_tag, tag, value, refs in ((1, 2, gps[0], "NS"), (3, 4, gps[1], "EW")):
            a = abs(value)
            d, m = int(a), int((a - int(a)) * 60)
            s = round((a - d - m / 60) * 3600, 2)
            g[ref_tag], g[tag] = refs[value < 0], (float(d), float(m), s)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, exif=exif, quality=90)
    return path


@pytest.fixture
def engine(tmp_path: Path, home: Path) -> tuple[Engine, Path]:
    root = tmp_path / "trips"
    photo(root / "DSCF0001.JPG", "XF23mmF1.4 R", (48.858370, 2.294481), seed=1)  # Paris
    photo(root / "DSCF0002.JPG", "XF56mmF1.2 R", (-33.856784, 151.215297), seed=2)  # Sydney
    photo(root / "DSCF0003.JPG", None, None, seed=3)
    eng = Engine(home=home, model="nobody/uncached")  # keyword-only: metadata is all it sees
    assert eng.index([root]).new == 3
    return eng, root


def names(hits: list) -> list[str]:
    return [Path(h.path).name for h in hits]


def test_lens_model_is_searchable(engine: tuple[Engine, Path]) -> None:
    eng, _root = engine
    # Files with only some of the words ("2" is also in a GPS position) may follow, never lead.
    assert names(eng.search("XF56mmF1.2", k=5))[0] == "DSCF0002.JPG"
    assert names(eng.search("XF23mmF1.4 R", k=5))[0] == "DSCF0001.JPG"
    assert "DSCF0003.JPG" not in names(eng.search("XF56mmF1.2", k=5))


def test_gps_position_is_searchable_as_text(engine: tuple[Engine, Path]) -> None:
    eng, _root = engine
    assert names(eng.search("gps 48.858 2.294", k=5))[0] == "DSCF0001.JPG"
    assert names(eng.search("gps -33.857 151.215", k=5))[0] == "DSCF0002.JPG"
    assert names(eng.search('"gps 48.858 2.294"', k=5)) == ["DSCF0001.JPG"]  # exact phrase
    assert set(names(eng.search("gps", k=5))) == {"DSCF0001.JPG", "DSCF0002.JPG"}


def test_lens_filter(engine: tuple[Engine, Path]) -> None:
    eng, _root = engine
    assert parse("lens:xf56mm").filters.lenses == ["xf56mm"]
    assert names(eng.search("lens:xf56mm", k=5)) == ["DSCF0002.JPG"]
    assert names(eng.search("lens:XF23mm fujifilm", k=5)) == ["DSCF0001.JPG"]
    assert eng.search("lens:canon", k=5) == []
    assert parse("lens:").filters.lenses == [] and parse("lens:").words == ["lens:"]
