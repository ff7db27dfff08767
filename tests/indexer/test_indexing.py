"""The indexing pipeline end to end through the engine facade, with a tiny real CLIP model."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from scry.indexer.engine import Engine
from tests.conftest import CORPUS, make_image


def tree_state(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under root with size, mtime and content hash: to prove we never write there."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            st = p.stat()
            out[str(p)] = (st.st_size, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def test_first_index_then_rerun_embeds_nothing(home: Path, photos: Path, clip_dir: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    first = eng.index([photos])
    assert (first.new, first.failed, first.changed, first.deleted) == (6, 0, 0, 0)
    assert first.embedded >= 6
    eng.close()

    again = Engine(home=home, model=str(clip_dir)).index([photos])
    assert again.as_json() | {"seconds": 0} == {
        **again.as_json(),
        "seconds": 0,
        "new": 0,
        "changed": 0,
        "moved": 0,
        "deleted": 0,
        "unchanged": 6,
        "failed": 0,
        "embedded": 0,
    }


def test_index_never_writes_under_the_root(home: Path, photos: Path, clip_dir: Path) -> None:
    before = tree_state(photos)
    Engine(home=home, model=str(clip_dir)).index([photos])
    assert tree_state(photos) == before


def test_changed_deleted_and_new_files(home: Path, photos: Path, clip_dir: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    make_image(photos / "red.png", (10, 10, 200), size=(70, 50))  # content changed
    (photos / "notes" / "tax.md").unlink()
    make_image(photos / "new" / "purple.png", (150, 20, 160))
    report = eng.index([photos])
    assert (report.new, report.changed, report.deleted, report.unchanged) == (1, 1, 1, 4)
    assert report.embedded == 2
    st = eng.status()
    assert st["files"] == 6
    assert eng.inspect(photos / "notes" / "tax.md")["status"] == "not_indexed"
    # the vector index holds exactly the catalog's vectors: nothing stale from the old red.png
    assert eng.vectors.count() == st["vectors"]


def test_touched_file_is_not_reembedded(home: Path, photos: Path, clip_dir: Path) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    os.utime(photos / "red.png", ns=(1_000_000_000, 1_000_000_000))
    report = eng.index([photos])
    assert (report.changed, report.unchanged, report.embedded) == (0, 6, 0)


def test_moving_a_folder_inside_a_root_keeps_vectors(
    home: Path, photos: Path, clip_dir: Path
) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    before = eng.inspect(photos / "trip" / "blue.png", vectors=True)
    shutil.move(photos / "trip", photos / "holidays-2023")
    report = eng.index([photos])
    assert (report.moved, report.new, report.deleted, report.embedded) == (2, 0, 0, 0)
    after = eng.inspect(photos / "holidays-2023" / "blue.png", vectors=True)
    assert after["status"] == "ok"
    assert after["items"][0]["vector"] == before["items"][0]["vector"]
    # the new folder name is searchable as a keyword
    hits = eng.search("holidays", k=5)
    assert hits and Path(hits[0].path).parent.name == "holidays-2023"


def test_moving_a_whole_root_to_a_new_place_embeds_nothing(
    home: Path, photos: Path, clip_dir: Path, tmp_path: Path
) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    moved = tmp_path / "renamed-photos"
    shutil.move(photos, moved)
    report = eng.index([moved])
    assert (report.moved, report.new, report.embedded) == (6, 0, 0)
    # the old root is kept (offline), never de-indexed because it vanished
    report2 = eng.index()
    assert report2.offline_roots == [str(photos)]
    assert report2.deleted == 0
    assert eng.status()["files"] == 6


def test_stored_vector_equals_model_encode_of_exif_transposed_png(
    home: Path, tmp_path: Path, clip_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    folder = tmp_path / "one"
    folder.mkdir()
    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees: the model must see it upright
    img.save(folder / "rotated.png", exif=exif)
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([folder])
    stored = np.asarray(eng.inspect(folder / "rotated.png", vectors=True)["items"][0]["vector"])

    model = SentenceTransformer(str(clip_dir), device="cpu")
    with Image.open(folder / "rotated.png") as im:
        upright = ImageOps.exif_transpose(im).convert("RGB")
    assert upright.size == (90, 120)
    expected = model.encode([upright], normalize_embeddings=True)[0]
    cos = float(np.dot(stored, expected) / np.linalg.norm(stored) / np.linalg.norm(expected))
    assert cos >= 0.9999
    unrotated = model.encode([img.convert("RGB")], normalize_embeddings=True)[0]
    assert float(np.dot(stored, unrotated)) < cos


def test_corpus_indexes_without_crashing_and_records_reasons(home: Path, clip_dir: Path) -> None:
    before = tree_state(CORPUS)
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([CORPUS])
    assert report.new + report.failed >= 38 - 1
    reasons = {Path(p).name: r for p, r in report.failures}
    assert "encrypted" in reasons["libreoffice-writer-password.pdf"]
    assert "too large" in reasons["decompression_bomb.gif"]
    assert {"broken.png", "truncated_jpeg.jpg"} <= set(reasons)
    assert all(r for r in reasons.values())
    st = eng.status()
    assert st["failed"] == len(reasons)
    assert {e["path"] for e in st["errors"]} == {p for p, _ in report.failures}
    pdf = eng.inspect(CORPUS / "documents" / "pdflatex-4-pages.pdf")
    assert [it["locator"] for it in pdf["items"]] == [{"page": n} for n in (1, 2, 3, 4)]
    assert tree_state(CORPUS) == before
    # failed files are not retried while unchanged
    assert eng.index([CORPUS]).embedded == 0


def test_missing_hnsw_file_is_rebuilt_from_stored_vectors(
    home: Path, photos: Path, clip_dir: Path
) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    expected = [h.path for h in eng.similar(photos / "red.png", k=3)]
    eng.close()
    for f in (home / "vectors").glob("*.hnsw"):
        f.unlink()
    eng2 = Engine(home=home, model=str(clip_dir))
    assert [h.path for h in eng2.similar(photos / "red.png", k=3)] == expected
    assert set(eng2.vectors.rebuilt) == {"image", "text"}


def test_switching_models_reembeds_and_never_mixes(
    home: Path, photos: Path, clip_dir: Path, minilm_dir: Path
) -> None:
    Engine(home=home, model=str(clip_dir)).index([photos])
    text_eng = Engine(home=home, model=str(minilm_dir))
    report = text_eng.index()
    assert report.new == 0 and report.embedded == 2  # the two notes; images have no text vector
    st = text_eng.status()
    assert st["dimension"] == 384 and st["modalities"] == ["text"]
    assert text_eng.vectors.count("image") == 0
    hits = text_eng.search("puppy playing by the sea", k=3)
    assert hits[0].path.endswith("dogs.txt")
    # back to CLIP: its vectors were kept, nothing to embed
    assert Engine(home=home, model=str(clip_dir)).index().embedded == 0


def test_keyword_only_when_model_unavailable(
    home: Path, photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    eng = Engine(home=home, model="nobody/not-a-cached-model")
    report = eng.index([photos])
    assert report.new == 6 and report.embedded == 0
    assert "SCRY_MODEL" in (report.keyword_only or "")
    hits = eng.search("receipts invoices")
    assert hits and hits[0].path.endswith("tax.md")
    assert hits[0].sources == ["keywords"]
    st = eng.status()
    assert st["keyword_only"] and st["files"] == 6
