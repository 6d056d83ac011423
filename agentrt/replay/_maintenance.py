"""Whole-cache maintenance: verify every row (quarantining damaged ones) and merge another cache."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from agentrt.replay import _rows
from agentrt.replay._files import (
    CACHE_FILENAME,
    ReplayStoreError,
    iter_rows,
    open_error,
    require_agentrt_cache,
    resolve_cache_file,
)
from agentrt.replay.entries import MergeConflict, MergeReport, VerifyProblem, VerifyReport

_TABLES = ("runs", "calls")
_MERGE_BATCH = 500


def verify_cache(db: Database, path: Path, *, quarantine: bool) -> VerifyReport:
    """Check every row of ``db`` and, if asked, move the damaged ones to ``quarantine``."""
    integrity = "; ".join(str(row[0]) for row in db.conn.execute("PRAGMA quick_check"))
    problems: list[VerifyProblem] = []
    checked = dict.fromkeys(_TABLES, 0)
    for table in _TABLES:
        for row in iter_rows(db.conn, f"SELECT * FROM {table}"):
            checked[table] += 1
            reason = _rows.check_row(table, row)
            if reason is not None:
                problems.append(VerifyProblem(table, str(row.get("key")), reason))
    bad_runs = {p.key for p in problems if p.table == "runs"}
    for row in iter_rows(db.conn, "SELECT * FROM run_probes"):
        checked["run_probes"] = checked.get("run_probes", 0) + 1
        reason = _probe_problem(db, row, bad_runs)
        if reason is not None:
            problems.append(VerifyProblem("run_probes", str(row.get("probe")), reason))
    moved = _quarantine(db, problems) if quarantine and problems else 0
    return VerifyReport(
        path=str(path),
        checked_runs=checked["runs"],
        checked_calls=checked["calls"],
        checked_probes=checked.get("run_probes", 0),
        problems=tuple(problems),
        quarantined=moved,
        integrity=integrity,
    )


def _probe_problem(db: Database, row: dict[str, Any], bad_runs: set[str]) -> str | None:
    key = str(row.get("key"))
    if key in bad_runs:
        return f"its run {key} failed verification"
    run = next(iter_rows(db.conn, "SELECT * FROM runs WHERE key = ?", (key,)), None)
    return _rows.check_probe_row(row, run)


def _quarantine(db: Database, problems: Sequence[VerifyProblem]) -> int:
    moved = 0
    bad_runs = {p.key for p in problems if p.table == "runs"}
    db.execute("BEGIN IMMEDIATE")
    try:
        for problem in problems:
            # Re-read under the write lock: another process may have rewritten the row.
            pk = _rows.PRIMARY_KEYS[problem.table]
            sql = f"SELECT * FROM {problem.table} WHERE {pk} = ?"
            row = next(iter_rows(db.conn, sql, (problem.key,)), None)
            if row is None:
                continue
            if problem.table == "run_probes":
                if _probe_problem(db, row, bad_runs) is None:
                    continue
            elif _rows.check_row(problem.table, row) is None:
                continue
            db.conn.execute(
                "INSERT INTO quarantine (table_name, key, row, reason, at) VALUES (?, ?, ?, ?, ?)",
                (problem.table, problem.key, _rows.row_json(row), problem.reason, _rows.now_utc()),
            )
            db.conn.execute(f"DELETE FROM {problem.table} WHERE {pk} = ?", (problem.key,))
            moved += 1
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return moved


def merge_cache(
    db: Database, path: Path, other_path: str | Path, *, busy_timeout: float
) -> MergeReport:
    """Copy the sound, missing entries of the cache at ``other_path`` into ``db``.

    The other file is opened read-only (SQLite may still create its usual ``-wal``/``-shm``
    companions next to it); its content is never changed.
    """
    source = resolve_cache_file(other_path)
    if not source.is_file():
        raise ReplayStoreError(
            f"cannot merge {source}: no such file. Give the folder that holds "
            f"{CACHE_FILENAME} or the path of the file itself"
        )
    if source.resolve() == path.resolve():
        raise ReplayStoreError(f"cannot merge {source} into itself; give another cache")
    try:
        other = sqlite3.connect(
            f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout
        )
    except sqlite3.Error as exc:
        raise open_error(source, exc) from exc
    counts = {table: [0, 0] for table in _TABLES}
    conflicts: list[MergeConflict] = []
    invalid: list[VerifyProblem] = []
    try:
        try:
            require_agentrt_cache(Database(other, execute_plugins=False), source, empty_ok=False)
        except sqlite3.DatabaseError as exc:
            raise open_error(source, exc) from exc
        for table in _TABLES:
            columns = ", ".join(_rows.COLUMNS[table])
            rows = _read(other, source, f"SELECT {columns} FROM {table} ORDER BY rowid")
            for batch in _batched(rows, _MERGE_BATCH):
                added, identical = _merge_batch(db, table, batch, conflicts, invalid)
                counts[table][0] += added
                counts[table][1] += identical
        probes_added = 0
        if "run_probes" in _tables(other):  # caches written before m004 have none
            columns = ", ".join(_rows.PROBE_COLUMNS)
            rows = _read(other, source, f"SELECT {columns} FROM run_probes ORDER BY probe")
            for batch in _batched(rows, _MERGE_BATCH):
                probes_added += _merge_probes(db, batch, invalid)
    finally:
        other.close()
    return MergeReport(
        source=str(source),
        runs_added=counts["runs"][0],
        calls_added=counts["calls"][0],
        runs_identical=counts["runs"][1],
        calls_identical=counts["calls"][1],
        conflicts=tuple(conflicts),
        invalid=tuple(invalid),
        probes_added=probes_added,
    )


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _merge_probes(db: Database, batch: list[dict[str, Any]], invalid: list[VerifyProblem]) -> int:
    """Index here the probes of the other cache whose run is here (merged now or kept locally).

    A probe names raw inputs, and the same inputs always give the same key, so a sound probe
    (its id is the hash of its surface and inputs) is valid against whichever value of that
    run this cache keeps: its head is re-derived from the local run. Probes of runs that are
    not here are left out; a probe already present is kept.
    """
    from agentrt.agents.probe import probe_id

    columns = _rows.PROBE_COLUMNS
    insert = f"INSERT OR IGNORE INTO run_probes ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    added = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        for row in batch:
            surface, inputs = row.get("surface"), row.get("inputs")
            if not isinstance(surface, str) or not isinstance(inputs, (bytes, bytearray)) or (
                    row.get("probe") != probe_id(surface, bytes(inputs))):
                invalid.append(VerifyProblem("run_probes", str(row.get("probe")),
                                             "probe does not match the hash of its surface and inputs"))
                continue
            run = next(iter_rows(db.conn, "SELECT * FROM runs WHERE key = ?", (str(row.get("key")),)), None)
            if run is None or (run["agent"], run["sim_time"]) != (row.get("agent"), row.get("sim_time")):
                continue
            try:
                head = _rows.probe_head(run["key"], run["sim_time"], json.loads(run["result"]),
                                        json.loads(run["orders"]), run.get("trace_path"),
                                        events=lambda run=run: json.loads(run["events"]),
                                        value_hash=str(run["value_hash"]))
            except (TypeError, ValueError) as exc:
                invalid.append(VerifyProblem("runs", str(run["key"]), f"unreadable ({exc})"))
                continue
            added += db.conn.execute(insert, _rows.probe_row(surface, bytes(inputs), run["agent"], head)).rowcount
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return added


def _merge_batch(
    db: Database,
    table: str,
    batch: list[dict[str, Any]],
    conflicts: list[MergeConflict],
    invalid: list[VerifyProblem],
) -> tuple[int, int]:
    columns = _rows.COLUMNS[table]
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    added = identical = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        for row in batch:
            key = str(row.get("key"))
            reason = _rows.check_row(table, row)
            if reason is not None:
                invalid.append(VerifyProblem(table, key, reason))
                continue
            local = db.conn.execute(
                f"SELECT value_hash FROM {table} WHERE key = ?", (key,)
            ).fetchone()
            if local is None:
                db.conn.execute(insert, [row[c] for c in columns])
                added += 1
            elif local[0] == row["value_hash"]:
                identical += 1
            else:
                conflicts.append(MergeConflict(table, key, local[0], row["value_hash"]))
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return added, identical


def _read(other: sqlite3.Connection, source: Path, sql: str) -> Iterator[dict[str, Any]]:
    # Only errors reading the other file are blamed on it; local write errors pass through.
    try:
        yield from iter_rows(other, sql)
    except sqlite3.DatabaseError as exc:
        raise open_error(source, exc) from exc


def _batched(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
