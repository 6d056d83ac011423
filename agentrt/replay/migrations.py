"""Schema of the replay cache: ordered ``mNNN_name(db)`` migrations, applied on every open.

Each migration runs once per database file and is recorded in ``_agentrt_migrations``
(``name``, ``applied_at``). Pending migrations are applied inside one ``BEGIN IMMEDIATE``
transaction, so two processes opening a fresh file at the same time cannot both apply
them, and a failed migration leaves the file as it was. Never edit a released migration:
add the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "SCHEMA_VERSION",
    "applied_migrations",
    "migrate",
    "unknown_migrations",
]

MIGRATIONS_TABLE = "_agentrt_migrations"

Migration = Callable[["Database"], None]
MIGRATIONS: list[Migration] = []
"""Every migration, in the order it must run."""


def _migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@_migration
def m001_initial(db: Database) -> None:
    """Create ``runs`` (whole agent runs) and ``calls`` (single model and tool calls)."""
    db.table("runs").create(
        {
            "key": str,
            "agent": str,
            "sim_time": str,
            "model": str,
            "material": str,
            "result": str,
            "events": str,
            "orders": str,
            "trace_path": str,
            "created_at": str,
            "runtime_version": str,
            "value_hash": str,
        },
        pk="key",
        not_null={
            "agent",
            "sim_time",
            "material",
            "result",
            "events",
            "orders",
            "created_at",
            "value_hash",
        },
    )
    db.table("calls").create(
        {
            "key": str,
            "kind": str,
            "name": str,
            "sim_time": str,
            "request": str,
            "response": str,
            "created_at": str,
            "value_hash": str,
        },
        pk="key",
        not_null={"kind", "name", "request", "response", "created_at", "value_hash"},
    )


@_migration
def m002_lookup_indexes(db: Database) -> None:
    """Index runs by (agent, sim_time) for miss reasons and calls by (kind, name) for stats."""
    db.table("runs").create_index(["agent", "sim_time"], index_name="idx_runs_agent_sim_time")
    db.table("calls").create_index(["kind", "name"], index_name="idx_calls_kind_name")


@_migration
def m003_quarantine(db: Database) -> None:
    """Create ``quarantine``: rows that failed verification, kept verbatim, never deleted."""
    db.table("quarantine").create(
        {
            "id": int,
            "table_name": str,
            "key": str,
            "row": str,
            "reason": str,
            "at": str,
        },
        pk="id",
        not_null={"table_name", "row", "reason", "at"},
    )


@_migration
def m004_run_probes(db: Database) -> None:
    """Create ``run_probes``: the index a warm rerun finds its runs by without computing keys.

    A probe is a run's *surface* (hash of what is fixed between runs: agent, model, prompt,
    tools, data source, task, context) and its raw *inputs* (packed bytes of the simulated
    time, account state and visible data; see :mod:`agentrt.agents.probe`); ``probe`` is the
    hash of both. Each row points to the run (``key``) those inputs produce and carries the
    run's *head*, what a hit reports before anything reads the recorded answer, in one text
    column. Rows are stored in (agent, surface, simulated time) order, so a rerun reads its
    agent's index in one range scan. ``verify`` recomputes ``probe`` and re-derives the head
    from the run.
    """
    db.execute(
        """
        CREATE TABLE run_probes (
            probe TEXT NOT NULL UNIQUE,
            surface TEXT NOT NULL,
            inputs BLOB NOT NULL,
            key TEXT NOT NULL,
            agent TEXT NOT NULL,
            sim_time TEXT NOT NULL,
            head TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (agent, surface, sim_time, probe)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX idx_run_probes_key ON run_probes (key)")


SCHEMA_VERSION = len(MIGRATIONS)
"""Number of migrations this version of agentrt knows; a cache at this version is current."""


def applied_migrations(db: Database) -> list[str]:
    """Names of the migrations recorded in ``db``, in the order they were applied."""
    if not db[MIGRATIONS_TABLE].exists():
        return []
    rows = db.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY rowid").fetchall()
    return [row[0] for row in rows]


def unknown_migrations(db: Database) -> list[str]:
    """Applied migrations this version does not know: the file was written by a newer agentrt."""
    known = {fn.__name__ for fn in MIGRATIONS}
    return [name for name in applied_migrations(db) if name not in known]


def migrate(db: Database) -> list[str]:
    """Apply every pending migration to ``db`` and return the names applied (often none).

    Must be called outside a transaction. Concurrent callers serialize on the write lock;
    the second one finds nothing left to do.
    """
    done = set(applied_migrations(db))
    if all(fn.__name__ in done for fn in MIGRATIONS):
        return []
    applied: list[str] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = set(applied_migrations(db))
        for fn in MIGRATIONS:
            if fn.__name__ in done:
                continue
            fn(db)
            db.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (?, ?)",
                (fn.__name__, datetime.now(UTC).isoformat()),
            )
            applied.append(fn.__name__)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return applied
