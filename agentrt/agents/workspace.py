"""The agent's DuckDB workspace: point-in-time tables and read-only SQL, closed to the outside.

Point in time by construction:

- one in-memory DuckDB connection per agent per backtest, opened with external access
  disabled (no files: ``read_csv``, ``read_parquet``, ``glob``, ``COPY``; no ``ATTACH`` of
  files, no ``INSTALL``/autoload of extensions such as httpfs), Python replacement scans
  off (SQL cannot reach a DataFrame lying in a Python variable) and the configuration
  locked, so SQL cannot turn any of that back on;
- :meth:`Workspace.load_history_table` copies bars from ``host.get_historical_prices``
  (only bars visible at the simulated time; rows stamped later are dropped again here)
  into a table; the source frame is never registered;
- every table is dropped when a new agent run starts, so no table created at one
  simulated time survives into another run (and a replayed run cannot leave state behind);
- :meth:`Workspace.query` accepts exactly one read statement (SELECT / WITH / VALUES /
  SHOW / DESCRIBE / SUMMARIZE / EXPLAIN of those / ``PRAGMA table_info``-style reads),
  refuses the wall-clock functions (``now()``, ``current_date`` ...), caps the rows and
  returns errors as :class:`WorkspaceError` for the model.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import decimal
import math
import re
import threading
import weakref
from typing import Any

__all__ = ["Workspace", "WorkspaceError", "check_read_only_sql"]

MAX_ROWS_LIMIT = 1000
_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "python_enable_replacements": False,
    "threads": 1,
}
_READ_PRAGMAS = frozenset({"table_info", "show_tables", "show_tables_expanded", "show", "database_size", "storage_info", "version"})
_WALL_CLOCK = re.compile(
    r"\b(now|current_date|current_timestamp|current_time|today|get_current_timestamp|get_current_time|"
    r"localtimestamp|localtime|transaction_timestamp|current_localtimestamp|current_localtime|"
    r"uuidv7|uuid_extract_timestamp|uuid_extract_version|random|uuid|gen_random_uuid|setseed)\b",
    re.IGNORECASE,
)
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:\(\s*[^)]*\)\s*)?(?:ANALY[SZ]E\s+)?", re.IGNORECASE)
_TIMESTEPS = {"day": "day", "daily": "day", "1d": "day", "d": "day", "minute": "minute", "1m": "minute",
              "min": "minute", "hour": "hour", "1h": "hour", "h": "hour", "week": "week", "1w": "week"}


class WorkspaceError(ValueError):
    """A refused or failed workspace operation; the message is meant for the model."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    keep = lines[:1] + [line for line in lines[1:3] if "Did you mean" in line or line.startswith("LINE")]
    return " ".join(keep) if keep else type(exc).__name__


def check_read_only_sql(sql: str) -> str:
    """Return the single read statement in ``sql`` or raise :class:`WorkspaceError` saying why not."""
    import duckdb

    if not isinstance(sql, str) or not sql.strip():
        raise WorkspaceError("sql must be a non-empty SQL string, e.g. SELECT avg(close) FROM aapl_day")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise WorkspaceError(f"SQL does not parse: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise WorkspaceError(
            f"send exactly one SQL statement per query (got {len(statements)}); split them into separate calls"
        )
    statement = statements[0]
    kind = statement.type.name
    if kind == "EXPLAIN":
        inner = _EXPLAIN.sub("", sql, count=1)
        try:
            inner_statements = duckdb.extract_statements(inner)
        except duckdb.Error:
            inner_statements = []
        if len(inner_statements) != 1 or inner_statements[0].type.name != "SELECT":
            raise WorkspaceError("EXPLAIN is allowed only for a SELECT query")
    elif kind == "PRAGMA":
        name = re.match(r"^\s*PRAGMA\s+(\w+)", sql, re.IGNORECASE)
        if not name or name.group(1).lower() not in _READ_PRAGMAS:
            raise WorkspaceError(
                "only read pragmas are allowed (PRAGMA table_info('t'), PRAGMA show_tables); "
                "the workspace configuration cannot be changed"
            )
    elif kind != "SELECT":
        raise WorkspaceError(
            f"the workspace is read-only: {kind} statements are not allowed. Use SELECT (with WITH "
            "clauses for intermediate results); load data with market_load_history_table"
        )
    outside_strings = _STRING_LITERAL.sub("''", sql)
    clock = _WALL_CLOCK.search(outside_strings)
    if clock:
        name = clock.group(1).lower()
        if name in ("random", "uuid", "gen_random_uuid", "setseed"):
            raise WorkspaceError(
                f"{name}() is not deterministic, so a replayed run could not give the same answer; "
                "derive values from the data instead (e.g. row_number() OVER (ORDER BY datetime))")
        raise WorkspaceError(
            f"{clock.group(1)} reads the real wall clock, not the simulated time; write the "
            "simulated date as a literal instead, e.g. DATE '2020-01-31'"
        )
    return sql


