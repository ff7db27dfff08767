"""Child process for the crash test: indexes a folder, announcing each batch on stdout."""

from __future__ import annotations

import sys
from pathlib import Path

from scry.indexer.config import Settings
from scry.indexer.engine import Engine


def main() -> None:
    home, model, folder = (Path(a) for a in sys.argv[1:4])
    eng = Engine(home=home, model=str(model), settings=Settings(batch_size=3, decode_workers=2))
    eng.load_model()
    print("READY", flush=True)
    eng.index([folder], progress=lambda p: print(f"P {p.phase} {p.done}", flush=True))
    eng.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
