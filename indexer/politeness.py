"""How the background indexer stays out of the way: it can pause while the machine runs on
battery, and its worker thread runs at a lower CPU priority."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def on_battery() -> bool:
    """True when the machine runs on battery (Linux sysfs; False where the platform cannot tell)."""
    base = Path("/sys/class/power_supply")
    try:
        supplies = list(base.iterdir())
    except OSError:
        return False
    mains = [
        p
        for p in supplies
        if (p / "type").is_file() and (p / "type").read_text().strip() == "Mains"
    ]
    if not mains:
        return False
    return not any(
        (p / "online").is_file() and (p / "online").read_text().strip() == "1" for p in mains
    )


def _be_polite() -> None:
    """Lower this worker thread's CPU priority (Linux: per-thread nice; elsewhere best effort)."""
    try:
        if sys.platform.startswith("linux"):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        elif hasattr(os, "nice"):
            os.nice(5)
    except (OSError, AttributeError) as exc:
        log.debug("Could not lower the indexer's priority: %s", exc)
