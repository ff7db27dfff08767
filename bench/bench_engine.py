"""Engine benchmark: indexing throughput, search latency, HNSW latency at scale.

Prints numbers; it is not a test. Uses a random-weight CLIP with ViT-B/32's shapes (the same
compute as the real default model) so it runs offline.

    .venv/bin/python bench/bench_engine.py [--photos 48] [--megapixels 12] [--vectors 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scry.indexer.engine import Engine
from scry.indexer.vectorindex import VectorIndex
from tests.tinymodels import build_vit_b32_clip


def make_photos(folder: Path, n: int, megapixels: float) -> None:
    """Photo-like JPEGs: smooth gradients plus noise, so JPEG sizes are realistic."""
    w = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    h = int(w * 3 / 4)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        base = np.stack([(xx / w) * 255, (yy / h) * 255, np.full_like(xx, (i * 37) % 255)], axis=-1)
        noise = rng.normal(0, 12, size=(h // 8, w // 8, 3)).repeat(8, 0).repeat(8, 1)[:h, :w]
        arr = np.clip(base + noise, 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"IMG_{i:04d}.jpg", quality=90)


def bench_index(tmp: Path, n: int, megapixels: float) -> None:
    model = build_vit_b32_clip(tmp / "vit-b32-random")
    photos = tmp / "photos"
    t = time.perf_counter()
    make_photos(photos, n, megapixels)
    print(f"generated {n} JPEGs of {megapixels:.0f} MP in {time.perf_counter() - t:.1f}s")

    eng = Engine(home=tmp / "home", model=str(model))
    t = time.perf_counter()
    eng.load_model()
    print(f"model load: {time.perf_counter() - t:.2f}s on {eng.embedder.info().device}")
    report = eng.index([photos])
    print(
        f"index: {n} photos in {report.seconds:.1f}s = {n / report.seconds:.2f} photos/s end to end "
        f"(scan, decode, embed, store)"
    )
    again = eng.index([photos])
    print(f"re-index unchanged: {again.seconds * 1000:.0f} ms, embedded {again.embedded}")
    lat = []
    for q in ["a red car", "sunset over the sea", "birthday cake", "cat on a sofa", "mountain"] * 4:
        t = time.perf_counter()
        eng.search(q, k=20)
        lat.append((time.perf_counter() - t) * 1000)
    print(
        f"text search (encode + HNSW + FTS + fuse), k=20: median {statistics.median(lat):.1f} ms, "
        f"max {max(lat):.1f} ms"
    )
    eng.close()


def bench_hnsw(tmp: Path, n: int, dim: int = 512) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(256, dim))
    vecs = (centres[rng.integers(0, 256, n)] + 0.35 * rng.normal(size=(n, dim))).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    idx = VectorIndex(tmp / "bench.hnsw", dim)
    t = time.perf_counter()
    idx.add(np.arange(1, n + 1), vecs)
    build = time.perf_counter() - t
    queries = vecs[rng.integers(0, n, 200)] + 0.05 * rng.normal(size=(200, dim)).astype(np.float32)
    t = time.perf_counter()
    got = [idx.query(q, 10) for q in queries]
    per_q = (time.perf_counter() - t) / len(queries) * 1000
    exact = np.argsort(-(queries @ vecs.T), axis=1)[:, :10] + 1
    recall = np.mean(
        [len({lab for lab, _ in g} & set(e.tolist())) / 10 for g, e in zip(got, exact, strict=True)]
    )
    t = time.perf_counter()
    idx.save()
    save = time.perf_counter() - t
    size = idx.path.stat().st_size / 1e6
    print(
        f"HNSW {n} x {dim}: build {build:.1f}s, query {per_q:.2f} ms, recall@10 {recall:.3f}, "
        f"save {save:.2f}s, {size:.0f} MB on disk"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--photos", type=int, default=48)
    ap.add_argument("--megapixels", type=float, default=12)
    ap.add_argument("--vectors", type=int, default=100_000)
    args = ap.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as d:
        bench_index(Path(d), args.photos, args.megapixels)
        bench_hnsw(Path(d), args.vectors)


if __name__ == "__main__":
    main()
