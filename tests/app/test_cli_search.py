"""`scry search` options: --mode, --explain, --all, --sort, --rerank, --batch, query language."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.app.test_cli import _in_process, scry, scry_json  # noqa: F401 - fixture used implicitly

NOTES = {
    "car.txt": "The mechanic replaced the brakes and the oil filter of my old car.",
    "wedding.md": "Our wedding reception had a three-tier cake, a string quartet and dancing.",
    "garden.txt": "Planting tomatoes and basil in the vegetable garden this spring.",
    "hiking.txt": "We climbed the mountain trail above the glacier and camped by the lake.",
    "birthday.txt": "We baked a birthday cake with candles for the party on Saturday.",
    "recipe.md": "Knead the dough, let it rise for an hour, then bake the bread at 220 degrees.",
    "cats.txt": "The cat sleeps on the sofa all afternoon and ignores the dog.",
    "dogs.txt": "The dog fetches the ball in the park and barks at the mailman.",
}


@pytest.fixture
def notes(home: Path, tmp_path: Path, minilm_dir: Path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    scry("index", str(root), home=home, model=minilm_dir)
    return root


def test_modes_and_explain(notes: Path, home: Path, minilm_dir: Path) -> None:
    lexical = scry_json(
        "search", "cake", "--mode", "lexical", "--explain", home=home, model=minilm_dir
    )
    assert {Path(h["path"]).name for h in lexical} == {"wedding.md", "birthday.txt"}
    assert all(
        h["explain"]["vector_rank"] is None and h["explain"]["lexical_rank"] for h in lexical
    )
    vector = scry_json(
        "search", "automobile repair", "--mode", "vector", "--explain", home=home, model=minilm_dir
    )
    assert Path(vector[0]["path"]).name == "car.txt"
    assert vector[0]["explain"]["vector_rank"] == 1 and vector[0]["explain"]["lexical_rank"] is None
    table = scry("search", "wedding cake", "--explain", home=home, model=minilm_dir).stdout
    assert table.splitlines()[0].split()[:5] == ["score", "lex", "vec", "z", "rerank"]
    assert "wedding.md" in table.splitlines()[1]


def test_cutoff_message_exit_code_and_all(home: Path, stdlib_docs: Path, minilm_dir: Path) -> None:
    scry("index", str(stdlib_docs), home=home, model=minilm_dir)
    proc = scry("search", "football match", home=home, model=minilm_dir, check=1)
    assert "No good matches for football match" in proc.stdout and "--all" in proc.stdout
    assert scry_json("search", "football match", home=home, model=minilm_dir, check=1) == []
    assert scry_json("search", "football match", "--all", home=home, model=minilm_dir)


def test_sort_and_filters(notes: Path, home: Path, minilm_dir: Path) -> None:
    import os

    os.utime(notes / "garden.txt", (1_600_000_000, 1_600_000_000))
    scry("index", home=home, model=minilm_dir)
    hits = scry_json("search", "ext:txt", "--sort", "date", home=home, model=minilm_dir)
    assert Path(hits[-1]["path"]).name == "garden.txt"
    assert [h["date"] for h in hits] == sorted((h["date"] for h in hits), reverse=True)
    assert all(h["path"].endswith(".txt") for h in hits)


def test_rerank_flag_with_a_local_reranker(
    notes: Path,
    home: Path,
    minilm_dir: Path,
    cross_encoder_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRY_RERANKER", str(cross_encoder_dir))
    hits = scry_json(
        "search", "cake", "--rerank", "--explain", "--all", home=home, model=minilm_dir
    )
    assert any(h["explain"]["rerank"] is not None for h in hits)
    plain = scry_json(
        "search", "cake", "--no-rerank", "--explain", "--all", home=home, model=minilm_dir
    )
    assert all(h["explain"]["rerank"] is None for h in plain)


def test_rerank_flag_without_a_reranker_says_so(
    notes: Path, home: Path, minilm_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRY_RERANKER", "nobody/absent-reranker")
    proc = scry("search", "cake", "--rerank", home=home, model=minilm_dir)
    assert "reranker" in proc.stderr and "wedding.md" in proc.stdout


def test_batch_from_stdin_one_json_list_per_line(
    notes: Path, home: Path, minilm_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("automobile repair\n\nbirthday party\n"))
    out = scry("search", "--batch", "-", "-k", "2", home=home, model=minilm_dir).stdout.splitlines()
    assert len(out) == 3
    first, empty, third = (json.loads(line) for line in out)
    assert Path(first[0]["path"]).name == "car.txt" and len(first) <= 2
    assert empty == []
    assert Path(third[0]["path"]).name == "birthday.txt"


def test_batch_file_and_missing_batch_file(
    notes: Path, home: Path, minilm_dir: Path, tmp_path: Path
) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("cake\ntype:doc ext:md\n", encoding="utf-8")
    lines = scry(
        "search", "--batch", str(queries), "--mode", "lexical", home=home, model=minilm_dir
    ).stdout.splitlines()
    assert [len(json.loads(x)) for x in lines] == [2, 2]
    assert scry(
        "search", "--batch", str(tmp_path / "nope.txt"), home=home, model=minilm_dir, check=3
    )
