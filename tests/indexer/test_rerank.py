"""The rerank stage: runs after stage one, within a budget, cancellable, never blocking."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError
from pathlib import Path

import pytest

from scry.indexer.config import Settings
from scry.indexer.engine import Engine
from scry.indexer.rerank import Reranker, RerankRunner
from scry.indexer.search import SearchOptions
from tests.conftest import make_image

TEXTS = {
    f"note{i:02d}.txt": f"Note {i}: the harbour ferry schedule changes in spring, line {i}."
    for i in range(12)
}


class GatedReranker(Reranker):
    """The real tiny cross-encoder, held at a gate so order of events can be observed without
    timing assumptions."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def predict(self, pairs):  # type: ignore[override]
        self.entered.set()
        assert self.gate.wait(timeout=60), "test never opened the gate"
        return super().predict(pairs)


class SlowReranker(Reranker):
    """The real tiny cross-encoder, slowed down, for the time budget."""

    delay = 0.3

    def predict(self, pairs):  # type: ignore[override]
        time.sleep(self.delay)
        return super().predict(pairs)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "mixed"
    root.mkdir()
    for name, text in TEXTS.items():
        (root / name).write_text(text, encoding="utf-8")
    for i in range(4):
        make_image(root / f"ferry{i}.png", (40 * i, 90, 200), pattern=i + 2)
    return root


@pytest.fixture
def engine(home: Path, mixed: Path, clip_dir: Path, cross_encoder_dir: Path) -> Engine:
    settings = Settings(reranker=str(cross_encoder_dir), rerank="on")
    eng = Engine(home=home, model=str(clip_dir), settings=settings)
    eng.index([mixed])
    return eng


def test_rerank_reorders_texts_and_keeps_photo_slots(engine: Engine) -> None:
    res = engine.query("ferry schedule", options=SearchOptions(k=16, cutoff=False), rerank=True)
    assert res.rerank is not None and res.rerank_note is None
    stage_one = res.hits
    reranked = res.rerank.result(timeout=60)
    assert {h.path for h in reranked} == {h.path for h in stage_one}
    for before, after in zip(stage_one, reranked, strict=True):
        if before.kind == "image":  # photos have no text: not reranked, same place
            assert after.path == before.path and after.explain["rerank"] is None
    scored = [h for h in reranked if h.explain["rerank"] is not None]
    assert scored and all(h.kind == "passage" for h in scored)
    slots = [h.explain["rerank"] for h in reranked if h.explain["rerank"] is not None]
    assert slots == sorted(slots, reverse=True)


def test_stage_one_returns_before_the_rerank(engine: Engine, cross_encoder_dir: Path) -> None:
    gated = GatedReranker(str(cross_encoder_dir))
    engine._reranker = gated
    engine._rerank_runner_obj = RerankRunner(gated, engine.catalog)
    res = engine.query("ferry", options=SearchOptions(k=16, cutoff=False), rerank=True)
    # stage one is here while the reranker is still held at its gate
    assert res.hits and res.rerank is not None and not res.rerank.done()
    gated.gate.set()
    assert len(res.rerank.result(timeout=60)) == len(res.hits)


def test_newer_query_cancels_older_rerank(engine: Engine, cross_encoder_dir: Path) -> None:
    gated = GatedReranker(str(cross_encoder_dir))
    runner = RerankRunner(gated, engine.catalog)
    hits = engine.query("ferry", options=SearchOptions(k=16, cutoff=False), rerank=False).hits
    first = runner.submit("ferry", hits, depth=16, budget_s=30)
    assert gated.entered.wait(timeout=60)  # the first rerank is inside the model
    second = runner.submit("harbour", hits, depth=16, budget_s=30)
    gated.gate.set()
    with pytest.raises(CancelledError):
        first.result(timeout=60)
    assert len(second.result(timeout=60)) == len(hits)


def test_budget_limits_work_but_still_answers(engine: Engine, cross_encoder_dir: Path) -> None:
    slow = SlowReranker(str(cross_encoder_dir))
    runner = RerankRunner(slow, engine.catalog)
    hits = engine.query("ferry", options=SearchOptions(k=16, cutoff=False), rerank=False).hits
    out = runner.submit("ferry", hits, depth=16, budget_s=0.05).result(timeout=60)
    scored = [h for h in out if h.explain["rerank"] is not None]
    assert 0 < len(scored) < len([h for h in hits if h.kind == "passage"])


def test_missing_reranker_degrades_to_stage_one(home: Path, mixed: Path, clip_dir: Path) -> None:
    eng = Engine(
        home=home, model=str(clip_dir), settings=Settings(reranker="nobody/no-such-reranker")
    )
    eng.index([mixed])
    res = eng.query("ferry", options=SearchOptions(cutoff=False))  # rerank "auto"
    assert res.hits and res.rerank is None
    assert res.rerank_note and "reranker" in res.rerank_note
    off = Engine(home=home, model=str(clip_dir), settings=Settings(rerank="off"))
    assert off.query("ferry").rerank is None and off.query("ferry").rerank_note is None
