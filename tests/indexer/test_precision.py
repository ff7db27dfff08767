"""bf16 where safe, and the optional ONNX/OpenVINO backends (issue 8, CPU speed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from scry.indexer import precision
from scry.indexer.errors import ModelUnavailable

TEXTS = ["a dog running on the beach", "the tax return is due in April", "mountain hike in fog"]


def load(folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


def encode(model, texts: list[str] = TEXTS) -> np.ndarray:
    return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)


@pytest.fixture
def native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the CPU reports AVX-512-BF16 (the probe and the cast then run for real)."""
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"fpu", "avx512f", "avx512_bf16"})


@pytest.fixture
def no_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"fpu", "avx2", "avx512f", "avx512bw"})


def test_cpu_flag_reader_decides_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"avx2", "amx_bf16", "amx_tile"})
    assert precision.cpu_has_native_bf16()
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"avx2", "avx512f", "avx512bw"})
    assert not precision.cpu_has_native_bf16()


def test_fp32_setting_never_changes_dtype_or_vectors(native_bf16: None, minilm_dir: Path) -> None:
    model = load(minilm_dir)
    before = encode(model)
    decision = precision.apply(model, "cpu", "fp32")
    assert decision.dtype == "float32" and not decision.bf16
    assert model.dtype == torch.float32
    np.testing.assert_array_equal(encode(model), before)


def test_forced_bf16_gives_float32_vectors_close_to_fp32(
    no_native_bf16: None, minilm_dir: Path
) -> None:
    model = load(minilm_dir)
    reference = encode(model)
    decision = precision.apply(model, "cpu", "bf16")
    assert decision.bf16 and model.dtype == torch.bfloat16
    out = encode(model)
    assert out.dtype == np.float32 and out.shape == reference.shape == (3, 384)
    cos = np.sum(out * reference, axis=1)
    assert cos.min() >= 0.99
    # real semantics survive: the beach query still finds the beach sentence
    query = model.encode(["dog playing by the sea"], normalize_embeddings=True)
    assert int(np.argmax(out @ query[0])) == 0


def test_auto_without_native_bf16_stays_fp32(no_native_bf16: None, minilm_dir: Path) -> None:
    model = load(minilm_dir)
    decision = precision.apply(model, "cpu", "auto")
    assert decision.dtype == "float32"
    assert "native bf16" in decision.reason
    assert decision.min_cosine is None  # no probe was run
    assert model.dtype == torch.float32


def test_auto_with_native_bf16_adopts_it_after_probe(
    native_bf16: None, minilm_dir: Path, home: Path
) -> None:
    model = load(minilm_dir)
    reference = encode(model)
    decision = precision.apply(model, "cpu", "auto", home=home, cache_key=str(minilm_dir))
    assert decision.bf16 and model.dtype == torch.bfloat16
    assert decision.min_cosine is not None and decision.min_cosine >= 0.99
    assert np.sum(encode(model) * reference, axis=1).min() >= 0.99
    # the measured cosine is remembered, so the next load skips the probe
    cached = json.loads((home / precision.CACHE_FILE).read_text(encoding="utf-8"))
    assert [v["dtype"] for v in cached.values()] == ["bfloat16"]
    again = precision.apply(load(minilm_dir), "cpu", "auto", home=home, cache_key=str(minilm_dir))
    assert again.bf16 and "remembered" in again.reason


def test_auto_probes_images_of_image_models(native_bf16: None, clip_dir: Path) -> None:
    model = load(clip_dir)
    cos = precision.probe_cosines(model)
    # texts and the synthetic images are both probed; the fp32 model is left untouched
    assert cos.shape == (len(precision.PROBE_TEXTS) + precision.PROBE_IMAGES,)
    assert model.dtype == torch.float32


def test_guard_rejects_bf16_when_tolerance_cannot_be_met(
    native_bf16: None, minilm_dir: Path
) -> None:
    model = load(minilm_dir)
    before = encode(model)
    # bf16 rounding always moves some probe vector: a cosine of exactly 1.0 is never reached
    decision = precision.apply(model, "cpu", "auto", min_cosine=1.0 + 1e-6)
    assert decision.dtype == "float32"
    assert decision.min_cosine is not None and 0.99 <= decision.min_cosine < 1.0 + 1e-6
    assert "drifts" in decision.reason
    # the probe ran on a copy: the fp32 weights (and so the vectors) are exactly as before
    assert model.dtype == torch.float32
    np.testing.assert_array_equal(encode(model), before)


def test_unknown_precision_setting_falls_back_to_auto(
    no_native_bf16: None, minilm_dir: Path
) -> None:
    model = load(minilm_dir)
    assert precision.apply(model, "cpu", "fast please").dtype == "float32"


def test_torch_backend_needs_no_kwargs() -> None:
    assert precision.load_kwargs("torch") == {}
    assert precision.load_kwargs(None) == {}


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ModelUnavailable, match=r"torch, onnx, onnx-int8, openvino"):
        precision.load_kwargs("tensorrt")


def test_image_models_are_refused_by_the_openvino_backend(clip_dir: Path) -> None:
    # scry's own ONNX backend reads images (tests/indexer/test_onnx_backend.py); OpenVINO does not
    with pytest.raises(ModelUnavailable, match=r'"backend": "onnx"'):
        precision.load_kwargs("openvino", clip_dir)


@pytest.mark.parametrize(("backend", "extra"), [("openvino", "openvino")])
def test_onnx_backend_missing_extra_or_working(
    backend: str, extra: str, minilm_dir: Path, tmp_path: Path
) -> None:
    if precision.backend_missing(backend) is not None:
        with pytest.raises(
            ModelUnavailable, match=rf'pip install "sentence-transformers\[{extra}\]"'
        ):
            precision.load_kwargs(backend, minilm_dir)
        return
    from sentence_transformers import SentenceTransformer

    folder = shutil.copytree(minilm_dir, tmp_path / "minilm")  # export writes beside the model
    kwargs = precision.load_kwargs(backend, folder)
    assert kwargs["backend"] == backend
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, **kwargs)
    out = encode(model)
    reference = encode(load(minilm_dir))
    assert out.dtype == np.float32 and np.sum(out * reference, axis=1).min() >= 0.99
