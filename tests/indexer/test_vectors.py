"""VectorStore keeps its HNSW files in step with the catalog's stored vectors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from scry.indexer import store
from scry.indexer.catalog import Catalog
from scry.indexer.extract import Extracted, ExtractedItem
from scry.indexer.scan import DiskFile
from scry.indexer.vectors import VectorStore

DIM = 16
N_IMAGES = 30
N_TEXTS = 5


def _clustered(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, DIM))
    return (centres[rng.integers(0, 4, size=n)] + 0.2 * rng.normal(size=(n, DIM))).astype(
        np.float32
    )


class Fixture:
    def __init__(self, home: Path, cat: Catalog, model_id: int) -> None:
        self.home, self.catalog, self.model_id = home, cat, model_id
        self.image_labels: list[int] = []
        self.image_vecs = _clustered(N_IMAGES, seed=1)
        self.text_labels: list[int] = []
        self.text_vecs = _clustered(N_TEXTS, seed=2)
        self.item_ids: list[int] = []

    def vstore(self) -> VectorStore:
        return VectorStore(self.home, self.catalog, self.model_id, DIM).open()

    def delete_vector_row(self, label: int) -> None:
        """What a crash after a commit, or another process, leaves behind."""
        conn = sqlite3.connect(self.catalog.path)
        try:
            conn.execute("DELETE FROM vectors WHERE id = ?", (label,))
            conn.commit()
        finally:
            conn.close()


@pytest.fixture
def cat(home: Path, tmp_path: Path) -> Iterator[Fixture]:
    catalog = Catalog.open(home)
    pics = tmp_path / "pics"
    with catalog.session() as s:
        root = store.get_or_add_root(s, pics)
        model = store.get_or_add_model(s, "tiny-clip", DIM, ["image", "text"])
        fx = Fixture(home, catalog, model.id)
        for i in range(N_IMAGES):
            df = DiskFile(str(pics / f"img{i:02d}.png"), 1000 + i, 1_700_000_000_000_000_000 + i)
            row = store.upsert_file(
                s, root, df, f"fp{i:02d}", kind="image", status="ok", reason=None, meta=None
            )
            items, removed = store.replace_items(
                s, row, root, Extracted("image", [ExtractedItem("image")])
            )
            assert removed == []
            fx.item_ids += items
            fx.image_labels += store.add_vectors(
                s, model.id, "image", items, fx.image_vecs[i : i + 1]
            )
        # Some items also carry a text vector (say, OCR or a caption).
        fx.text_labels = store.add_vectors(s, model.id, "text", fx.item_ids[:N_TEXTS], fx.text_vecs)
    assert len(set(fx.image_labels + fx.text_labels)) == N_IMAGES + N_TEXTS
    yield fx
    catalog.close()


def _top(vs: VectorStore, modality: str, vec: np.ndarray, k: int = 1) -> list[tuple[int, float]]:
    return vs.query(modality, vec, k)


def test_missing_index_files_are_rebuilt_from_catalog(cat: Fixture) -> None:
    folder = cat.home / "vectors"
    assert not folder.exists()
    vs = cat.vstore()
    assert sorted(vs.rebuilt) == ["image", "text"]
    assert vs.count("image") == N_IMAGES and vs.count("text") == N_TEXTS
    assert vs.count() == N_IMAGES + N_TEXTS
    for m in ("image", "text"):
        assert vs.indexes[m].path.is_file() and vs.indexes[m].sidecar.is_file()
        with cat.catalog.session() as s:
            assert vs.indexes[m].signature == store.vector_signature(s, cat.model_id, m)
    for label, vec in zip(cat.image_labels, cat.image_vecs, strict=True):
        hit, sim = _top(vs, "image", vec)[0]
        assert hit == label and sim == pytest.approx(1.0, abs=1e-4)
    # Modalities never mix: a text query only sees text labels.
    assert {lab for lab, _ in _top(vs, "text", cat.image_vecs[7], 50)} == set(cat.text_labels)
    with cat.catalog.session() as s:
        item_of = store.item_ids_for_labels(
            s, [lab for lab, _ in _top(vs, "image", cat.image_vecs[3], 1)]
        )
        rows = store.items_by_id(s, list(item_of.values()))
    assert [r.path for r in rows.values()] == [str(Path(cat.home).parent / "pics" / "img03.png")]


def test_consistent_index_is_loaded_not_rebuilt(cat: Fixture) -> None:
    first = cat.vstore()
    first.save()
    mtimes = {m: idx.path.stat().st_mtime_ns for m, idx in first.indexes.items()}
    again = cat.vstore()
    assert again.rebuilt == []
    assert {m: idx.path.stat().st_mtime_ns for m, idx in again.indexes.items()} == mtimes
    assert again.count("image") == N_IMAGES and again.count("text") == N_TEXTS
    assert _top(again, "image", cat.image_vecs[12])[0][0] == cat.image_labels[12]


def test_one_deleted_index_file_rebuilds_only_that_modality(cat: Fixture) -> None:
    cat.vstore().save()
    (cat.home / "vectors" / f"model{cat.model_id}-text.hnsw").unlink()
    vs = cat.vstore()
    assert vs.rebuilt == ["text"]
    assert vs.count("text") == N_TEXTS


def test_signature_mismatch_triggers_rebuild(cat: Fixture) -> None:
    cat.vstore().save()
    gone = cat.image_labels[8]
    cat.delete_vector_row(gone)
    vs = cat.vstore()
    assert vs.rebuilt == ["image"]
    assert vs.count("image") == N_IMAGES - 1
    assert gone not in {lab for lab, _ in _top(vs, "image", cat.image_vecs[8], 50)}
    assert cat.vstore().rebuilt == [], "the rebuilt index was saved and now agrees"


def test_empty_model_needs_no_index_files(home: Path) -> None:
    catalog = Catalog.open(home)
    try:
        with catalog.session() as s:
            model_id = store.get_or_add_model(s, "empty", DIM, ["image", "text"]).id
        vs = VectorStore(home, catalog, model_id, DIM).open()
        assert vs.rebuilt == [] and vs.count() == 0
        assert vs.query("image", np.ones(DIM, dtype=np.float32), 10) == []
    finally:
        catalog.close()


def test_replaced_vector_with_reused_id_is_not_served_stale(cat: Fixture) -> None:
    pics = cat.home.parent / "pics"
    image = Extracted("image", [ExtractedItem("image")])
    old_vec, new_vec = _clustered(2, seed=77)
    with cat.catalog.session() as s:
        root = store.roots(s)[0]
        row = store.upsert_file(
            s,
            root,
            DiskFile(str(pics / "newest.png"), 10, 1),
            "fpnew",
            kind="image",
            status="ok",
            reason=None,
            meta=None,
        )
        items, _ = store.replace_items(s, row, root, image)
        (old_label,) = store.add_vectors(s, cat.model_id, "image", items, old_vec[None, :])
    cat.vstore().save()
    # The newest file is edited: its vectors are replaced in one commit, then scry is killed
    # before VectorStore.save(), so the index on disk still holds the old vector.
    with cat.catalog.session() as s:
        row = store.file_by_path(s, str(pics / "newest.png"))
        removed = store.clear_items(s, row.id)
        items, _ = store.replace_items(s, row, root, image)
        (new_label,) = store.add_vectors(s, cat.model_id, "image", items, new_vec[None, :])
    assert removed == [(cat.model_id, "image", old_label)]
    assert new_label != old_label, "labels are never reused (AUTOINCREMENT)"
    vs = cat.vstore()
    hit, sim = _top(vs, "image", new_vec)[0]
    assert (hit, sim) == (new_label, pytest.approx(1.0, abs=1e-4)), (
        f"label {new_label} still holds the replaced vector (rebuilt={vs.rebuilt})"
    )
