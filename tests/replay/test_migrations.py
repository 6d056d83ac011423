"""The cache schema: ordered migrations applied once, pinned columns and indexes, WAL mode."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from agentrt.replay.migrations import (
    MIGRATIONS,
    MIGRATIONS_TABLE,
    SCHEMA_VERSION,
    applied_migrations,
    migrate,
)
from agentrt.replay.store import ReplayStore, ReplayStoreError


def _columns(path: Path, table: str) -> list[tuple[str, str, int, int]]:
    with sqlite3.connect(path) as conn:
        return [
            (row[1], row[2], row[3], row[5])  # name, type, notnull, pk
            for row in conn.execute(f"PRAGMA table_info({table})")
        ]


def test_runs_table_columns_are_pinned(tmp_path: Path) -> None:
    ReplayStore(tmp_path).close()
    assert _columns(tmp_path / "replay.sqlite", "runs") == [
        ("key", "TEXT", 0, 1),
        ("agent", "TEXT", 1, 0),
        ("sim_time", "TEXT", 1, 0),
        ("model", "TEXT", 0, 0),
        ("material", "TEXT", 1, 0),
        ("result", "TEXT", 1, 0),
        ("events", "TEXT", 1, 0),
        ("orders", "TEXT", 1, 0),
        ("trace_path", "TEXT", 0, 0),
        ("created_at", "TEXT", 1, 0),
        ("runtime_version", "TEXT", 0, 0),
        ("value_hash", "TEXT", 1, 0),
    ]


def test_calls_table_columns_are_pinned(tmp_path: Path) -> None:
    ReplayStore(tmp_path).close()
    assert _columns(tmp_path / "replay.sqlite", "calls") == [
        ("key", "TEXT", 0, 1),
        ("kind", "TEXT", 1, 0),
        ("name", "TEXT", 1, 0),
        ("sim_time", "TEXT", 0, 0),
        ("request", "TEXT", 1, 0),
        ("response", "TEXT", 1, 0),
        ("created_at", "TEXT", 1, 0),
        ("value_hash", "TEXT", 1, 0),
    ]


def test_quarantine_and_migrations_tables_columns_are_pinned(tmp_path: Path) -> None:
    ReplayStore(tmp_path).close()
    path = tmp_path / "replay.sqlite"
    assert _columns(path, "quarantine") == [
        ("id", "INTEGER", 0, 1),
        ("table_name", "TEXT", 1, 0),
        ("key", "TEXT", 0, 0),
        ("row", "TEXT", 1, 0),
        ("reason", "TEXT", 1, 0),
        ("at", "TEXT", 1, 0),
    ]
    assert _columns(path, MIGRATIONS_TABLE) == [
        ("name", "TEXT", 0, 1),
        ("applied_at", "TEXT", 1, 0),
    ]


def test_lookup_indexes_are_pinned(tmp_path: Path) -> None:
    with ReplayStore(tmp_path) as store:
        indexes = {
            table: {ix.name: ix.columns for ix in store.db.table(table).indexes if ix.origin == "c"}
            for table in ("runs", "calls")
        }
    assert indexes == {
        "runs": {"idx_runs_agent_sim_time": ["agent", "sim_time"]},
        "calls": {"idx_calls_kind_name": ["kind", "name"]},
    }


def test_migrations_are_ordered_and_schema_version_counts_them() -> None:
    names = [fn.__name__ for fn in MIGRATIONS]
    assert names == ["m001_initial", "m002_lookup_indexes", "m003_quarantine", "m004_run_probes"]
    assert names == sorted(names)
    assert SCHEMA_VERSION == len(MIGRATIONS) == 4


def test_migrations_apply_once_and_reopening_applies_nothing(tmp_path: Path) -> None:
    ReplayStore(tmp_path).close()
    ReplayStore(tmp_path).close()
    db = Database(tmp_path / "replay.sqlite")
    assert applied_migrations(db) == [fn.__name__ for fn in MIGRATIONS]
    assert migrate(db) == []
    rows = list(db[MIGRATIONS_TABLE].rows)
    assert [row["name"] for row in rows] == applied_migrations(db)
    assert all(row["applied_at"] for row in rows)


def test_a_partly_migrated_file_gets_only_the_missing_migrations(tmp_path: Path) -> None:
    db = Database(tmp_path / "replay.sqlite")
    db.execute(f"CREATE TABLE {MIGRATIONS_TABLE} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    MIGRATIONS[0](db)
    db.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES ('m001_initial', 'then')")
    db.close()
    ReplayStore(tmp_path).close()
    db = Database(tmp_path / "replay.sqlite")
    assert applied_migrations(db) == ["m001_initial", "m002_lookup_indexes", "m003_quarantine", "m004_run_probes"]
    assert db.table(MIGRATIONS_TABLE).get("m001_initial")["applied_at"] == "then"


def test_store_opens_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    with ReplayStore(tmp_path, busy_timeout=12.5) as store:
        assert store.db.journal_mode == "wal"
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 12500


def test_cache_written_by_a_newer_agentrt_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    ReplayStore(tmp_path).close()
    path = tmp_path / "replay.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES ('m999_future', 'later')")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ReplayStoreError, match=r"newer agentrt.*m999_future.*Upgrade agentrt"):
        ReplayStore(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_sqlite_file_of_something_else_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ReplayStoreError, match=r"not an agentrt replay cache \(found notes\)"):
        ReplayStore(tmp_path)
    assert path.read_bytes() == before
