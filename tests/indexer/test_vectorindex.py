"""The crash-safe HNSW index: queries, deletions, persistence, growth and thread safety."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from scry.indexer.vectorindex import VectorIndex

DIM = 32


def clustered(
    n: int, *, dim: int = DIM, clusters: int = 8, spread: float = 0.15, seed: int = 0
) -> np.ndarray:
    """Points around a few Gaussian centres: neighbours are close, like real embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    which = rng.integers(0, clusters, size=n)
    return (centres[which] + spread * rng.normal(size=(n, dim))).astype(np.float32)


def labels_for(n: int, start: int = 1000) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int64)


def _top1_hits(idx: VectorIndex, labels: np.ndarray, vecs: np.ndarray) -> int:
    return sum(idx.query(v, 1)[0][0] == int(lab) for lab, v in zip(labels, vecs, strict=True))


@pytest.fixture
def filled(tmp_path: Path) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    idx = VectorIndex(tmp_path / "vectors" / "m1-image.hnsw", DIM)
    labels, vecs = labels_for(400), clustered(400)
    idx.add(labels, vecs)
    return idx, labels, vecs


def test_exact_vector_comes_first_with_similarity_one(filled) -> None:
    idx, labels, vecs = filled
    assert len(idx) == 400
    for i in range(0, 400, 7):
        hits = idx.query(vecs[i], 10)
        assert hits[0][0] == labels[i]
        assert hits[0][1] == pytest.approx(1.0, abs=1e-4)
        sims = [s for _, s in hits]
        assert sims == sorted(sims, reverse=True)
        assert len({lab for lab, _ in hits}) == 10
    # Scale does not matter for cosine similarity.
    assert idx.query(vecs[3] * 7.5, 1)[0][0] == labels[3]


def test_neighbours_come_from_the_same_cluster(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, DIM))
    which = np.repeat(np.arange(4), 50)
    vecs = (centres[which] + 0.1 * rng.normal(size=(200, DIM))).astype(np.float32)
    idx = VectorIndex(tmp_path / "i.hnsw", DIM)
    idx.add(np.arange(200), vecs)
    hits = idx.query(centres[2], 20)
    assert {int(which[lab]) for lab, _ in hits} == {2}


def test_k_is_clamped_to_live_elements(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path / "i.hnsw", DIM)
    query = clustered(1, seed=5)[0]
    assert idx.query(query, 100) == []
    idx.add(np.array([1, 2, 3]), clustered(3))
    assert sorted(lab for lab, _ in idx.query(query, 100)) == [1, 2, 3]
    idx.remove([2])
    assert sorted(lab for lab, _ in idx.query(query, 100)) == [1, 3]
    assert idx.query(query, 0) == []


def test_remove_hides_labels_and_updates_signature(filled) -> None:
    idx, labels, vecs = filled
    assert idx.signature == (400, int(labels.sum()))
    gone = [int(labels[0]), int(labels[10]), int(labels[399])]
    idx.remove(gone)
    assert len(idx) == 397
    assert idx.signature == (397, int(labels.sum()) - sum(gone))
    for lab in gone:
        row = int(np.flatnonzero(labels == lab)[0])
        assert lab not in {hit for hit, _ in idx.query(vecs[row], 50)}
    # Removing again, or removing a label never added, changes nothing.
    idx.remove([gone[0], 999_999])
    assert idx.signature == (397, int(labels.sum()) - sum(gone))
    assert len(idx.query(vecs[1], 1000)) == 397


def test_removed_label_can_be_added_again(filled) -> None:
    """SQLite may hand out a deleted vector id again; the index must take it back."""
    idx, labels, _ = filled
    signature = idx.signature
    lab = int(labels[-1])
    idx.remove([lab])
    fresh = clustered(1, seed=99)[0]
    idx.add(np.array([lab]), fresh[None, :])
    assert idx.signature == signature
    hit, sim = idx.query(fresh, 1)[0]
    assert (hit, sim) == (lab, pytest.approx(1.0, abs=1e-4))


