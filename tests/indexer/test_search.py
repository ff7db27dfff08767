"""Search: semantic ordering with real text weights, keyword safety, fusion, image queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scry.indexer.engine import Engine
from scry.indexer.errors import BadInput
from scry.indexer.search import fts_query
from tests.conftest import make_image

NOTES = {
    "garden.txt": "Planting tomatoes and basil in the vegetable garden this spring.",
    "car.txt": "The mechanic replaced the brakes and the oil filter of my old car.",
    "wedding.md": "Our wedding reception had a three-tier cake, a string quartet and dancing.",
    "hiking.txt": "We climbed the mountain trail above the glacier and camped by the lake.",
    "recipe.md": "Knead the dough, let it rise for an hour, then bake the bread at 220 degrees.",
}


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("automobile repair", "car.txt"),
        ("marriage celebration", "wedding.md"),
        ("growing vegetables", "garden.txt"),
        ("trekking in the alps", "hiking.txt"),
        ("baking instructions", "recipe.md"),
    ],
)
def test_meaning_finds_the_right_note_without_shared_words(
    home: Path, notes: Path, minilm_dir: Path, query: str, expected: str
) -> None:
    eng = Engine(home=home, model=str(minilm_dir))
    eng.index([notes])
    hits = eng.search(query, k=5)
    assert Path(hits[0].path).name == expected
    assert (
        hits[0].explain["vector_rank"] == 1
    )  # meaning found it; shared words are stopwords at best
    assert hits[0].explain["lexical_rank"] in (None, *range(2, 50))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_keyword_and_meaning_agree_rank_first(home: Path, notes: Path, minilm_dir: Path) -> None:
    eng = Engine(home=home, model=str(minilm_dir))
    eng.index([notes])
    top = eng.search("wedding cake", k=3)[0]
    assert Path(top.path).name == "wedding.md"
    assert set(top.sources) == {"vectors", "keywords"}
    assert top.score == pytest.approx(1.0)


@pytest.mark.parametrize(
    "nasty",
    [
        '"unbalanced',
        "a AND OR NOT b",
        "NEAR(x y)",
        "col:umn",
        "*",
        "(((",
        "-minus +plus",
        "'; DROP TABLE files; --",
        "ünïcödé café",
    ],
)
def test_no_query_text_can_break_keyword_search(home: Path, notes: Path, nasty: str) -> None:
    eng = Engine(home=home, model="nobody/uncached")  # keyword-only: FTS is all there is
    eng.index([notes])
    eng.search(nasty)  # must not raise
    assert eng.status()["files"] == len(NOTES)


def test_fts_query_quotes_every_word() -> None:
    assert fts_query('say "hi" OR bye') == '"say" "hi" "OR" "bye"'
    assert fts_query("!!!") is None


def test_keywords_fold_diacritics(home: Path, tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    (root / "menu.txt").write_text("Crème brûlée at the café", encoding="utf-8")
    eng = Engine(home=home, model="nobody/uncached")
    eng.index([root])
    assert [Path(h.path).name for h in eng.search("creme brulee cafe")] == ["menu.txt"]


def test_empty_query_is_a_clear_error(home: Path) -> None:
    with pytest.raises(BadInput, match="empty"):
        Engine(home=home, model="nobody/uncached").search("   ")


def test_image_query_finds_the_same_picture_first_among_mixed_modalities(
    home: Path, tmp_path: Path, clip_dir: Path
) -> None:
    root = tmp_path / "mixed"
    for i in range(12):
        make_image(root / f"img{i:02d}.png", (20 * i, 255 - 20 * i, 90), pattern=i + 2)
    for i in range(12):
        (root / f"note{i:02d}.txt").write_text(f"note number {i} about things", encoding="utf-8")
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([root])
    for i in (0, 5, 11):
        hits = eng.search_image(root / f"img{i:02d}.png", k=5)
        assert Path(hits[0].path).name == f"img{i:02d}.png"
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)
        sim = eng.similar(root / f"img{i:02d}.png", k=5)
        assert all(Path(h.path).name != f"img{i:02d}.png" for h in sim)


def test_combined_text_and_image_query(home: Path, photos: Path, clip_dir: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    hits = eng.search_combined("receipts", photos / "red.png", k=10)
    names = [Path(h.path).name for h in hits]
    assert "tax.md" in names[:2] and "red.png" in names[:2]


def test_tiny_cross_encoder_fixture_scores_pairs(cross_encoder_dir: Path) -> None:
    from sentence_transformers import CrossEncoder

    ce = CrossEncoder(str(cross_encoder_dir), device="cpu")
    scores = ce.predict([("a dog", "a dog on the beach"), ("a dog", "tax forms")])
    assert np.asarray(scores).shape == (2,)
    assert np.all(np.isfinite(scores))
