"""`scry models ...`: the lineup, what fits, current choice, switching (with re-embedding), pull."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scry.app import cli_models
from scry.indexer.config import DEFAULT_MODEL, Settings
from scry.indexer.registry import ENTRIES
from scry.indexer.rerank import DEFAULT_RERANKER
from tests.app.test_cli import _in_process, scry  # noqa: F401  (autouse fixture)

ROW_KEYS = {
    "id",
    "kind",
    "modalities",
    "dimension",
    "parameters_m",
    "memory_gb",
    "device",
    "license",
    "commercial_use",
    "trust_remote_code",
    "revision",
    "extra_packages",
    "missing_packages",
    "processor_kwargs",
    "fits",
    "fits_why",
    "active",
    "recommended",
}


def jscry(*args: str, home: Path, check: int | None = 0) -> dict:
    return json.loads(scry(*args, "--json", home=home, check=check).stdout)


def test_list_marks_what_fits_and_what_is_active(home: Path) -> None:
    out = jscry("models", "list", home=home)
    assert set(out) == {"hardware", "active", "recommended", "models"}
    assert [r["id"] for r in out["models"]] == [e.id for e in ENTRIES]
    rows = {r["id"]: r for r in out["models"]}
    assert all(set(r) >= ROW_KEYS for r in rows.values())
    if not out["hardware"]["gpus"]:  # this CPU machine: CPU models fit, the 8B ones do not
        assert rows[DEFAULT_MODEL]["fits"] and rows[DEFAULT_MODEL]["recommended"]
        assert not rows["Qwen/Qwen3-VL-Embedding-8B"]["fits"]
        assert "CUDA" in rows["Qwen/Qwen3-VL-Embedding-8B"]["fits_why"]
        assert out["active"]["embedder"] == {"id": DEFAULT_MODEL, "source": "hardware default"}
        assert rows[DEFAULT_MODEL]["active"] and rows[DEFAULT_RERANKER]["active"]
    assert rows["jinaai/jina-reranker-m0"]["commercial_use"] is False
    rerank_only = jscry("models", "list", "--kind", "rerank", home=home)["models"]
    assert {r["kind"] for r in rerank_only} == {"rerank"}
    text = scry("models", "list", home=home).stdout
    assert "jinaai/jina-reranker-m0" in text and "non-commercial" in text


def test_info_shows_license_packages_and_processor_kwargs(home: Path) -> None:
    info = jscry("models", "info", "Qwen/Qwen3-VL-Embedding-2B", home=home)
    assert info["known"] and info["dimension"] == 2048 and "video" in info["modalities"]
    assert "max_pixels" in info["processor_kwargs"]
    text = scry("models", "info", "jinaai/jina-reranker-m0", home=home).stdout
    assert "NON-COMMERCIAL" in text and "trust_remote_code" in text
    unknown = jscry("models", "info", "someone/unknown-model", home=home, check=1)
    assert unknown["known"] is False and "scry models use" in unknown["message"]


def test_current_follows_the_users_choice(home: Path, clip_dir: Path) -> None:
    assert jscry("models", "current", home=home)["embedder"]["source"] == "hardware default"
    out = jscry("models", "current", home=home, check=0)
    assert set(out) >= {"embedder", "reranker", "recommended", "hardware"}
    scry("models", "use", str(clip_dir), "--no-reindex", home=home)
    cur = jscry("models", "current", home=home)
    assert cur["embedder"] == {"id": str(clip_dir), "source": "settings"}
    cur = jscry("models", "current", "--model", "other/model", home=home)
    assert cur["embedder"] == {"id": "other/model", "source": "--model"}


def test_use_no_reindex_and_reranker_only_record_the_choice(
    home: Path, clip_dir: Path, cross_encoder_dir: Path
) -> None:
    out = jscry("models", "use", str(clip_dir), "--no-reindex", home=home)
    assert out == {"id": str(clip_dir), "role": "embedder", "state": "recorded", "reindexed": False}
    out = jscry("models", "use", str(cross_encoder_dir), "--reranker", home=home)
    assert out["role"] == "reranker"
    settings = Settings.load(home)
    assert settings.model == str(clip_dir) and settings.reranker == str(cross_encoder_dir)
    # a registry reranker is recognised without --reranker
    scry("models", "use", "jinaai/jina-reranker-m0", home=home)
    assert Settings.load(home).reranker == "jinaai/jina-reranker-m0"
    assert Settings.load(home).model == str(clip_dir)
    bad = scry("models", "use", DEFAULT_MODEL, "--reranker", home=home, check=2)
    assert "not a reranker" in bad.stderr


@pytest.fixture
def indexed(home: Path, photos: Path, clip_dir: Path, tmp_path: Path) -> Path:
    scry("index", str(photos), "--model", str(clip_dir), home=home)
    other = tmp_path / "other-clip"  # a second model: same weights, another name, own vectors
    shutil.copytree(clip_dir, other)
    return other


def test_use_re_embeds_everything_then_switches(home: Path, indexed: Path, clip_dir: Path) -> None:
    before = json.loads(scry("status", "--json", home=home).stdout)
    assert before["model"] == str(clip_dir)
    out = jscry("models", "use", str(indexed), home=home)
    assert out["state"] == "done" and out["reindexed"] is True
    assert Settings.load(home).model == str(indexed)
    after = json.loads(scry("status", "--json", home=home).stdout)
    assert after["model"] == str(indexed)
    readable = after["files"] - after["failed"] - after["skipped"]
    assert after["embedded_files"] == readable > 0
    assert json.loads(scry("search", "dogs", "--json", home=home).stdout)


def test_ctrl_c_during_use_keeps_the_old_index(
    home: Path, indexed: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ctrl_c(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_models, "_sleep", ctrl_c)
    res = scry("models", "use", str(indexed), home=home, check=130)
    assert "old index" in res.stderr
    assert Settings.load(home).model is None  # nothing recorded
    st = json.loads(scry("status", "--json", home=home).stdout)
    assert st["model"] == str(clip_dir) and st["embedded_files"] > 0
    assert json.loads(scry("search", "dogs", "--json", home=home).stdout)


def test_pull_offline_fails_clearly_with_exit_4(home: Path, tmp_path: Path) -> None:
    res = scry(
        "models",
        "pull",
        "Qwen/Qwen3-VL-Embedding-2B",
        "--to",
        str(tmp_path / "q"),
        home=home,
        check=4,
    )
    assert "HF_HUB_OFFLINE" in res.stderr and "--to DIR" in res.stderr
    res = scry("models", "pull", "google/siglip2-base-patch16-224", home=home, check=4)
    assert "cannot be loaded" in res.stderr and "Hugging Face cache" in res.stderr
