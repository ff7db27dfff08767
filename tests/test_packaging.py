"""`pip install .` gets all of scry: every module of indexer/ and app/, and the resources.

The editable install the tests run from would hide a subpackage missing from pyproject.toml;
a wheel built from the checkout does not.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO

PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q"]
if importlib.util.find_spec("setuptools") is not None:  # else pip fetches it (slower)
    PIP_WHEEL.append("--no-build-isolation")


def test_the_wheel_holds_every_module_and_resource(tmp_path: Path) -> None:
    had_build = (REPO / "build").exists()
    try:
        out = subprocess.run(
            [*PIP_WHEEL, "-w", str(tmp_path), str(REPO)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    finally:
        if not had_build:  # setuptools' scratch folder in the checkout
            shutil.rmtree(REPO / "build", ignore_errors=True)
    assert out.returncode == 0, out.stderr
    (wheel,) = tmp_path.glob("scry-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for src, dest in (("indexer", "scry/indexer"), ("app", "scry/app")):
        for f in (REPO / src).rglob("*.py"):
            expected.add(f"{dest}/{f.relative_to(REPO / src).as_posix()}")
    for f in (REPO / "resources").rglob("*"):
        if f.is_file() and "__pycache__" not in f.parts:
            expected.add(f"scry/resources/{f.relative_to(REPO / 'resources').as_posix()}")
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel: {missing}"