def test_save_then_load_in_new_instance(filled) -> None:
    idx, labels, vecs = filled
    idx.remove([int(labels[5])])
    idx.save()
    assert idx.path.is_file() and idx.sidecar.is_file()
    assert not [p.name for p in idx.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert json.loads(idx.sidecar.read_text())["dim"] == DIM

    other = VectorIndex(idx.path, DIM)
    assert other.load() is True
    assert other.signature == idx.signature
    assert len(other) == 399
    for i in (0, 5, 17, 250, 399):
        assert other.query(vecs[i], 10) == idx.query(vecs[i], 10)
    assert int(labels[5]) not in {lab for lab, _ in other.query(vecs[5], 50)}
    # The loaded index keeps working: it grows and saves again.
    other.add(labels_for(10, start=50_000), clustered(10, seed=3))
    other.save()
    third = VectorIndex(idx.path, DIM)
    assert third.load() and third.signature == other.signature


def test_load_missing_or_mismatched_returns_false(filled, tmp_path: Path) -> None:
    assert VectorIndex(tmp_path / "nothing.hnsw", DIM).load() is False
    idx = filled[0]
    idx.save()
    wrong_dim = VectorIndex(idx.path, DIM * 2)
    assert wrong_dim.load() is False
    assert len(wrong_dim) == 0 and wrong_dim.query(np.ones(DIM * 2), 5) == []

    meta = json.loads(idx.sidecar.read_text())
    idx.sidecar.write_text(json.dumps({**meta, "dim": DIM + 1}))
    assert VectorIndex(idx.path, DIM).load() is False
    idx.sidecar.write_text("{truncated")
    assert VectorIndex(idx.path, DIM).load() is False
    idx.sidecar.write_text(json.dumps(meta))
    idx.path.unlink()
    assert VectorIndex(idx.path, DIM).load() is False


def test_grows_beyond_initial_capacity(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path / "big.hnsw", DIM)
    labels, vecs = labels_for(3000), clustered(3000, clusters=12, seed=7)
    for start in range(0, 3000, 500):
        idx.add(labels[start : start + 500], vecs[start : start + 500])
    assert idx.signature == (3000, int(labels.sum()))
    sample = np.arange(0, 3000, 11)
    assert _top1_hits(idx, labels[sample], vecs[sample]) == len(sample)
    idx.save()
    again = VectorIndex(idx.path, DIM)
    assert again.load()
    assert _top1_hits(again, labels[sample], vecs[sample]) == len(sample)


def test_rebuild_replaces_everything(filled) -> None:
    idx, labels, vecs = filled
    rows = [(int(lab), vecs[i].tobytes()) for i, lab in enumerate(labels[:50])]
    idx.rebuild(iter(rows), count_hint=50)
    assert idx.signature == (50, int(labels[:50].sum()))
    assert {lab for lab, _ in idx.query(vecs[300], 100)} <= set(labels[:50].tolist())
    assert _top1_hits(idx, labels[:50], vecs[:50]) == 50


def test_concurrent_add_and_query(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path / "threads.hnsw", DIM)
    writers, per_writer, batch = 4, 300, 20
    vecs = clustered(writers * per_writer, seed=11)
    labels = labels_for(writers * per_writer)
    errors: list[BaseException] = []
    done = threading.Event()
    start = threading.Barrier(writers + 3)

    def write(w: int) -> None:
        try:
            start.wait()
            lo = w * per_writer
            for s in range(lo, lo + per_writer, batch):
                idx.add(labels[s : s + batch], vecs[s : s + batch])
        except BaseException as exc:
            errors.append(exc)

    def read(r: int) -> None:
        try:
            start.wait()
            i = 0
            while not done.is_set():
                hits = idx.query(vecs[(r * 97 + i) % len(vecs)], 10)
                assert len(hits) <= 10
                i += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    readers = [threading.Thread(target=read, args=(r,)) for r in range(3)]
    for t in threads + readers:
        t.start()
    for t in threads:
        t.join(timeout=60)
    done.set()
    for t in readers:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads + readers)
    assert errors == []
    assert idx.signature == (len(labels), int(labels.sum()))
    assert _top1_hits(idx, labels, vecs) == len(labels)


def test_adding_a_live_label_again_replaces_its_vector(tmp_path: Path) -> None:
    idx = VectorIndex(tmp_path / "i.hnsw", DIM)
    vecs = clustered(3, seed=2)
    idx.add(np.array([5, 6, 7]), vecs)
    replacement = clustered(1, seed=8)
    idx.add(np.array([6]), replacement)
    hits = idx.query(replacement[0], 10)
    if hits[0][0] != 6:
        pytest.fail("hnswlib should have updated label 6 in place")
    assert idx.signature == (3, 18)
    assert len(idx) == 3
    assert sorted(lab for lab, _ in hits) == [5, 6, 7]
