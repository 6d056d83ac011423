"""Live-run state that survives restarts: `self.vars`, counters, the paper account and known orders.

Stored in SQLite by default (`<out>/state/live_state.sqlite`), or in the database named by
`DB_CONNECTION_STR` as in LumiBot: `sqlite:///path/to/file.sqlite` natively, `postgresql://...`
through SQLAlchemy + psycopg when those are installed. One row per strategy (keyed by its
name) and one row per order that carries a client order id. The schema is versioned
(`STATE_SCHEMA_VERSION`, table `agentrt_state_meta`) and grows by ordered migrations.

`self.vars` values are stored as JSON; datetimes, dates, sets, tuples and numpy scalars round
trip through tagged objects. A value that cannot be stored is skipped with a warning naming it.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ORDER_COLUMNS", "STATE_SCHEMA_VERSION", "STRATEGY_COLUMNS", "OrderRow", "StateError", "StateStore",
           "StrategyState", "decode_vars", "encode_vars"]

log = logging.getLogger("agentrt.live")

STATE_SCHEMA_VERSION = 1
STRATEGY_COLUMNS = ("strategy", "version", "run_id", "step", "step_done", "iterations", "last_iteration_ns",
                    "cash_adjusted_value", "prev_portfolio_value", "vars_json", "broker_json", "updated_at")
ORDER_COLUMNS = ("strategy", "client_order_id", "broker_order_id", "status", "reason", "order_json", "updated_at")


class StateError(RuntimeError):
    """The state database cannot be used; the message says how to fix it."""


@dataclass
class StrategyState:
    """What one strategy's live run keeps between restarts."""

    strategy: str
    run_id: str
    step: int = 0
    """Number of the last scheduled call (iteration or lifecycle hook) that was started."""
    step_done: bool = True
    """False when the process stopped inside that call: the next start retries the same number."""
    iterations: int = 0
    last_iteration_ns: int | None = None
    cash_adjusted_value: float | None = None
    prev_portfolio_value: float | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    broker: dict[str, Any] | None = None
    updated_at: str = ""


@dataclass
class OrderRow:
    """An order the run knows by client order id, as last seen."""

    client_order_id: str
    broker_order_id: str
    status: str
    order: dict[str, Any]
    reason: str = ""


