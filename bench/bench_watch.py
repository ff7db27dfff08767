"""Live-indexing latency: from a new file being closed to it being searchable.

Creates files one by one in a watched folder (tiny random CLIP, real watchdog observer, the real
service) and prints p50/p95 of the time until `inspect` reports the file indexed.

    .venv/bin/python bench/bench_watch.py [--files 50] [--gap 0.2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scry.indexer.engine import Engine
from scry.indexer.service import IndexService
from tests.conftest import make_image
from tests.tinymodels import build_clip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--gap", type=float, default=0.2, help="seconds between new files")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model = build_clip(tmp / "tiny-clip")
        folder = tmp / "watched"
        folder.mkdir()
        svc = IndexService(Engine(home=tmp / "home", model=str(model)))
        svc.start()
        svc.add_folder(folder)
        svc.wait_idle(120)
        created: dict[Path, float] = {}
        seen: dict[Path, float] = {}
        stop = threading.Event()

        def poll() -> None:
            eng = Engine(home=tmp / "home", model=str(model))  # a reader, like the window
            while not stop.is_set():
                for p, t0 in list(created.items()):
                    if p not in seen and eng.inspect(p)["status"] == "ok":
                        seen[p] = time.monotonic() - t0
                time.sleep(0.02)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        for i in range(args.files):
            p = make_image(folder / f"new{i:03d}.png", (i * 5 % 255, 90, 200), pattern=i % 7 + 2)
            created[p] = time.monotonic()
            time.sleep(args.gap)
        deadline = time.monotonic() + 60
        while len(seen) < len(created) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        svc.stop()
        lat = sorted(seen.values())
        missing = len(created) - len(seen)
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
        print(
            f"{len(lat)} of {len(created)} files searchable; latency p50 {statistics.median(lat):.2f}s, "
            f"p95 {p95:.2f}s, max {lat[-1]:.2f}s"
            + (f"; {missing} never appeared" if missing else "")
        )


if __name__ == "__main__":
    main()
