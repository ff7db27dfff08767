"""Crash safety: SIGKILL an indexing process at random moments, many times; after a normal run
the catalog is intact, the vector index agrees with it, nothing is duplicated or lost."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scry.indexer.catalog import Catalog
from scry.indexer.engine import Engine
from scry.indexer.schema import File, Item, Vector
from tests.conftest import make_image

REPO = Path(__file__).resolve().parents[2]


def build_folder(root: Path, n: int, rng: random.Random) -> None:
    for i in range(n):
        if i % 3 == 0:
            (root / f"d{i % 4}").mkdir(parents=True, exist_ok=True)
            (root / f"d{i % 4}" / f"note{i}.txt").write_text(
                " ".join(f"word{rng.randint(0, 500)}" for _ in range(400)), encoding="utf-8"
            )
        else:
            make_image(
                root / f"d{i % 4}" / f"img{i}.png",
                (rng.randint(0, 255), 80, 160),
                pattern=i % 9 + 2,
            )


def run_and_kill(home: Path, model: Path, folder: Path, rng: random.Random) -> str:
    env = {**os.environ, "SCRY_HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("crash_child.py")),
            str(home),
            str(model),
            str(folder),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("READY"), line
    # kill after a random number of progress lines (0 = during the scan)
    batches = rng.randint(0, 8)
    seen = 0
    outcome = "killed"
    while seen < batches:
        line = proc.stdout.readline()
        if not line or line.startswith("DONE"):
            outcome = "finished"
            break
        seen += 1
    time.sleep(rng.random() * 0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    return outcome


def disk_files(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_random_sigkills_leave_a_consistent_index(
    home: Path, tmp_path: Path, clip_dir: Path
) -> None:
    rng = random.Random(20261126)
    folder = tmp_path / "f"
    build_folder(folder, 36, rng)
    outcomes = []
    for round_ in range(5):
        outcomes.append(run_and_kill(home, clip_dir, folder, rng))
        # the user keeps working meanwhile: new files, deletions, moves
        make_image(folder / "d0" / f"late{round_}.png", (round_ * 40, 10, 10), pattern=3)
        victims = sorted(disk_files(folder))
        os.remove(rng.choice(victims))
        src = Path(rng.choice(sorted(disk_files(folder))))
        shutil.move(src, src.with_name("moved-" + src.name))
    assert "killed" in outcomes

    eng = Engine(home=home, model=str(clip_dir))
    report = eng.index([folder])
    assert report.failed == 0

    cat = Catalog.open(home)
    try:
        assert cat.integrity_check() == "ok"
        with cat.session() as s:
            paths = set(s.scalars(select(File.path)))
            # no lost files, no ghosts
            assert paths == disk_files(folder)
            assert s.scalar(select(func.count(File.id))) == len(paths)
            # no duplicate items or vectors
            dup_items = s.execute(
                select(Item.file_id, Item.seq)
                .group_by(Item.file_id, Item.seq)
                .having(func.count() > 1)
            ).all()
            assert dup_items == []
            n_vectors = s.scalar(
                select(func.count(Vector.id)).where(Vector.model_id == eng.vectors.model_id)
            )
            orphan_items = s.scalar(
                select(func.count(Item.id)).where(~Item.id.in_(select(Vector.item_id)))
            )
            assert orphan_items == 0  # every item got its vectors
    finally:
        cat.close()
    # the HNSW index agrees with the catalog (rebuilt from stored vectors if it had to be)
    fresh = Engine(home=home, model=str(clip_dir))
    fresh.load_model()
    assert fresh.vectors.count() == n_vectors
    for p in sorted(disk_files(folder))[:5]:
        if p.endswith(".png"):
            hits = fresh.similar(p, k=1)
            assert hits  # the index answers
            res = fresh.search_image(p, k=1)
            assert res[0].path == p