# ---- vars encoding -------------------------------------------------------------------------
def _encode_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, _dt.datetime):
        return {"__agentrt__": "datetime", "v": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"__agentrt__": "date", "v": value.isoformat()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_encode_value(v) for v in (sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value)]
        if isinstance(value, list):
            return items
        return {"__agentrt__": type(value).__name__ if not isinstance(value, frozenset) else "set", "v": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict keys must be strings to be saved")
        return {k: _encode_value(v) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return _encode_value(item())
    raise TypeError(f"{type(value).__name__} is not JSON-storable")


def _decode_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    if isinstance(value, dict):
        tag = value.get("__agentrt__")
        if tag == "datetime":
            return _dt.datetime.fromisoformat(value["v"])
        if tag == "date":
            return _dt.date.fromisoformat(value["v"])
        if tag == "tuple":
            return tuple(_decode_value(v) for v in value["v"])
        if tag == "set":
            return {_decode_value(v) for v in value["v"]}
        return {k: _decode_value(v) for k, v in value.items()}
    return value


def encode_vars(data: dict[str, Any]) -> tuple[str, list[str]]:
    """JSON text of `self.vars` and the names of values that could not be stored (skipped)."""
    out, skipped = {}, []
    for key, value in data.items():
        try:
            out[str(key)] = _encode_value(value)
        except TypeError:
            skipped.append(str(key))
    return json.dumps(out, sort_keys=True, separators=(",", ":"), allow_nan=True), skipped


def decode_vars(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    return {k: _decode_value(v) for k, v in json.loads(text).items()}


# ---- backends ------------------------------------------------------------------------------
class _SqliteBackend:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.Lock()

    def execute(self, sql: str, params: dict | None = None) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(sql, params or {})
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def executemany(self, statements: list[tuple[str, dict]]) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._conn.execute(sql, params)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        with self._lock:
            cur = self._conn.execute(sql, params or {})
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _SqlAlchemyBackend:
    def __init__(self, url: str) -> None:
        try:
            import sqlalchemy
        except ImportError:
            raise StateError(
                f"DB_CONNECTION_STR is a {url.split(':', 1)[0]} URL, which needs SQLAlchemy and a driver: "
                "pip install sqlalchemy 'psycopg[binary]' (or unset DB_CONNECTION_STR to keep state in SQLite)"
            ) from None
        url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url) if _has_module("psycopg") else url
        try:
            self._engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
        except Exception as exc:  # noqa: BLE001 - e.g. driver missing
            raise StateError(f"cannot open DB_CONNECTION_STR {_redact(url)}: {type(exc).__name__}: {exc}; install "
                             "the database driver (pip install 'psycopg[binary]' for PostgreSQL)") from exc
        self._text = sqlalchemy.text
        self._lock = threading.Lock()

    def execute(self, sql: str, params: dict | None = None) -> None:
        self.executemany([(sql, params or {})])

    def executemany(self, statements: list[tuple[str, dict]]) -> None:
        with self._lock, self._engine.begin() as conn:
            for sql, params in statements:
                conn.execute(self._text(sql), params)

    def query(self, sql: str, params: dict | None = None) -> list[dict]:
        with self._lock, self._engine.connect() as conn:
            result = conn.execute(self._text(sql), params or {})
            return [dict(row._mapping) for row in result]

    def close(self) -> None:
        self._engine.dispose()


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


# ---- migrations ----------------------------------------------------------------------------
def _m001_initial(db) -> None:
    db.execute("""CREATE TABLE IF NOT EXISTS agentrt_strategy_state (
        strategy TEXT PRIMARY KEY, version INTEGER NOT NULL, run_id TEXT NOT NULL, step INTEGER NOT NULL,
        step_done INTEGER NOT NULL, iterations INTEGER NOT NULL, last_iteration_ns BIGINT,
        cash_adjusted_value DOUBLE PRECISION, prev_portfolio_value DOUBLE PRECISION, vars_json TEXT NOT NULL,
        broker_json TEXT, updated_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE IF NOT EXISTS agentrt_orders (
        strategy TEXT NOT NULL, client_order_id TEXT NOT NULL, broker_order_id TEXT, status TEXT NOT NULL,
        reason TEXT, order_json TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (strategy, client_order_id))""")


_MIGRATIONS: list[Callable[[Any], None]] = [_m001_initial]


class StateStore:
    """Where a live run keeps its state. `StateStore.open(state_dir=...)` or `StateStore(url)`."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self._db = _SqliteBackend(Path(url[len("sqlite:///"):]).expanduser())
        elif re.match(r"^[a-z][a-z0-9+]*://", url):
            if not url.startswith(("postgresql", "postgres", "mysql")):
                raise StateError(f"DB_CONNECTION_STR {_redact(url)} is not supported; use "
                                 "sqlite:///path/to/file.sqlite or postgresql://user:password@host/db")
            self._db = _SqlAlchemyBackend(url)
        else:
            self._db = _SqliteBackend(Path(url).expanduser())
        self._migrate()

    @classmethod
    def open(cls, *, state_dir: str | Path | None = None, url: str | None = None) -> StateStore:
        """`url`, else `DB_CONNECTION_STR`, else `<state_dir>/live_state.sqlite`."""
        url = url or os.environ.get("DB_CONNECTION_STR") or None
        if url is None:
            folder = Path(state_dir) if state_dir is not None else Path.cwd() / "traces" / "state"
            url = str(folder / "live_state.sqlite")
        return cls(url)

    def describe(self) -> str:
        """The location with any password hidden (for logs and settings.json)."""
        return _redact(self.url)

    def _migrate(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS agentrt_state_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        rows = self._db.query("SELECT value FROM agentrt_state_meta WHERE key = 'schema_version'")
        current = int(rows[0]["value"]) if rows else 0
        if current > len(_MIGRATIONS):
            raise StateError(f"state database {self.describe()} has schema version {current}, newer than this agentrt "
                             f"({len(_MIGRATIONS)}); upgrade agentrt or use another state location")
        for number in range(current, len(_MIGRATIONS)):
            _MIGRATIONS[number](self._db)
            self._db.execute(
                "INSERT INTO agentrt_state_meta (key, value) VALUES ('schema_version', :v) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", {"v": str(number + 1)})

    # -- strategies ----------------------------------------------------------------------------
    def load(self, strategy: str) -> StrategyState | None:
        rows = self._db.query("SELECT * FROM agentrt_strategy_state WHERE strategy = :s", {"s": strategy})
        if not rows:
            return None
        row = rows[0]
        if int(row["version"]) != STATE_SCHEMA_VERSION:
            raise StateError(f"saved state of {strategy} has version {row['version']}; expected {STATE_SCHEMA_VERSION}")
        return StrategyState(
            strategy=row["strategy"], run_id=row["run_id"], step=int(row["step"]), step_done=bool(row["step_done"]),
            iterations=int(row["iterations"]), last_iteration_ns=_int_or_none(row["last_iteration_ns"]),
            cash_adjusted_value=row["cash_adjusted_value"], prev_portfolio_value=row["prev_portfolio_value"],
            vars=decode_vars(row["vars_json"]), broker=json.loads(row["broker_json"]) if row["broker_json"] else None,
            updated_at=row["updated_at"])

    def save(self, state: StrategyState, *, orders: list[OrderRow] = ()) -> list[str]:
        """Write the strategy row and `orders` in one transaction; returns vars keys that were skipped."""
        vars_json, skipped = encode_vars(state.vars)
        state.updated_at = _dt.datetime.now(_dt.timezone.utc).isoformat()
        params = {
            "strategy": state.strategy, "version": STATE_SCHEMA_VERSION, "run_id": state.run_id, "step": state.step,
            "step_done": int(state.step_done), "iterations": state.iterations,
            "last_iteration_ns": state.last_iteration_ns, "cash_adjusted_value": state.cash_adjusted_value,
            "prev_portfolio_value": state.prev_portfolio_value, "vars_json": vars_json,
            "broker_json": json.dumps(state.broker, sort_keys=True, default=str) if state.broker is not None else None,
            "updated_at": state.updated_at,
        }
        cols = ", ".join(STRATEGY_COLUMNS)
        values = ", ".join(f":{c}" for c in STRATEGY_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in STRATEGY_COLUMNS if c != "strategy")
        statements = [(f"INSERT INTO agentrt_strategy_state ({cols}) VALUES ({values}) "
                       f"ON CONFLICT (strategy) DO UPDATE SET {updates}", params)]
        statements += [self._order_statement(state.strategy, row) for row in orders]
        self._db.executemany(statements)
        return skipped

    # -- orders --------------------------------------------------------------------------------
    def _order_statement(self, strategy: str, row: OrderRow) -> tuple[str, dict]:
        params = {"strategy": strategy, "client_order_id": row.client_order_id,
                  "broker_order_id": row.broker_order_id, "status": row.status, "reason": row.reason,
                  "order_json": json.dumps(row.order, sort_keys=True, default=str),
                  "updated_at": _dt.datetime.now(_dt.timezone.utc).isoformat()}
        cols = ", ".join(ORDER_COLUMNS)
        values = ", ".join(f":{c}" for c in ORDER_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in ORDER_COLUMNS if c not in ("strategy", "client_order_id"))
        return (f"INSERT INTO agentrt_orders ({cols}) VALUES ({values}) "
                f"ON CONFLICT (strategy, client_order_id) DO UPDATE SET {updates}", params)

    def save_orders(self, strategy: str, rows: list[OrderRow]) -> None:
        if rows:
            self._db.executemany([self._order_statement(strategy, r) for r in rows])

    def orders(self, strategy: str, *, active_only: bool = False) -> list[OrderRow]:
        rows = self._db.query("SELECT * FROM agentrt_orders WHERE strategy = :s ORDER BY updated_at, client_order_id",
                              {"s": strategy})
        out = [OrderRow(r["client_order_id"], r["broker_order_id"] or "", r["status"], json.loads(r["order_json"]),
                        r["reason"] or "") for r in rows]
        if active_only:
            out = [r for r in out if r.status in ("submitting", "new", "open", "partially_filled")]
        return out

    def close(self) -> None:
        self._db.close()


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
