"""scry's own ONNX Runtime backend for the embedder's towers (settings ``"backend": "onnx"``).

sentence-transformers' ``backend="onnx"`` needs optimum-onnx (which pins an older transformers)
and loads text-only models, so scry exports the towers itself with ``torch.onnx.export`` and runs
them with ONNX Runtime. Only the forward passes move: tokenizer and image processor stay
sentence-transformers' own (``model.preprocess``), so inputs are prepared exactly as on torch.

What is exported is the loaded model's own module chain (the ``Transformer`` module calling
``get_text_features``/``get_image_features`` for CLIP-style dual encoders, or the text model
followed by its ``Pooling``), one graph per modality (``text.onnx``, ``image.onnx``), into
``<data home>/onnx/<model>-<key>/``; ``onnx-int8`` adds dynamically quantized copies
(per-channel int8 weights). Each file is written to a temp name and renamed.

A guard decides whether ONNX is used: a fixed probe set (the texts and seeded synthetic images of
:mod:`.precision`) is encoded by torch and by ONNX Runtime, and ONNX is adopted only if every probe
vector is within cosine 0.99 of torch; otherwise torch keeps running and the reason is logged and
kept in :class:`BackendDecision`. The measured cosine is remembered in ``probe.json`` beside the
export, so later loads skip the probe. Inputs the export does not cover (other modalities,
combined text+image, video) keep using torch.

Example:
    >>> runner, decision = build(model, folder, "onnx", home=data_home())  # doctest: +SKIP
    >>> decision.backend, decision.min_cosine  # doctest: +SKIP
    ('onnx', 0.99999)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import atomic_write_text

log = logging.getLogger(__name__)

ONNX_BACKENDS = ("onnx", "onnx-int8")
MODALITIES = ("text", "image")
PROBE_FILE = "probe.json"
FORMAT = "scry-onnx-1"  # bump when the export recipe changes: old exports are then ignored
_SKIP_KEYS = frozenset({"modality", "prompt_length"})


@dataclass(frozen=True)
class BackendDecision:
    """Which backend runs the embedder's towers, why, and the worst probe cosine to torch.

    ``backend`` is what runs (``torch``, ``onnx`` or ``onnx-int8``); ``requested`` is the setting.
    ``min_cosine`` is None when nothing was measured.
    """

    backend: str
    requested: str
    reason: str
    min_cosine: float | None = None

    @property
    def onnx(self) -> bool:
        return self.backend in ONNX_BACKENDS


class _Unsupported(Exception):
    """The model's structure cannot be exported; the message says why (torch keeps running)."""


def _graph(model: Any, modality: str, names: list[str]) -> Any:
    """The loaded model's forward pass for one modality, with the tensor inputs as arguments."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            features: dict[str, Any] = dict(zip(names, tensors, strict=True))
            features["modality"] = modality
            return self.st(features)["sentence_embedding"]

    return Graph()


def _features(model: Any, inputs: list[Any], prompt: str | None = None) -> tuple[str, dict]:
    """``model.preprocess`` output split into its modality and its tensor inputs (as numpy)."""
    import torch

    feats = model.preprocess(inputs, prompt=prompt) if prompt else model.preprocess(inputs)
    modality = str(feats.get("modality", "text"))
    arrays = {
        k: v.cpu().numpy()
        for k, v in feats.items()
        if k not in _SKIP_KEYS and isinstance(v, torch.Tensor)
    }
    return modality, arrays


def _check_structure(model: Any) -> list[str]:
    """The modalities whose towers can be exported; raises :class:`_Unsupported` otherwise."""
    modules = list(model)
    first = modules[0] if modules else None
    config = getattr(first, "modality_config", None)
    if getattr(first, "model", None) is None or not isinstance(config, dict):
        raise _Unsupported("the model does not start with a Hugging Face Transformer module")
    for module in modules[1:]:
        kind = type(module).__name__
        if kind not in ("Pooling", "Normalize", "Dense"):
            raise _Unsupported(f"its {kind} module is not exported by scry")
        prompts = getattr(model, "prompts", None) or {}
        if (
            kind == "Pooling"
            and not getattr(module, "include_prompt", True)
            and any(prompts.values())
        ):
            raise _Unsupported("its pooling excludes prompts")
    mods = [m for m in MODALITIES if m in model.modalities and m in config]
    if not mods:
        raise _Unsupported("it reads neither plain text nor images")
    return mods


def _weights_key(folder: Path) -> str:
    """The model folder, its weights' sizes and mtimes, torch and ONNX Runtime versions."""
    import onnxruntime
    import torch

    parts = [FORMAT, str(folder.resolve()), torch.__version__, onnxruntime.__version__]
    for p in sorted(folder.glob("*")):
        if p.suffix in (".safetensors", ".bin", ".json") and p.is_file():
            st = p.stat()
            parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def export_dir(home: Path, folder: Path) -> Path:
    """``<home>/onnx/<readable model name>-<key>``: a changed model or library gets a new one."""
    hub = [p.removeprefix("models--") for p in folder.parts if p.startswith("models--")]
    label = hub[-1] if hub else "-".join(folder.parts[-2:])  # Hugging Face cache, or a folder
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", label)[-60:] or "model"
    return home / "onnx" / f"{name}-{_weights_key(folder)}"


