"""Unbreakable: every bad file gets a clear status and the run goes on.

Zero-byte files, files that vanish mid-run, unreadable permissions, broken links, names that are
not UTF-8, decoders that crash or hang, decompression bombs, and the whole shared corpus.
"""

from __future__ import annotations

import ctypes
import json
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from scry.app.cli import main as cli_main
from scry.indexer import indexing
from scry.indexer.config import Settings
from scry.indexer.engine import Engine
from scry.indexer.extract import FORMATS, Format, Options, Sandbox, extract
from scry.indexer.extract.images import extract_image
from tests.conftest import CORPUS, make_image

# ---------------------------------------------------------------- readers run in the workers


def _crash_on_request(path: Path, opts: Options):
    """An image reader that segfaults (a real native crash) on files named crash*."""
    if path.name.startswith("crash"):
        ctypes.string_at(0)
    return extract_image(path, opts)


def _hang_on_request(path: Path, opts: Options):
    if path.name.startswith("slow"):
        time.sleep(60)
    return extract_image(path, opts)


HERE = __name__


def three_photos(folder: Path, odd: str) -> Path:
    make_image(folder / "a.png", (200, 0, 0))
    make_image(folder / "b.png", (0, 200, 0), pattern=3)
    make_image(folder / odd, (0, 0, 200), pattern=5)
    return folder


# ---------------------------------------------------------------- isolation


