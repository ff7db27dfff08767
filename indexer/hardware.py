"""What this machine can run: GPUs and their memory, Apple MPS, CPU cores, RAM, CPU flags.

:func:`detect` looks (torch, /proc, os); :func:`recommend` and :func:`fits` are pure functions of
a :class:`HardwareInfo`, so tests (and a settings dialog) can ask "what would a 24 GB GPU get?"
without one.

Example:
    >>> info = HardwareInfo(cpu_cores=8, ram_gb=16.0)
    >>> recommend(info)
    ('laion/CLIP-ViT-B-32-laion2B-s34B-b79K', 'cross-encoder/ms-marco-MiniLM-L6-v2')
    >>> recommend(HardwareInfo(gpus=(GpuInfo("RTX 4090", 24.0, 23.0),)))[0]
    'Qwen/Qwen3-VL-Embedding-2B'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .registry import (
    CPU_EMBEDDER,
    CPU_RERANKER,
    GPU_EMBEDDER,
    GPU_RERANKER,
    ModelEntry,
    lookup,
    package_available,
)

log = logging.getLogger(__name__)

#: GPU memory kept free for the desktop, CUDA context and fragmentation.
GPU_HEADROOM_GB = 1.0
#: RAM a CPU model may take, as a share of the machine's RAM (the rest is the user's).
CPU_RAM_SHARE = 0.5


@dataclass(frozen=True)
class GpuInfo:
    name: str
    total_gb: float
    free_gb: float


@dataclass(frozen=True)
class HardwareInfo:
    gpus: tuple[GpuInfo, ...] = ()
    mps: bool = False
    cpu_cores: int = 1
    ram_gb: float | None = None
    cpu_flags: tuple[str, ...] = field(default=())

    @property
    def cuda(self) -> bool:
        return bool(self.gpus)

    @property
    def best_gpu(self) -> GpuInfo | None:
        return max(self.gpus, key=lambda g: g.total_gb, default=None)

    @property
    def native_bf16(self) -> bool:
        """The CPU computes bf16 natively (AVX-512-BF16 or AMX)."""
        return any(f in self.cpu_flags for f in ("avx512_bf16", "amx_bf16"))

    def as_json(self) -> dict:
        d = asdict(self)
        d["gpus"] = [asdict(g) for g in self.gpus]
        d["cpu_flags"] = [f for f in self.cpu_flags if f.startswith(("avx", "amx", "neon"))]
        return d


def detect() -> HardwareInfo:
    """This machine's devices. Never raises: what cannot be read is left out."""
    gpus: list[GpuInfo] = []
    mps = False
    try:
        import torch

        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                name = torch.cuda.get_device_name(i)
                try:
                    free, total = torch.cuda.mem_get_info(i)
                except RuntimeError:
                    total = torch.cuda.get_device_properties(i).total_memory
                    free = total
                gpus.append(GpuInfo(name, round(total / 2**30, 1), round(free / 2**30, 1)))
        backend = getattr(torch.backends, "mps", None)
        mps = bool(backend is not None and backend.is_available())
    except Exception as exc:  # a broken CUDA install must not stop scry
        log.info("Could not query GPUs: %s", exc)
    return HardwareInfo(
        gpus=tuple(gpus),
        mps=mps,
        cpu_cores=_cpu_cores(),
        ram_gb=_ram_gb(),
        cpu_flags=_cpu_flags(),
    )


def _cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (AttributeError, ValueError, OSError):
        return None


def _cpu_flags() -> tuple[str, ...]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    return tuple(sorted(set(line.split(":", 1)[1].split())))
    except OSError:
        pass
    return ()


def fits(entry: ModelEntry, info: HardwareInfo) -> tuple[bool, str]:
    """Whether ``entry`` can run here at a usable speed, and why (a short sentence)."""
    gpu = info.best_gpu
    if entry.device == "cuda":
        if gpu is None:
            extra = " (Apple MPS may run it, slowly)" if info.mps else ""
            return False, f"needs a CUDA GPU with {entry.memory_gb:g} GB; none found{extra}"
        room = gpu.total_gb - GPU_HEADROOM_GB
        if room < entry.memory_gb:
            return False, (
                f"needs {entry.memory_gb:g} GB of GPU memory; {gpu.name} has {gpu.total_gb:g} GB"
            )
        return True, f"fits {gpu.name} ({gpu.total_gb:g} GB)"
    if gpu is not None and gpu.total_gb - GPU_HEADROOM_GB >= entry.memory_gb:
        return True, f"fits {gpu.name}; also runs on the CPU"
    if info.ram_gb is not None and info.ram_gb * CPU_RAM_SHARE < entry.memory_gb:
        return False, f"needs {entry.memory_gb:g} GB of RAM; this machine has {info.ram_gb:g} GB"
    return True, f"runs on the CPU ({info.cpu_cores} cores)"


def recommend(
    info: HardwareInfo, *, have_package: Callable[[str], bool] | None = None
) -> tuple[str, str]:
    """The (embedder, reranker) pair for this hardware.

    A CUDA GPU with room for both Qwen3-VL 2B models gets them; anything else gets the CPU pair.
    ``have_package`` (default: everything importable) lets the caller fall back to the CPU pair
    when the GPU models' extra packages are missing, so the default always loads.
    """
    have = have_package or (lambda _name: True)
    emb, rer = lookup(GPU_EMBEDDER), lookup(GPU_RERANKER)
    gpu = info.best_gpu
    if emb is not None and rer is not None and gpu is not None:
        need = emb.memory_gb + rer.memory_gb
        pkgs = set(emb.extra_packages) | set(rer.extra_packages)
        if gpu.total_gb - GPU_HEADROOM_GB >= need and all(have(p) for p in pkgs):
            return GPU_EMBEDDER, GPU_RERANKER
    return CPU_EMBEDDER, CPU_RERANKER


_detected: HardwareInfo | None = None


def detected() -> HardwareInfo:
    """:func:`detect`, once per process (the hardware does not change while scry runs)."""
    global _detected
    if _detected is None:
        _detected = detect()
    return _detected


def default_models() -> tuple[str, str]:
    """The hardware default for this machine, falling back when extra packages are missing."""
    return recommend(detected(), have_package=package_available)
