"""The embedding model layer over sentence-transformers.

One :class:`Embedder` wraps a ``SentenceTransformer`` loaded lazily from a Hugging Face id or a
local folder. It reports which modalities the model reads (``model.modalities``), encodes images
and texts into L2-normalised float32 vectors, and splits long texts into passages that fit the
model's sequence length.

The first use of a hub model downloads it with a progress bar into the Hugging Face cache. When
that is impossible (offline and not cached) :class:`ModelUnavailable` says so and names the fixes;
the engine then keeps working in keyword-only mode.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelUnavailable
from .extract import split_by_chars
from .modelfiles import (  # noqa: F401  (re-exported: rerank, engine, app import them here)
    _short,
    indexed_model,
    pinned_revision,
    pull_model,
    resolve_model_files,
)
from .registry import ModelEntry, lookup

log = logging.getLogger(__name__)

#: A video is many frames: video batches are this many times smaller than image batches.
VIDEO_BATCH_DIVISOR = 16


def pick_device(preferred: str | None = None) -> str:
    """``preferred`` when given, else cuda, then Apple's mps, then cpu."""
    if preferred:
        return preferred
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def merged_processor_kwargs(settings: Any) -> dict[str, Any]:
    """``settings.processor_kwargs`` over the older ``tokenizer_kwargs`` (the newer name wins)."""
    merged: dict[str, Any] = {}
    for name in ("tokenizer_kwargs", "processor_kwargs"):
        value = getattr(settings, name, None)
        if isinstance(value, dict):
            merged.update(value)
    return merged


def load_options(name: str, role: str = "embedding") -> dict[str, Any]:
    """Loading options the registry asks for (remote code), after checking extra packages.

    Raises:
        ModelUnavailable: the model needs pip packages that are not installed; the message has
            the exact ``pip install`` line.
    """
    entry = lookup(name)
    if entry is None:
        return {}
    check_packages(entry, role)
    return {"trust_remote_code": True} if entry.trust_remote_code else {}


def check_packages(entry: ModelEntry, role: str = "embedding") -> None:
    missing = entry.missing_packages()
    if missing:
        raise ModelUnavailable(
            f"The {role} model {entry.id} needs the Python package"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}, which "
            f"{'are' if len(missing) > 1 else 'is'} not installed. Install "
            f"{'them' if len(missing) > 1 else 'it'} into scry's environment with "
            f"`{entry.pip_line()}`, or choose another model (scry models list)."
        )


@dataclass(frozen=True)
class ModelInfo:
    name: str
    dimension: int
    modalities: tuple[str, ...]
    device: str
    max_seq_length: int


