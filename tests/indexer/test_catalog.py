"""The SQLite catalog: creation, schema versioning, migrations, error translation, settings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.sql import text

from scry.indexer import catalog as catalog_mod
from scry.indexer import store
from scry.indexer.catalog import CATALOG_NAME, Catalog
from scry.indexer.config import DEFAULT_EXCLUDES, Settings, data_home
from scry.indexer.errors import CatalogError
from scry.indexer.schema import MIGRATIONS, SCHEMA_VERSION, Base

ORM_TABLES = {"roots", "files", "items", "models", "vectors", "embedded"}


def _pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def _set_user_version(path: Path, version: int) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
    finally:
        conn.close()


def _root_paths(cat: Catalog) -> list[str]:
    with cat.session() as s:
        return [r.path for r in store.roots(s)]


def _v1_catalog_with_a_root(home: Path, root: Path) -> Path:
    cat = Catalog.open(home)
    with cat.session() as s:
        store.get_or_add_root(s, root)
    cat.close()
    path = home / CATALOG_NAME
    assert _pragma(path, "user_version") == 1
    return path


# ----------------------------------------------------------------------------- open & versions


def test_fresh_catalog_has_current_schema_and_wal(home: Path) -> None:
    cat = Catalog.open(home)
    try:
        assert cat.path == home / CATALOG_NAME
        assert cat.path.is_file()
        assert cat.schema_version == SCHEMA_VERSION
        with cat.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert cat.integrity_check() == "ok"
    finally:
        cat.close()
    # WAL is a property of the file: other readers (GUI, status) see it too.
    assert str(_pragma(home / CATALOG_NAME, "journal_mode")).lower() == "wal"


def test_reopen_is_idempotent_and_keeps_data(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _v1_catalog_with_a_root(home, tmp_path / "pics")
    calls: list[int] = []

    def spy(i: int):
        def step(conn: Connection) -> None:
            calls.append(i)
            MIGRATIONS[i](conn)

        return step

    monkeypatch.setattr(catalog_mod, "MIGRATIONS", [spy(i) for i in range(len(MIGRATIONS))])
    for _ in range(2):
        cat = Catalog.open(home)
        try:
            assert cat.schema_version == SCHEMA_VERSION
            assert _root_paths(cat) == [str(tmp_path / "pics")]
        finally:
            cat.close()
    assert calls == [], "reopening an up-to-date catalog must not run migrations again"


def test_catalog_from_newer_scry_is_refused(home: Path) -> None:
    Catalog.open(home).close()
    path = home / CATALOG_NAME
    _set_user_version(path, SCHEMA_VERSION + 1)
    with pytest.raises(CatalogError, match="written by a newer scry") as info:
        Catalog.open(home)
    assert str(path) in str(info.value)
    assert f"schema {SCHEMA_VERSION + 1}" in str(info.value)
    # Refusing must not touch the file: the newer scry can still use it.
    assert _pragma(path, "user_version") == SCHEMA_VERSION + 1
    with pytest.raises(CatalogError, match="newer scry"):
        Catalog.open(home, readonly=True)


def test_readonly_open_without_catalog_does_not_create_one(home: Path) -> None:
    with pytest.raises(CatalogError, match="No catalog"):
        Catalog.open(home, readonly=True)
    assert not (home / CATALOG_NAME).exists()


def test_migration_ladder_runs_new_step_once(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _v1_catalog_with_a_root(home, tmp_path / "pics")
    calls: list[int] = []

    def to_v2(conn: Connection) -> None:
        calls.append(conn.exec_driver_sql("PRAGMA user_version").scalar())
        conn.execute(text("CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO tags(name) SELECT path FROM roots"))

    monkeypatch.setattr(catalog_mod, "MIGRATIONS", [*MIGRATIONS, to_v2])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    cat = Catalog.open(home)
    try:
        assert calls == [SCHEMA_VERSION], "the new step runs once, on a catalog at the old version"
        assert cat.schema_version == SCHEMA_VERSION + 1
        assert _root_paths(cat) == [str(tmp_path / "pics")]
        with cat.session() as s:
            assert s.scalars(text("SELECT name FROM tags")).all() == [str(tmp_path / "pics")]
    finally:
        cat.close()
    assert _pragma(path, "user_version") == SCHEMA_VERSION + 1
    Catalog.open(home).close()
    assert len(calls) == 1


def test_failed_migration_leaves_catalog_unchanged(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _v1_catalog_with_a_root(home, tmp_path / "pics")

    def broken(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE tags (id INTEGER PRIMARY KEY)"))
        raise RuntimeError("power cut halfway through the migration")

    monkeypatch.setattr(catalog_mod, "MIGRATIONS", [*MIGRATIONS, broken])
    monkeypatch.setattr(catalog_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(RuntimeError, match="power cut"):
        Catalog.open(home)
    if _pragma(path, "user_version") != SCHEMA_VERSION:
        pytest.fail("the failed step must not advance user_version")
    conn = sqlite3.connect(path)
    try:
        leftover = conn.execute("SELECT name FROM sqlite_master WHERE name = 'tags'").fetchall()
    finally:
        conn.close()
    # Otherwise the retry fails forever with "table tags already exists".
    assert leftover == [], "a failed migration step must be rolled back completely"


# ----------------------------------------------------------------------------- schema agreement


def _describe(engine) -> dict[str, dict[str, object]]:
    insp = inspect(engine)
    out: dict[str, dict[str, object]] = {}
    with engine.connect() as conn:
        for table in sorted(ORM_TABLES):
            cols = insp.get_columns(table)
            fks = conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})").fetchall()
            out[table] = {
                "columns": [c["name"] for c in cols],
                # SQLite reports an INTEGER PRIMARY KEY as nullable when NOT NULL is omitted.
                "nullable": {c["name"]: c["nullable"] for c in cols if not c["primary_key"]},
                "primary_key": insp.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(table)
                ),
                "unique": sorted(
                    tuple(u["column_names"]) for u in insp.get_unique_constraints(table)
                ),
                # (table, from, to, on_delete)
                "foreign_keys": sorted((f[2], f[3], f[4], f[6]) for f in fks),
            }
    return out


def test_orm_metadata_matches_frozen_ddl(home: Path) -> None:
    cat = Catalog.open(home)
    orm_engine = create_engine("sqlite://")
    try:
        Base.metadata.create_all(orm_engine)
        ddl_tables = set(inspect(cat.engine).get_table_names())
        assert set(Base.metadata.tables) == ORM_TABLES
        assert ddl_tables - {t for t in ddl_tables if t.startswith("fts")} == ORM_TABLES
        assert "fts" in ddl_tables
        assert _describe(cat.engine) == _describe(orm_engine)
    finally:
        orm_engine.dispose()
        cat.close()


# ----------------------------------------------------------------------------- failures & fts


def test_file_that_is_not_a_database_gives_catalog_error(home: Path) -> None:
    home.mkdir(parents=True)
    path = home / CATALOG_NAME
    garbage = bytes(range(256)) * 64
    path.write_bytes(garbage)
    with pytest.raises(CatalogError) as info:
        Catalog.open(home)
    msg = str(info.value)
    assert str(path) in msg
    assert "damaged" in msg
    assert path.read_bytes() == garbage, "a damaged catalog must be left for the user to inspect"


def test_fts_folds_diacritics(home: Path) -> None:
    cat = Catalog.open(home)
    try:
        with cat.session() as s:
            s.execute(
                text(
                    "INSERT INTO fts(rowid, name, folders, body, meta) "
                    "VALUES (1, 'menu.txt', 'Paris', 'un café crème', '')"
                )
            )
            s.execute(
                text(
                    "INSERT INTO fts(rowid, name, folders, body, meta) "
                    "VALUES (2, 'tea.txt', 'London', 'a cup of tea', '')"
                )
            )

        def match(q: str) -> list[int]:
            with cat.session() as s:
                return list(s.scalars(text("SELECT rowid FROM fts WHERE fts MATCH :q"), {"q": q}))

        assert match('"cafe"') == [1]
        assert match('"CAFÉ"') == [1]
        assert match('"creme"') == [1]
        assert match('"coffee"') == []
    finally:
        cat.close()


# ----------------------------------------------------------------------------- settings & home


def test_settings_round_trip_keeps_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(
        json.dumps(
            {
                "model": "some/model",
                "batch_size": 8,
                "future_option": {"nested": [1, 2]},
                "another_new_flag": True,
            }
        ),
        encoding="utf-8",
    )
    settings = Settings.load(tmp_path)
    assert settings.model == "some/model"
    assert settings.batch_size == 8
    assert settings.exclude == list(DEFAULT_EXCLUDES)
    settings.index_hidden = True
    settings.save(tmp_path)

    raw = json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))
    assert raw["future_option"] == {"nested": [1, 2]}
    assert raw["another_new_flag"] is True
    assert raw["index_hidden"] is True
    assert "extra" not in raw
    again = Settings.load(tmp_path)
    assert again == settings
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"], "no temp file left behind"


def test_settings_missing_or_unreadable_give_defaults(tmp_path: Path) -> None:
    assert Settings.load(tmp_path) == Settings()
    (tmp_path / "settings.json").write_text("{not json", encoding="utf-8")
    assert Settings.load(tmp_path) == Settings()


def test_data_home_honours_scry_home(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert data_home() == home.resolve()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SCRY_HOME", "~/elsewhere")
    assert data_home() == (tmp_path / "elsewhere").resolve()
    monkeypatch.delenv("SCRY_HOME")
    assert data_home() != (tmp_path / "elsewhere").resolve()
    assert "scry" in data_home().parts[-1].lower()
