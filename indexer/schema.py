"""The catalog's tables (SQLAlchemy 2 ORM) and its migration ladder.

The schema version lives in SQLite's ``PRAGMA user_version``. Each migration is frozen DDL that
takes the catalog from version N-1 to N; the ORM classes below describe the newest version and a
test checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import text


class Base(DeclarativeBase):
    pass


class Root(Base):
    """A folder the user asked scry to index."""

    __tablename__ = "roots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    added_at: Mapped[float] = mapped_column(Float)
    last_scan_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    online: Mapped[int] = mapped_column(Integer, default=1)


class File(Base):
    """One file under a root. ``status`` is ok, failed or skipped; ``reason`` says why."""

    __tablename__ = "files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("roots.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta: Mapped[str | None] = mapped_column(Text, nullable=True)
    indexed_at: Mapped[float] = mapped_column(Float)


class Item(Base):
    """A searchable unit of a file: an image, a PDF page, a text passage, a video frame."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("file_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    char_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    char_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    time_s: Mapped[float | None] = mapped_column(Float, nullable=True)


class Model(Base):
    """An embedding model that has produced vectors in this catalog."""

    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("name", "dimension"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    dimension: Mapped[int] = mapped_column(Integer)
    modalities: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)


class Vector(Base):
    """One embedding of an item by one model, in one modality. ``id`` is the HNSW label."""

    __tablename__ = "vectors"
    # AUTOINCREMENT: ids (HNSW labels) are never reused, so a replaced vector changes the
    # (count, label sum) signature that tells a stale index file from a current one.
    __table_args__ = (
        UniqueConstraint("item_id", "model_id", "modality"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    modality: Mapped[str] = mapped_column(String(8))
    vec: Mapped[bytes] = mapped_column(LargeBinary)


class Embedded(Base):
    """Marks a file as completely embedded by a model (all its items, every modality it reads)."""

    __tablename__ = "embedded"
    file_id: Mapped[int] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )


_V1 = [
    """CREATE TABLE roots (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at FLOAT NOT NULL,
        last_scan_at FLOAT,
        online INTEGER NOT NULL DEFAULT 1)""",
    """CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        size BIGINT NOT NULL,
        mtime_ns BIGINT NOT NULL,
        fingerprint VARCHAR(64),
        kind VARCHAR(16) NOT NULL,
        status VARCHAR(16) NOT NULL,
        reason TEXT,
        meta TEXT,
        indexed_at FLOAT NOT NULL)""",
    "CREATE INDEX ix_files_root_id ON files(root_id)",
    "CREATE INDEX ix_files_fingerprint ON files(fingerprint)",
    """CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        kind VARCHAR(16) NOT NULL,
        page INTEGER,
        char_start INTEGER,
        char_end INTEGER,
        time_s FLOAT,
        UNIQUE (file_id, seq))""",
    "CREATE INDEX ix_items_file_id ON items(file_id)",
    """CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        dimension INTEGER NOT NULL,
        modalities TEXT NOT NULL DEFAULT '',
        created_at FLOAT NOT NULL,
        UNIQUE (name, dimension))""",
    """CREATE TABLE vectors (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        modality VARCHAR(8) NOT NULL,
        vec BLOB NOT NULL,
        UNIQUE (item_id, model_id, modality))""",
    "CREATE INDEX ix_vectors_item_id ON vectors(item_id)",
    "CREATE INDEX ix_vectors_model_id ON vectors(model_id)",
    """CREATE TABLE embedded (
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        PRIMARY KEY (file_id, model_id))""",
    # Full text, one row per item (rowid = items.id). Diacritics fold so "cafe" finds "café".
    """CREATE VIRTUAL TABLE fts USING fts5(
        name, folders, body, meta,
        tokenize = 'unicode61 remove_diacritics 2')""",
]


def _to_v1(conn: Connection) -> None:
    for stmt in _V1:
        conn.execute(text(stmt))


#: Ordered ladder: MIGRATIONS[i] takes the catalog from version i to i + 1.
MIGRATIONS: list[Callable[[Connection], None]] = [_to_v1]
SCHEMA_VERSION = len(MIGRATIONS)
