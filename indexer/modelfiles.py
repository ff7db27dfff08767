"""Model files on disk: a local folder, the Hugging Face cache, or a (resumable) download.

:func:`resolve_model_files` finds the folder for a model name and downloads it on first use;
:func:`pull_model` downloads ahead of time (``scry models pull``), optionally into a folder to copy
to an offline machine. Offline, both fail fast with a message naming the fixes.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from .errors import ModelUnavailable
from .registry import lookup

log = logging.getLogger(__name__)

# Repository files never needed to run a model through sentence-transformers + torch.
_IGNORE_ALWAYS = [
    "*.msgpack",
    "*.h5",
    "*.ot",
    "*.onnx",
    "*.onnx_data",
    "onnx/*",
    "openvino/*",
    "coreml/*",
    "tf_model*",
    "flax_model*",
    "rust_model*",
    "open_clip_*",
    "*.tflite",
    "*.mlmodel",
]


_DOWNLOADS: dict[str, dict[str, Any]] = {}
_DOWNLOADS_LOCK = threading.Lock()


def active_downloads() -> dict[str, dict[str, Any]]:
    """Model downloads in progress: ``{name: {"done": n, "total": m, "unit": "file"}}``.

    The window and the tray poll this to show a progress bar while a model downloads."""
    with _DOWNLOADS_LOCK:
        return {k: dict(v) for k, v in _DOWNLOADS.items()}


def _progress_class(name: str) -> type:
    """A tqdm class for ``snapshot_download`` that also records its progress for pollers."""
    from tqdm.auto import tqdm

    class Reporting(tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._publish()

        def update(self, n: float | None = 1) -> bool | None:
            out = super().update(n)
            self._publish()
            return out

        def _publish(self) -> None:
            with _DOWNLOADS_LOCK:
                _DOWNLOADS[name] = {
                    "done": int(self.n),
                    "total": int(self.total or 0),
                    "unit": "file" if self.unit == "it" else self.unit,
                }

    return Reporting


def _download(name: str, **kwargs: Any) -> str:
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(name, tqdm_class=_progress_class(name), **kwargs)
    finally:
        with _DOWNLOADS_LOCK:
            _DOWNLOADS.pop(name, None)


def pinned_revision(name: str) -> str | None:
    """The revision the registry pins for a hub id (None for folders and unpinned models)."""
    entry = lookup(name)
    if entry is None or Path(name).expanduser().is_dir():
        return None
    return entry.revision


def indexed_model(home: Path) -> str | None:
    """The model that most recently embedded files in the catalog at ``home`` (None if none).

    Read-only and cheap; used so the hardware default never silently replaces the model an
    existing index was built with.
    """
    import sqlite3

    path = home / "catalog.sqlite3"
    if not path.is_file():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        try:
            row = con.execute(
                "SELECT m.name FROM models m WHERE EXISTS "
                "(SELECT 1 FROM vectors v WHERE v.model_id = m.id) "
                "ORDER BY m.created_at DESC LIMIT 1"
            ).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def resolve_model_files(
    name: str, *, download: bool = True, role: str = "embedding", revision: str | None = None
) -> Path:
    """Local folder holding ``name``: the folder itself, the HF cache, or a fresh download.

    ``role`` (embedding or reranker) only shapes the error message. ``revision`` defaults to the
    registry's pin for ``name`` (see :mod:`.registry`).

    Raises:
        ModelUnavailable: the folder does not exist, or the hub model is not cached and cannot be
            downloaded now.
    """
    local = Path(name).expanduser()
    if local.is_dir():
        return local.resolve()
    if local.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
        where = "SCRY_RERANKER" if role == "reranker" else "SCRY_MODEL or --model"
        raise ModelUnavailable(
            f"The {role} model folder {local} does not exist. Point {where} at a folder "
            "holding a sentence-transformers or Hugging Face model, or give a Hugging Face model id."
        )
    from huggingface_hub import snapshot_download

    revision = revision or pinned_revision(name)
    try:
        return Path(
            snapshot_download(
                name, revision=revision, local_files_only=True, ignore_patterns=_IGNORE_ALWAYS
            )
        )
    except Exception:
        pass
    if not download or _offline():
        raise _unavailable(
            name, "it is not in the Hugging Face cache and downloads are off (HF_HUB_OFFLINE)", role
        )
    if not _hub_reachable():
        raise _unavailable(
            name,
            "it is not in the Hugging Face cache and the Hugging Face hub cannot be reached",
            role,
        )
    log.info("Downloading model %s (first use)", name)
    try:
        ignore = list(_IGNORE_ALWAYS)
        from huggingface_hub import HfApi

        files = HfApi().list_repo_files(name, revision=revision)
        if any(f.endswith(".safetensors") and not f.startswith("open_clip") for f in files):
            ignore += ["*.bin", "*.pt", "*.pth"]
        return Path(_download(name, revision=revision, ignore_patterns=ignore))
    except Exception as exc:
        raise _unavailable(
            name, f"downloading it failed ({type(exc).__name__}: {_short(exc)})", role
        ) from exc


def pull_model(name: str, *, to: Path | None = None, role: str = "embedding") -> Path:
    """Download ``name`` (with the hub's progress bars; resumable) and return its folder.

    Without ``to`` it lands in the Hugging Face cache, where scry looks first. With ``to`` the
    files go into that folder, ready to copy to an offline machine and use through
    ``SCRY_MODEL=/that/folder`` (or ``scry models use /that/folder``).

    Raises:
        ModelUnavailable: offline, the hub unreachable, or the download failed.
    """
    if to is None:
        return resolve_model_files(name, download=True, role=role)
    why = None
    if _offline():
        why = "downloads are off (HF_HUB_OFFLINE)"
    elif not _hub_reachable():
        why = "the Hugging Face hub cannot be reached"
    if why:
        raise ModelUnavailable(
            f"Cannot download {name} into {to}: {why}. Run `scry models pull {name} --to DIR` on "
            "a machine with internet access and copy DIR here, or set HF_HUB_OFFLINE=0 when online."
        )
    from huggingface_hub import snapshot_download

    to = to.expanduser().resolve()
    to.mkdir(parents=True, exist_ok=True)
    try:
        return Path(
            snapshot_download(
                name,
                revision=pinned_revision(name),
                local_dir=str(to),
                ignore_patterns=_IGNORE_ALWAYS,
            )
        )
    except Exception as exc:
        raise ModelUnavailable(
            f"Downloading {name} into {to} failed ({type(exc).__name__}: {_short(exc)}). "
            "Run the same command again to resume."
        ) from exc


def _hub_reachable(timeout: float = 4.0) -> bool:
    """A quick TCP probe, so an offline machine learns it in seconds, not after minutes of retries.

    Behind a proxy the probe cannot tell, so it answers yes and lets the download try.
    """
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    from urllib.parse import urlparse

    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = (
        endpoint.hostname or "huggingface.co",
        endpoint.port or (443 if endpoint.scheme == "https" else 80),
    )
    import socket

    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def _unavailable(name: str, why: str, role: str = "embedding") -> ModelUnavailable:
    if role == "reranker":
        return ModelUnavailable(
            f"The reranker {name} cannot be loaded: {why}. Connect to the internet once so scry "
            'can download it, or point SCRY_RERANKER (or "reranker" in settings.json) at a local '
            "cross-encoder folder. Until then results keep their first-stage order."
        )
    return ModelUnavailable(
        f"The embedding model {name} cannot be loaded: {why}. Connect to the internet once so scry "
        "can download it, or copy a model folder to this machine and set SCRY_MODEL=/path/to/folder "
        "(or pass --model /path/to/folder). Until then scry searches by file names and text only."
    )
