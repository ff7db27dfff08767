"""The hardware chooser: faked machines get the right default; the user's choice always wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from scry.indexer import hardware
from scry.indexer.config import DEFAULT_MODEL, Settings
from scry.indexer.engine import Engine, choose_model
from scry.indexer.hardware import GpuInfo, HardwareInfo, fits, recommend
from scry.indexer.registry import CPU_EMBEDDER, CPU_RERANKER, GPU_EMBEDDER, GPU_RERANKER, lookup
from scry.indexer.rerank import DEFAULT_RERANKER

BIG_CUDA = HardwareInfo(gpus=(GpuInfo("RTX 4090", 24.0, 22.5),), cpu_cores=16, ram_gb=64.0)
SMALL_CUDA = HardwareInfo(gpus=(GpuInfo("GTX 1650", 4.0, 3.6),), cpu_cores=8, ram_gb=16.0)
MPS = HardwareInfo(mps=True, cpu_cores=10, ram_gb=16.0)
CPU_ONLY = HardwareInfo(cpu_cores=4, ram_gb=8.0, cpu_flags=("avx2", "avx512_bf16"))


def test_a_big_cuda_gpu_gets_the_qwen3_vl_pair() -> None:
    assert recommend(BIG_CUDA) == (GPU_EMBEDDER, GPU_RERANKER)


@pytest.mark.parametrize("info", [SMALL_CUDA, MPS, CPU_ONLY], ids=["small-cuda", "mps", "cpu"])
def test_everything_else_gets_the_cpu_pair(info: HardwareInfo) -> None:
    assert recommend(info) == (CPU_EMBEDDER, CPU_RERANKER)
    assert (CPU_EMBEDDER, CPU_RERANKER) == (DEFAULT_MODEL, DEFAULT_RERANKER)


def test_missing_gpu_packages_fall_back_to_the_cpu_pair() -> None:
    assert recommend(BIG_CUDA, have_package=lambda p: p != "torchvision") == (
        CPU_EMBEDDER,
        CPU_RERANKER,
    )


def test_fits_says_why() -> None:
    big, clip = lookup("Qwen/Qwen3-VL-Embedding-8B"), lookup(DEFAULT_MODEL)
    assert fits(big, BIG_CUDA)[0]
    ok, why = fits(big, SMALL_CUDA)
    assert not ok and "GPU memory" in why and "4 GB" in why
    ok, why = fits(big, MPS)
    assert not ok and "CUDA" in why
    assert fits(clip, CPU_ONLY) == (True, "runs on the CPU (4 cores)")
    assert CPU_ONLY.native_bf16 and not MPS.native_bf16


def test_detect_describes_this_machine() -> None:
    info = hardware.detect()
    assert info.cpu_cores >= 1
    assert info.ram_gb is None or info.ram_gb > 0
    assert set(info.as_json()) >= {"gpus", "mps", "cpu_cores", "ram_gb", "cpu_flags"}


@pytest.fixture
def big_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "_detected", BIG_CUDA)
    monkeypatch.setattr(hardware, "package_available", lambda _name: True)


def test_the_hardware_default_applies_only_when_nothing_is_chosen(
    big_gpu: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SCRY_MODEL", raising=False)
    assert choose_model(None, Settings(), tmp_path) == GPU_EMBEDDER
    assert choose_model("my/model", Settings(model="other/model")) == "my/model"
    assert choose_model(None, Settings(model="other/model")) == "other/model"
    monkeypatch.setenv("SCRY_MODEL", "env/model")
    assert choose_model(None, Settings(model="other/model")) == "env/model"
    assert choose_model("cli/model", Settings()) == "cli/model"


def test_an_existing_index_keeps_its_model(
    big_gpu: None, home: Path, photos: Path, clip_dir: Path
) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([photos])
    eng.close()
    # a later run with no choice at all, on a machine whose hardware default differs
    again = Engine(home=home)
    try:
        assert again.model_name == str(clip_dir)
        assert again.search("dogs")  # and it still answers from the same index
    finally:
        again.close()
