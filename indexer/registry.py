"""The model lineup: every embedder and reranker scry knows by name, with what it needs to run.

Each :class:`ModelEntry` says what a model reads (modalities), how big it is, what memory it
needs on its recommended device, its license (and whether that allows commercial use), and what
loading it takes: ``trust_remote_code``, a pinned revision, extra pip packages. scry checks the
extra packages before loading, so a missing one is a one-line ``pip install`` message instead of
a traceback from deep inside transformers.

Facts come from the model cards and the sentence-transformers / transformers documentation
(read in 2026). Numbers marked ``estimate=True`` (memory, sometimes parameters) are derived: bf16
weights plus working room on a GPU, fp32 weights plus working room on a CPU. Any model not listed
here (a local folder, another hub id) still works; it simply has no entry.

Example:
    >>> lookup("Qwen/Qwen3-VL-Embedding-2B").dimension
    2048
    >>> [e.id for e in entries(kind="rerank") if not e.license.commercial_use]
    ['jinaai/jina-reranker-m0']
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .config import DEFAULT_MODEL

log = logging.getLogger(__name__)

KINDS = ("embed", "rerank")
MODALITIES = ("text", "image", "video", "audio")
DEVICES = ("cpu", "cuda")

#: The CPU pair every machine can run; the default when no GPU fits anything bigger.
CPU_EMBEDDER = DEFAULT_MODEL
CPU_RERANKER = "cross-encoder/ms-marco-MiniLM-L6-v2"
#: The pair chosen on a CUDA GPU with enough memory for both.
GPU_EMBEDDER = "Qwen/Qwen3-VL-Embedding-2B"
GPU_RERANKER = "Qwen/Qwen3-VL-Reranker-2B"

# Import name of a pip package where the two differ.
_IMPORT_NAMES = {"qwen-vl-utils": "qwen_vl_utils", "flash-attn": "flash_attn"}


@dataclass(frozen=True)
class License:
    name: str  # SPDX id where one exists, else the license's own name
    commercial_use: bool
    url: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """One model of the lineup. ``memory_gb`` is for its recommended ``device``."""

    id: str
    kind: str  # embed | rerank
    modalities: tuple[str, ...]
    dimension: int | None  # vector size for embedders; None for rerankers
    parameters_m: int  # millions of parameters
    memory_gb: float
    license: License
    device: str  # recommended: cpu | cuda
    summary: str
    trust_remote_code: bool = False
    revision: str | None = None
    extra_packages: tuple[str, ...] = ()
    #: processor_kwargs worth knowing for this model: name -> what it does, with an example
    processor_kwargs: tuple[tuple[str, str], ...] = ()
    notes: str = ""
    estimate: bool = True  # memory (and parameters where noted) derived, not measured
    aliases: tuple[str, ...] = field(default=())

    def missing_packages(self) -> list[str]:
        """The extra pip packages that are not importable here."""
        return [p for p in self.extra_packages if not package_available(p)]

    def pip_line(self) -> str:
        return "pip install " + " ".join(self.missing_packages() or self.extra_packages)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "modalities": list(self.modalities),
            "dimension": self.dimension,
            "parameters_m": self.parameters_m,
            "memory_gb": self.memory_gb,
            "device": self.device,
            "license": self.license.name,
            "commercial_use": self.license.commercial_use,
            "trust_remote_code": self.trust_remote_code,
            "revision": self.revision,
            "extra_packages": list(self.extra_packages),
            "processor_kwargs": dict(self.processor_kwargs),
            "summary": self.summary,
            "notes": self.notes,
            "estimate": self.estimate,
        }


def package_available(pip_name: str) -> bool:
    name = _IMPORT_NAMES.get(pip_name, pip_name.replace("-", "_"))
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


MIT = License("MIT", True, "https://opensource.org/license/mit")
APACHE = License("Apache-2.0", True, "https://www.apache.org/licenses/LICENSE-2.0")
NVIDIA_OPEN = License(
    "NVIDIA-Open-Model-License (+ Llama 3.2 Community License)",
    True,
    "https://www.nvidia.com/en-us/agreements/enterprise-software/nvidia-open-model-license/",
)
NVIDIA_NONCOMMERCIAL = License("NVIDIA-OneWay-Noncommercial (+ Qwen Research License)", False, "")
CC_BY_NC = License("CC-BY-NC-4.0", False, "https://creativecommons.org/licenses/by-nc/4.0/")

_QWEN_VL_KWARGS = (
    ("max_pixels", "upper bound on pixels per image; lower is faster, e.g. 602112 (~768x784)"),
    ("min_pixels", "lower bound on pixels per image, e.g. 3136 (56x56)"),
    ("fps", "video frames sampled per second, e.g. 1.0"),
    ("max_frames", "upper bound on frames read from one video, e.g. 64"),
)

ENTRIES: tuple[ModelEntry, ...] = (
    # ------------------------------------------------------------------ embedders
    ModelEntry(
        id="laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        kind="embed",
        modalities=("text", "image"),
        dimension=512,
        parameters_m=151,
        memory_gb=1.0,
        license=MIT,
        device="cpu",
        summary="CLIP ViT-B/32 trained on LAION-2B: the CPU default, fast on any laptop.",
        notes="Videos are indexed as sampled frames. Images are resized to 224 px; "
        "no processor_kwargs needed. Text is cut at 77 tokens.",
    ),
    ModelEntry(
        id="google/siglip2-base-patch16-224",
        kind="embed",
        modalities=("text", "image"),
        dimension=768,
        parameters_m=375,
        memory_gb=2.0,
        license=APACHE,
        device="cpu",
        summary="SigLIP 2 base: clearly better retrieval than CLIP B/32, about 4x its compute.",
        processor_kwargs=(
            ("max_length", "text tokens; SigLIP was trained on 64, e.g. 64"),
            ("padding", 'SigLIP expects "max_length" padding for text'),
        ),
        notes="The stronger CPU option. 375 M parameters includes the large (256k) Gemma "
        "vocabulary of the text tower; the image tower is a ViT-B/16 (86 M). Sampled video frames.",
    ),
    ModelEntry(
        id="BAAI/BGE-VL-base",
        kind="embed",
        modalities=("text", "image"),
        dimension=512,
        parameters_m=150,
        memory_gb=1.0,
        license=MIT,
        device="cpu",
        summary="CLIP ViT-B/16 fine-tuned on MegaPairs: good for text+image (composed) queries.",
        trust_remote_code=True,
        notes="Needs trust_remote_code (the card loads it through AutoModel with custom code, "
        "tested by BAAI on transformers 4.45); loading through sentence-transformers is not "
        "verified here. English only.",
    ),
    ModelEntry(
        id="BAAI/BGE-VL-large",
        kind="embed",
        modalities=("text", "image"),
        dimension=768,
        parameters_m=428,
        memory_gb=2.5,
        license=MIT,
        device="cpu",
        summary="CLIP ViT-L/14 fine-tuned on MegaPairs: stronger than -base, ~10x the compute.",
        trust_remote_code=True,
        notes="As BGE-VL-base: custom code, English only. Runs on a CPU but is slow for "
        "large photo libraries; a GPU helps.",
    ),
    ModelEntry(
        id="nvidia/llama-nemotron-embed-vl-1b-v2",
        kind="embed",
        modalities=("text", "image"),
        dimension=2048,
        parameters_m=1700,
        memory_gb=6.0,
        license=NVIDIA_OPEN,
        device="cuda",
        summary="Eagle 2 VLM (SigLIP 2 + Llama 3.2 1B) for document pages, charts, screenshots.",
        trust_remote_code=True,
        extra_packages=("timm", "einops"),
        processor_kwargs=(
            ("max_input_tiles", "image tiles per page (up to 6 plus a thumbnail), e.g. 6"),
        ),
        notes="Built for question-answer retrieval over document pages; photos work but are not "
        "its strength. Extra packages are what its remote code imports (check the card).",
    ),
    ModelEntry(
        id="nvidia/omni-embed-nemotron-3b",
        kind="embed",
        modalities=("text", "image", "audio", "video"),
        dimension=2048,
        parameters_m=4700,
        memory_gb=12.0,
        license=NVIDIA_NONCOMMERCIAL,
        device="cuda",
        summary="Qwen2.5-Omni thinker as an embedder: text, image, audio and video in one space.",
        trust_remote_code=True,
        extra_packages=("torchvision",),
        processor_kwargs=_QWEN_VL_KWARGS[:3],
        notes="Research and development only (non-commercial license). Parameters as reported "
        "by NVIDIA (4.7 B including the audio and vision encoders).",
    ),
    ModelEntry(
        id="Qwen/Qwen3-VL-Embedding-2B",
        kind="embed",
        modalities=("text", "image", "video"),
        dimension=2048,
        parameters_m=2100,
        memory_gb=8.0,
        license=APACHE,
        device="cuda",
        summary="Qwen3-VL embedder: text, images, screenshots and videos; the GPU default.",
        extra_packages=("torchvision",),
        processor_kwargs=_QWEN_VL_KWARGS,
        notes="Gets videos whole (frames sampled by its processor). ~8 GB of GPU memory per the "
        "sentence-transformers blog; the Qwen processors need torchvision (qwen-vl-utils is only "
        "for Qwen's own scripts). Matryoshka: vectors can be truncated (truncate_dim).",
    ),
    ModelEntry(
        id="Qwen/Qwen3-VL-Embedding-8B",
        kind="embed",
        modalities=("text", "image", "video"),
        dimension=4096,
        parameters_m=8000,
        memory_gb=20.0,
        license=APACHE,
        device="cuda",
        summary="The 8B Qwen3-VL embedder: best quality of the lineup, needs a large GPU.",
        extra_packages=("torchvision",),
        processor_kwargs=_QWEN_VL_KWARGS,
        notes="~20 GB of GPU memory per the sentence-transformers blog.",
    ),
    # ------------------------------------------------------------------ rerankers
    ModelEntry(
        id="cross-encoder/ms-marco-MiniLM-L6-v2",
        kind="rerank",
        modalities=("text",),
        dimension=None,
        parameters_m=23,
        memory_gb=0.3,
        license=APACHE,
        device="cpu",
        summary="Small text cross-encoder (MS MARCO): reranks document text on any CPU.",
        processor_kwargs=(("model_max_length", "tokens per (query, passage) pair, e.g. 512"),),
        notes="Text only: photos keep their first-stage order.",
    ),
    ModelEntry(
        id="Qwen/Qwen3-VL-Reranker-2B",
        kind="rerank",
        modalities=("text", "image", "video"),
        dimension=None,
        parameters_m=2100,
        memory_gb=8.0,
        license=APACHE,
        device="cuda",
        summary="Qwen3-VL reranker: scores text, image and video candidates; the GPU default.",
        extra_packages=("torchvision",),
        processor_kwargs=_QWEN_VL_KWARGS[:2],
        notes="Set rerank_photos to let it reorder photos too (it helps documents most).",
    ),
    ModelEntry(
        id="Qwen/Qwen3-VL-Reranker-8B",
        kind="rerank",
        modalities=("text", "image", "video"),
        dimension=None,
        parameters_m=8000,
        memory_gb=20.0,
        license=APACHE,
        device="cuda",
        summary="The 8B Qwen3-VL reranker: the best reranking quality, needs a large GPU.",
        extra_packages=("torchvision",),
        processor_kwargs=_QWEN_VL_KWARGS[:2],
    ),
    ModelEntry(
        id="nvidia/llama-nemotron-rerank-vl-1b-v2",
        kind="rerank",
        modalities=("text", "image"),
        dimension=None,
        parameters_m=1700,
        memory_gb=6.0,
        license=NVIDIA_OPEN,
        device="cuda",
        summary="Eagle 2 VLM cross-encoder for document pages (image, text or both).",
        trust_remote_code=True,
        extra_packages=("timm", "einops"),
        processor_kwargs=(("max_input_tiles", "image tiles per page, e.g. 6"),),
        notes="Scores are raw logits. Extra packages are what its remote code imports.",
    ),
    ModelEntry(
        id="jinaai/jina-reranker-m0",
        kind="rerank",
        modalities=("text", "image"),
        dimension=None,
        parameters_m=2400,
        memory_gb=8.0,
        license=CC_BY_NC,
        device="cuda",
        summary="Qwen2-VL-2B reranker for visual documents in 29 languages.",
        trust_remote_code=True,
        extra_packages=("torchvision",),
        processor_kwargs=_QWEN_VL_KWARGS[:2],
        notes="NON-COMMERCIAL license (CC BY-NC 4.0): personal use only unless you buy a "
        "commercial license from Jina AI.",
    ),
)

_BY_ID = {e.id.lower(): e for e in ENTRIES}
for _e in ENTRIES:
    for _a in _e.aliases:
        _BY_ID[_a.lower()] = _e


def entries(kind: str | None = None) -> list[ModelEntry]:
    """The lineup (embedders first), optionally only one ``kind``."""
    return [e for e in ENTRIES if kind is None or e.kind == kind]


def lookup(name: str | None) -> ModelEntry | None:
    """The entry for a hub id (case-insensitive), or for a local folder named like one.

    A folder ``.../Qwen3-VL-Embedding-2B`` (``pull --to`` names folders so) or a Hugging Face
    cache folder ``models--Qwen--Qwen3-VL-Embedding-2B/snapshots/<sha>`` maps to its entry, so an
    offline copy gets the same checks and loading options as the hub id.
    """
    if not name:
        return None
    hit = _BY_ID.get(name.lower())
    if hit is not None:
        return hit
    path = Path(name)
    for part in reversed(path.parts):
        if part.startswith("models--"):
            hit = _BY_ID.get(part[len("models--") :].replace("--", "/").lower())
            if hit is not None:
                return hit
    base = path.name.lower()
    matches = [e for e in ENTRIES if e.id.split("/")[-1].lower() == base]
    return matches[0] if len(matches) == 1 else None
