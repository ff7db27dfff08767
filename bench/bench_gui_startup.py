"""Window startup benchmark: time from launching `scry gui` to the window shown, and to the first
results of a query typed at launch. Prints numbers; it is not a test.

Each run is a fresh process (`python -m scry.app gui --query ...` with SCRY_GUI_BENCH=1, which
makes the window print its milestones and quit after the first results), over an index of
generated photos and notes, with a tiny random CLIP and with a random-weight CLIP of ViT-B/32's
shape (the default model's size, so its load time is realistic).

    .venv/bin/python bench/bench_gui_startup.py [--photos 200] [--runs 3] [--platform offscreen]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.conftest import make_image
from tests.tinymodels import build_clip, build_vit_b32_clip

EVENTS = ["shown", "index-open", "model-ready", "first-results"]


def make_library(root: Path, n: int) -> None:
    for i in range(n):
        color = ((i * 67) % 255, (i * 131) % 255, (i * 29) % 255)
        make_image(
            root / f"album {i % 10}" / f"IMG_{i:04d}.jpg", color, size=(640, 480), pattern=i % 9
        )
    notes = root / "notes"
    notes.mkdir(parents=True, exist_ok=True)
    for i in range(20):
        (notes / f"holiday note {i}.txt").write_text(
            f"Day {i} of the holiday: swimming at the beach, dinner by the harbour.",
            encoding="utf-8",
        )


def index(home: Path, library: Path, model: Path) -> float:
    from scry.indexer.engine import Engine

    t = time.perf_counter()
    eng = Engine(home=home, model=str(model))
    eng.index([library])
    eng.close()
    return time.perf_counter() - t


def launch(home: Path, model: Path, platform: str) -> dict[str, float]:
    env = dict(os.environ, SCRY_GUI_BENCH="1", QT_QPA_PLATFORM=platform)
    cmd = [sys.executable, "-m", "scry.app", "gui", "--home", str(home), "--model", str(model)]
    t0 = time.time()
    out = subprocess.run(
        [*cmd, "--query", "holiday beach"], env=env, capture_output=True, text=True, timeout=300
    )
    times = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            ev = json.loads(line)
            times[ev["event"]] = ev["t"] - t0
    if "first-results" not in times:
        raise SystemExit(f"the window did not report results:\n{out.stdout}\n{out.stderr[-2000:]}")
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description="Time from launch to window shown and first results.")
    ap.add_argument("--photos", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--platform", default="offscreen", help="Qt platform (offscreen, xcb)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="scry-bench-gui-") as tmp:
        base = Path(tmp)
        library = base / "library"
        make_library(library, args.photos)
        models = {
            "tiny CLIP": build_clip(base / "tiny-clip"),
            "ViT-B/32-size CLIP": build_vit_b32_clip(base / "vit-b32"),
        }
        print(
            f"{args.photos} photos + 20 notes; {args.runs} launches each; Qt platform {args.platform}"
        )
        print(
            f"{'model':<20} {'shown':>8} {'index open':>11} {'model ready':>12} {'first results':>14}"
        )
        for label, model in models.items():
            home = base / f"home-{label.split()[0]}"
            secs = index(home, library, model)
            runs = [launch(home, model, args.platform) for _ in range(args.runs)]
            med = {e: statistics.median(r[e] for r in runs) for e in EVENTS}
            print(
                f"{label:<20} {med['shown']:7.2f}s {med['index-open']:10.2f}s "
                f"{med['model-ready']:11.2f}s {med['first-results']:13.2f}s   (indexed in {secs:.0f}s)"
            )
    print("times are medians from process launch (python startup and imports included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
