"""The `scry` command line end to end: real subprocesses, real tiny model, JSON contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from scry.app.cli import main
from tests.conftest import CORPUS, make_image

INDEX_KEYS = {"new", "changed", "moved", "deleted", "unchanged", "failed", "embedded"}
HIT_KEYS = {"path", "kind", "locator", "score"}
STATUS_KEYS = {"files", "items", "failed", "model", "dimension"}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


_MP: pytest.MonkeyPatch | None = None
_CAP: pytest.CaptureFixture[str] | None = None


@pytest.fixture(autouse=True)
def _in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    global _MP, _CAP
    _MP, _CAP = monkeypatch, capsys


def scry(*args: str, home: Path, model: Path | str | None = None, check: int | None = 0) -> Result:
    """Run `scry ARGS` in this process (same code path as the console script, minus startup)."""
    assert _MP is not None and _CAP is not None
    _MP.setenv("SCRY_HOME", str(home))
    if model is None:
        _MP.delenv("SCRY_MODEL", raising=False)
    else:
        _MP.setenv("SCRY_MODEL", str(model))
    _CAP.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse usage errors and --help/--version
        code = int(exc.code or 0)
    out, err = _CAP.readouterr()
    if check is not None:
        assert code == check, f"exit {code}\nstdout:{out}\nstderr:{err}"
    return Result(code, out, err)


def scry_json(*args: str, **kw: object) -> object:
    return json.loads(scry(*args, "--json", **kw).stdout)


@pytest.fixture
def indexed(home: Path, photos: Path, clip_dir: Path) -> Path:
    """photos/ plus the shared corpus, indexed once with the tiny CLIP."""
    out = scry_json("index", str(photos), str(CORPUS), home=home, model=clip_dir)
    assert out["new"] + out["failed"] >= 6 + 37
    return photos


def test_console_script_runs_as_a_real_process(home: Path, photos: Path, clip_dir: Path) -> None:
    env = {**os.environ, "SCRY_HOME": str(home), "SCRY_MODEL": str(clip_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "scry.app", "index", str(photos), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["new"] == 6
    proc = subprocess.run(
        [sys.executable, "-m", "scry.app", "search", "dog", "-k", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0 and "dogs.txt" in proc.stdout


def test_help_is_friendly(home: Path) -> None:
    out = scry("--help", home=home).stdout
    for word in (
        "index",
        "search",
        "similar",
        "status",
        "inspect",
        "--json",
        "--model",
        "SCRY_MODEL",
        "exit codes",
    ):
        assert word in out
    assert scry("--version", home=home).stdout.startswith("scry ")


def test_index_json_contract_and_rerun(home: Path, photos: Path, clip_dir: Path) -> None:
    first = scry_json("index", str(photos), home=home, model=clip_dir)
    assert set(first) >= INDEX_KEYS
    assert first["new"] == 6 and first["failed"] == 0 and first["embedded"] >= 6
    second = scry_json("index", home=home, model=clip_dir)  # no folder: all known roots
    assert {k: second[k] for k in INDEX_KEYS} == {
        "new": 0,
        "changed": 0,
        "moved": 0,
        "deleted": 0,
        "unchanged": 6,
        "failed": 0,
        "embedded": 0,
    }


def test_model_flag_before_or_after_the_command(home: Path, photos: Path, clip_dir: Path) -> None:
    scry_json("--model", str(clip_dir), "index", str(photos), home=home)
    st = scry_json("status", "--model", str(clip_dir), home=home)
    assert st["dimension"] == 16 and st["model"] == str(clip_dir.resolve())


def test_search_similar_status_inspect(indexed: Path, home: Path, clip_dir: Path) -> None:
    hits = scry_json("search", "income tax receipts", home=home, model=clip_dir)
    assert hits and all(set(h) >= HIT_KEYS for h in hits)
    assert hits[0]["path"].endswith("tax.md")
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    img_hits = scry_json(
        "search", "--image", str(indexed / "red.png"), "-k", "5", home=home, model=clip_dir
    )
    assert len(img_hits) == 5
    assert img_hits[0]["path"] == str(indexed / "red.png")  # an image is most like itself
    assert img_hits[0]["similarity"] > 0.999

    sim = scry_json("similar", str(indexed / "red.png"), "-k", "5", home=home, model=clip_dir)
    assert len(sim) == 5 and all(h["path"] != str(indexed / "red.png") for h in sim)

    st = scry_json("status", home=home, model=clip_dir)
    assert set(st) >= STATUS_KEYS
    assert st["files"] >= 6 + 37 and st["dimension"] == 16 and st["failed"] >= 5
    assert any("encrypted" in e["reason"] for e in st["errors"])

    ins = scry_json(
        "inspect",
        str(CORPUS / "documents" / "pdflatex-4-pages.pdf"),
        "--vectors",
        home=home,
        model=clip_dir,
    )
    assert {"path", "status", "reason", "items"} <= set(ins)
    assert ins["status"] == "ok" and len(ins["items"]) == 4
    assert ins["items"][2]["locator"] == {"page": 3} and len(ins["items"][2]["vector"]) == 16

    bad = scry_json(
        "inspect",
        str(CORPUS / "documents" / "libreoffice-writer-password.pdf"),
        home=home,
        model=clip_dir,
    )
    assert bad["status"] == "failed" and "encrypted" in bad["reason"] and bad["items"] == []


def test_similar_on_a_file_that_is_not_indexed(
    indexed: Path, home: Path, clip_dir: Path, tmp_path: Path
) -> None:
    outside = make_image(tmp_path / "elsewhere" / "red-copy.png", (220, 20, 20))
    hits = scry_json("similar", str(outside), "-k", "3", home=home, model=clip_dir)
    assert hits[0]["path"] == str(indexed / "red.png")


def test_exit_codes(home: Path, photos: Path, clip_dir: Path, tmp_path: Path) -> None:
    assert scry(
        "index", str(tmp_path / "nope"), home=home, model=clip_dir, check=3
    ).stderr.startswith("scry: ")
    scry("index", str(photos), home=home, model=clip_dir)
    assert scry(
        "search", "--image", str(tmp_path / "missing.jpg"), home=home, model=clip_dir, check=3
    )
    assert scry("search", home=home, model=clip_dir, check=3)
    assert scry("inspect", str(tmp_path / "missing.jpg"), home=home, model=clip_dir, check=1)
    assert scry("bogus-command", home=home, check=2)
    # an empty index has nothing to match
    proc = scry("search", "zebra", home=tmp_path / "other-home", model=clip_dir, check=1)
    assert "No good matches for zebra" in proc.stdout


def test_keyword_only_mode_says_why_and_still_works(home: Path, photos: Path) -> None:
    proc = scry("index", str(photos), "--json", home=home, model="nobody/uncached-model")
    assert json.loads(proc.stdout)["new"] == 6
    assert "SCRY_MODEL" in proc.stderr and "nobody/uncached-model" in proc.stderr
    hits = json.loads(
        scry(
            "search", "running dog beach", "--json", home=home, model="nobody/uncached-model"
        ).stdout
    )
    assert hits[0]["path"].endswith("dogs.txt")
    img = scry(
        "search",
        "--image",
        str(photos / "red.png"),
        home=home,
        model="nobody/uncached-model",
        check=4,
    )
    assert "Keyword search still works" in img.stderr


def test_newer_catalog_is_refused(home: Path, photos: Path, clip_dir: Path) -> None:
    import sqlite3

    scry("index", str(photos), home=home, model=clip_dir)
    con = sqlite3.connect(home / "catalog.sqlite3")
    con.execute("PRAGMA user_version = 999")
    con.commit()
    con.close()
    proc = scry("status", home=home, check=5)
    assert "newer scry" in proc.stderr


def test_text_only_model_says_images_are_found_by_name(
    home: Path, photos: Path, minilm_dir: Path
) -> None:
    proc = scry("index", str(photos), home=home, model=minilm_dir)
    assert "reads text only" in proc.stderr
    status = scry("status", home=home, model=minilm_dir).stdout
    assert "text only" in status
    hits = scry_json("search", "blue", home=home, model=minilm_dir)  # a file name, not a look
    assert hits[0]["path"].endswith("blue.png") and hits[0]["similarity"] is None


def test_status_says_keyword_only_before_any_model_ran(home: Path, photos: Path) -> None:
    scry("index", str(photos), home=home, model="nobody/uncached-model")
    st = scry_json("status", home=home, model="nobody/uncached-model")
    assert st["dimension"] is None and "nobody/uncached-model" in st["keyword_only"]
    assert (
        "Keyword-only search for now"
        in scry("status", home=home, model="nobody/uncached-model").stdout
    )
