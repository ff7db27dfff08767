"""Walking roots and diffing what is on disk against the catalog.

A file is identified by path; its content by a partial fingerprint (size + first 1 MiB + last
1 KiB, as rclip does) that is cheap even for large videos. Unchanged size and mtime means
unchanged; otherwise the fingerprint decides. A new path whose fingerprint matches a catalog file
that vanished is a move: it keeps its items and vectors.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

HEAD_BYTES = 1 << 20
TAIL_BYTES = 1 << 10
SYSTEM_DIRS = {"proc", "sys", "dev", "$RECYCLE.BIN", "System Volume Information", "lost+found"}


def fingerprint(path: str | Path, size: int | None = None) -> str:
    """Hash of size, the first MiB and the last KiB: equal for a moved file, cheap for huge ones."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        if size is None:
            size = os.fstat(fh.fileno()).st_size
        h.update(str(size).encode())
        h.update(fh.read(HEAD_BYTES))
        if size > HEAD_BYTES:
            fh.seek(max(HEAD_BYTES, size - TAIL_BYTES))
            h.update(fh.read(TAIL_BYTES))
    return h.hexdigest()


@dataclass(frozen=True)
class DiskFile:
    path: str
    size: int
    mtime_ns: int


@dataclass
class WalkRules:
    """Which files a walk visits. Patterns match a file or folder name, or a path (glob)."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    hidden: bool = False
    skip_paths: set[str] = field(default_factory=set)

    def excluded(self, name: str, path: str) -> bool:
        if not self.hidden and name.startswith("."):
            return True
        if path in self.skip_paths:
            return True
        return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in self.exclude)

    def included(self, name: str, path: str) -> bool:
        if not self.include:
            return True
        return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in self.include)


def walk(
    root: Path, rules: WalkRules, errors: list[tuple[str, str]] | None = None
) -> Iterator[DiskFile]:
    """Regular files under ``root``. Follows symlinked folders once each, never in a loop."""
    seen_dirs: set[tuple[int, int]] = set()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            if errors is not None:
                errors.append((folder, exc.strerror or str(exc)))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            continue
        seen_dirs.add(key)
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if errors is not None:
                errors.append((folder, f"cannot list folder: {exc.strerror or exc}"))
            continue
        subdirs = []
        for entry in entries:
            try:
                if rules.excluded(entry.name, entry.path):
                    continue
                if entry.is_dir(follow_symlinks=True):
                    if entry.name not in SYSTEM_DIRS:
                        subdirs.append(entry.path)
                    continue
                est = entry.stat(follow_symlinks=True)
            except OSError:
                continue  # dangling symlink, permission, vanished meanwhile
            if not stat.S_ISREG(est.st_mode) or not rules.included(entry.name, entry.path):
                continue
            yield DiskFile(entry.path, est.st_size, est.st_mtime_ns)
        stack.extend(sorted(subdirs, reverse=True))


def inside(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies under it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def narrowest_scopes(paths: Iterable[str], limit: int = 256) -> list[str]:
    """The changed paths to look at again: paths inside another listed path are dropped; past
    ``limit`` paths, each is widened to its folder (repeatedly), so a burst of thousands of new
    files becomes a pass over the few folders they are in."""
    scopes = _outermost(paths)
    while len(scopes) > limit:
        wider = _outermost(os.path.dirname(p) or p for p in scopes)
        if len(wider) == len(scopes):
            break
        scopes = wider
    return scopes


def _outermost(paths: Iterable[str]) -> list[str]:
    out: list[str] = []
    for p in sorted({p.rstrip(os.sep) or os.sep for p in paths}, key=lambda p: p.split(os.sep)):
        if not out or not inside(p, out[-1]):
            out.append(p)
    return out


def walk_scopes(
    root: Path,
    scopes: list[str] | None,
    rules: WalkRules,
    errors: list[tuple[str, str]] | None = None,
) -> Iterator[DiskFile]:
    """Regular files under ``root``, or only within ``scopes`` (paths under ``root``): a changed
    file is one stat, a changed folder a walk of that folder alone. A scope inside a hidden,
    excluded or system folder yields nothing, as the full walk would."""
    if scopes is None:
        yield from walk(root, rules, errors)
        return
    top = str(root)
    for scope in scopes:
        if scope == top:
            yield from walk(root, rules, errors)
            continue
        if not inside(scope, top) or _hidden_on_the_way(top, scope, rules):
            continue
        try:
            st = os.stat(scope)
        except OSError:
            continue  # gone (the diff forgets what it held), or a dangling link (noted above)
        if stat.S_ISDIR(st.st_mode):
            yield from walk(Path(scope), rules, errors)
        elif stat.S_ISREG(st.st_mode) and rules.included(os.path.basename(scope), scope):
            yield DiskFile(scope, st.st_size, st.st_mtime_ns)


def _hidden_on_the_way(top: str, scope: str, rules: WalkRules) -> bool:
    """Whether the walk from ``top`` would never reach ``scope`` (an excluded name on the way)."""
    parts = os.path.relpath(scope, top).split(os.sep)
    path = top
    for i, name in enumerate(parts):
        path = os.path.join(path, name)
        if rules.excluded(name, path):
            return True
        if name in SYSTEM_DIRS and (i < len(parts) - 1 or os.path.isdir(path)):
            return True
    return False


@dataclass(frozen=True)
class KnownFile:
    id: int
    path: str
    size: int
    mtime_ns: int
    fingerprint: str | None


@dataclass
class Diff:
    """What changed under a root since the last scan."""

    new: list[tuple[DiskFile, str | None]] = field(default_factory=list)
    changed: list[tuple[KnownFile, DiskFile, str | None]] = field(default_factory=list)
    touched: list[tuple[KnownFile, DiskFile]] = field(default_factory=list)
    moved: list[tuple[KnownFile, DiskFile]] = field(default_factory=list)
    deleted: list[KnownFile] = field(default_factory=list)
    unchanged: list[KnownFile] = field(default_factory=list)


def _safe_fingerprint(df: DiskFile) -> str | None:
    try:
        return fingerprint(df.path, df.size)
    except OSError as exc:
        log.info("Cannot fingerprint %s: %s", df.path, exc)
        return None


def diff(
    disk: Iterable[DiskFile],
    known: Iterable[KnownFile],
    elsewhere: Callable[[str], Iterable[KnownFile]] | None = None,
) -> Diff:
    """Compare files on disk with the catalog's rows for the scanned roots.

    ``touched`` are files whose mtime changed but whose content did not (no re-embedding).
    ``elsewhere(fingerprint)`` finds catalog files outside the scanned roots (say under a root
    that was renamed or unmounted); one whose path no longer exists is taken as moved here.
    """
    result = Diff()
    by_path = {k.path: k for k in known}
    fresh: list[DiskFile] = []
    for df in disk:
        k = by_path.pop(df.path, None)
        if k is None:
            fresh.append(df)
        elif k.size == df.size and k.mtime_ns == df.mtime_ns:
            result.unchanged.append(k)
        else:
            fp = _safe_fingerprint(df)
            if fp is not None and fp == k.fingerprint:
                result.touched.append((k, df))
            else:
                result.changed.append((k, df, fp))
    gone_by_fp: dict[str, list[KnownFile]] = {}
    for k in by_path.values():
        if k.fingerprint:
            gone_by_fp.setdefault(k.fingerprint, []).append(k)
    taken: set[int] = set()
    for df in fresh:
        fp = _safe_fingerprint(df)
        candidates = gone_by_fp.get(fp or "")
        if candidates:
            old = candidates.pop()
            by_path.pop(old.path, None)
            result.moved.append((old, df))
        elif fp and elsewhere is not None and (old := _vanished(elsewhere(fp), taken)) is not None:
            taken.add(old.id)
            result.moved.append((old, df))
        else:
            result.new.append((df, fp))
    result.deleted.extend(by_path.values())
    return result


def _vanished(candidates: Iterable[KnownFile], taken: set[int]) -> KnownFile | None:
    for k in candidates:
        if k.id not in taken and not os.path.lexists(k.path):
            return k
    return None


class NoticingRules(WalkRules):
    """The walk rules, also noting broken symbolic links (which ``walk`` passes over)."""

    broken: list[str]

    def excluded(self, name: str, path: str) -> bool:
        if super().excluded(name, path):
            return True
        if os.path.islink(path) and not os.path.exists(path):
            if self.included(name, path):
                self.broken.append(path)
            return True
        return False


def link_file(path: str) -> DiskFile | None:
    """A broken link as a file to record (skipped, with where it points)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return DiskFile(path, st.st_size, st.st_mtime_ns)


BAD_NAME = (
    "the file name is not valid UTF-8 (an old or foreign encoding), so scry cannot record it; "
    "rename the file (convmv can convert many names at once) to index it"
)


def storable_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_path(path: str) -> str:
    """A path with undecodable bytes shown as \\xNN, safe to print and to store as JSON."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
