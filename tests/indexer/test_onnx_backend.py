"""scry's own ONNX Runtime backend ("backend": "onnx" / "onnx-int8"; issue 8, CPU speed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scry.indexer.config import Settings
from scry.indexer.engine import Engine
from scry.indexer.errors import ModelUnavailable
from scry.indexer.models import Embedder
from scry.indexer.onnx_backend import PROBE_FILE
from tests.conftest import make_image

TEXTS = ["a dog running on the beach", "the tax return is due in April", "red", "mountain fog"]


def embedder(folder: Path, backend: str, home: Path) -> Embedder:
    emb = Embedder(str(folder), backend=backend, precision="fp32", home=home, download=False)
    emb.load()
    return emb


def images() -> list[Image.Image]:
    rng = np.random.default_rng(7)
    return [
        Image.fromarray(rng.integers(0, 255, size=(40 + 8 * i, 48, 3), dtype=np.uint8))
        for i in range(5)
    ]


def exported(home: Path) -> dict[str, int]:
    return {str(p.relative_to(home)): p.stat().st_mtime_ns for p in home.glob("onnx/*/*")}


def test_clip_towers_run_on_onnx_runtime_close_to_torch(clip_dir: Path, tmp_path: Path) -> None:
    torch_emb = embedder(clip_dir, "torch", tmp_path / "a")
    onnx_emb = embedder(clip_dir, "onnx", tmp_path / "b")
    decision = onnx_emb.backend_decision
    assert decision.backend == "onnx" and decision.min_cosine >= 0.99, decision
    assert torch_emb.backend_decision.backend == "torch"
    assert {p.name for p in (tmp_path / "b").glob("onnx/*/*.onnx")} == {"text.onnx", "image.onnx"}
    for query in (True, False):
        got = onnx_emb.encode_texts(TEXTS, query=query)
        ref = torch_emb.encode_texts(TEXTS, query=query)
        assert got.dtype == np.float32 and got.shape == ref.shape
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert np.sum(got * ref, axis=1).min() >= 0.999
    got, ref = onnx_emb.encode_images(images()), torch_emb.encode_images(images())
    assert got.dtype == np.float32 and np.sum(got * ref, axis=1).min() >= 0.999


def test_real_minilm_text_runs_on_onnx_runtime(minilm_dir: Path, tmp_path: Path) -> None:
    torch_emb = embedder(minilm_dir, "torch", tmp_path)
    onnx_emb = embedder(minilm_dir, "onnx", tmp_path)
    assert onnx_emb.backend_decision.backend == "onnx"
    assert onnx_emb.precision_decision.dtype == "float32"  # no bf16 on top of ONNX Runtime
    long = ["word " * 400]  # truncated to the model's window on both sides
    for texts in (TEXTS, long):
        got, ref = onnx_emb.encode_texts(texts), torch_emb.encode_texts(texts)
        assert np.sum(got * ref, axis=1).min() >= 0.999
    # meaning survives: the dog query is nearest to the dog text
    sims = onnx_emb.encode_texts(TEXTS) @ onnx_emb.encode_texts(["puppy at the seaside"])[0]
    assert int(np.argmax(sims)) == 0


def test_int8_is_adopted_only_when_the_guard_holds(minilm_dir: Path, tmp_path: Path) -> None:
    emb = embedder(minilm_dir, "onnx-int8", tmp_path)
    decision = emb.backend_decision
    assert decision.requested == "onnx-int8" and decision.min_cosine is not None
    assert f"{decision.min_cosine:.5f}" in decision.reason
    ref = embedder(minilm_dir, "torch", tmp_path / "ref").encode_texts(TEXTS)
    cos = np.sum(emb.encode_texts(TEXTS) * ref, axis=1)
    if decision.min_cosine < 0.99:  # measured 0.976 on MiniLM: int8 drifts, torch keeps running
        assert decision.backend == "torch" and "drifts" in decision.reason
        assert cos.min() >= 0.99999  # these are torch's own vectors
    else:
        assert decision.backend == "onnx-int8" and cos.min() >= 0.99
    again = embedder(minilm_dir, "onnx-int8", tmp_path).backend_decision
    assert again.backend == decision.backend and "remembered" in again.reason


def test_onnx_index_gives_the_same_top_hits_and_status_says_so(
    clip_dir: Path, photos: Path, tmp_path: Path
) -> None:
    query_image = make_image(tmp_path / "q.png", (25, 35, 215), pattern=5)
    tops = {}
    for backend in ("torch", "onnx"):
        home = tmp_path / backend
        eng = Engine(home=home, model=str(clip_dir), settings=Settings(backend=backend))
        assert eng.status()["backend"]["running"] is None  # status never loads the model
        eng.index([photos])
        status = eng.status()["backend"]
        assert status["setting"] == backend and status["running"] == backend
        assert status["precision"] == "float32" or backend == "torch"
        tops[backend] = [
            [Path(h.path).name for h in eng.search_image(query_image, k=3)],
            [Path(h.path).name for h in eng.search("dogs on the beach", k=3)],
        ]
    assert tops["onnx"] == tops["torch"]
    assert tops["onnx"][0][0] == "blue.png"


def test_the_export_is_made_once_and_reused(minilm_dir: Path, home: Path) -> None:
    settings = Settings(backend="onnx")
    first = Engine(home=home, model=str(minilm_dir), settings=settings)
    assert first.load_model()
    files = exported(home)
    assert any(name.endswith("text.onnx") for name in files)
    probe = next(home.glob(f"onnx/*/{PROBE_FILE}"))
    assert json.loads(probe.read_text())["onnx"]["min_cosine"] >= 0.99
    second = Engine(home=home, model=str(minilm_dir), settings=settings)
    assert second.load_model()
    assert exported(home) == files  # nothing exported or probed again
    assert "remembered" in second.status()["backend"]["reason"]
    vec = second.embedder.encode_texts(["hello"])
    assert vec.shape == (1, 384)


def test_missing_onnxruntime_names_the_install_line(
    minilm_dir: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    with pytest.raises(ModelUnavailable, match=r'pip install "scry\[onnx\]"'):
        Embedder(str(minilm_dir), backend="onnx", home=home, download=False).load()
    eng = Engine(home=home, model=str(minilm_dir), settings=Settings(backend="onnx-int8"))
    assert not eng.load_model()  # keyword-only mode, with the reason in the status
    assert 'pip install "scry[onnx]"' in eng.status()["keyword_only"]


def test_gpu_device_keeps_torch_with_the_reason(minilm_dir: Path, home: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from scry.indexer.onnx_backend import setup

    model = SentenceTransformer(str(minilm_dir), device="cpu", local_files_only=True)
    runner, decision = setup(model, minilm_dir, "cuda", "onnx", home)
    assert runner is None and decision.backend == "torch" and "cuda" in decision.reason


def test_a_changed_model_is_exported_again_and_the_old_export_removed(
    clip_dir: Path, tmp_path: Path
) -> None:
    import os
    import shutil

    folder = Path(shutil.copytree(clip_dir, tmp_path / "clip"))
    embedder(folder, "onnx", tmp_path / "home")
    (old,) = (tmp_path / "home" / "onnx").iterdir()
    weights = folder / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    emb = embedder(folder, "onnx", tmp_path / "home")
    (new,) = (tmp_path / "home" / "onnx").iterdir()
    assert new != old and emb.backend_decision.backend == "onnx"
    assert "remembered" not in emb.backend_decision.reason  # probed afresh
