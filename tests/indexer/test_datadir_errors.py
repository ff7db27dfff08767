"""A full disk and a read-only data folder: a clear sentence, exit 5, nothing damaged, and
indexing completes once the problem is gone.

The disk is a small tmpfs (skipped where ``mount`` is not allowed). The read-only folder is
mode 0555; as root (where modes are ignored) the indexing runs in a child without the
capabilities that let root ignore them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): still root, so it
can run the interpreter under /root, but bound by file modes like anyone else.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from scry.indexer import store
from scry.indexer.catalog import Catalog
from scry.indexer.engine import Engine
from scry.indexer.errors import CatalogError
from scry.indexer.schema import Model
from scry.indexer.vectors import VectorStore
from tests.conftest import make_image

REPO = Path(__file__).resolve().parents[2]


def without_root_powers() -> Callable[[], None]:
    """A preexec_fn dropping the capabilities that let root write where modes forbid it (from
    the bounding set, so the exec'd child cannot regain them); skips when that is refused."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, dac_caps = 24, (1, 2)

    def drop() -> None:
        for cap in dac_caps:
            if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")

    try:
        subprocess.run([sys.executable, "-c", "pass"], preexec_fn=drop, check=True)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE for a child")
    return drop


def scry(
    *args: str, home: Path, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SCRY_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "HOME": str(home.parent),
        "XDG_CACHE_HOME": str(home.parent / "cache"),
    }
    return subprocess.run(
        [sys.executable, "-m", "scry.app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        preexec_fn=preexec,
        cwd=str(home.parent),
    )


def add_files(folder: Path, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        make_image(folder / "more" / f"img{i:03d}.png", (i * 9 % 255, 40, 90), pattern=i % 6 + 2)
        (folder / "more" / f"note{i:03d}.txt").write_text(f"Note number {i} about the garden.")


def consistent(home: Path) -> tuple[str, int, list[str]]:
    """(integrity_check, files, modalities whose saved vector index disagreed with the catalog)."""
    cat = Catalog.open(home)
    try:
        st = Engine(home=home).status()
        with cat.session() as s:
            models = [(m.id, m.dimension) for m in s.scalars(select(Model))]
        rebuilt = []
        for mid, dim in models:
            vs = VectorStore(home, cat, mid, dim)
            for modality, idx in vs.indexes.items():
                with cat.session() as s:
                    expected = store.vector_signature(s, mid, modality)
                loaded = idx.load()
                if (loaded or expected[0]) and idx.signature != expected:
                    rebuilt.append(f"{modality}: loaded={loaded} {idx.signature} != {expected}")
        return cat.integrity_check(), st["files"], rebuilt
    finally:
        cat.close()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs `mount -t tmpfs` (root) to make a small disk")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path, name: str = "ballast") -> Path:
    """Use up every free byte of ``disk``."""
    path = disk / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 16, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return path


@pytest.mark.slow
def test_full_disk_is_a_clear_error_and_indexing_resumes(
    tmpfs: Path, photos: Path, clip_dir: Path
) -> None:
    home = tmpfs / "home"
    (tmpfs / "cache").mkdir()
    assert scry("index", str(photos), "--model", str(clip_dir), home=home).returncode == 0
    add_files(photos, 20)

    # 1. The disk is already full: the catalog cannot take a single new file.
    ballast = fill(tmpfs)
    done = scry("index", str(photos), "--model", str(clip_dir), home=home)
    assert done.returncode == 5, done.stderr
    assert "is full" in done.stderr and "Free some space" in done.stderr
    assert "Traceback" not in done.stderr
    status = scry("status", "--model", str(clip_dir), home=home)
    assert "Traceback" not in status.stderr and status.returncode in (0, 5)
    ballast.unlink()
    assert consistent(home) == ("ok", 6, [])

    # 2. The disk fills between the catalog's commits and saving the vector index.
    add_files(photos, 5, start=20)
    eng = Engine(home=home, model=str(clip_dir))

    def fill_when_saving(p) -> None:
        if p.phase == "saving":
            fill(tmpfs)

    with pytest.raises(CatalogError, match="is full"):
        eng.index([photos], progress=fill_when_saving)
    eng.close()  # does not raise: the catalog holds every vector
    assert not list((home / "vectors").glob("*.tmp"))
    ballast.unlink()
    integrity, files, rebuilt = consistent(home)
    assert (integrity, files) == ("ok", 56)
    assert rebuilt  # the old index file, whole, behind the catalog: rebuilt when next opened

    # 3. Space is back: indexing completes.
    add_files(photos, 2, start=25)
    done = scry("index", str(photos), "--model", str(clip_dir), home=home)
    assert done.returncode == 0, done.stderr
    assert consistent(home) == ("ok", 60, [])


@pytest.mark.slow
def test_read_only_data_folder_is_a_clear_error(tmp_path: Path, clip_dir: Path) -> None:
    model = clip_dir
    photos = tmp_path / "photos"
    add_files(photos, 3)
    home = tmp_path / "home"
    (tmp_path / "cache").mkdir()
    assert scry("index", str(photos), "--model", str(model), home=home).returncode == 0
    add_files(photos, 3, start=3)
    for d, dirs, files in os.walk(home):
        for f in files:
            os.chmod(os.path.join(d, f), 0o444)
        for x in dirs:
            os.chmod(os.path.join(d, x), 0o555)
    home.chmod(0o555)

    drop = without_root_powers() if os.geteuid() == 0 else None  # root ignores modes
    done = scry("index", str(photos), "--model", str(model), home=home, preexec=drop)
    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot be written" in done.stderr or "cannot be opened" in done.stderr
    assert "SCRY_HOME" in done.stderr  # the fix is named
    status = scry("status", "--model", str(model), home=home, preexec=drop)
    assert "Traceback" not in status.stderr and status.returncode in (0, 5), status.stderr

    home.chmod(0o755)
    for d, dirs, files in os.walk(home):
        for x in dirs:
            os.chmod(os.path.join(d, x), 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    assert consistent(home) == ("ok", 6, [])
    done = scry("index", str(photos), "--model", str(model), home=home)
    assert done.returncode == 0, done.stderr
    assert consistent(home) == ("ok", 12, [])