class Embedder:
    """A lazily loaded sentence-transformers model.

    Example:
        >>> emb = Embedder("/path/to/clip-folder")  # doctest: +SKIP
        >>> emb.encode_texts(["a dog on a beach"], query=True).shape  # doctest: +SKIP
        (1, 512)
    """

    def __init__(
        self,
        name: str,
        *,
        device: str | None = None,
        batch_size: int = 32,
        download: bool = True,
        model_kwargs: dict[str, Any] | None = None,
        processor_kwargs: dict[str, Any] | None = None,
        precision: str = "auto",
        backend: str = "torch",
        home: Path | None = None,
    ) -> None:
        self.name = name
        self._precision, self._backend, self._home = precision, backend, home
        #: how the weights run on this device (``precision.Decision``), known once loaded
        self.precision_decision: Any = None
        #: which backend runs the towers (``onnx_backend.BackendDecision``), known once loaded
        self.backend_decision: Any = None
        self._onnx: Any = None  # the ONNX Runtime runner when an onnx backend was adopted
        self._device = device
        self.batch_size = batch_size
        self._download = download
        self._model_kwargs = model_kwargs or {}
        self._processor_kwargs = dict(processor_kwargs or {})
        self._model: Any = None
        self._lock = threading.Lock()
        # Fast (Rust) tokenizers fail ("Already borrowed", "Unable to create tensor") when two
        # threads use one at once: passage splitting (decode threads), document batches (the
        # embedding thread) and queries (searches) all take this lock around the tokenizer.
        self.tokenizer_lock = threading.RLock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        """Load (once) and return the ``SentenceTransformer``; raises :class:`ModelUnavailable`."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> Any:
        options = load_options(self.name)  # before any download: a missing package says so now
        folder = resolve_model_files(self.name, download=self._download)
        device = pick_device(self._device)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars; downloads are done by now
        from .precision import apply as apply_precision
        from .precision import load_kwargs

        backend_kwargs = load_kwargs(self._backend, folder)  # names the pip extra when missing
        model_kwargs = {**self._model_kwargs, **backend_kwargs.pop("model_kwargs", {})}
        try:
            model = SentenceTransformer(
                str(folder),
                device=device,
                local_files_only=True,
                model_kwargs=model_kwargs or None,
                processor_kwargs=self._processor_kwargs or None,
                **options,
                **backend_kwargs,
            )
        except ImportError as exc:
            raise ModelUnavailable(
                f"The model {self.name} needs a Python package that is not installed: {exc}. "
                "Install it into scry's environment, or choose another model."
            ) from exc
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelUnavailable(
                f"The model in {folder} could not be loaded ({type(exc).__name__}: {_short(exc)}). "
                "Check that the folder holds a complete model (config, weights, tokenizer and, for "
                "images, the image processor config), or choose another model."
            ) from exc
        limit = _sequence_limit(model)
        if model.max_seq_length is None or model.max_seq_length > limit:
            model.max_seq_length = limit
        from .onnx_backend import setup as setup_onnx
        from .precision import Decision

        self._onnx, self.backend_decision = setup_onnx(
            model, folder, device, self._backend, self._home
        )
        if self._onnx is not None:  # ONNX Runtime keeps its own precision: no bf16 on top
            dtype = "int8" if self.backend_decision.backend == "onnx-int8" else "float32"
            self.precision_decision = Decision(dtype, f"ONNX Runtime ({self._backend})")
        else:
            self.precision_decision = apply_precision(
                model, device, self._precision, home=self._home, cache_key=str(folder)
            )
        log.info(
            "Loaded model %s on %s (modalities %s, %s)",
            self.name,
            device,
            model.modalities,
            self.precision_decision.reason if self.precision_decision else "fp32",
        )
        return model

    def info(self) -> ModelInfo:
        model = self.load()
        return ModelInfo(
            name=self.name,
            dimension=int(model.get_embedding_dimension()),
            modalities=tuple(model.modalities),
            device=str(model.device),
            max_seq_length=int(model.max_seq_length),
        )

    def supports(self, modality: str) -> bool:
        return modality in self.load().modalities

    @property
    def dimension(self) -> int:
        return int(self.load().get_embedding_dimension())

    def encode_images(self, images: list[Any]) -> np.ndarray:
        """Encode PIL images (RGB) into normalised float32 vectors."""
        model = self.load()
        if self._onnx is not None:
            fast = self._onnx.encode(images, batch_size=self.batch_size)
            if fast is not None:
                return fast
        return self._run(model.encode, images, self.batch_size)

    def _run(self, fn: Any, inputs: list[Any], batch_size: int) -> np.ndarray:
        """One sentence-transformers encode call: normalised float32 vectors, no progress bar."""
        out = fn(
            inputs,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)

    def encode_texts(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        """Encode texts as documents, or as search queries (``query=True``; uses query prompts)."""
        model = self.load()
        fn = model.encode_query if query else model.encode_document
        with self.tokenizer_lock:
            if self._onnx is not None:
                fast = self._onnx.encode_texts(texts, query=query, batch_size=self.batch_size)
                if fast is not None:
                    return fast
            return self._run(fn, texts, self.batch_size)

    def supports_combined(self) -> bool:
        """Whether the model embeds ``{"text": ..., "image": ...}`` as one input (VLM embedders
        with a chat template: sentence-transformers lists the ``message`` modality); CLIP cannot."""
        return bool(self.load().supports(("image", "text")))

    def encode_combined(self, pairs: list[tuple[str, Any]]) -> np.ndarray:
        """Encode (text, PIL image) pairs, each as one document vector (a page seen whole).

        The text comes before the image in the model's input, so a text longer than the window
        would cut the image tokens off: it is capped to what fits beside the image, and halved
        again for an item that still does not fit.
        """
        model = self.load()
        cap = self._combined_text_chars(pairs[0][1])

        def encode(batch: list[dict[str, Any]]) -> np.ndarray:
            with self.tokenizer_lock:
                return self._run(model.encode_document, batch, self.batch_size)

        inputs = [{"text": text[:cap], "image": image} for text, image in pairs]
        try:
            return encode(inputs)
        except ValueError:
            log.debug("A combined batch did not fit the window; encoding item by item")
        rows = []
        for one in inputs:
            while True:
                try:
                    rows.append(encode([one])[0])
                    break
                except ValueError:
                    if not one["text"]:
                        raise
                    one = {"text": one["text"][: len(one["text"]) // 2], "image": one["image"]}
        return np.stack(rows)

    def _combined_text_chars(self, image: Any) -> int:
        """About how many characters of text fit in the window beside one image."""
        model = self.load()
        try:
            with self.tokenizer_lock:
                used = int(model.preprocess([{"text": "", "image": image}])["input_ids"].shape[1])
        except (ValueError, KeyError, TypeError):
            used = int(model.max_seq_length) // 2
        return max(0, int(model.max_seq_length) - used - 8) * 3  # ~3 characters per token

    def supports_video(self) -> bool:
        """Whether the model reads a video whole (its processor has a video processor:
        sentence-transformers lists the ``video`` modality); CLIP-class models do not."""
        return "video" in self.load().modalities

    def encode_videos(self, videos: list[dict[str, Any]]) -> np.ndarray:
        """Encode whole videos, each ``{"array": frames, "video_metadata": {...}}`` (the form
        :func:`.extract.video.whole_video` gives), into one document vector per video."""
        model = self.load()
        with self.tokenizer_lock:  # the processor's tokenizer reads the video's prompt
            return self._run(
                model.encode_document, videos, max(1, self.batch_size // VIDEO_BATCH_DIVISOR)
            )

    def split_passages(self, text: str, *, overlap_tokens: int = 16) -> list[tuple[int, int]]:
        """Character ranges of passages that each fit the model's sequence length.

        Uses the model's own tokenizer offsets, so passages are cut where the model would have
        truncated, then moved back to the nearest whitespace.
        """
        if not text.strip():
            return []
        model = self.load()
        tok = getattr(model.tokenizer, "tokenizer", model.tokenizer)
        window = max(8, int(model.max_seq_length) - 4)
        try:
            with self.tokenizer_lock:
                offsets = tok(
                    text,
                    return_offsets_mapping=True,
                    add_special_tokens=False,
                    truncation=False,
                    verbose=False,
                )["offset_mapping"]
        except (TypeError, ValueError, NotImplementedError, KeyError):
            return split_by_chars(text, window * 4)
        if len(offsets) <= window:
            return [(0, len(text))]
        ranges: list[tuple[int, int]] = []
        i = 0
        while i < len(offsets):
            j = min(i + window, len(offsets))
            start = offsets[i][0]
            end = offsets[j - 1][1] if j == len(offsets) else offsets[j][0]
            if j < len(offsets):
                cut = text.rfind(" ", start, end)
                if cut > start + (end - start) // 2:
                    end = cut
                    # restart at the first token after the cut, minus the overlap
                    while j > i + 1 and offsets[j - 1][0] >= end:
                        j -= 1
            ranges.append((start, max(end, start + 1)))
            if j >= len(offsets):
                break
            i = max(i + 1, j - overlap_tokens)
        return ranges


def _sequence_limit(model: Any) -> int:
    """The real token limit: tokenizer and position embeddings both bound it."""
    limits = [512]
    tok = getattr(model.tokenizer, "tokenizer", model.tokenizer)
    mml = getattr(tok, "model_max_length", None)
    if isinstance(mml, int) and 0 < mml < 100_000:
        limits.append(mml)
    try:
        cfg = model[0].model.config
    except (AttributeError, IndexError, TypeError):
        cfg = None
    for sub in (cfg, getattr(cfg, "text_config", None)):
        mpe = getattr(sub, "max_position_embeddings", None)
        if isinstance(mpe, int) and mpe > 0:
            limits.append(mpe)
    return min(limits)
