"""`scry search` and `scry similar`: stage one, the reranked order, batches, explain tables."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .cli_common import EXIT_EMPTY, EXIT_OK, _engine, _print_json, _warn_keyword_only


def _print_hits(hits: list[Any], as_json: bool, *, explain: bool = False) -> int:
    if as_json:
        _print_json([h.as_json(explain=explain) for h in hits])
    elif not hits:
        print("No matches.")
    else:
        if explain:
            print(f"{'score':>6}  {'lex':>4} {'vec':>4} {'z':>6} {'rerank':>8}  {'item':<18} path")
        for h in hits:
            where = ""
            if "page" in h.locator:
                where = f" p.{h.locator['page']}"
            elif "start" in h.locator:
                where = f" chars {h.locator['start']}-{h.locator['end']}"
            elif "time" in h.locator:
                where = f" at {h.locator['time']:.1f}s"
            if explain:
                e = h.explain
                cols = [
                    f"{e.get('lexical_rank') or '-':>4}",
                    f"{e.get('vector_rank') or '-':>4}",
                    f"{e['vector_z']:6.2f}" if e.get("vector_z") is not None else f"{'-':>6}",
                    f"{e['rerank']:8.3f}" if e.get("rerank") is not None else f"{'-':>8}",
                ]
                print(f"{h.score:6.3f}  {' '.join(cols)}  {h.kind + where:<18} {h.path}")
            else:
                print(f"{h.score:6.3f}  {h.kind + where:<18} {h.path}")
    return EXIT_OK if hits else EXIT_EMPTY


def _search_options(args: argparse.Namespace) -> Any:
    from scry.indexer.search import SearchOptions

    return SearchOptions(k=args.limit, mode=args.mode, cutoff=not args.all, sort=args.sort)


def _run_query(engine: Any, args: argparse.Namespace, text: str, image: Path | None) -> Any:
    """Stage one, then the reranked order when a reranker runs (waiting out its budget)."""
    from concurrent.futures import CancelledError
    from concurrent.futures import TimeoutError as FutureTimeout

    result = engine.query(text, image=image, options=_search_options(args), rerank=args.rerank)
    if result.rerank is not None:
        try:
            result.hits = result.rerank.result(timeout=engine.settings.rerank_budget_s + 30)
        except (CancelledError, FutureTimeout) as exc:
            result.rerank_note = (
                f"reranking did not finish ({type(exc).__name__}); stage-one order shown"
            )
        except Exception as exc:
            result.rerank_note = f"reranking failed ({exc}); stage-one order shown"
    if result.rerank_note and args.rerank:
        print(f"scry: {result.rerank_note}", file=sys.stderr)
    return result


def cmd_search(args: argparse.Namespace) -> int:
    from scry.indexer.errors import BadInput

    text = " ".join(args.text).strip()
    if args.batch is None and not text and args.image is None:
        raise BadInput(
            'Nothing to search for. Give some words (scry search "a red car") or --image PATH.'
        )
    engine = _engine(args)
    try:
        engine.load_model()
        _warn_keyword_only(engine)
        if args.batch is not None:
            return _search_batch(engine, args)
        result = _run_query(engine, args, text, args.image)
    finally:
        engine.close()
    if result.message:
        print(result.message, file=sys.stderr if args.json else sys.stdout)
        if args.json:
            _print_json([])
        return EXIT_EMPTY
    return _print_hits(result.hits, args.json, explain=args.explain)


def _search_batch(engine: Any, args: argparse.Namespace) -> int:
    """One query per input line -> one compact JSON list per output line, in order."""
    from scry.indexer.errors import BadInput, ScryError

    try:
        stream = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise BadInput(f"Cannot read the batch file {args.batch}: {exc.strerror or exc}.") from exc
    with stream:
        for line in stream:
            query = line.strip()
            hits: list[Any] = []
            if query:
                try:
                    hits = _run_query(engine, args, query, args.image).hits
                except ScryError as exc:
                    print(f"scry: {query!r}: {exc}", file=sys.stderr)
            sys.stdout.write(
                json.dumps([h.as_json(explain=args.explain) for h in hits], ensure_ascii=False)
                + "\n"
            )
            sys.stdout.flush()
    return EXIT_OK


def cmd_similar(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        hits = engine.similar(args.path, args.limit)
    finally:
        engine.close()
    return _print_hits(hits, args.json)