def _prune_stale(directory: Path) -> None:
    """Remove exports of earlier versions of the same model (older weights, torch or ORT)."""
    import shutil

    name = directory.name.rsplit("-", 1)[0]
    for old in directory.parent.glob(f"{name}-*"):
        if old != directory and re.fullmatch(r"[0-9a-f]{16}", old.name[len(name) + 1 :]):
            log.info("Removing the stale ONNX export %s", old)
            shutil.rmtree(old, ignore_errors=True)


def _sample(modality: str) -> list[Any]:
    from .precision import _probe_images

    return ["a photo of a dog", "tax"] if modality == "text" else _probe_images(2)


def _export(model: Any, modality: str, path: Path) -> None:
    """Trace ``modality``'s forward pass into ``path`` (temp file + rename)."""
    import torch

    _, feeds = _features(model, _sample(modality))
    names = sorted(feeds)
    text = modality == "text"
    axes = {
        n: {0: "batch", 1: "tokens"} if text and feeds[n].ndim == 2 else {0: "batch"} for n in names
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about python-level control flow
            torch.onnx.export(
                _graph(model, modality, names).eval(),
                tuple(torch.from_numpy(feeds[n]) for n in names),
                str(tmp),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes=axes | {"embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize(src: Path, dst: Path) -> None:
    """Dynamic int8 (per-channel weights, reduced range: the closest recipe in the bench)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")
    quant_log = logging.getLogger()  # quantize_dynamic's "run pre-processing first" hint
    level = quant_log.level
    quant_log.setLevel(max(level, logging.ERROR))
    try:
        quantize_dynamic(
            str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True
        )
        os.replace(tmp, dst)
    finally:
        quant_log.setLevel(level)
        tmp.unlink(missing_ok=True)


class OnnxRunner:
    """Runs the exported towers with ONNX Runtime; preprocessing stays the model's own."""

    def __init__(self, model: Any, sessions: dict[str, Any]) -> None:
        self.model = model
        self.sessions = sessions

    def encode_texts(
        self, texts: list[str], *, query: bool = False, batch_size: int = 32
    ) -> np.ndarray | None:
        """Like ``encode_query``/``encode_document``: the same prompt choice as sentence-transformers."""
        prompts = getattr(self.model, "prompts", None) or {}
        names = ("query",) if query else ("document", "passage", "corpus")
        name = next((n for n in names if n in prompts), None)
        name = name or getattr(self.model, "default_prompt_name", None)
        return self.encode(texts, batch_size=batch_size, prompt=prompts.get(name) if name else None)

    def encode(
        self, inputs: list[Any], *, batch_size: int = 32, prompt: str | None = None
    ) -> np.ndarray | None:
        """Normalised float32 vectors, or None when a batch is of a modality not exported."""
        if not inputs:
            return None
        parts = []
        for i in range(0, len(inputs), max(1, batch_size)):
            modality, feeds = _features(self.model, inputs[i : i + batch_size], prompt)
            session = self.sessions.get(modality)
            if session is None:
                return None
            wanted = [x.name for x in session.get_inputs()]
            parts.append(session.run(None, {n: feeds[n] for n in wanted})[0])
        out = np.concatenate(parts).astype(np.float32)
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _probe_cosine(model: Any, runner: OnnxRunner, modalities: list[str]) -> float:
    """The worst cosine between torch's and ONNX Runtime's vectors over the probe set."""
    from .precision import PROBE_TEXTS, _encode, _probe_images

    worst = 1.0
    for modality in modalities:
        data = list(PROBE_TEXTS) if modality == "text" else _probe_images()
        ref = _encode(model, data)
        got = runner.encode(data, batch_size=len(data))
        if got is None:
            return 0.0
        worst = min(worst, float(np.sum(ref * got, axis=1).min()))
    return worst


def _read_probe(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / PROBE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def setup(
    model: Any, folder: Path, device: str, backend: str | None, home: Path | None
) -> tuple[OnnxRunner | None, BackendDecision]:
    """The runner for the ``backend`` setting (None unless an ONNX backend is adopted)."""
    name = (backend or "torch").strip().lower()
    if name not in ONNX_BACKENDS:
        return None, BackendDecision(name, name, f"backend set to {name}")
    if not str(device).startswith("cpu"):
        reason = f"the ONNX backend runs on the CPU and the model runs on {device}"
        log.warning("ONNX backend not used, the embedder runs on torch: %s", reason)
        return None, BackendDecision("torch", name, reason)
    if home is None:
        from .config import data_home

        home = data_home()
    return build(model, folder, name, home=home)


def build(
    model: Any,
    folder: Path,
    backend: str,
    *,
    home: Path,
    threads: int | None = None,
    min_cosine: float = 0.99,
) -> tuple[OnnxRunner | None, BackendDecision]:
    """Export (once), check and open the ONNX towers of a loaded float32 torch ``model``.

    Returns the runner (None when torch keeps running) and the decision. Never raises for a
    model that cannot be exported or does not hold the cosine: torch runs and the reason says why.
    """
    import torch

    def torch_runs(reason: str, cos: float | None = None) -> tuple[None, BackendDecision]:
        log.warning("ONNX backend not used, the embedder runs on torch: %s", reason)
        return None, BackendDecision("torch", backend, reason, cos)

    try:
        modalities = _check_structure(model)
    except _Unsupported as exc:
        return torch_runs(f"the model cannot be exported: {exc}")
    directory = export_dir(home, Path(folder))
    probe = _read_probe(directory)
    remembered = probe.get(backend, {}).get("min_cosine") if isinstance(probe, dict) else None
    if isinstance(remembered, int | float) and remembered < min_cosine:
        return torch_runs(f"remembered probe cosine {remembered:.5f} < {min_cosine}", remembered)
    suffix = "_int8" if backend == "onnx-int8" else ""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        sessions = {}
        for modality in modalities:
            fp32 = directory / f"{modality}.onnx"
            if not fp32.is_file():
                log.info("Exporting the %s tower to ONNX in %s", modality, directory)
                _export(model, modality, fp32)
                _prune_stale(directory)
            path = directory / f"{modality}{suffix}.onnx"
            if not path.is_file():
                _quantize(fp32, path)
            sessions[modality] = _session(path, threads or torch.get_num_threads())
    except Exception as exc:  # export/quantize/load failures are a fallback, never a crash
        return torch_runs(f"the ONNX export failed ({type(exc).__name__}: {str(exc)[:200]})")
    runner = OnnxRunner(model, sessions)
    if isinstance(remembered, int | float):
        worst, how = float(remembered), "remembered probe cosine"
    else:
        worst, how = _probe_cosine(model, runner, modalities), "probe cosine"
        probe[backend] = {"min_cosine": worst}
        try:
            atomic_write_text(directory / PROBE_FILE, json.dumps(probe, indent=1, sort_keys=True))
        except OSError as exc:
            log.warning("Could not remember the ONNX probe cosine in %s: %s", directory, exc)
    if worst < min_cosine:
        return torch_runs(f"{backend} drifts from torch: {how} {worst:.5f} < {min_cosine}", worst)
    reason = f"{backend} for {'+'.join(modalities)}, {how} {worst:.5f} >= {min_cosine}"
    log.info("Embedder backend: %s", reason)
    return runner, BackendDecision(backend, backend, reason, worst)
