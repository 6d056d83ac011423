"""The replay cache store: one SQLite file of content-addressed agent runs and model/tool calls.

The file is ``replay.sqlite`` inside a cache folder: the folder given to
:class:`ReplayStore`, else ``$AGENTRT_CACHE_DIR``, else the user cache folder
(``platformdirs.user_cache_dir("agentrt")``, or ``~/.cache/agentrt`` without platformdirs).

Entries are addressed by :func:`~agentrt.replay.hashing.content_hash` of their key
material (see :mod:`agentrt.replay.reasons` for the layout of a run's material) and carry
a ``value_hash`` over their stored values, so :meth:`ReplayStore.verify` can re-derive
both. The file is opened through ``sqlite_utils`` in WAL mode with a long busy timeout, so
several processes may read and write it at once; every ``put_*`` is its own committed
transaction, so a killed process loses at most the entry it was writing. Nothing here
ever deletes a damaged row: verify moves it to the ``quarantine`` table.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlite_utils import Database

from agentrt.replay import _rows
from agentrt.replay._files import (
    CACHE_DIR_ENV,
    CACHE_FILENAME,
    ReplayStoreError,
    default_cache_dir,
    open_error,
    require_agentrt_cache,
    resolve_cache_file,
    sidecars,
)
from agentrt.replay._maintenance import merge_cache, verify_cache
from agentrt.replay.entries import CallEntry, MergeReport, RunEntry, VerifyReport
from agentrt.replay.hashing import canonical_json, content_hash, hash_canonical_text
from agentrt.replay.migrations import SCHEMA_VERSION, migrate, unknown_migrations
from agentrt.replay.reasons import diff_material

__all__ = [
    "CACHE_DIR_ENV",
    "CACHE_FILENAME",
    "ReplayStore",
    "ReplayStoreError",
    "default_cache_dir",
    "resolve_cache_file",
]

_GET_RUN_SQL = f"SELECT {', '.join(_rows.RUN_COLUMNS)} FROM runs WHERE key = ?"
_RUNS_FROM_SQL = (
    f"SELECT {', '.join(_rows.RUN_COLUMNS)} FROM runs WHERE agent = ? AND substr(sim_time, 1, 10) >= ?"
)
_PUT_PROBE_SQL = (
    f"INSERT OR REPLACE INTO run_probes ({', '.join(_rows.PROBE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_rows.PROBE_COLUMNS))})"
)
_PROBES_FROM_SQL = "SELECT inputs, head FROM run_probes WHERE agent = ? AND surface = ? AND sim_time >= ?"
_GET_CALL_SQL = f"SELECT {', '.join(_rows.CALL_COLUMNS)} FROM calls WHERE key = ?"
_PUT_RUN_SQL = (
    f"INSERT OR REPLACE INTO runs ({', '.join(_rows.RUN_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_rows.RUN_COLUMNS))})"
)
_PUT_CALL_SQL = (
    f"INSERT OR REPLACE INTO calls ({', '.join(_rows.CALL_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_rows.CALL_COLUMNS))})"
)


class ReplayStore:
    """Content-addressed store of agent runs and model/tool calls in one SQLite file.

    ``path`` is a cache folder (or a ``.sqlite`` file, see :func:`resolve_cache_file`).
    Opening creates the folder and file when missing and applies pending schema
    migrations. Use it as a context manager or call :meth:`close`. One store may be shared
    by threads of one process; open a new store in each process.

    Raises :class:`ReplayStoreError` when the file is not a readable agentrt cache; the
    file is left exactly as it was.
    """

    def __init__(self, path: str | Path | None = None, *, busy_timeout: float = 30.0) -> None:
        self.path: Path = resolve_cache_file(path)
        self._busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._db: Database | None = None
        self._db = self._open()

    # -- lifecycle -------------------------------------------------------------------

    def _open(self) -> Database:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReplayStoreError(
                f"cannot create the replay cache folder {self.path.parent}: {exc}. "
                f"Choose a writable folder (argument or ${CACHE_DIR_ENV})"
            ) from exc
        conn = sqlite3.connect(str(self.path), timeout=self._busy_timeout, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            db = Database(conn, execute_plugins=False)
            require_agentrt_cache(db, self.path, empty_ok=True)
            newer = unknown_migrations(db)
            if newer:
                raise ReplayStoreError(
                    f"replay cache {self.path} was written by a newer agentrt (schema "
                    f"migrations {', '.join(newer)} are unknown to this version, which "
                    f"knows {SCHEMA_VERSION}). Upgrade agentrt, or use another cache folder "
                    f"(${CACHE_DIR_ENV}); the file was not changed"
                )
            self._enable_wal(db)
            db.execute("PRAGMA synchronous = NORMAL")
            migrate(db)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise open_error(self.path, exc) from exc
        except BaseException:
            conn.close()
            raise
        return db

    def _enable_wal(self, db: Database) -> None:
        # Switching a fresh file to WAL needs an exclusive lock, and SQLite does not always run the
        # busy handler for it: when another process is creating the same file at that moment the
        # PRAGMA fails at once with "database is locked". Retry within the busy timeout.
        import time

        deadline = time.monotonic() + self._busy_timeout
        delay = 0.005
        while True:
            try:
                db.enable_wal()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    @property
    def db(self) -> Database:
        """The ``sqlite_utils.Database`` behind the store, for queries and the CLI."""
        if self._db is None:
            raise ReplayStoreError(f"replay cache {self.path} is closed; open a new ReplayStore")
        if self._pid != os.getpid():
            raise ReplayStoreError(
                f"replay cache {self.path} was opened in process {self._pid} and used in "
                f"process {os.getpid()} (after a fork); open a new ReplayStore in each process"
            )
        return self._db

    @property
    def is_open(self) -> bool:
        """Whether this process can use the store (it is not closed and was opened here)."""
        return self._db is not None and self._pid == os.getpid()

    def close(self) -> None:
        """Close the database connection; further use raises :class:`ReplayStoreError`."""
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._db = None

    def __enter__(self) -> ReplayStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._db is None else "open"
        return f"ReplayStore({str(self.path)!r}, {state})"

    # -- runs ------------------------------------------------------------------------

    @staticmethod
    def run_key(material: Mapping[str, Any]) -> str:
        """The cache key of a run: ``content_hash(material)``."""
        return content_hash(material)

    @staticmethod
    def call_key(request: Any) -> str:
        """The cache key of a model or tool call: ``content_hash(request)``."""
        return content_hash(request)

    def get_run(self, key: str) -> RunEntry | None:
        """The run stored under ``key``, or None."""
        with self._lock:
            row = self.db.conn.execute(_GET_RUN_SQL, (key,)).fetchone()
        if row is None:
            return None
        try:
            return _rows.run_from_row(row)
        except (TypeError, ValueError) as exc:
            raise self._unreadable("runs", key, exc) from exc

    def prefetch_runs(self, agent: str, *, since: str) -> RunPrefetch:
        """The stored runs of ``agent`` from simulated date ``since`` (YYYY-MM-DD) on, fetched in one
        query for a rerun that will ask for them bar after bar. Rows are decoded only when taken."""
        with self._lock:
            rows = self.db.conn.execute(_RUNS_FROM_SQL, (agent, since)).fetchall()
        return RunPrefetch(self, {row[0]: row for row in rows})

    def put_run(
        self,
        key: str,
        *,
        material: Mapping[str, Any],
        agent: str,
        sim_time: str | datetime | date,
        model: str | None,
        result: Mapping[str, Any],
        events: Sequence[Any],
        orders: Sequence[Any],
        trace_path: str | Path | None = None,
        probe: tuple[str, bytes] | None = None,
    ) -> None:
        """Store (or replace, for refresh mode) a run under ``key`` and commit at once.

        ``key`` must equal :meth:`run_key` of ``material``; ``result``, ``events`` and
        ``orders`` must be canonical-JSON encodable. ``probe`` (the run's ``(surface, inputs)``,
        see :mod:`agentrt.agents.probe`) is indexed in the same transaction, so a rerun with
        the same inputs finds the run without computing its key.
        """
        material_json = canonical_json(material)
        _check_key(key, hash_canonical_text(material_json), "run_key(material)")
        runtime_version = material.get("runtime_version")
        result_json, events_json, orders_json = (
            canonical_json(result),
            canonical_json(events),
            canonical_json(orders),
        )
        row = (
            key,
            agent,
            _rows.iso(sim_time),
            model,
            material_json,
            result_json,
            events_json,
            orders_json,
            None if trace_path is None else str(trace_path),
            _rows.now_utc(),
            None if runtime_version is None else str(runtime_version),
            hash_canonical_text(_rows.run_value_json(result_json, events_json, orders_json)),
        )
        probe_row = None
        if probe is not None:
            head = _rows.probe_head(key, row[2], result, orders, row[8], events, value_hash=row[11])
            probe_row = _rows.probe_row(probe[0], probe[1], agent, head)
        with self._lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.conn.execute(_PUT_RUN_SQL, row)
                # probes of an earlier value of this run (refresh) would report its old head
                db.conn.execute("DELETE FROM run_probes WHERE key = ?", (key,))
                if probe_row is not None:
                    db.conn.execute(_PUT_PROBE_SQL, probe_row)
                db.execute("COMMIT")
            except BaseException:
                db.rollback()
                raise

    # -- probes (the warm-rerun index) -------------------------------------------------

    def put_probe(self, surface: str, inputs: bytes, entry: RunEntry) -> None:
        """Index ``entry`` under the probe ``(surface, inputs)``: a rerun found it by key this
        time and finds it by probe next time."""
        head = _rows.probe_head(entry.key, entry.sim_time, entry.result, entry.orders, entry.trace_path,
                                lambda: entry.events, value_hash=entry.value_hash)
        with self._lock:
            self.db.execute(_PUT_PROBE_SQL, _rows.probe_row(surface, inputs, entry.agent, head))

    def has_probes(self, agent: str) -> bool:
        """Whether any run of ``agent`` is indexed by probe (a rerun is likely)."""
        with self._lock:
            return self.db.conn.execute("SELECT 1 FROM run_probes WHERE agent = ? LIMIT 1", (agent,)).fetchone() is not None

    def prefetch_probes(self, agent: str, surface: str, *, since: str) -> dict[bytes, str]:
        """The probe index of ``agent`` at ``surface`` from simulated date ``since`` (YYYY-MM-DD)
        on, in one range scan: ``{inputs: head}`` (see :func:`agentrt.replay._rows.decode_head`)."""
        with self._lock:
            rows = self.db.conn.execute(_PROBES_FROM_SQL, (agent, surface, since)).fetchall()
        return dict(rows)

    def load_result(self, key: str, *, value: str | None = None) -> dict[str, Any]:
        """The recorded result of run ``key`` (what a lazily read cache hit asks for); with
        ``value`` (see :func:`agentrt.replay._rows.value_version`), only that value of it."""
        with self._lock:
            row = self.db.conn.execute("SELECT result, value_hash FROM runs WHERE key = ?", (key,)).fetchone()
        return _result_of(row, key, value, str(self.path))

    def load_orders(self, key: str) -> list[Any] | None:
        """The recorded order intents of run ``key``, or None when the run is not in the cache."""
        with self._lock:
            row = self.db.conn.execute("SELECT orders FROM runs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            orders: list[Any] = json.loads(row[0])
        except (TypeError, ValueError) as exc:
            raise self._unreadable("runs", key, exc) from exc
        return orders

    # -- calls -----------------------------------------------------------------------

    def get_call(self, key: str) -> CallEntry | None:
        """The model or tool call stored under ``key``, or None."""
        with self._lock:
            row = self.db.conn.execute(_GET_CALL_SQL, (key,)).fetchone()
        if row is None:
            return None
        try:
            return _rows.call_from_row(row)
        except (TypeError, ValueError) as exc:
            raise self._unreadable("calls", key, exc) from exc

    def put_call(
        self,
        key: str,
        *,
        kind: str,
        name: str,
        sim_time: str | datetime | date | None,
        request: Any,
        response: Any,
    ) -> None:
        """Store (or replace) a call under ``key`` (= :meth:`call_key` of ``request``).

        ``kind`` is ``"model"`` (``name`` is the model) or ``"tool"`` (``name`` is the tool).
        """
        if kind not in _rows.CALL_KINDS:
            raise ValueError(
                f"call kind must be one of {', '.join(_rows.CALL_KINDS)}, got {kind!r}"
            )
        request_json = canonical_json(request)
        _check_key(key, hash_canonical_text(request_json), "call_key(request)")
        response_json = canonical_json(response)
        row = (
            key,
            kind,
            name,
            None if sim_time is None else _rows.iso(sim_time),
            request_json,
            response_json,
            _rows.now_utc(),
            hash_canonical_text(_rows.call_value_json(response_json)),
        )
        with self._lock:
            self.db.execute(_PUT_CALL_SQL, row)

    # -- explaining misses -----------------------------------------------------------

    def miss_reasons(
        self, material: Mapping[str, Any], *, agent: str, sim_time: str | datetime | date
    ) -> list[str]:
        """Why ``material`` is not in the cache, compared with the nearest earlier run.

        The nearest earlier run is the most recently written run of ``agent`` at
        ``sim_time``. Returns ``[]`` when ``material`` is cached, and a single
        ``"no earlier run for this agent at <time>"`` when there is nothing to compare.
        """
        when = _rows.iso(sim_time)
        key = content_hash(material)
        with self._lock:
            conn = self.db.conn
            if conn.execute("SELECT 1 FROM runs WHERE key = ?", (key,)).fetchone():
                return []
            row = conn.execute(
                "SELECT key, material FROM runs WHERE agent = ? AND sim_time = ? "
                "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                (agent, when),
            ).fetchone()
        if row is None:
            return [f"no earlier run for this agent at {when}"]
        try:
            old = json.loads(row[1])
        except (TypeError, ValueError):
            return [
                f"the earlier run for this agent at {when} has unreadable key material "
                "(run `agentrt cache verify`)"
            ]
        if not isinstance(old, Mapping):
            return ["key material changed"]
        return diff_material(old, material) or ["key material changed"]

    # -- maintenance -----------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counts of runs by agent and calls by kind and name, size on disk, oldest/newest."""
        with self._lock:
            conn = self.db.conn
            runs_by_agent = dict(
                conn.execute("SELECT agent, count(*) FROM runs GROUP BY agent ORDER BY agent")
            )
            calls_by_kind: dict[str, dict[str, int]] = {}
            for kind, name, count in conn.execute(
                "SELECT kind, name, count(*) FROM calls GROUP BY kind, name ORDER BY kind, name"
            ):
                calls_by_kind.setdefault(kind, {})[name] = count
            run_span = conn.execute("SELECT min(created_at), max(created_at) FROM runs").fetchone()
            call_span = conn.execute(
                "SELECT min(created_at), max(created_at) FROM calls"
            ).fetchone()
            quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
            probes = conn.execute("SELECT count(*) FROM run_probes").fetchone()[0]
        size = sum(p.stat().st_size for p in (self.path, *sidecars(self.path)) if p.exists())
        return {
            "path": str(self.path),
            "schema_version": SCHEMA_VERSION,
            "size_bytes": size,
            "runs": {
                "total": sum(runs_by_agent.values()),
                "by_agent": runs_by_agent,
                "oldest": run_span[0],
                "newest": run_span[1],
                "probes": probes,
            },
            "calls": {
                "total": sum(sum(names.values()) for names in calls_by_kind.values()),
                "by_kind": {kind: sum(names.values()) for kind, names in calls_by_kind.items()},
                "by_name": calls_by_kind,
                "oldest": call_span[0],
                "newest": call_span[1],
            },
            "quarantined": quarantined,
        }

    def verify(self, *, quarantine: bool = True) -> VerifyReport:
        """Re-derive every key and value hash; report (and by default quarantine) bad rows.

        A row whose JSON does not parse, whose key is not the hash of its material/request,
        or whose ``value_hash`` does not match its values is reported; with
        ``quarantine=True`` it is moved, verbatim, to the ``quarantine`` table. The report
        also carries SQLite's own ``PRAGMA quick_check`` verdict.
        """
        with self._lock:
            return verify_cache(self.db, self.path, quarantine=quarantine)

    def merge(self, other_path: str | Path) -> MergeReport:
        """Copy into this cache every entry of another cache file that it lacks.

        The other file (a folder holding ``replay.sqlite``, or the file) is opened
        read-only and never modified. Identical entries are skipped; an entry whose key
        exists here with a different value is reported as a conflict and the local one is
        kept; rows of the other file that fail verification are reported and not copied.
        Raises :class:`ReplayStoreError` when the other file is not an agentrt cache.
        """
        with self._lock:
            return merge_cache(self.db, self.path, other_path, busy_timeout=self._busy_timeout)

    def clear(
        self, *, agent: str | None = None, before: str | datetime | date | None = None
    ) -> int:
        """Delete cached entries and return how many rows went.

        ``agent`` limits the deletion to that agent's runs (calls are shared between
        agents and are kept); ``before`` deletes only entries whose simulated time is
        earlier than it (ISO 8601, compared as instants so UTC offsets are honoured).
        With neither, every run and call is deleted. Quarantined rows are never deleted;
        the probe index rows of deleted runs go with them (they are not counted).
        """
        conditions: list[str] = []
        params: list[Any] = []
        with self._lock:
            db = self.db
            if before is not None:
                cutoff = _rows.iso(before)
                if db.conn.execute("SELECT julianday(?)", (cutoff,)).fetchone()[0] is None:
                    raise ValueError(
                        f"before={cutoff!r} is not an ISO 8601 date or time; "
                        "use e.g. '2024-01-31' or '2024-01-31T16:00:00-05:00'"
                    )
                conditions.append("julianday(sim_time) < julianday(?)")
                params.append(cutoff)
            call_where = " AND ".join(conditions) or "1"
            if agent is not None:
                conditions.append("agent = ?")
                params.append(agent)
            run_where = " AND ".join(conditions) or "1"
            db.execute("BEGIN IMMEDIATE")
            try:
                deleted = db.conn.execute(f"DELETE FROM runs WHERE {run_where}", params).rowcount
                # probe rows index runs: the ones whose run went go with it
                db.conn.execute("DELETE FROM run_probes WHERE key NOT IN (SELECT key FROM runs)")
                if agent is None:
                    deleted += db.conn.execute(
                        f"DELETE FROM calls WHERE {call_where}", params
                    ).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.rollback()
                raise
        return deleted

    def _unreadable(self, table: str, key: str, exc: Exception) -> ReplayStoreError:
        return ReplayStoreError(
            f"the {table} entry {key} in replay cache {self.path} is unreadable ({exc}). "
            "Run `agentrt cache verify` to move damaged rows to quarantine; nothing was deleted"
        )


