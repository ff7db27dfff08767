"""`scry models list|info|pull|use|current`: the model lineup, what fits here, switching safely.

Every subcommand takes ``--json`` (keys documented in README, "Models"). ``use`` for an embedder
re-embeds everything in the foreground through the service's model switch: the old index keeps
answering until the new one is complete, and Ctrl+C leaves the old one exactly as it was.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from .cli_common import (
    EXIT_EMPTY,
    EXIT_INTERRUPTED,
    EXIT_MODEL,
    EXIT_OK,
    EXIT_USAGE,
    _print_json,
)

_sleep = time.sleep  # the progress poll; tests replace it to press "Ctrl+C"


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``models`` subcommand and its own subcommands."""
    mo = sub.add_parser(
        "models",
        parents=[common],
        help="the model lineup: list, info, pull, use, current",
        description="List the embedding and reranking models scry knows, see which fit this "
        "machine, download one, and switch to it.",
    )
    ms = mo.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    ls = ms.add_parser("list", parents=[common], help="every model, what fits, what is active")
    ls.add_argument("--kind", choices=["embed", "rerank"], help="only embedders or rerankers")
    info = ms.add_parser("info", parents=[common], help="everything about one model")
    info.add_argument("id", metavar="ID")
    pull = ms.add_parser("pull", parents=[common], help="download a model (resumable)")
    pull.add_argument("id", metavar="ID")
    pull.add_argument(
        "--to", metavar="DIR", type=Path, help="into DIR (to copy to an offline machine)"
    )
    use = ms.add_parser(
        "use",
        parents=[common],
        help="switch the embedder (re-embeds everything) or the reranker",
        description="Make ID the active embedder (re-embedding every indexed file; Ctrl+C "
        "cancels and keeps the old index) or, with --reranker, the active reranker.",
    )
    use.add_argument("id", metavar="ID", help="Hugging Face id or local model folder")
    use.add_argument("--reranker", action="store_true", help="set the reranker instead")
    use.add_argument(
        "--no-reindex", action="store_true", help="only record the choice; scry index re-embeds"
    )
    ms.add_parser("current", parents=[common], help="the active models and where they come from")


def cmd_models(args: argparse.Namespace) -> int:
    sub = getattr(args, "models_command", None)
    if sub is None:
        print("scry: models needs a subcommand: list, info, pull, use, current", file=sys.stderr)
        return EXIT_USAGE
    return {
        "list": _list,
        "info": _info,
        "pull": _pull,
        "use": _use,
        "current": _current,
    }[sub](args)


# ------------------------------------------------------------------ helpers


def _home(args: argparse.Namespace) -> Path:
    from scry.indexer.config import data_home

    return args.home.expanduser().resolve() if args.home else data_home()


def _normalise(name: str) -> str:
    local = Path(name).expanduser()
    return str(local.resolve()) if local.is_dir() else name


