"""The three structural families scry supports, each through registry lookup, loading, encoding
and reranking: a CLIP-style dual encoder, a text cross-encoder, and a LLaVA-style multimodal
reranker (any-to-any Transformer + LogitScore, the shape of Qwen3-VL-Reranker)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scry.indexer import registry
from scry.indexer.config import DEFAULT_MODEL, Settings
from scry.indexer.engine import Engine
from scry.indexer.errors import ModelUnavailable
from scry.indexer.models import Embedder
from scry.indexer.rerank import Reranker
from scry.indexer.search import SearchOptions
from tests.conftest import make_image


def test_clip_dual_encoder_reads_text_and_images(tmp_path: Path, clip_dir: Path) -> None:
    # an offline copy named like the registry's CPU default goes through the registry lookup
    folder = tmp_path / DEFAULT_MODEL.split("/")[-1]
    shutil.copytree(clip_dir, folder)
    assert registry.lookup(str(folder)).id == DEFAULT_MODEL
    emb = Embedder(str(folder))
    info = emb.info()
    assert set(info.modalities) >= {"text", "image"}
    imgs = emb.encode_images([Image.new("RGB", (40, 30), c) for c in ((200, 0, 0), (0, 0, 200))])
    txt = emb.encode_texts(["a red square"], query=True)
    assert imgs.shape == (2, info.dimension) and txt.shape == (1, info.dimension)
    assert np.allclose(np.linalg.norm(imgs, axis=1), 1.0, atol=1e-4)


def test_processor_kwargs_from_settings_reach_the_processor(home: Path, clip_dir: Path) -> None:
    settings = Settings(
        processor_kwargs={"size": {"shortest_edge": 16}, "crop_size": {"height": 16, "width": 16}},
        tokenizer_kwargs={"model_max_length": 12},  # the older name still works, merged in
    )
    eng = Engine(home=home, model=str(clip_dir), settings=settings)
    try:
        assert eng.load_model()
        module = eng.embedder.load()[0]
        feats = module.preprocess([Image.new("RGB", (64, 48), (9, 9, 9))])
        assert tuple(feats["pixel_values"].shape[-2:]) == (16, 16)  # the image size changed
        assert eng.embedder.info().max_seq_length == 12  # and the text limit
        long = " ".join(f"word{i}" for i in range(60))
        assert len(eng.embedder.split_passages(long)) > 1  # so long texts split sooner
    finally:
        eng.close()


def test_a_model_needing_a_missing_package_says_what_to_install(
    tmp_path: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "package_available", lambda name: name != "torchvision")
    folder = tmp_path / "Qwen3-VL-Embedding-2B"  # an offline copy of a registry model
    shutil.copytree(clip_dir, folder)
    with pytest.raises(ModelUnavailable, match=r"`pip install torchvision`"):
        Embedder(str(folder)).load()
    # the hub id fails the same way, before any download is tried
    with pytest.raises(ModelUnavailable, match=r"`pip install torchvision`"):
        Reranker("Qwen/Qwen3-VL-Reranker-2B").load()


def test_text_cross_encoder_scores_text_pairs(cross_encoder_dir: Path) -> None:
    rr = Reranker(str(cross_encoder_dir))
    assert rr.modalities == ("text",)
    scores = rr.predict([("ferry times", "The ferry leaves at nine."), ("ferry times", "Cats.")])
    assert len(scores) == 2 and all(np.isfinite(scores))


def test_llava_logitscore_reranker_scores_images(llava_reranker_dir: Path) -> None:
    rr = Reranker(str(llava_reranker_dir))
    assert {"text", "image"} <= set(rr.modalities)
    red = Image.new("RGB", (40, 30), (220, 10, 10))
    scores = rr.predict([("a red square", red), ("a red square", "a page about red squares")])
    assert len(scores) == 2 and all(np.isfinite(scores))


def test_llava_reranker_reorders_photos_through_the_engine(
    home: Path, tmp_path: Path, clip_dir: Path, llava_reranker_dir: Path
) -> None:
    root = tmp_path / "pics"
    for i in range(5):
        make_image(root / f"boat{i}.png", (50 * i, 80, 200 - 30 * i), pattern=i + 2)
    (root / "boats.txt").write_text("Notes on boats and harbour ferries.", encoding="utf-8")
    settings = Settings(reranker=str(llava_reranker_dir), rerank="on", rerank_photos=True)
    eng = Engine(home=home, model=str(clip_dir), settings=settings)
    try:
        eng.index([root])
        res = eng.query("boat", options=SearchOptions(k=10, cutoff=False), rerank=True)
        assert res.rerank is not None, res.rerank_note
        reranked = res.rerank.result(timeout=120)
        assert {h.path for h in reranked} == {h.path for h in res.hits}
        photos = [h for h in reranked if h.kind == "image"]
        assert len(photos) == 5
        assert all(h.explain["rerank"] is not None for h in photos)  # photos were scored
        ranked = [h.explain["rerank"] for h in reranked if h.explain["rerank"] is not None]
        assert ranked == sorted(ranked, reverse=True)  # and put in the reranker's order
    finally:
        eng.close()
