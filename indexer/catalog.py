"""The SQLite catalog: connection setup, schema versioning, and error translation.

One process writes at a time (the indexer); readers (search, status, the GUI) share the file
through WAL. Known SQLite failures (locked, full, read-only, corrupt, newer than this app) become
:class:`CatalogError` with a sentence that names the file and the fix; anything else is a bug and
propagates.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import text

from .errors import CatalogError
from .schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

CATALOG_NAME = "catalog.sqlite3"


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    # pysqlite's own transaction handling skips BEGIN before DDL, so a failed migration would be
    # half applied. Take over: no implicit transactions here, an explicit BEGIN in _on_begin.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 15000")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.close()


def _on_begin(conn: Connection) -> None:
    conn.exec_driver_sql(
        "BEGIN IMMEDIATE" if conn.get_execution_options().get("scry_write") else "BEGIN"
    )


def explain_db_error(exc: BaseException, path: Path) -> CatalogError | None:
    """Turn a known SQLite failure into a user-facing error; None for anything unexpected."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    msg = str(orig).lower()
    if "locked" in msg or "busy" in msg:
        return CatalogError(
            f"The catalog {path} is busy: another scry process is writing to it. "
            "Wait for it to finish, or stop it, and try again."
        )
    if "disk is full" in msg or "database or disk is full" in msg:
        return CatalogError(
            f"The disk holding {path} is full. Free some space and run the command again; "
            "nothing indexed so far was lost."
        )
    if "disk i/o error" in msg:  # e.g. no room for the WAL index (-shm) when opening
        try:
            full = shutil.disk_usage(path.parent).free < (1 << 20)
        except OSError:
            full = False
        if full:
            return CatalogError(
                f"The disk holding {path} is full. Free some space and run the command again; "
                "nothing indexed so far was lost."
            )
        return CatalogError(
            f"The catalog {path} could not be read or written (disk I/O error). Check the disk "
            "that holds it (full, unplugged or failing?) and try again."
        )
    if "readonly" in msg or "read-only" in msg:
        return CatalogError(
            f"The catalog {path} cannot be written (read-only file or folder). "
            "Give your user write access to it, or set SCRY_HOME to a writable folder."
        )
    if "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        return CatalogError(
            f"The catalog {path} is damaged ({orig}). Move it aside and run `scry index` to "
            "rebuild it; your files are not affected."
        )
    if "unable to open" in msg:
        return CatalogError(
            f"The catalog {path} cannot be opened. Check that its folder exists and is writable, "
            "or set SCRY_HOME to another folder."
        )
    return None


class Catalog:
    """Opens (creating or migrating) the catalog database in ``home``.

    Example:
        >>> cat = Catalog.open(Path("/tmp/scry-home"))  # doctest: +SKIP
        >>> with cat.session() as s:
        ...     s.scalar(text("select count(*) from files"))
    """

    def __init__(self, engine: Engine, path: Path) -> None:
        self.engine = engine
        self.path = path
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            engine.execution_options(scry_write=True), expire_on_commit=False
        )

    @classmethod
    def open(cls, home: Path, *, readonly: bool = False) -> Catalog:
        path = home / CATALOG_NAME
        if readonly and not path.exists():
            raise CatalogError(f"No catalog at {path} yet. Index a folder first: scry index FOLDER")
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(
                f"Cannot create the data folder {home}: {exc.strerror}. "
                "Set SCRY_HOME to a writable folder."
            ) from exc
        engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        cat = cls(engine, path)
        try:
            cat._migrate(readonly=readonly)
        except DBAPIError as exc:
            engine.dispose()
            err = explain_db_error(exc, path)
            if err is None:
                raise
            raise err from exc
        except CatalogError:
            engine.dispose()
            raise
        return cat

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"The catalog {self.path} was written by a newer scry (schema {version}, this "
                f"version understands up to {SCHEMA_VERSION}). Update scry, or set SCRY_HOME "
                "to another folder."
            )

    def _migrate(self, *, readonly: bool) -> None:
        with self.engine.connect() as conn:
            version = conn.exec_driver_sql("PRAGMA user_version").scalar() or 0
        self._check_version(version)
        if version == SCHEMA_VERSION or readonly:
            return
        raw = self.engine.raw_connection()
        try:
            mode = raw.cursor().execute("PRAGMA journal_mode = WAL").fetchone()[0]
        finally:
            raw.close()
        if str(mode).lower() != "wal":
            log.warning("SQLite refused WAL mode for %s (got %s)", self.path, mode)
        # One write transaction for the whole ladder: all steps land, or none does.
        with self.engine.connect().execution_options(scry_write=True) as conn, conn.begin():
            version = (
                conn.exec_driver_sql("PRAGMA user_version").scalar() or 0
            )  # re-read under lock
            self._check_version(version)
            for target in range(version + 1, SCHEMA_VERSION + 1):
                log.info("Migrating catalog %s to schema %d", self.path, target)
                MIGRATIONS[target - 1](conn)
                conn.exec_driver_sql(f"PRAGMA user_version = {target}")

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on error, translating DB errors.

        ``write=True`` takes SQLite's write lock at the start (BEGIN IMMEDIATE), so a writer waits
        for another writer instead of failing when it upgrades a read transaction.
        """
        sess = (self._write_sessions if write else self._sessions)()
        try:
            yield sess
            sess.commit()
        except DBAPIError as exc:
            sess.rollback()
            err = explain_db_error(exc, self.path)
            if err is None:
                raise
            raise err from exc
        except BaseException:
            sess.rollback()
            raise
        finally:
            sess.close()

    def integrity_check(self) -> str:
        with self.engine.connect() as conn:
            return str(conn.execute(text("PRAGMA integrity_check")).scalar())

    def close(self) -> None:
        self.engine.dispose()
