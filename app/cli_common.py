"""What every `scry` command shares: exit codes, the engine, JSON output, model notices."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK, EXIT_EMPTY, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_MODEL, EXIT_CATALOG, EXIT_INTERRUPTED = (
    0,
    1,
    2,
    3,
    4,
    5,
    130,
)


def _engine(args: argparse.Namespace):
    from scry.indexer.engine import Engine

    return Engine(home=args.home.expanduser().resolve() if args.home else None, model=args.model)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _warn_keyword_only(engine: Any) -> None:
    if engine.model_error:
        print(f"scry: {engine.model_error}", file=sys.stderr)
    elif engine.embedder is not None and not engine.embedder.supports("image"):
        print(
            f"scry: note: the model {engine.model_name} reads text only; images are searchable by "
            "file name, folder and metadata, not by what they show.",
            file=sys.stderr,
        )
