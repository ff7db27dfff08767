"""Walking roots, fingerprints, and diffing the disk against the catalog."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scry.indexer.scan import (
    HEAD_BYTES,
    TAIL_BYTES,
    DiskFile,
    KnownFile,
    WalkRules,
    diff,
    fingerprint,
    walk,
)


def _write(path: Path, data: bytes | str = b"x", mtime_ns: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def _rel(root: Path, files) -> list[str]:
    return sorted(Path(f.path).relative_to(root).as_posix() for f in files)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    _write(root / "a.jpg")
    _write(root / ".hidden.jpg")
    _write(root / ".secret" / "b.jpg")
    _write(root / "sub" / "c.jpg")
    _write(root / "sub" / "draft.tmp")
    _write(root / "sub" / "deep" / "d.png")
    _write(root / "node_modules" / "pkg" / "e.jpg")
    return root


# ----------------------------------------------------------------------------- walk


def test_walk_skips_hidden_by_default(tree: Path) -> None:
    files = list(walk(tree, WalkRules()))
    assert _rel(tree, files) == [
        "a.jpg",
        "node_modules/pkg/e.jpg",
        "sub/c.jpg",
        "sub/deep/d.png",
        "sub/draft.tmp",
    ]
    first = next(f for f in files if f.path.endswith("a.jpg"))
    st = os.stat(first.path)
    assert (first.size, first.mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_walk_includes_hidden_when_asked(tree: Path) -> None:
    assert _rel(tree, walk(tree, WalkRules(hidden=True))) == [
        ".hidden.jpg",
        ".secret/b.jpg",
        "a.jpg",
        "node_modules/pkg/e.jpg",
        "sub/c.jpg",
        "sub/deep/d.png",
        "sub/draft.tmp",
    ]


def test_exclude_by_name_and_by_glob(tree: Path) -> None:
    by_name = WalkRules(exclude=["node_modules", "*.tmp"])
    assert _rel(tree, walk(tree, by_name)) == ["a.jpg", "sub/c.jpg", "sub/deep/d.png"]
    by_path = WalkRules(exclude=[str(tree / "sub" / "deep"), "*/sub/*.jpg"])
    assert _rel(tree, walk(tree, by_path)) == ["a.jpg", "node_modules/pkg/e.jpg", "sub/draft.tmp"]


def test_include_patterns_limit_files_not_folders(tree: Path) -> None:
    assert _rel(tree, walk(tree, WalkRules(include=["*.png"]))) == ["sub/deep/d.png"]


def test_skip_paths(tree: Path) -> None:
    rules = WalkRules(skip_paths={str(tree / "sub"), str(tree / "a.jpg")})
    assert _rel(tree, walk(tree, rules)) == ["node_modules/pkg/e.jpg"]


def test_symlink_loop_terminates_and_lists_each_file_once(tree: Path) -> None:
    os.symlink(tree, tree / "sub" / "back-to-root")
    os.symlink("..", tree / "sub" / "deep" / "up")
    errors: list[tuple[str, str]] = []
    files = list(walk(tree, WalkRules(), errors))
    real = sorted(os.path.realpath(f.path) for f in files)
    assert len(real) == len(set(real)) == 5
    assert errors == []


def test_symlinked_folder_outside_root_is_followed(tree: Path, tmp_path: Path) -> None:
    _write(tmp_path / "outside" / "z.jpg")
    os.symlink(tmp_path / "outside", tree / "linked")
    assert "linked/z.jpg" in _rel(tree, walk(tree, WalkRules()))


def test_unreadable_root_is_reported_not_raised(tmp_path: Path) -> None:
    errors: list[tuple[str, str]] = []
    assert list(walk(tmp_path / "missing", WalkRules(), errors)) == []
    assert [e[0] for e in errors] == [str(tmp_path / "missing")]


# ----------------------------------------------------------------------------- fingerprint


def test_fingerprint_ignores_name_and_mtime(tmp_path: Path) -> None:
    data = os.urandom(HEAD_BYTES + 300_000)
    a = _write(tmp_path / "a.bin", data, mtime_ns=1_000_000_000)
    b = tmp_path / "copy of a.bin"
    shutil.copyfile(a, b)
    os.utime(b, ns=(5_000_000_000, 5_000_000_000))
    assert fingerprint(a) == fingerprint(b) == fingerprint(str(a), len(data))


@pytest.mark.parametrize("offset", [0, HEAD_BYTES - 1, -1, -TAIL_BYTES])
def test_fingerprint_changes_with_content(tmp_path: Path, offset: int) -> None:
    data = bytearray(os.urandom(HEAD_BYTES + 300_000))
    a = _write(tmp_path / "a.bin", bytes(data))
    before = fingerprint(a)
    data[offset] ^= 0xFF
    _write(a, bytes(data))
    assert fingerprint(a) != before


def test_fingerprint_of_small_files_and_sizes(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.txt", "hello world")
    b = _write(tmp_path / "b.txt", "hello World")
    c = _write(tmp_path / "c.txt", "hello world\n")
    e = _write(tmp_path / "empty", b"")
    assert len({fingerprint(a), fingerprint(b), fingerprint(c), fingerprint(e)}) == 4


# ----------------------------------------------------------------------------- diff


def _known(id_: int, path: Path, size: int, mtime_ns: int, fp: str | None) -> KnownFile:
    return KnownFile(id_, str(path), size, mtime_ns, fp)


def _disk(path: Path) -> DiskFile:
    st = path.stat()
    return DiskFile(str(path), st.st_size, st.st_mtime_ns)


def test_diff_classifies_every_kind_of_change(tmp_path: Path) -> None:
    root = tmp_path / "root"
    t0 = 1_600_000_000_000_000_000
    unchanged = _write(root / "unchanged.txt", "same old", mtime_ns=t0)
    touched = _write(root / "touched.txt", "content kept", mtime_ns=t0 + 5)
    changed = _write(root / "changed.txt", "version two", mtime_ns=t0 + 7)
    grown = _write(root / "grown.txt", "version two, longer", mtime_ns=t0 + 7)
    moved = _write(root / "sub" / "renamed.txt", "moved content", mtime_ns=t0 + 9)
    new = _write(root / "brand-new.txt", "never seen")
    old_changed = _write(tmp_path / "old" / "changed.txt", "version one")
    old_grown = _write(tmp_path / "old" / "grown.txt", "version one")

    known = [
        _known(1, unchanged, unchanged.stat().st_size, t0, "stale-but-unread"),
        _known(2, touched, touched.stat().st_size, t0, fingerprint(touched)),
        _known(3, changed, changed.stat().st_size, t0, fingerprint(old_changed)),
        _known(4, grown, 11, t0, fingerprint(old_grown)),
        _known(5, root / "old-name.txt", moved.stat().st_size, t0, fingerprint(moved)),
        _known(6, root / "gone.txt", 3, t0, "feedface"),
    ]
    d = diff(walk(root, WalkRules()), known)

    assert [k.id for k in d.unchanged] == [1]
    assert [(k.id, df.path) for k, df in d.touched] == [(2, str(touched))]
    assert touched.stat().st_mtime_ns == d.touched[0][1].mtime_ns
    assert sorted((k.id, df.path, fp) for k, df, fp in d.changed) == [
        (3, str(changed), fingerprint(changed)),
        (4, str(grown), fingerprint(grown)),
    ]
    assert [(k.id, df.path) for k, df in d.moved] == [(5, str(moved))]
    assert [k.id for k in d.deleted] == [6]
    assert d.new == [(_disk(new), fingerprint(new))]


def test_diff_moves_one_vanished_file_to_one_new_copy(tmp_path: Path) -> None:
    root = tmp_path / "root"
    a = _write(root / "copy1.txt", "twins")
    b = _write(root / "copy2.txt", "twins")
    gone = _known(7, root / "original.txt", 5, 1, fingerprint(a))
    d = diff([_disk(a), _disk(b)], [gone])
    assert len(d.moved) == 1 and d.moved[0][0] == gone
    assert [df.path for df, _ in d.new] == sorted({str(a), str(b)} - {d.moved[0][1].path})
    assert d.deleted == []


def test_diff_of_identical_state_is_all_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "root"
    files = [_write(root / f"f{i}.txt", f"file {i}") for i in range(3)]
    known = [
        _known(i, p, p.stat().st_size, p.stat().st_mtime_ns, fingerprint(p))
        for i, p in enumerate(files)
    ]
    d = diff(walk(root, WalkRules()), known)
    assert sorted(k.id for k in d.unchanged) == [0, 1, 2]
    assert (d.new, d.changed, d.touched, d.moved, d.deleted) == ([], [], [], [], [])


def test_elsewhere_finds_vanished_file_outside_roots(tmp_path: Path) -> None:
    here = _write(tmp_path / "new-root" / "photo.jpg", b"\x89PNG pixels")
    fp = fingerprint(here)
    outside = _known(42, tmp_path / "unmounted" / "photo.jpg", here.stat().st_size, 1, fp)
    asked: list[str] = []

    def elsewhere(q: str) -> list[KnownFile]:
        asked.append(q)
        return [outside] if q == fp else []

    d = diff([_disk(here)], [], elsewhere)
    assert asked == [fp]
    assert [(k.id, df.path) for k, df in d.moved] == [(42, str(here))]
    assert d.new == [] and d.deleted == []


def test_elsewhere_ignores_candidate_that_still_exists(tmp_path: Path) -> None:
    here = _write(tmp_path / "root" / "photo.jpg", b"same bytes")
    still_there = _write(tmp_path / "other-root" / "photo.jpg", b"same bytes")
    fp = fingerprint(here)
    existing = _known(1, still_there, still_there.stat().st_size, 1, fp)

    d = diff([_disk(here)], [], lambda q: [existing])
    assert d.moved == []
    assert d.new == [(_disk(here), fp)]

    vanished = _known(2, tmp_path / "gone" / "photo.jpg", existing.size, 1, fp)
    d = diff([_disk(here)], [], lambda q: [existing, vanished])
    assert [(k.id, df.path) for k, df in d.moved] == [(2, str(here))]


def test_elsewhere_candidate_is_claimed_once(tmp_path: Path) -> None:
    a = _write(tmp_path / "root" / "a.jpg", b"dup")
    b = _write(tmp_path / "root" / "b.jpg", b"dup")
    vanished = _known(9, tmp_path / "gone.jpg", 3, 1, fingerprint(a))
    d = diff([_disk(a), _disk(b)], [], lambda q: [vanished])
    assert [k.id for k, _ in d.moved] == [9]
    assert len(d.new) == 1