def _active(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """The active embedder and reranker, each with where the choice comes from."""
    from scry.indexer.config import Settings
    from scry.indexer.hardware import default_models
    from scry.indexer.models import indexed_model

    home = _home(args)
    settings = Settings.load(home)
    rec_emb, rec_rer = default_models()
    emb: tuple[str | None, str] = (None, "")
    for value, source in (
        (args.model, "--model"),
        (os.environ.get("SCRY_MODEL"), "SCRY_MODEL"),
        (settings.model, "settings"),
        (indexed_model(home), "index"),
        (rec_emb, "hardware default"),
    ):
        if value:
            emb = (_normalise(value), source)
            break
    if os.environ.get("SCRY_RERANKER"):
        rer = (os.environ["SCRY_RERANKER"], "SCRY_RERANKER")
    elif settings.reranker:
        rer = (_normalise(settings.reranker), "settings")
    else:
        from scry.indexer.rerank import DEFAULT_RERANKER

        rer = (rec_rer if emb[0] == rec_emb else DEFAULT_RERANKER, "hardware default")
    return {
        "embedder": {"id": emb[0] or "", "source": emb[1]},
        "reranker": {"id": rer[0], "source": rer[1]},
    }


def _row(entry: Any, info: Any, active: dict, recommended: tuple[str, str]) -> dict[str, Any]:
    from scry.indexer.hardware import fits

    ok, why = fits(entry, info)
    role = "embedder" if entry.kind == "embed" else "reranker"
    return {
        **entry.as_json(),
        "fits": ok,
        "fits_why": why,
        "missing_packages": entry.missing_packages(),
        "active": active[role]["id"] == entry.id,
        "recommended": entry.id in recommended,
    }


# ------------------------------------------------------------------ subcommands


def _list(args: argparse.Namespace) -> int:
    from scry.indexer.hardware import default_models, detected
    from scry.indexer.registry import entries

    info, active, rec = detected(), _active(args), default_models()
    rows = [_row(e, info, active, rec) for e in entries(args.kind)]
    if args.json:
        _print_json(
            {
                "hardware": info.as_json(),
                "active": active,
                "recommended": {"embedder": rec[0], "reranker": rec[1]},
                "models": rows,
            }
        )
        return EXIT_OK
    print(_hardware_line(info))
    for kind, title in (("embed", "Embedders"), ("rerank", "Rerankers")):
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        print(f"\n{title}:")
        for r in mine:
            marks = ("*" if r["active"] else " ") + ("R" if r["recommended"] else " ")
            fit = "fits" if r["fits"] else "too big"
            lic = r["license"].split(" ")[0] + ("" if r["commercial_use"] else " (non-commercial)")
            print(
                f" {marks} {r['id']:<42} {'+'.join(r['modalities']):<22} "
                f"{r['memory_gb']:>5g} GB {r['device']:<4} {fit:<7} {lic}"
            )
    print("\n* active   R recommended for this machine   (scry models info ID for details)")
    for role in ("embedder", "reranker"):
        a = active[role]
        if a["id"] and not any(r["id"] == a["id"] for r in rows):
            print(f"active {role}: {a['id']} ({a['source']}; not in the lineup)")
    return EXIT_OK


def _hardware_line(info: Any) -> str:
    gpus = ", ".join(f"{g.name} {g.total_gb:g} GB" for g in info.gpus) or "no CUDA GPU"
    ram = f", {info.ram_gb:g} GB RAM" if info.ram_gb else ""
    mps = ", Apple MPS" if info.mps else ""
    return f"This machine: {gpus}{mps}, {info.cpu_cores} CPU cores{ram}"


def _info(args: argparse.Namespace) -> int:
    from scry.indexer.hardware import default_models, detected
    from scry.indexer.registry import lookup

    entry = lookup(args.id)
    if entry is None:
        msg = (
            f"{args.id} is not in scry's lineup (scry models list). It may still work: any "
            "sentence-transformers model or local folder can be used with scry models use."
        )
        if args.json:
            _print_json({"id": args.id, "known": False, "message": msg})
        else:
            print(msg)
        return EXIT_EMPTY
    row = {"known": True, **_row(entry, detected(), _active(args), default_models())}
    if args.json:
        _print_json(row)
        return EXIT_OK
    print(f"{entry.id}  ({'embedder' if entry.kind == 'embed' else 'reranker'})")
    print(f"  {entry.summary}")
    print(f"  reads: {', '.join(entry.modalities)}")
    if entry.dimension:
        print(f"  dimensions: {entry.dimension}")
    est = " (estimate)" if entry.estimate else ""
    print(f"  parameters: {entry.parameters_m:,} M; memory: {entry.memory_gb:g} GB{est}")
    print(f"  device: {entry.device}; here: {row['fits_why']}")
    commercial = "commercial use allowed" if entry.license.commercial_use else "NON-COMMERCIAL"
    print(f"  license: {entry.license.name} ({commercial}) {entry.license.url}".rstrip())
    if entry.trust_remote_code:
        print("  runs the model's own code from the hub (trust_remote_code)")
    if entry.revision:
        print(f"  pinned revision: {entry.revision}")
    if entry.extra_packages:
        missing = entry.missing_packages()
        state = f"missing: {entry.pip_line()}" if missing else "installed"
        print(f"  extra packages: {', '.join(entry.extra_packages)} ({state})")
    for name, doc in entry.processor_kwargs:
        print(f"  processor_kwargs.{name}: {doc}")
    if entry.notes:
        print(f"  notes: {entry.notes}")
    if row["active"] or row["recommended"]:
        print(
            "  "
            + " and ".join(
                w
                for w, f in (("active", row["active"]), ("recommended here", row["recommended"]))
                if f
            )
        )
    return EXIT_OK


def _pull(args: argparse.Namespace) -> int:
    from scry.indexer.models import pull_model
    from scry.indexer.registry import lookup

    entry = lookup(args.id)
    if entry is not None and entry.missing_packages():
        print(
            f"scry: note: {entry.id} will also need `{entry.pip_line()}` to run.", file=sys.stderr
        )
    role = "reranker" if entry is not None and entry.kind == "rerank" else "embedding"
    path = pull_model(args.id, to=args.to, role=role)
    if args.json:
        _print_json({"id": args.id, "path": str(path)})
    else:
        print(f"{args.id} is ready in {path}")
        if args.to:
            print(f"Use it on any machine with: scry models use {path}")
    return EXIT_OK


def _use(args: argparse.Namespace) -> int:
    from scry.indexer.config import Settings
    from scry.indexer.registry import lookup

    name = _normalise(args.id)
    entry = lookup(name)
    reranker = args.reranker or (entry is not None and entry.kind == "rerank")
    if entry is not None and entry.kind == "embed" and args.reranker:
        print(f"scry: {entry.id} is an embedding model, not a reranker.", file=sys.stderr)
        return EXIT_USAGE
    home = _home(args)
    if reranker or args.no_reindex:
        settings = Settings.load(home)
        if reranker:
            settings.reranker = name
        else:
            settings.model = name
        settings.save(home)
        what = "reranker" if reranker else "embedder"
        result = {"id": name, "role": what, "state": "recorded", "reindexed": False}
        if args.json:
            _print_json(result)
        else:
            later = "" if reranker else " The next `scry index` embeds every file with it."
            print(f"The {what} is now {name}.{later}")
        return EXIT_OK
    return _switch_embedder(args, home, name)


def _switch_embedder(args: argparse.Namespace, home: Path, name: str) -> int:
    from scry.indexer.engine import Engine
    from scry.indexer.service import IndexService

    engine = Engine(home=home, model=args.model)
    if engine.model_name == name:
        engine.close()
        msg = f"{name} is already the embedder."
        if args.json:
            _print_json({"id": name, "role": "embedder", "state": "unchanged", "reindexed": False})
        else:
            print(msg)
        return EXIT_OK
    service = IndexService(engine, watch=False)
    tty = sys.stderr.isatty() and not args.json
    snap: dict[str, Any] = {}
    try:
        service.switch_model(name)
        last = ""
        while True:
            snap = service.status().switch or {}
            if snap.get("state") != "running":
                break
            line = (
                f"re-embedding with {name}: {snap.get('done', 0)} of {snap.get('total', 0)} files"
            )
            if tty and line != last:
                sys.stderr.write("\r\033[K" + line)
                sys.stderr.flush()
                last = line
            _sleep(0.2)
    except KeyboardInterrupt:
        if tty:
            sys.stderr.write("\n")
        print("scry: cancelling; the old index stays as it was ...", file=sys.stderr)
        service.cancel_switch(timeout=120)
        _close_switch(service)
        engine.close()
        if args.json:
            _print_json({"id": name, "role": "embedder", "state": "cancelled", "reindexed": False})
        return EXIT_INTERRUPTED
    finally:
        if tty:
            sys.stderr.write("\r\033[K")
    state = snap.get("state", "failed")
    service.engine.close()
    if state != "done":
        _close_switch(service)
        engine.close()
    result = {
        "id": name,
        "role": "embedder",
        "state": state,
        "reindexed": state == "done",
        "files": snap.get("total", 0),
        "error": snap.get("error"),
    }
    if args.json:
        _print_json(result)
    elif state == "done":
        print(f"The embedder is now {name}; every indexed file was re-embedded.")
    else:
        print(
            f"scry: the switch to {name} did not finish ({state}: {snap.get('error')}). "
            "The old model and index stay active.",
            file=sys.stderr,
        )
    return EXIT_OK if state == "done" else EXIT_MODEL


def _close_switch(service: Any) -> None:
    sw = getattr(service, "_switch", None)
    if sw is not None and sw.engine is not service.engine:
        sw.engine.close()


def _current(args: argparse.Namespace) -> int:
    from scry.indexer.hardware import default_models, detected

    active, rec, info = _active(args), default_models(), detected()
    if args.json:
        _print_json(
            {
                **active,
                "recommended": {"embedder": rec[0], "reranker": rec[1]},
                "hardware": info.as_json(),
            }
        )
        return EXIT_OK
    for role in ("embedder", "reranker"):
        a = active[role]
        print(f"{role}: {a['id']} ({a['source']})")
    print(f"recommended here: {rec[0]} + {rec[1]}")
    print(_hardware_line(info))
    return EXIT_OK
