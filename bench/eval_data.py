"""The evaluation's data: graded-relevance metrics (nDCG@k, Recall@k, first relevant rank), the
stdlib-documentation corpus (rendered from the installed interpreter) and the labeled queries.

Imported by ``eval_search.py`` (the runner and its reports); kept apart so each file holds one
concern.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVAL_DIR = Path(__file__).resolve().parent / "eval"
K = 10
FILE_NAME = re.compile(r"^doc_\d{3}\.txt$")
MEMBER_DOC_CHARS = 1500
METHOD_DOC_CHARS = 800


# ---------------------------------------------------------------------------- metrics


def as_relevance(relevant: Mapping[str, float] | Iterable[str]) -> dict[str, float]:
    """Graded relevance per key: a mapping as given, or every key of a list with grade 1."""
    if isinstance(relevant, Mapping):
        return {k: float(v) for k, v in relevant.items() if float(v) > 0}
    return {k: 1.0 for k in relevant}


def _unique(ranked: Sequence[str]) -> list[str]:
    """The ranking with repeats of a key dropped (a key counts once, at its best rank)."""
    seen: set[str] = set()
    out = []
    for key in ranked:
        if key not in seen:
            seen.add(key)
            out.append(key)
    return out


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain: sum of gain / log2(rank + 1), ranks from 1."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(
    ranked: Sequence[str], relevant: Mapping[str, float] | Iterable[str], k: int = K
) -> float:
    """nDCG@k (linear gains): the ranking's DCG over the best possible ranking's DCG."""
    rel = as_relevance(relevant)
    ideal = dcg(sorted(rel.values(), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    return dcg([rel.get(key, 0.0) for key in _unique(ranked)[:k]]) / ideal


def recall_at_k(
    ranked: Sequence[str], relevant: Mapping[str, float] | Iterable[str], k: int = K
) -> float:
    """Share of the relevant keys found in the first k results."""
    rel = as_relevance(relevant)
    if not rel:
        return 0.0
    return len(set(_unique(ranked)[:k]) & rel.keys()) / len(rel)


def first_relevant_rank(
    ranked: Sequence[str], relevant: Mapping[str, float] | Iterable[str]
) -> int | None:
    """1-based rank of the first relevant key, or None when none is in the ranking."""
    rel = as_relevance(relevant)
    for i, key in enumerate(_unique(ranked)):
        if key in rel:
            return i + 1
    return None


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# ---------------------------------------------------------------------------- labeled set


@dataclass
class Document:
    file: str
    source: str


@dataclass
class Corpus:
    python: str
    max_chars: int
    documents: list[Document]

    def file_to_source(self) -> dict[str, str]:
        return {d.file: d.source for d in self.documents}


@dataclass
class LabeledQuery:
    id: str
    style: str
    text: str
    relevant: list[str]


def load_corpus(folder: Path = EVAL_DIR) -> Corpus:
    raw = json.loads((folder / "corpus.json").read_text(encoding="utf-8"))
    docs = [Document(d["file"], d["source"]) for d in raw["documents"]]
    files = [d.file for d in docs]
    sources = [d.source for d in docs]
    bad = [f for f in files if not FILE_NAME.match(f)]
    if bad:
        raise ValueError(f"corpus.json: file names must be neutral (doc_NNN.txt): {bad[:5]}")
    if len(set(files)) != len(files) or len(set(sources)) != len(sources):
        raise ValueError("corpus.json: a file name or source key is listed twice")
    return Corpus(str(raw["python"]), int(raw["max_chars"]), docs)


def load_queries(folder: Path = EVAL_DIR, corpus: Corpus | None = None) -> list[LabeledQuery]:
    raw = json.loads((folder / "queries.json").read_text(encoding="utf-8"))
    queries = [
        LabeledQuery(q["id"], q["style"], q["query"], list(q["relevant"])) for q in raw["queries"]
    ]
    ids = [q.id for q in queries]
    if len(set(ids)) != len(ids):
        raise ValueError("queries.json: a query id is listed twice")
    known = {d.source for d in (corpus or load_corpus(folder)).documents}
    for q in queries:
        if not q.relevant:
            raise ValueError(f"queries.json: {q.id} lists no relevant source")
        unknown = [r for r in q.relevant if r not in known]
        if unknown:
            raise ValueError(f"queries.json: {q.id} names sources not in corpus.json: {unknown}")
    return queries


# ---------------------------------------------------------------------------- corpus


def _signature(obj: Any) -> str:
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", sig)  # default values' reprs: no memory addresses


def _members(mod: Any) -> list[tuple[str, Any]]:
    """Public functions and classes of a module: its __all__, else those defined in it."""
    listed = getattr(mod, "__all__", None)
    base = mod.__name__
    short = base.rsplit(".", 1)[-1]
    names = sorted(set(listed)) if listed is not None else sorted(vars(mod))
    out = []
    for name in names:
        if listed is None and name.startswith("_"):
            continue
        obj = getattr(mod, name, None)
        if obj is None or not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        owner = getattr(obj, "__module__", "") or ""
        if listed is None and not (
            owner == base or owner.startswith(base + ".") or owner.lstrip("_") == short
        ):
            continue  # imported from elsewhere
        out.append((name, obj))
    # Exceptions last: their docstrings say little about what the module is for.
    return sorted(
        out, key=lambda m: (inspect.isclass(m[1]) and issubclass(m[1], BaseException), m[0])
    )


def render_source(module_name: str, max_chars: int) -> str:
    """A standard-library module's documentation as plain text, from the installed interpreter.

    The module docstring, then each public function and class with its signature and docstring
    (a class's own public methods after it), cut after the last whole section that fits in
    ``max_chars``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mod = importlib.import_module(module_name)
    sections = []
    doc = inspect.getdoc(mod)
    if doc:
        sections.append(doc.strip())
    for name, obj in _members(mod):
        doc = inspect.getdoc(obj)
        if not doc:
            continue
        head = (
            f"class {name}{_signature(obj)}" if inspect.isclass(obj) else f"{name}{_signature(obj)}"
        )
        sections.append(f"{head}\n{doc.strip()[:MEMBER_DOC_CHARS]}")
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for mname, member in sorted(vars(obj).items()):
                if mname.startswith("_") or not callable(member):
                    continue
                mdoc = inspect.getdoc(member)
                if not mdoc or mdoc == inspect.getdoc(getattr(object, mname, None)):
                    continue
                sections.append(
                    f"{name}.{mname}{_signature(member)}\n{mdoc.strip()[:METHOD_DOC_CHARS]}"
                )
    text = ""
    for section in sections:
        if len(text) + len(section) + 2 > max_chars:
            if not text:
                text = section[:max_chars]
            break
        text += section + "\n\n"
    return text.strip() + "\n"


def write_corpus(folder: Path, corpus: Corpus) -> tuple[int, str]:
    """Render every document into ``folder``; returns (characters, sha256 prefix of the texts)."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    chars = 0
    failed = []
    for d in corpus.documents:
        try:
            text = render_source(d.source, corpus.max_chars)
        except ImportError as exc:
            failed.append(f"{d.source} ({exc})")
            continue
        (folder / d.file).write_text(text, encoding="utf-8")
        digest.update(d.file.encode() + b"\0" + text.encode("utf-8") + b"\0")
        chars += len(text)
    if failed:
        raise SystemExit(
            "These corpus sources cannot be imported by this Python, so the corpus would not be "
            f"the labeled one: {', '.join(failed)}. Run with CPython {corpus.python} on Linux."
        )
    return chars, digest.hexdigest()[:12]
