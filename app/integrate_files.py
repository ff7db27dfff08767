"""The building blocks of desktop integration: what a target is, files scry owns, quoting.

A *target* is one place scry hooks into the desktop (a Nautilus script, a Thunar action, the
registry keys on Windows...). Each can say whether it is installed, install itself (writing
nothing when it already is) and uninstall itself, removing only what scry wrote: every text
file carries the ``scry-integration`` marker, and a file at one of scry's paths without it is
left alone. No Qt here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

log = logging.getLogger(__name__)

MARKER = "scry-integration"
RESOURCES = Path(__file__).resolve().parents[1] / "resources"
TEMPLATES = RESOURCES / "integration"

INSTALLED, MISSING, OUTDATED, BLOCKED = "installed", "not installed", "outdated", "blocked"


class IntegrationError(Exception):
    """A desktop entry cannot be written or read; the message says what to do."""


@dataclass
class Outcome:
    """What install or uninstall did to one target."""

    name: str
    label: str
    action: str  # written | updated | unchanged | removed | absent | kept: <why>
    location: str

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "action": self.action,
            "location": self.location,
        }


@dataclass
class Target:
    """One integration point; subclasses implement state/install/uninstall."""

    name: str
    label: str
    program: str | None = None  # the file manager whose presence makes this useful
    note: str = field(default="", init=False)

    @property
    def location(self) -> str:
        raise NotImplementedError

    @property
    def present(self) -> bool:
        return self.program is None or shutil.which(self.program) is not None

    def state(self) -> str:
        raise NotImplementedError

    def install(self) -> str:
        raise NotImplementedError

    def uninstall(self) -> str:
        raise NotImplementedError

    def status(self) -> dict:
        state = self.state()
        shown = state
        if not self.present and state == MISSING:
            shown = "file manager not present"
        return {
            "name": self.name,
            "label": self.label,
            "state": state,
            "shown": shown,
            "present": self.present,
            "location": self.location,
            "note": self.note,
        }


@dataclass
class OwnFile:
    """A file scry writes: where, what, and whether it must be executable."""

    path: Path
    content: bytes
    executable: bool = False


@dataclass
class FilesTarget(Target):
    """Files written whole by scry. ``marked``: they carry MARKER (icons are scry's by name)."""

    files: list[OwnFile] = field(default_factory=list)
    marked: bool = True
    prune: Path | None = None  # a folder of scry's own, removed when uninstall empties it
    where: Path | None = None  # shown as the location (default: the files' common folder)

    @property
    def location(self) -> str:
        if self.where is not None:
            return str(self.where)
        if self.prune is not None:
            return str(self.prune)
        return str(self.files[0].path) if len(self.files) == 1 else str(_common(self.files))

    def _file_state(self, f: OwnFile) -> str:
        try:
            data = f.path.read_bytes()
        except FileNotFoundError:
            return MISSING
        except OSError as exc:
            self.note = f"{f.path}: {exc.strerror}"
            return BLOCKED
        if self.marked and MARKER.encode() not in data:
            self.note = f"{f.path} was not written by scry; move it away to install scry's."
            return BLOCKED
        if data != f.content:
            return OUTDATED
        if f.executable and not os.access(f.path, os.X_OK):
            return OUTDATED
        return INSTALLED

    def state(self) -> str:
        self.note = ""
        states = {self._file_state(f) for f in self.files}
        for s in (BLOCKED, OUTDATED):
            if s in states:
                return s
        if states == {INSTALLED}:
            return INSTALLED
        return MISSING if states == {MISSING} else OUTDATED

    def install(self) -> str:
        state = self.state()
        if state == BLOCKED:
            return f"kept: {self.note}"
        if state == INSTALLED:
            return "unchanged"
        for f in self.files:
            if self._file_state(f) != INSTALLED:
                write_file(f.path, f.content, executable=f.executable)
        return "written" if state == MISSING else "updated"

    def uninstall(self) -> str:
        removed = kept = 0
        for f in self.files:
            try:
                data = f.path.read_bytes()
            except FileNotFoundError:
                continue
            if self.marked and MARKER.encode() not in data:
                kept += 1
                continue
            f.path.unlink()
            removed += 1
            log.info("removed %s", f.path)
        if self.prune is not None:
            prune_empty(self.prune, self.files)
        if kept:
            return "kept: files not written by scry are left where they are"
        return "removed" if removed else "absent"


def _common(files: list[OwnFile]) -> Path:
    return Path(os.path.commonpath([str(f.path) for f in files]))


def prune_empty(top: Path, files: list[OwnFile]) -> None:
    """Remove the now-empty folders between scry's files and ``top`` (inclusive)."""
    folders = {p for f in files for p in f.path.parents if p == top or top in p.parents}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: it holds something not ours
            folder.rmdir()


def write_file(path: Path, content: bytes, *, executable: bool = False) -> None:
    """Write ``path`` atomically (temp file, fsync, rename) with mode 0755 or 0644."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise IntegrationError(
            f"Cannot write {path}: {exc.strerror}. Check that the folder is writable."
        ) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o755 if executable else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("wrote %s", path)


# -- templates and quoting -------------------------------------------------------------------


def template(name: str, **values: str) -> str:
    """The template ``resources/integration/NAME`` with each ``{key}`` replaced."""
    path = TEMPLATES / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IntegrationError(
            f"scry's template {path} is missing ({exc.strerror}); reinstall scry."
        ) from exc

    def sub(m: re.Match[str]) -> str:
        try:
            return values[m.group(1)]
        except KeyError:
            raise IntegrationError(f"template {name} needs a value for {{{m.group(1)}}}") from None

    return re.sub(r"\{([a-z_]+)\}", sub, text)


_DESKTOP_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def desktop_exec(argv: list[str]) -> str:
    """``argv`` as the start of a desktop-entry ``Exec=`` value (freedesktop quoting rules)."""
    out = []
    for arg in argv:
        arg = arg.replace("%", "%%")
        if not arg or any(c in _DESKTOP_RESERVED for c in arg):
            arg = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
        out.append(arg.replace("\\", "\\\\"))  # the key file's own string escaping
    return " ".join(out)


def shell_join(argv: list[str]) -> str:
    """``argv`` quoted for a POSIX shell."""
    return " ".join(shlex.quote(a) for a in argv)


__all__ = [
    "BLOCKED",
    "INSTALLED",
    "MARKER",
    "MISSING",
    "OUTDATED",
    "RESOURCES",
    "FilesTarget",
    "IntegrationError",
    "Outcome",
    "OwnFile",
    "Target",
    "desktop_exec",
    "shell_join",
    "template",
    "write_file",
    "xml_escape",
]
