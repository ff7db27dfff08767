"""The search-quality harness's metrics and labeled set, checked by hand (no index is built)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "bench" / "eval_search.py"


@pytest.fixture(scope="module")
def ev():
    spec = importlib.util.spec_from_file_location("eval_search", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_search"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("eval_search", None)


def test_ndcg_and_recall_on_a_constructed_ranking(ev) -> None:
    ranked = ["x", "a", "y", "b", "z"]
    relevant = ["a", "b", "c"]
    # Relevant at ranks 2 and 4; the ideal ranking has three relevant keys at ranks 1-3.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ev.ndcg_at_k(ranked, relevant, k=10) == pytest.approx(dcg / ideal)
    assert ev.ndcg_at_k(ranked, relevant, k=10) == pytest.approx(
        0.498189, abs=1e-6
    )  # (0.6309 + 0.4307) / 2.1309
    assert ev.recall_at_k(ranked, relevant, k=10) == pytest.approx(2 / 3)
    # Cut at 3: only "a" counts; the ideal is still three relevant keys at ranks 1-3.
    assert ev.ndcg_at_k(ranked, relevant, k=3) == pytest.approx((1 / math.log2(3)) / ideal)
    assert ev.recall_at_k(ranked, relevant, k=3) == pytest.approx(1 / 3)
    assert ev.first_relevant_rank(ranked, relevant) == 2


def test_metric_edges(ev) -> None:
    assert ev.ndcg_at_k(["a", "x"], ["a"]) == 1.0
    assert ev.recall_at_k(["a", "x"], ["a"]) == 1.0
    assert ev.ndcg_at_k(["x", "a"], ["a"]) == pytest.approx(1 / math.log2(3))
    assert ev.ndcg_at_k([], ["a"]) == 0.0
    assert ev.recall_at_k([], ["a"]) == 0.0
    assert ev.first_relevant_rank(["x"], ["a"]) is None
    # A relevant key outside the first k counts for nothing.
    eleventh = [f"n{i}" for i in range(10)] + ["a"]
    assert ev.ndcg_at_k(eleventh, ["a"], k=10) == 0.0
    assert ev.recall_at_k(eleventh, ["a"], k=10) == 0.0
    # A repeated key counts once, at its first rank.
    assert ev.ndcg_at_k(["a", "a"], ["a", "b"]) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ev.recall_at_k(["a", "a"], ["a", "b"]) == 0.5


def test_graded_ndcg(ev) -> None:
    # Grades 2 and 1, ranked in the wrong order: (1/1 + 2/log2 3) / (2/1 + 1/log2 3).
    got = ev.ndcg_at_k(["b", "a"], {"a": 2, "b": 1})
    assert got == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert ev.ndcg_at_k(["a", "b"], {"a": 2, "b": 1}) == pytest.approx(1.0)


def test_labeled_set_is_consistent(ev) -> None:
    corpus = ev.load_corpus()
    queries = ev.load_queries(corpus=corpus)  # validates ids, names and references
    assert len(queries) >= 40
    assert {q.style for q in queries} == {"keyword", "paraphrase"}
    assert len(corpus.documents) >= 100
    assert all(ev.FILE_NAME.match(d.file) for d in corpus.documents)
    # Every query is plain words: no phrase, exclusion or filter of the query language.
    for q in queries:
        assert '"' not in q.text and not any(w.startswith("-") for w in q.text.split()), q.id
        assert ":" not in q.text, q.id


def test_render_source_is_real_and_stable(ev) -> None:
    text = ev.render_source("csv", 6000)
    assert text.startswith("CSV parsing and writing.")
    assert "reader(" in text
    assert len(text) <= 6001
    assert " at 0x" not in ev.render_source("random", 6000)
    assert ev.render_source("csv", 6000) == text
