"""Where scry keeps its data, and the user's settings.

Data lives in the platform's user data directory (``platformdirs``); ``SCRY_HOME`` overrides it.
Settings are a small JSON file in that directory, written atomically.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "scry"
DEFAULT_MODEL = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
DEFAULT_EXCLUDES = (
    "node_modules",
    "__pycache__",
    ".git",
    ".svn",
    ".hg",
    "$RECYCLE.BIN",
    "System Volume Information",
    ".Trash-*",
    "lost+found",
)


def data_home() -> Path:
    """The directory holding the catalog, vector indexes and settings."""
    env = os.environ.get("SCRY_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class Settings:
    """User settings. Unknown keys in the file are kept on save, so newer versions lose nothing."""

    model: str | None = None
    device: str | None = None
    batch_size: int = 32
    decode_workers: int = 2
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDES))
    index_hidden: bool = False
    pdf_page_cap: int = 200
    threads: int | None = None  # CPU threads for the model; None: torch's default (all cores)
    rerank: str = "auto"  # auto | on | off
    reranker: str | None = None
    rerank_depth: int | None = None  # None: sized to the device
    rerank_budget_s: float = 3.0
    rerank_photos: bool = False
    # CPU numeric precision for the embedder: auto (bf16 where the CPU has native bf16 and the
    # vectors stay within cosine 0.99 of fp32) | fp32 | bf16
    precision: str = "auto"
    backend: str = "torch"  # torch | onnx | onnx-int8 (scry's ONNX Runtime) | openvino (ST's)
    # passed through to the model's processor (image resolution limits, video frames/fps, ...);
    # ``tokenizer_kwargs`` is the older name and is merged in
    processor_kwargs: dict = field(default_factory=dict)
    tokenizer_kwargs: dict = field(default_factory=dict)
    autostart: bool = False  # start with the desktop session (tray only)
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, home: Path) -> Settings:
        path = home / "settings.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable settings file %s: %s", path, exc)
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in raw.items() if k in known}
        extra = {k: v for k, v in raw.items() if k not in known}
        try:
            return cls(**kwargs, extra=extra)
        except TypeError as exc:
            log.warning("Ignoring malformed settings in %s: %s", path, exc)
            return cls()

    def save(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        extra = data.pop("extra")
        data = {**extra, **data}
        atomic_write_text(home / "settings.json", json.dumps(data, indent=2, sort_keys=True))


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file, fsync and rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename durable (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
