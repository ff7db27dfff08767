"""A burst of new, moved and deleted files under a real watchdog observer (bench_burst, scaled
down): the catalog ends equal to the disk, and no moved file is embedded again."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_burst.py"


# watchdog 7 warns (in its observer thread) when a new folder's watch is registered twice, which
# is harmless; with warnings as errors it would kill the observer thread.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_burst", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_burst"] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop("bench_burst", None)
    return module


@pytest.mark.slow
def test_burst_of_creates_moves_and_deletes(tmp_path: Path, clip_dir: Path) -> None:
    bench = load_bench()
    r = bench.burst(
        tmp_path, clip_dir, files=400, moves=80, deletes=80, settle_s=0.3, timeout=120, log=print
    )
    assert r["indexed"] and r["settled"], r
    assert (r["moved"], r["deleted"]) == (80, 80)
    assert (r["on_disk"], r["catalogued"]) == (320, 320)
    assert (r["missing"], r["extra"], r["duplicate_rows"]) == (0, 0, 0), r
    assert r["embedded_after_churn"] == 0, r  # moves kept their vectors
    assert r["embedded_items"] == 400 and r["embedded_twice"] == 0, r
    assert r["hnsw_live"] == r["vectors"] and r["integrity"] == "ok", r
