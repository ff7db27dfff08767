"""PDF pages as one combined (rendering + text) vector when the model reads both at once.

The tiny LLaVA embedder (``vlm_embedder_dir``) is a real sentence-transformers model that lists
the ``message`` modality, so ``{"text": ..., "image": ...}`` is one input; tiny CLIP cannot take
such inputs and keeps separate image and text vectors per page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from scry.indexer.engine import Engine
from scry.indexer.extract import extract
from scry.indexer.models import Embedder
from scry.indexer.search import SearchOptions
from tests.conftest import CORPUS, make_image

DOCS = CORPUS / "documents"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for name in ("pdflatex-4-pages.pdf", "imagemagick-images.pdf", "minimal-document.pdf"):
        shutil.copy(DOCS / name, root / name)
    make_image(root / "red.png", (220, 20, 20))
    (root / "dog.txt").write_text("My dog loves running on the beach.", encoding="utf-8")
    return root


def _page_vectors(eng: Engine, path: Path) -> list[dict[str, list[float]]]:
    return [it["vectors"] for it in eng.inspect(path, vectors=True)["items"]]


def test_the_vlm_embedder_reads_combined_inputs_and_clip_does_not(
    vlm_embedder_dir: Path, clip_dir: Path
) -> None:
    assert Embedder(str(vlm_embedder_dir)).supports_combined()
    assert not Embedder(str(clip_dir)).supports_combined()


def test_pdf_pages_get_one_combined_vector(
    home: Path, folder: Path, vlm_embedder_dir: Path
) -> None:
    eng = Engine(home=home, model=str(vlm_embedder_dir))
    report = eng.index([folder])
    assert report.failed == 0 and report.new == 5

    pages = _page_vectors(eng, folder / "pdflatex-4-pages.pdf")
    assert len(pages) == 4
    assert all(set(p) == {"combined"} for p in pages)  # no separate image/text vector
    # The stored vector is the page seen whole: rendering and text in one input.
    ex = extract(folder / "pdflatex-4-pages.pdf", side=32)
    emb = Embedder(str(vlm_embedder_dir))
    whole = emb.encode_combined([(ex.items[0].text, ex.items[0].image)])[0]
    alone = emb.encode_images([ex.items[0].image])[0]
    stored = np.asarray(pages[0]["combined"], dtype=np.float32)
    assert float(stored @ whole) > 0.999
    assert float(stored @ alone) < 0.99

    # A scanned page has no text: it keeps an image vector; photos and notes are unchanged.
    assert all(set(p) == {"image"} for p in _page_vectors(eng, folder / "imagemagick-images.pdf"))
    assert set(_page_vectors(eng, folder / "red.png")[0]) == {"image"}
    assert set(_page_vectors(eng, folder / "dog.txt")[0]) == {"text"}
    assert (home / "vectors" / "model1-combined.hnsw").is_file()
    eng.close()
    again = Engine(home=home, model=str(vlm_embedder_dir))  # the saved index is loaded as it is
    assert again.load_model() and again.vectors is not None
    assert again.vectors.count("combined") == 5 and again.vectors.rebuilt == []


def test_words_find_a_page_through_its_combined_vector(
    home: Path, folder: Path, vlm_embedder_dir: Path
) -> None:
    (folder / "imagemagick-images.pdf").unlink()  # its scanned pages have image vectors
    eng = Engine(home=home, model=str(vlm_embedder_dir))
    eng.index([folder])
    # Among pages (all combined vectors; random weights make cross-index ranks noise), a page's
    # own words find it through its vector alone: the text is part of what was embedded.
    ex = extract(folder / "pdflatex-4-pages.pdf", side=32)
    vector_only = SearchOptions(mode="vector", cutoff=False, k=10)
    for n, item in enumerate(ex.items, start=1):
        top = eng.query(f"{item.text[:200]} ext:pdf", options=vector_only, rerank=False).hits[0]
        assert Path(top.path).name == "pdflatex-4-pages.pdf"
        assert top.locator == {"page": n}
        assert top.sources == ["vectors"]
    # Hybrid search still fuses keywords with the combined vectors, among photos and notes.
    hit = eng.search("pdflatex", k=5)[0]
    assert Path(hit.path).name == "pdflatex-4-pages.pdf"
    assert set(hit.sources) == {"keywords", "vectors"}


def test_an_image_query_and_similar_reach_combined_pages(
    home: Path, folder: Path, vlm_embedder_dir: Path
) -> None:
    eng = Engine(home=home, model=str(vlm_embedder_dir))
    eng.index([folder])
    names = {Path(h.path).name for h in eng.search_image(folder / "red.png", k=10)}
    assert "pdflatex-4-pages.pdf" in names  # only a combined vector stands for its pages
    similar = {Path(h.path).name for h in eng.similar(folder / "pdflatex-4-pages.pdf", k=10)}
    assert "pdflatex-4-pages.pdf" not in similar and "red.png" in similar


def test_clip_keeps_separate_image_and_text_vectors(
    home: Path, folder: Path, clip_dir: Path
) -> None:
    eng = Engine(home=home, model=str(clip_dir))
    eng.index([folder])
    pages = _page_vectors(eng, folder / "pdflatex-4-pages.pdf")
    assert len(pages) == 4 and all(set(p) == {"image", "text"} for p in pages)
    assert not (home / "vectors" / "model1-combined.hnsw").exists()
    hit = eng.search("pdflatex", k=5)[0]
    assert Path(hit.path).name == "pdflatex-4-pages.pdf"
