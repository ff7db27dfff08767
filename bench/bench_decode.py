"""Decode benchmark: is indexing photos as fast as its parts allow, and how much faster than naive?

Prints numbers; it is not a test. On one folder of generated 12 MP JPEGs, in one run, with a
random-weight CLIP of ViT-B/32's shape (the same compute as the default model):

  (a) model alone: the embedder on images decoded beforehand (as the pipeline hands them over)
  (b) decoding alone: the pipeline's decoder (JPEG DCT scaling, EXIF orientation), one thread
  end to end: ``Engine.index`` on the folder (scan, fingerprint, decode in worker processes
      ahead of the model, embed, catalog, HNSW), model already loaded, workers started
  naive: full-size ``PIL.Image.open(...).convert("RGB")`` then ``model.encode`` on those images

and the two ratios the engine aims at: end to end / (a + b) <= 1.1 (the pipeline adds nothing
to the work itself) and naive / end to end >= 2. Each figure is the median of ``--repeats`` runs.

    .venv/bin/python bench/bench_decode.py [--photos 48] [--megapixels 12] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_engine import make_photos
from PIL import Image

from scry.indexer.engine import Engine
from scry.indexer.extract import decode_image, extract, model_image_side, shared_sandbox
from tests.tinymodels import build_vit_b32_clip


def timed(fn: Callable[[], object], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--photos", type=int, default=48)
    ap.add_argument("--megapixels", type=float, default=12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="folder to keep (and reuse) the photos and model in")
    args = ap.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory() as d:
            run(args, Path(d))


def run(args: argparse.Namespace, tmp: Path) -> None:
    model_dir = tmp / "vit-b32-random"
    if not (model_dir / "config.json").exists():
        build_vit_b32_clip(model_dir)
    photos = tmp / f"photos-{args.photos}-{args.megapixels:g}mp"
    if not photos.is_dir():
        t = time.perf_counter()
        make_photos(photos, args.photos, args.megapixels)
        print(f"generated {args.photos} JPEGs in {time.perf_counter() - t:.1f}s")
    files = sorted(str(p) for p in photos.iterdir())
    n = len(files)
    homes = tempfile.TemporaryDirectory()

    probe = Engine(home=Path(homes.name) / "probe", model=str(model_dir))
    probe.load_model()
    emb = probe.embedder
    model = emb.load()
    side = model_image_side(model) or 224
    bs = probe.settings.batch_size
    workers = probe.settings.decode_workers
    emb.encode_images([decode_image(files[0], side)[0]] * 2)  # first-call overhead
    pool = shared_sandbox(workers)
    for f in files[: 2 * workers]:
        extract(f, side=side, sandbox=pool)  # start the decoder processes
    decoded: list[Image.Image] = []

    def decode_all() -> None:  # (b): exactly what a decoder process does per photo
        decoded.clear()
        decoded.extend(decode_image(f, side)[0] for f in files)

    def model_only() -> None:  # (a): the same embedder and batch size as the pipeline
        for chunk in batches(decoded, bs):
            emb.encode_images(chunk)

    def decode_pool() -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(lambda f: extract(f, side=side, sandbox=pool), files))

    engines = []

    def end_to_end() -> None:
        eng = Engine(home=Path(homes.name) / f"home-{len(engines)}", model=str(model_dir))
        eng.embedder, eng._model_tried = emb, True  # the loaded model, as in a running app
        from scry.indexer import store
        from scry.indexer.vectors import VectorStore

        with eng.catalog.session(write=True) as s:
            info = emb.info()
            row = store.get_or_add_model(s, eng.model_name, info.dimension, info.modalities)
            eng.vectors = VectorStore(eng.home, eng.catalog, row.id, info.dimension).open()
        report = eng.index([photos])
        assert report.new == n and report.failed == 0, report.as_json()
        engines.append(report.seconds)
        eng.close()

    def naive() -> None:
        for chunk in batches(files, bs):
            images = []
            for f in chunk:
                with Image.open(f) as im:
                    images.append(im.convert("RGB"))
            model.encode(images, batch_size=bs, normalize_embeddings=True)

    # Rounds of all four, so a change in machine load touches every figure alike.
    # CPU seconds (this process and the decoder processes) are counted too: unlike wall time,
    # they barely move when other programs share the machine.
    names = ["b", "a", "pool", "e2e", "naive"]
    fns = [decode_all, model_only, decode_pool, end_to_end, naive]
    times: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(args.repeats):
        for name, fn in zip(names, fns, strict=True):
            c = time.process_time() + (pool.cpu_seconds() or 0.0)
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() + (pool.cpu_seconds() or 0.0) - c)
    times["e2e"] = engines  # the engine's own clock: Indexer.run only
    med = {k: statistics.median(v) for k, v in times.items()}
    # each round's figures were measured within a minute of each other: their ratios are less
    # exposed to other work on the machine than ratios of medians taken across rounds
    overhead = statistics.median(
        e / (a + b) for e, a, b in zip(times["e2e"], times["a"], times["b"], strict=True)
    )
    speedup = statistics.median(nv / e for nv, e in zip(times["naive"], times["e2e"], strict=True))
    probe.close()
    homes.cleanup()

    def line(name: str, seconds: float) -> str:
        return f"{name:<44} {seconds:7.2f} s  {n / seconds:6.1f} photos/s"

    sizes = sorted({im.size for im in decoded})
    print(f"{n} photos of {args.megapixels:g} MP, decoded to {sizes[0]} for a {side} px model")
    print(line("(a) model alone, pre-decoded", med["a"]))
    print(line("(b) decoding alone, one thread", med["b"]))
    print(line(f"    decoding alone, {workers} decoder processes", med["pool"]))
    print(line("end to end (Engine.index)", med["e2e"]))
    print(line("naive (full PIL decode + model.encode)", med["naive"]))
    print(f"end to end / (a + b)  = {overhead:.2f}   (target <= 1.10; median of per-round ratios)")
    print(f"naive / end to end    = {speedup:.2f}   (target >= 2.00; median of per-round ratios)")
    c = {k: statistics.median(v) for k, v in cpu.items()}
    print(
        f"CPU seconds: (a) {c['a']:.1f}, (b) {c['b']:.1f}, end to end {c['e2e']:.1f} "
        f"(ratio {c['e2e'] / (c['a'] + c['b']):.2f}), naive {c['naive']:.1f}"
    )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print("all runs (s): " + ", ".join(f"{k} {[round(x, 2) for x in v]}" for k, v in times.items()))


if __name__ == "__main__":
    main()
