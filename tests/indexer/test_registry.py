"""The model lineup: every entry complete and consistent, licenses named, lookups that work."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scry.indexer import registry
from scry.indexer.config import DEFAULT_MODEL
from scry.indexer.errors import ModelUnavailable
from scry.indexer.models import check_packages
from scry.indexer.registry import ENTRIES, KINDS, MODALITIES, entries, lookup
from scry.indexer.rerank import DEFAULT_RERANKER

ISSUE_LINEUP = {
    "embed": [
        DEFAULT_MODEL,
        "google/siglip2-base-patch16-224",
        "BAAI/BGE-VL-base",
        "BAAI/BGE-VL-large",
        "nvidia/llama-nemotron-embed-vl-1b-v2",
        "nvidia/omni-embed-nemotron-3b",
        "Qwen/Qwen3-VL-Embedding-2B",
        "Qwen/Qwen3-VL-Embedding-8B",
    ],
    "rerank": [
        DEFAULT_RERANKER,
        "Qwen/Qwen3-VL-Reranker-2B",
        "Qwen/Qwen3-VL-Reranker-8B",
        "nvidia/llama-nemotron-rerank-vl-1b-v2",
        "jinaai/jina-reranker-m0",
    ],
}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_entry_is_complete_and_consistent(entry: registry.ModelEntry) -> None:
    assert entry.id.count("/") == 1 and entry.id == entry.id.strip()
    assert entry.kind in KINDS
    assert entry.modalities and set(entry.modalities) <= set(MODALITIES)
    assert "text" in entry.modalities  # queries are typed: every model must read text
    if entry.kind == "embed":
        assert isinstance(entry.dimension, int) and entry.dimension > 0
    else:
        assert entry.dimension is None
    assert entry.parameters_m > 0 and entry.memory_gb > 0
    assert entry.device in registry.DEVICES
    assert entry.license.name.strip() and isinstance(entry.license.commercial_use, bool)
    assert entry.summary.strip()
    for pkg in entry.extra_packages:
        assert pkg and " " not in pkg
    for name, doc in entry.processor_kwargs:
        assert name.isidentifier() and doc.strip()
    assert set(entry.as_json()) >= {"id", "kind", "license", "commercial_use", "memory_gb"}


def test_ids_are_unique_and_the_issue_lineup_is_covered() -> None:
    ids = [e.id.lower() for e in ENTRIES]
    assert len(ids) == len(set(ids))
    for kind, wanted in ISSUE_LINEUP.items():
        have = {e.id for e in entries(kind)}
        assert set(wanted) <= have, set(wanted) - have


def test_non_commercial_licenses_are_flagged() -> None:
    jina = lookup("jinaai/jina-reranker-m0")
    assert jina is not None and jina.license.commercial_use is False
    assert "NC" in jina.license.name and "non-commercial" in jina.notes.lower()
    assert lookup(DEFAULT_MODEL).license.commercial_use is True
    # anything not commercial says so in its notes, where `scry models info` shows it
    for e in ENTRIES:
        if not e.license.commercial_use:
            assert "commercial" in e.notes.lower(), e.id


def test_cpu_defaults_run_on_a_cpu_and_gpu_defaults_need_cuda() -> None:
    assert lookup(registry.CPU_EMBEDDER).device == "cpu"
    assert lookup(registry.CPU_RERANKER).device == "cpu"
    assert lookup(registry.GPU_EMBEDDER).device == "cuda"
    assert lookup(registry.GPU_RERANKER).kind == "rerank"


def test_lookup_finds_offline_folders_named_like_the_model(tmp_path: Path) -> None:
    assert lookup("qwen/qwen3-vl-embedding-2b").id == "Qwen/Qwen3-VL-Embedding-2B"
    pulled = tmp_path / "Qwen3-VL-Embedding-2B"
    assert lookup(str(pulled)).id == "Qwen/Qwen3-VL-Embedding-2B"
    cache = tmp_path / "hub" / "models--jinaai--jina-reranker-m0" / "snapshots" / "abc123"
    assert lookup(str(cache)).id == "jinaai/jina-reranker-m0"
    assert lookup(str(tmp_path / "my-own-model")) is None
    assert lookup(None) is None


def test_a_missing_extra_package_names_the_exact_pip_line() -> None:
    entry = replace(lookup("Qwen/Qwen3-VL-Embedding-2B"), extra_packages=("surely-not-a-pkg-x",))
    with pytest.raises(ModelUnavailable) as err:
        check_packages(entry)
    msg = str(err.value)
    assert "`pip install surely-not-a-pkg-x`" in msg and entry.id in msg
    assert err.value.exit_code == 4
