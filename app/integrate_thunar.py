"""Thunar's custom action: one ``<action>`` merged into the user's ``uca.xml``.

``uca.xml`` holds all of the user's custom actions, so scry edits it as text: its action goes
in, between marker comments, just before ``</actions>``, and uninstall takes exactly that text
out again, leaving the file byte for byte as it was. When Thunar has rewritten the file since
(it drops comments), scry's action is found by its ``<unique-id>``. The file must parse as XML
before and after every change; the previous version is kept as ``uca.xml.scry-backup`` and
dropped again when uninstall restores the original exactly.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from .integrate_files import (
    BLOCKED,
    INSTALLED,
    MISSING,
    OUTDATED,
    IntegrationError,
    Target,
    write_file,
)

log = logging.getLogger(__name__)

UNIQUE_ID = "scry-find-similar"
SKELETON = '<?xml version="1.0" encoding="UTF-8"?>\n<actions>\n</actions>\n'
_BLOCK = re.compile(
    r"[ \t]*<!-- scry-integration begin.*?<!-- scry-integration end -->[ \t]*\n?", re.DOTALL
)
# one <action> element (no nested <action>) holding scry's unique id
_ACTION = re.compile(
    r"[ \t]*<action>(?:(?!</?action>).)*?<unique-id>\s*"
    + re.escape(UNIQUE_ID)
    + r"\s*</unique-id>(?:(?!</?action>).)*?</action>[ \t]*\n?",
    re.DOTALL,
)


def _parse(text: str, path: Path) -> ET.Element:
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise IntegrationError(
            f"{path} is not well-formed XML ({exc}); scry leaves it alone. "
            "Fix or move it, then run `scry integrate install` again."
        ) from exc
    if root.tag != "actions":
        raise IntegrationError(f"{path} is not a Thunar actions file (its root is <{root.tag}>).")
    return root


def strip_ours(text: str) -> str:
    """``text`` without scry's action (marked block, or the bare element Thunar rewrote)."""
    text, n = _BLOCK.subn("", text, count=1)
    if n == 0:
        text = _ACTION.sub("", text, count=1)
    return text


@dataclass
class ThunarTarget(Target):
    path: Path = Path()
    block: str = ""  # scry's action, from the thunar-action.xml template

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def backup(self) -> Path:
        return self.path.with_name(self.path.name + ".scry-backup")

    def _read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise IntegrationError(f"Cannot read {self.path}: {exc}") from exc

    def state(self) -> str:
        self.note = ""
        try:
            text = self._read()
            if text is None:
                return MISSING
            root = _parse(text, self.path)
        except IntegrationError as exc:
            self.note = str(exc)
            return BLOCKED
        ours = [
            a for a in root.iter("action") if (a.findtext("unique-id") or "").strip() == UNIQUE_ID
        ]
        if not ours:
            return MISSING
        return INSTALLED if self.block in text else OUTDATED

    def install(self) -> str:
        state = self.state()
        if state == BLOCKED:
            return f"kept: {self.note}"
        if state == INSTALLED:
            return "unchanged"
        old = self._read()
        base = strip_ours(old) if old is not None else SKELETON
        end = base.rfind("</actions>")
        if end < 0:  # an empty <actions/> element
            base = re.sub(r"<actions\s*/>", "<actions>\n</actions>", base, count=1)
            end = base.rfind("</actions>")
        if end < 0:
            return f"kept: {self.path} has no <actions> element"
        new = base[:end] + self.block + base[end:]
        _parse(new, self.path)
        if old is not None:
            write_file(self.backup, old.encode("utf-8"))
        write_file(self.path, new.encode("utf-8"))
        return "written" if state == MISSING else "updated"

    def uninstall(self) -> str:
        try:
            old = self._read()
        except IntegrationError as exc:
            return f"kept: {exc}"
        if old is None:
            return "absent"
        new = strip_ours(old)
        if new == old:
            return "absent"
        try:
            _parse(new, self.path)
        except IntegrationError as exc:
            return f"kept: {exc}"
        if new == SKELETON and not self.backup.exists():  # scry created the file
            self.path.unlink()
        else:
            write_file(self.path, new.encode("utf-8"))
        try:
            if self.backup.read_text(encoding="utf-8") == new:
                self.backup.unlink()  # the original is back exactly; the backup says nothing
        except (OSError, UnicodeDecodeError):
            pass
        log.info("removed scry's action from %s", self.path)
        return "removed"
