"""The real window in a real X server (Xvfb): scripts/screenshots saves the README's pictures."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO

SHOTS = [
    "empty.png",
    "results.png",
    "preview.png",
    "image-query.png",
    "settings.png",
    "similar-handoff.png",
]


@pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="Xvfb is not installed (scripts/setup installs xvfb)"
)
def test_screenshots_in_a_real_x_server(tmp_path: Path, clip_dir: Path) -> None:
    out = tmp_path / "shots"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "screenshots"),
            "--out",
            str(out),
            "--model",
            str(clip_dir),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for name in SHOTS:
        img = np.asarray(Image.open(out / name).convert("RGB"), dtype=float)
        assert img.shape[:2] == (800, 1280), name
        assert img.std() > 10, f"{name} is blank"
    # the results screenshot shows a grid of colourful thumbnails, not an empty page
    results = np.asarray(Image.open(out / "results.png").convert("HSV"))[..., 1]
    assert (results > 100).mean() > 0.1
