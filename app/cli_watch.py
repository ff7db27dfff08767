"""`scry watch`: the background service in the foreground, with a live progress line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .cli_common import EXIT_OK, _engine, _print_json, _warn_keyword_only


def cmd_watch(args: argparse.Namespace) -> int:
    import time

    from scry.indexer.service import IndexService

    engine = _engine(args)
    engine.load_model()
    _warn_keyword_only(engine)
    service = IndexService(engine, force_polling=args.poll)
    tty = sys.stderr.isatty()
    last = ""
    try:
        service.start()
        for folder in args.folders:
            service.add_folder(folder)
        while True:
            line = _status_line(service.status())
            if line != last:
                sys.stderr.write(("\r\033[K" + line) if tty else line + "\n")
                sys.stderr.flush()
                last = line
            time.sleep(0.25)
    except KeyboardInterrupt:
        if tty:
            sys.stderr.write("\n")
        print("scry: stopping (finishing the current batch) ...", file=sys.stderr)
    finally:
        service.stop()
        engine.close()
    st = service.status()
    if args.json:
        _print_json(
            {
                "state": st.state,
                "passes": st.passes,
                "last_report": st.last_report,
                "last_error": st.last_error,
            }
        )
    return EXIT_OK


def _status_line(st: Any) -> str:
    roots = ", ".join(f"{Path(r.path).name or r.path} ({r.watch})" for r in st.roots)
    if st.state == "indexing":
        eta = f", ETA {st.eta_s:.0f}s" if st.eta_s else ""
        rate = f", {st.files_per_s:.1f} files/s" if st.files_per_s else ""
        return f"indexing {st.done} of {st.done + st.queued}{rate}{eta}: {Path(st.current).name}"
    note = f"; last error: {st.last_error}" if st.last_error else ""
    return f"{st.state}: watching {roots or 'no folders'}{note}"