def test_a_native_crash_fails_one_file_and_the_run_goes_on(
    home: Path, tmp_path: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = three_photos(tmp_path / "p", "crash.png")
    crashing = Format("image", "image", f"{HERE}:_crash_on_request")
    monkeypatch.setitem(FORMATS, "image", crashing)
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([folder])
    assert (report.new, report.failed) == (2, 1)
    [(path, reason)] = report.failures
    assert path.endswith("crash.png") and "crashed" in reason and "SIGSEGV" in reason
    assert eng.inspect(folder / "a.png")["status"] == "ok"


def test_a_hanging_decoder_is_stopped_at_the_time_limit(
    home: Path, tmp_path: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = three_photos(tmp_path / "p", "slow.png")
    monkeypatch.setitem(FORMATS, "image", Format("image", "image", f"{HERE}:_hang_on_request"))
    settings = Settings(extra={"file_timeout_s": 1.5})
    eng = Engine(home=home, model=str(clip_dir), settings=settings)
    started = time.monotonic()
    report = eng.index([folder])
    assert time.monotonic() - started < 30
    assert (report.new, report.failed) == (2, 1)
    assert "took longer than 2 s" in report.failures[0][1]
    assert eng.inspect(folder / "slow.png")["status"] == "failed"


def test_sandbox_replaces_a_crashed_worker(tmp_path: Path) -> None:
    pool = Sandbox(workers=1)
    try:
        good = make_image(tmp_path / "good.png", (1, 2, 3))
        bad = make_image(tmp_path / "crash.png", (1, 2, 3))
        fmt = Format("image", "image", f"{HERE}:_crash_on_request")
        with pytest.raises(Exception, match="crashed"):
            pool.run(fmt, str(bad), Options(side=16), timeout=30)
        assert pool.crashes == 1
        assert pool.run(fmt, str(good), Options(side=16), timeout=30).items
    finally:
        pool.close()


# ---------------------------------------------------------------- files that are not quite there


def test_zero_byte_files_and_broken_links_are_skipped_with_reasons(
    home: Path, tmp_path: Path, clip_dir: Path
) -> None:
    folder = tmp_path / "p"
    make_image(folder / "ok.png", (9, 9, 9))
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "empty.txt").write_bytes(b"")
    os.symlink(tmp_path / "gone" / "IMG_0001.jpg", folder / "link.jpg")
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([folder])
    assert (report.new, report.failed, report.skipped, report.seen) == (1, 0, 3, 4)
    assert report.skips == {
        "empty file (0 bytes)": 2,
        f"broken link: it points to {tmp_path / 'gone' / 'IMG_0001.jpg'}, which does not exist": 1,
    }
    assert eng.inspect(folder / "empty.jpg")["status"] == "skipped"
    st = eng.status()
    assert st["skipped"] == 3 and st["failed"] == 0
    again = eng.index([folder])
    assert (again.unchanged, again.skipped, again.embedded) == (4, 0, 0)


def test_unknown_files_are_recorded_as_skipped(home: Path, tmp_path: Path, clip_dir: Path) -> None:
    folder = tmp_path / "p"
    make_image(folder / "ok.png", (9, 9, 9))
    (folder / "budget.xlsb").write_bytes(bytes(range(256)))
    (folder / "script.py").write_bytes(b"\x00\x01binary-ish")
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([folder])
    assert report.as_json()["skipped_reasons"] == {"not a photo, video or document": 2}
    assert report.new + report.failed + report.skipped == report.seen == 3
    assert eng.status()["skipped_reasons"] == {"not a photo, video or document": 2}


def test_a_file_that_vanishes_mid_run_is_reported_not_recorded(
    home: Path, tmp_path: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = three_photos(tmp_path / "p", "c.png")
    real_extract = indexing.extract

    def vanish_first(path: str, *args, **kwargs):
        if path.endswith("c.png"):
            os.unlink(path)
        return real_extract(path, *args, **kwargs)

    monkeypatch.setattr(indexing, "extract", vanish_first)
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([folder])
    assert (report.new, report.failed, report.seen) == (2, 1, 3)
    assert report.failures == [(str(folder / "c.png"), "file vanished while being indexed")]
    assert eng.inspect(folder / "c.png")["status"] == "not_indexed"


def test_permission_denied_is_a_clear_failure(
    home: Path, tmp_path: Path, clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated (tests run as root, whom no file mode stops); see the next test for the real one."""
    import scry.indexer.extract as ex

    folder = three_photos(tmp_path / "p", "secret.png")
    real = ex.read_head

    def denied(path, *args):
        if str(path).endswith("secret.png"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args)

    monkeypatch.setattr(ex, "read_head", denied)
    report = Engine(home=home, model=str(clip_dir)).index([folder])
    assert report.failures == [
        (str(folder / "secret.png"), "permission denied: scry may not read this file")
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode says")
def test_unreadable_file_mode(tmp_path: Path) -> None:  # pragma: no cover - non-root only
    path = make_image(tmp_path / "locked.png", (1, 2, 3))
    path.chmod(0)
    try:
        with pytest.raises(Exception, match="permission denied"):
            extract(path)
    finally:
        path.chmod(0o644)


def test_names_in_any_encoding(
    home: Path, tmp_path: Path, clip_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "names"
    for name in ("café.png", "北京-夏天.png", "שלום.png", "emoji-🌊.png", "cafe\u0301-nfd.png"):
        make_image(folder / name, (30, 60, 90))
    latin1 = os.path.join(os.fsencode(folder), b"Stra\xdfe.png")  # Latin-1 bytes: not UTF-8
    Image.new("RGB", (8, 8)).save(latin1, format="PNG")
    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([folder])
    assert (report.new, report.failed) == (5, 1)
    path, reason = report.failures[0]
    assert path.endswith("Stra\\xdfe.png") and "not valid UTF-8" in reason
    assert eng.inspect(folder / "北京-夏天.png")["status"] == "ok"
    eng.close()
    assert cli_main(["--home", str(home), "--model", str(clip_dir), "index", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["failures"][0]["path"].endswith("Stra\\xdfe.png")


# ---------------------------------------------------------------- the shared corpus


def test_every_corpus_file_is_indexed_or_has_a_reason(
    home: Path, clip_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli_main(["--home", str(home), "--model", str(clip_dir), "index", "--json", str(CORPUS)])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert out["new"] + out["failed"] + out["skipped"] == out["seen"] == len(files)
    assert out["failed"] == len(out["failures"]) >= 5
    assert all(f["reason"] for f in out["failures"])
    eng = Engine(home=home, model=str(clip_dir))
    for p in files:
        info = eng.inspect(p)
        assert info["status"] in {"ok", "failed", "skipped"}, p
        assert info["status"] == "ok" or info["reason"], p
    tiff = eng.inspect(CORPUS / "images" / "multipage.tiff")
    assert [it["locator"] for it in tiff["items"]] == [{"page": n} for n in (1, 2, 3)]
