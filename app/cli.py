"""The ``scry`` command line: index, search, similar, status, inspect.

Every command takes ``--json`` for scripts (stable keys, documented in README) and exits with a
meaningful status:

    0  success
    1  nothing found (search/similar with no results, inspect of a file that is not indexed)
    2  usage error (bad arguments)
    3  bad input (missing file or folder, unreadable query image)
    4  the embedding model is unavailable and the command needs it
    5  the catalog cannot be used (newer version, locked, read-only, damaged, disk full)
    130 interrupted (Ctrl+C)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .cli_common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)
from .cli_index import cmd_index, cmd_inspect, cmd_status
from .cli_integrate import add_parser as add_integrate_parser
from .cli_integrate import cmd_integrate
from .cli_models import add_parser as add_models_parser
from .cli_models import cmd_models
from .cli_search import cmd_search, cmd_similar
from .cli_watch import cmd_watch

EPILOG = """\
examples:
  scry index ~/Pictures ~/Documents     add folders and index them (run again to update)
  scry search "red bicycle in the snow"  find photos and pages by what they show or say
  scry search --image holiday.jpg        find pictures that look like this one
  scry similar ~/Pictures/cat.jpg        the same, for a file scry has indexed
  scry status                            what is indexed, what failed and why
  scry inspect ~/Documents/report.pdf    what scry knows about one file
  scry watch ~/Pictures                  index, then follow changes live (Ctrl+C stops)
  scry similar photo.jpg --window        show look-alikes in the (running) window
  scry --background                      start in the system tray (what autostart runs)
  scry integrate install                 "Find similar with scry" in file managers
  scry models list                       the model lineup, what fits this computer

query language (scry search):
  "exact phrase"   -word   type:photo|image|pdf|doc|video   in:FOLDER   after:2023-06
  before:2024   year:2023   camera:canon   lens:50mm   ext:heic   sort:date