def _sanitize_table_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]", "_", name.strip().lower())
    cleaned = re.sub(r"_+", "_", cleaned).strip("_")
    if not cleaned or cleaned[0].isdigit():
        cleaned = "t_" + cleaned
    return cleaned[:60]


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    if isinstance(value, decimal.Decimal):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    return str(value)


_OPEN: weakref.WeakSet[Workspace] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # DuckDB objects still alive at interpreter exit make its bindings print leak reports
    for workspace in list(_OPEN):
        workspace.close()


class Workspace:
    """One agent's DuckDB connection for one backtest (created lazily on first use)."""

    def __init__(self, host: Any) -> None:
        self._host = host
        self._con: Any = None
        self._tables: dict[str, _dt.datetime] = {}
        self._horizon: _dt.datetime | None = None
        _OPEN.add(self)

    @property
    def tables(self) -> dict[str, _dt.datetime]:
        """Tables in the workspace and the simulated time each was built at."""
        return dict(self._tables)

    def _connection(self) -> Any:
        if self._con is None:
            import duckdb

            con = duckdb.connect(":memory:", config=dict(_CONFIG))
            tz = self._timezone()
            if tz:
                try:
                    con.execute(f"SET TimeZone = '{tz}'")
                except duckdb.Error:
                    pass
            con.execute("SET lock_configuration = true")
            self._con = con
        return self._con

    def _timezone(self) -> str | None:
        try:
            tz = self._host.get_datetime().tzinfo
        except Exception:
            return None
        key = getattr(tz, "key", None) or getattr(tz, "zone", None)
        return str(key) if key and re.fullmatch(r"[A-Za-z_/+\-0-9]+", str(key)) else None

    def reset(self) -> None:
        """Drop every table (called at the start of each agent run)."""
        if self._con is not None and self._tables:
            for name in list(self._tables):
                self._con.execute(f'DROP TABLE IF EXISTS "{name}"')
        self._tables.clear()

    def _advance_clock(self) -> _dt.datetime:
        now = self._host.get_datetime()
        if self._horizon is not None and now < self._horizon:
            # time went backwards (a reused strategy object): nothing built later may stay
            self.close()
        self._horizon = now
        return now

    def load_history_table(
        self,
        symbol: str,
        length: int = 100,
        timestep: str = "day",
        table_name: str | None = None,
    ) -> dict[str, Any]:
        """Build a table of the last ``length`` bars of ``symbol`` visible now; return its description."""
        now = self._advance_clock()
        if not isinstance(symbol, str) or not symbol.strip():
            raise WorkspaceError("symbol must be a ticker such as 'AAPL'")
        if not isinstance(length, int) or length < 1 or length > 100_000:
            raise WorkspaceError(f"length must be a whole number of bars between 1 and 100000, got {length!r}")
        step = _TIMESTEPS.get(str(timestep).strip().lower())
        if step is None:
            raise WorkspaceError(f"timestep must be one of day, hour, minute, got {timestep!r}")
        name = _sanitize_table_name(table_name or f"{symbol}_{step}")
        try:
            bars = self._host.get_historical_prices(symbol.strip().upper(), length, timestep=step)
        except Exception as exc:
            raise WorkspaceError(f"cannot load history for {symbol!r}: {exc}") from None
        frame = getattr(bars, "df", bars)
        if frame is None or len(frame) == 0:
            raise WorkspaceError(f"no {step} bars for {symbol!r} are available at {now.isoformat()}")
        table = self._clip(frame, now, step)
        con = self._connection()
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.from_df(table).create(name)
        self._tables[name] = now
        first, last = table["datetime"].iloc[0], table["datetime"].iloc[-1]
        return {
            "table": name,
            "symbol": symbol.strip().upper(),
            "timestep": step,
            "rows": len(table),
            "columns": [str(c) for c in table.columns],
            "first": first.isoformat(),
            "last": last.isoformat(),
            "last_close": _cell(float(table["close"].iloc[-1])) if "close" in table else None,
            "hint": f"query it with duckdb_query, e.g. SELECT avg(close) FROM {name}",
        }

    @staticmethod
    def _clip(frame: Any, now: _dt.datetime, step: str) -> Any:
        import pandas as pd

        df = frame.copy()
        df.columns = [str(c).lower() for c in df.columns]
        index = df.index
        if not isinstance(index, pd.DatetimeIndex):
            for candidate in ("datetime", "date", "timestamp", "time"):
                if candidate in df.columns:
                    index = pd.DatetimeIndex(pd.to_datetime(df.pop(candidate)))
                    break
            else:
                raise WorkspaceError("history has no datetime index; cannot place its bars in time")
        if index.tz is None and now.tzinfo is not None:
            index = index.tz_localize(now.tzinfo)
        mask = index <= pd.Timestamp(now)
        df = df.loc[mask]
        index = index[mask]
        keep = [c for c in ("open", "high", "low", "close", "volume") if c in df.columns]
        out = pd.DataFrame({c: df[c].to_numpy(dtype="float64") for c in keep})
        local = index.tz_localize(None) if index.tz is not None else index
        out.insert(0, "datetime", local.to_numpy())
        if step == "day":
            out.insert(0, "date", local.normalize().date)
        return out.reset_index(drop=True)

    def query(self, sql: str, max_rows: int = 200) -> dict[str, Any]:
        """Run one read-only SQL statement; return ``{"columns", "rows", "row_count", "truncated"}``."""
        self._advance_clock()
        if not isinstance(max_rows, int) or max_rows < 1:
            raise WorkspaceError(f"max_rows must be a positive whole number, got {max_rows!r}")
        max_rows = min(max_rows, MAX_ROWS_LIMIT)
        statement = check_read_only_sql(sql)
        import duckdb

        con = self._connection()
        cursor = con.cursor()
        timer = threading.Timer(30.0, cursor.interrupt)
        timer.daemon = True
        timer.start()
        try:
            result = cursor.execute(statement)
            columns = [d[0] for d in (result.description or [])]
            rows = result.fetchmany(max_rows + 1)
        except duckdb.Error as exc:
            message = _first_line(exc)
            if "does not exist" in message and "Table" in message:
                loaded = ", ".join(self._tables) or "none yet"
                message += f" Tables in the workspace: {loaded}. Load one with market_load_history_table first."
            raise WorkspaceError(message) from None
        finally:
            timer.cancel()
            cursor.close()
        truncated = len(rows) > max_rows
        rows = rows[:max_rows]
        return {
            "columns": columns,
            "rows": [[_cell(v) for v in row] for row in rows],
            "row_count": len(rows),
            "truncated": truncated,
        }

    def close(self) -> None:
        """Close the connection (end of the backtest); the next use opens a fresh one."""
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None
        self._tables.clear()
        self._horizon = None
