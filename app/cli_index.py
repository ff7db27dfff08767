"""`scry index`, `scry status` and `scry inspect`: bring the index up to date, and say what it
holds (human-readable, or ``--json`` with the keys documented in README)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from .cli_common import EXIT_EMPTY, EXIT_OK, _engine, _print_json, _warn_keyword_only


def cmd_index(args: argparse.Namespace) -> int:
    engine = _engine(args)
    show = not args.json and not args.quiet and sys.stderr.isatty()
    bar = None
    cancel = threading.Event()

    def progress(p: Any) -> None:
        nonlocal bar
        if not show or p.phase != "indexing":
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(
                total=p.total, unit="file", desc="indexing", file=sys.stderr, dynamic_ncols=True
            )
        bar.total = p.total
        bar.update(p.done - bar.n)
        if p.current:
            bar.set_postfix_str(Path(p.current).name[-40:], refresh=False)

    try:
        engine.load_model()
        _warn_keyword_only(engine)
        report = engine.index(args.folders or None, progress=progress, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        raise
    finally:
        if bar is not None:
            bar.close()
        engine.close()
    if args.json:
        _print_json(report.as_json())
    else:
        parts = [
            f"{report.new} new",
            f"{report.changed} changed",
            f"{report.moved} moved",
            f"{report.deleted} deleted",
            f"{report.unchanged} unchanged",
            f"{report.failed} failed",
            f"{report.skipped} skipped",
        ]
        print(
            f"Indexed {report.seen} files in {report.seconds:.1f}s: "
            + ", ".join(parts)
            + f"; {report.embedded} items embedded."
        )
        for path, reason in report.failures[:20]:
            print(f"  failed: {path}: {reason}")
        if len(report.failures) > 20:
            print(f"  ... and {len(report.failures) - 20} more (scry status lists them all)")
        for reason, n in sorted(report.skips.items(), key=lambda kv: -kv[1]):
            print(f"  skipped {n} file{'s' if n != 1 else ''}: {reason}")
        for path, note in report.notes[:10]:
            print(f"  note: {path}: {note}")
        if len(report.notes) > 10:
            print(f"  ... and {len(report.notes) - 10} more notes (scry status lists them all)")
        for folder, reason in report.folder_errors:
            print(f"  folder not read: {folder}: {reason}")
        for root in report.offline_roots:
            print(f"  offline: {root} (kept as it was)")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        st = engine.status()
    finally:
        engine.close()
    if args.json:
        _print_json(st)
        return EXIT_OK
    print(f"Data folder: {st['home']} ({st['index_bytes'] / 1e6:.1f} MB)")
    dim = f", {st['dimension']} dimensions" if st["dimension"] else " (not used yet)"
    mods = f", reads {' and '.join(st['modalities'])}" if st["modalities"] else ""
    print(f"Model: {st['model']}{dim}{mods}")
    if st["keyword_only"]:
        print(f"  Keyword-only search for now. {st['keyword_only']}")
    be = st.get("backend") or {}
    if be.get("running"):
        how = f"{be['running']}" + (f", {be['precision']}" if be.get("precision") else "")
        print(f"  Runs on {how}" + (f" ({be['reason']})" if be.get("reason") else ""))
    if st["modalities"] and "image" not in st["modalities"]:
        print(
            "  This model reads text only: images are found by name, folder and metadata, not by what they show."
        )
    print(
        f"Files: {st['files']} ({', '.join(f'{n} {k}' for k, n in sorted(st['kinds'].items())) or 'none'}), "
        f"items: {st['items']}, failed: {st['failed']}, skipped: {st.get('skipped', 0)}"
    )
    ok = st["files"] - st["failed"] - st.get("skipped", 0)
    if st["dimension"] and st["embedded_files"] < ok:
        print(
            f"  {ok - st['embedded_files']} readable files are not embedded by this model yet: run `scry index`."
        )
    for r in st["roots"]:
        print(
            f"Folder: {r['path']} - {r['files']} files{'' if r['online'] else ' (offline, kept)'}"
        )
    if st.get("video"):
        print(f"Videos: {st['video']}")
    if st.get("video_vectors"):
        n = st["video_vectors"]
        print(f"Videos seen whole by the model: {n:,} video{'s' if n != 1 else ''}")
    if st["errors"]:
        print("Files that could not be read:")
        for e in st["errors"]:
            print(f"  {e['path']}: {e['reason']}")
    if st.get("skipped_reasons"):
        print("Files skipped:")
        for reason, n in st["skipped_reasons"].items():
            print(f"  {n} file{'s' if n != 1 else ''}: {reason}")
    if st.get("notes"):
        print("Files indexed in part:")
        for e in st["notes"]:
            print(f"  {e['path']}: {e['note']}")
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        info = engine.inspect(args.path, vectors=args.vectors)
    finally:
        engine.close()
    if args.json:
        _print_json(info)
    else:
        print(
            f"{info['path']}: {info['status']}"
            + (f" ({info['reason']})" if info.get("reason") else "")
        )
        for k, v in (info.get("meta") or {}).items():
            print(f"  {k}: {v}")
        for it in info["items"]:
            line = f"  {it.get('kind', 'item')} {json.dumps(it['locator'])}"
            if args.vectors:
                line += "  vectors: " + (
                    ", ".join(f"{m}[{len(v)}]" for m, v in it["vectors"].items()) or "none"
                )
            print(line)
    return EXIT_EMPTY if info["status"] == "not_indexed" else EXIT_OK