The model is a Hugging Face id or a local folder: --model, or SCRY_MODEL, or the settings file.
Data lives in the user data folder; SCRY_HOME moves it.
exit codes: 0 ok, 1 nothing found, 2 usage, 3 bad input, 4 model unavailable, 5 catalog error, 130 interrupted
"""


def _version() -> str:
    try:
        return version("scry")
    except PackageNotFoundError:
        return "0+unknown"


def _common(*, top: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command; after it they override only when given."""
    common = argparse.ArgumentParser(add_help=False)
    dflt = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    common.add_argument(
        "--json",
        action="store_true",
        default=dflt(False),
        help="print machine-readable JSON on stdout",
    )
    common.add_argument(
        "--model",
        metavar="ID_OR_DIR",
        default=dflt(None),
        help="embedding model: Hugging Face id or local folder",
    )
    common.add_argument(
        "--home",
        metavar="DIR",
        type=Path,
        default=dflt(None),
        help="data folder (default: SCRY_HOME or the user data folder)",
    )
    common.add_argument(
        "-v", "--verbose", action="count", default=dflt(0), help="more log output (-vv for debug)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    top, common = _common(top=True), _common(top=False)

    p = argparse.ArgumentParser(
        prog="scry",
        description="Find your own photos and documents by what they show and say.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[top],
    )
    p.add_argument("--version", action="version", version=f"scry {_version()}")
    p.add_argument(
        "--show",
        action="store_true",
        help="open the window (raise the running scry's window if it runs already)",
    )
    p.add_argument(
        "--background",
        action="store_true",
        help="start in the system tray only, indexing in the background (for autostart)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ix = sub.add_parser(
        "index",
        parents=[common],
        help="index folders (new, changed, moved, deleted files)",
        description="Add FOLDERs to the indexed folders and bring the index up to date. "
        "Without FOLDER, updates every folder indexed before.",
    )
    ix.add_argument("folders", nargs="*", type=Path, metavar="FOLDER")
    ix.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    se = sub.add_parser(
        "search",
        parents=[common],
        help="search by text, by an image, or both",
        description="Search by words (meaning and keywords) and/or by an image file.",
    )
    se.add_argument("text", nargs="*", help="what to look for (query language: see below)")
    se.add_argument("--image", metavar="PATH", type=Path, help="an image whose look to search for")
    se.add_argument("-k", "--limit", type=int, default=20, help="number of results (default 20)")
    se.add_argument(
        "--mode",
        choices=["hybrid", "lexical", "vector"],
        default="hybrid",
        help="hybrid (default): meaning and keywords; lexical: keywords only; vector: meaning only",
    )
    se.add_argument(
        "--rerank",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="reorder the top results with the reranker (default: the 'rerank' setting, auto)",
    )
    se.add_argument("--all", action="store_true", help="no relevance cutoff: show weak matches too")
    se.add_argument("--sort", choices=["relevance", "date"], help="order of results")
    se.add_argument(
        "--explain", action="store_true", help="show each result's ranks and scores per stage"
    )
    se.add_argument(
        "--batch",
        metavar="FILE",
        help="one query per line (- for stdin); prints one JSON list per line, loading the model once",
    )
    se.add_argument(
        "--window",
        action="store_true",
        help="show the results in scry's window (the running one if scry runs) instead of printing",
    )

    si = sub.add_parser(
        "similar",
        parents=[common],
        help="files that look like PATH",
        description="Find files similar to PATH, using its stored vectors when it is indexed.",
    )
    si.add_argument("path", type=Path)
    si.add_argument("-k", "--limit", type=int, default=20, help="number of results (default 20)")
    si.add_argument(
        "--window",
        action="store_true",
        help="show the look-alikes in scry's window (the running one if scry runs); "
        "this is what the file manager's 'Find similar with scry' runs",
    )

    wa = sub.add_parser(
        "watch",
        parents=[common],
        help="index folders and keep following their changes (Ctrl+C stops)",
        description="Index FOLDERs (and every folder indexed before), then follow changes as they "
        "happen, with a live progress line. Ctrl+C stops cleanly; nothing indexed is lost.",
    )
    wa.add_argument("folders", nargs="*", type=Path, metavar="FOLDER")
    wa.add_argument("--poll", action="store_true", help="poll for changes instead of OS events")

    sub.add_parser(
        "status", parents=[common], help="what is indexed, failures with reasons, model, size"
    )

    ins = sub.add_parser("inspect", parents=[common], help="what scry knows about one file")
    ins.add_argument("path", type=Path)
    ins.add_argument("--vectors", action="store_true", help="include the stored vectors")

    gui = sub.add_parser(
        "gui",
        parents=[common],
        help="open the window (the same as scry with no command)",
        description="Open the search window, optionally with a search already typed.",
    )
    gui.add_argument("--query", metavar="TEXT", help="start with these words in the search field")
    gui.add_argument("--image", metavar="PATH", help="start searching with this image")
    gui.add_argument("--similar", metavar="PATH", help="start with files similar to PATH")
    add_integrate_parser(sub, common)
    add_models_parser(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="scry: %(levelname)s: %(message)s")
    if args.verbose < 2:
        for noisy in (
            "httpx",
            "httpcore",
            "urllib3",
            "huggingface_hub",
            "sentence_transformers",
            "transformers",
        ):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if args.command in (None, "gui") or getattr(args, "window", False):
        return cmd_gui(args)
    from scry.indexer.errors import ScryError

    try:
        return COMMANDS[args.command](args)
    except ScryError as exc:
        print(f"scry: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("scry: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into head & co.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    """Open the window; Qt is imported only here, so the other commands never load it."""
    try:
        from scry.app.gui.app import display_problem, run
    except ImportError as exc:  # pragma: no cover - PySide6 is a dependency
        print(f"scry: the window needs PySide6 ({exc}); the commands still work.", file=sys.stderr)
        return EXIT_USAGE
    problem = display_problem()
    if problem:
        print(f"scry: {problem}", file=sys.stderr)
        return EXIT_USAGE
    query, image, similar = (
        getattr(args, "query", None),
        getattr(args, "image", None),
        getattr(args, "similar", None),
    )
    if args.command == "search":  # scry search WORDS --window [--image PATH]
        query = " ".join(args.text) or None
        image = str(args.image) if args.image else None
    elif args.command == "similar":  # scry similar PATH --window
        if not args.path.exists():
            print(f"scry: {args.path} does not exist.", file=sys.stderr)
            return EXIT_BAD_INPUT
        similar = str(args.path)
    return run(
        home=args.home.expanduser().resolve() if args.home else None,
        model=args.model,
        query=query,
        image=image,
        similar=similar,
        background=args.background,
    )


COMMANDS = {
    "index": cmd_index,
    "search": cmd_search,
    "watch": cmd_watch,
    "similar": cmd_similar,
    "status": cmd_status,
    "inspect": cmd_inspect,
    "integrate": cmd_integrate,
    "models": cmd_models,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
