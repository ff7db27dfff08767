"""House rules a machine can check: the engine never imports Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import scry.indexer


def test_indexer_modules_never_import_qt() -> None:
    modules = [m.name for m in pkgutil.iter_modules(scry.indexer.__path__, "scry.indexer.")]
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'PySide6','PyQt5','PyQt6','shiboken6','qtpy'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"indexer imports Qt: {out.stdout}"