_READERS: dict[str, sqlite3.Connection] = {}
_READERS_LOCK = threading.Lock()


def read_result(path: str | Path, key: str, *, value: str | None = None) -> dict[str, Any]:
    """The recorded result of run ``key`` in the cache file ``path``, read through a read-only
    connection kept per file (for results that outlive the backtest that opened the store).
    Never creates or changes the file."""
    file = str(path)
    with _READERS_LOCK:
        conn = _READERS.get(file)
        if conn is None:
            try:
                conn = sqlite3.connect(f"{Path(file).resolve().as_uri()}?mode=ro", uri=True,
                                       check_same_thread=False)
            except sqlite3.Error as exc:
                raise ReplayStoreError(
                    f"cannot read run {key}: replay cache {file} cannot be opened ({exc})") from exc
            _READERS[file] = conn
        try:
            row = conn.execute("SELECT result, value_hash FROM runs WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise ReplayStoreError(f"cannot read run {key} from replay cache {file} ({exc})") from exc
    return _result_of(row, key, value, file)


def _result_of(row: Sequence[Any] | None, key: str, value: str | None, file: str) -> dict[str, Any]:
    if row is None:
        raise ReplayStoreError(
            f"run {key} is no longer in replay cache {file} (cleared or quarantined since it was served); "
            "run the backtest again"
        )
    if value is not None and _rows.value_version(row[1]) != value:
        raise ReplayStoreError(
            f"run {key} in replay cache {file} was recorded again since it was served (refresh, or the "
            "docs it searched changed); its earlier answer is gone: run the backtest again"
        )
    try:
        result: dict[str, Any] = json.loads(row[0])
    except (TypeError, ValueError) as exc:
        raise ReplayStoreError(
            f"the run {key} in replay cache {file} is unreadable ({exc}); run `agentrt cache verify`") from exc
    return result


def _check_key(key: str, expected: str, how: str) -> None:
    if key != expected:
        raise ValueError(
            f"cache key {key!r} does not match its key material (expected {expected!r}); "
            f"compute the key with ReplayStore.{how} from the same dict you store"
        )


class RunPrefetch:
    """Run rows fetched ahead (see :meth:`ReplayStore.prefetch_runs`); `take` falls back to the store."""

    __slots__ = ("_store", "_rows")

    def __init__(self, store: ReplayStore, rows: dict[str, Sequence[Any]]) -> None:
        self._store = store
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def take(self, key: str) -> RunEntry | None:
        """The run under ``key`` (removed from the prefetch: each run is asked for once), or None."""
        row = self._rows.pop(key, None)
        if row is None:
            return self._store.get_run(key)  # written since the prefetch, e.g. by another process
        try:
            return _rows.run_from_row(row)
        except (TypeError, ValueError) as exc:
            raise self._store._unreadable("runs", key, exc) from exc
