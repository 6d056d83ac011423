"""The run index: ``agent_runs.parquet``, one row per agent run, written with pyarrow and queried with DuckDB.

Columns (``RUN_INDEX_COLUMNS``, pinned by a test; the file's metadata carries
``agentrt.run_index.schema_version`` = ``RUN_INDEX_SCHEMA_VERSION``):

=============  =========================  ===============================================
sim_time       timestamp[us, tz]          simulated time of the run (tz of the first row)
agent          string                     agent name
model          string                     model string
cache_hit      bool                       the run was replayed from the cache
cache_key      string (nullable)          replay-cache entry key
tools_called   list<string>               tool names in call order
n_tool_calls   int64
orders         int64                      number of orders submitted
input_tokens   int64
output_tokens  int64
cost_usd       float64
latency_ms     float64                    wall-clock latency of the run
warnings       list<string>               warning codes
n_warnings     int64
summary        string                     the agent's one-line decision summary
trace_path     string                     path of the JSON trace (relative to the run folder)
=============  =========================  ===============================================

pyarrow and duckdb are imported inside the functions that need them.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "RUN_INDEX_COLUMNS",
    "RUN_INDEX_FILENAME",
    "RUN_INDEX_SCHEMA_VERSION",
    "query_run_index",
    "read_run_index",
    "row_from_trace",
    "write_run_index",
]

RUN_INDEX_SCHEMA_VERSION = 1
RUN_INDEX_FILENAME = "agent_runs.parquet"
RUN_INDEX_COLUMNS: tuple[str, ...] = (
    "sim_time",
    "agent",
    "model",
    "cache_hit",
    "cache_key",
    "tools_called",
    "n_tool_calls",
    "orders",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_ms",
    "warnings",
    "n_warnings",
    "summary",
    "trace_path",
)
_VERSION_KEY = b"agentrt.run_index.schema_version"


def _as_datetime(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"run index row has sim_time {value!r}, expected an ISO-8601 date-time") from exc
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    raise TypeError(f"run index row sim_time must be a datetime or ISO string, got {type(value).__name__}")


def _tz_name(moment: _dt.datetime) -> str:
    tz = moment.tzinfo
    if tz is None:
        return "UTC"
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)  # zoneinfo / pytz
    if key:
        return str(key)
    offset = moment.utcoffset() or _dt.timedelta(0)
    if offset == _dt.timedelta(0):
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _column_tz(rows: Sequence[Mapping[str, Any]]) -> str:
    # Prefer a named zone (America/New_York) over a bare offset, whichever row carries it,
    # so that the same runs always give the same column type.
    names = [_tz_name(row["sim_time"]) for row in rows]
    named = [name for name in names if "/" in name]
    if named:
        return named[0]
    return names[0] if names else "UTC"


def _codes(warnings: Any) -> list[str]:
    out = []
    for warning in warnings or ():
        if isinstance(warning, str):
            out.append(warning)
        elif isinstance(warning, Mapping):
            out.append(str(warning.get("code", "")))
        else:
            out.append(str(getattr(warning, "code", warning)))
    return out


def _count(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return len(value)


def _normalize_row(row: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(row) - set(RUN_INDEX_COLUMNS)
    if unknown:
        raise ValueError(
            f"run index row has unknown column(s) {sorted(unknown)}; expected only {list(RUN_INDEX_COLUMNS)}"
        )
    for required in ("sim_time", "agent"):
        if row.get(required) in (None, ""):
            raise ValueError(f"run index row is missing {required!r}; every row needs sim_time and agent")
    tools = [str(name) for name in row.get("tools_called") or ()]
    codes = _codes(row.get("warnings"))
    return {
        "sim_time": _as_datetime(row["sim_time"]),
        "agent": str(row["agent"]),
        "model": str(row.get("model") or ""),
        "cache_hit": bool(row.get("cache_hit", False)),
        "cache_key": None if row.get("cache_key") is None else str(row["cache_key"]),
        "tools_called": tools,
        "n_tool_calls": int(row["n_tool_calls"]) if row.get("n_tool_calls") is not None else len(tools),
        "orders": _count(row.get("orders")),
        "input_tokens": int(row.get("input_tokens") or 0),
        "output_tokens": int(row.get("output_tokens") or 0),
        "cost_usd": float(row.get("cost_usd") or 0.0),
        "latency_ms": float(row.get("latency_ms") or 0.0),
        "warnings": codes,
        "n_warnings": int(row["n_warnings"]) if row.get("n_warnings") is not None else len(codes),
        "summary": str(row.get("summary") or ""),
        "trace_path": str(row.get("trace_path") or ""),
    }


def _schema(tz: str) -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("sim_time", pa.timestamp("us", tz=tz), nullable=False),
            pa.field("agent", pa.string(), nullable=False),
            pa.field("model", pa.string()),
            pa.field("cache_hit", pa.bool_()),
            pa.field("cache_key", pa.string()),
            pa.field("tools_called", pa.list_(pa.string())),
            pa.field("n_tool_calls", pa.int64()),
            pa.field("orders", pa.int64()),
            pa.field("input_tokens", pa.int64()),
            pa.field("output_tokens", pa.int64()),
            pa.field("cost_usd", pa.float64()),
            pa.field("latency_ms", pa.float64()),
            pa.field("warnings", pa.list_(pa.string())),
            pa.field("n_warnings", pa.int64()),
            pa.field("summary", pa.string()),
            pa.field("trace_path", pa.string()),
        ],
        metadata={_VERSION_KEY: str(RUN_INDEX_SCHEMA_VERSION).encode()},
    )


def write_run_index(rows: Sequence[Mapping[str, Any]], path: Path | str) -> Path:
    """Write ``rows`` (dicts keyed by ``RUN_INDEX_COLUMNS``) to a Parquet file and return its path.

    ``sim_time`` values are stored in one time zone: the first IANA zone found among the
    rows (``America/New_York``), else the first row's offset, else UTC.
    Missing counts are derived (``n_tool_calls`` from ``tools_called``, ``n_warnings``
    from ``warnings``); ``orders`` may be a count or the list of orders; ``warnings`` may
    be codes, trace warning dicts or ``AgentWarning`` objects. Rows are sorted by
    (sim_time, agent), keeping the given order for ties, so the same rows always give
    the same bytes. If ``path`` is a folder, the file is ``<path>/agent_runs.parquet``.
    The file is written atomically.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if path.is_dir():
        path = path / RUN_INDEX_FILENAME
    normalized = [_normalize_row(row) for row in rows]
    for row in normalized:
        moment = row["sim_time"]
        row["sim_time"] = moment.replace(tzinfo=_dt.UTC) if moment.tzinfo is None else moment
    order = sorted(range(len(normalized)), key=lambda i: (normalized[i]["sim_time"], normalized[i]["agent"], i))
    ordered = [normalized[i] for i in order]
    schema = _schema(_column_tz(ordered))
    table = pa.Table.from_pylist(ordered, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parquet")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _check_version(path: Path, metadata: Mapping[bytes, bytes] | None) -> None:
    raw = (metadata or {}).get(_VERSION_KEY)
    if raw is None:
        raise ValueError(f"{path} is not an agentrt run index: its metadata has no {_VERSION_KEY.decode()!r}")
    version = int(raw)
    if version > RUN_INDEX_SCHEMA_VERSION:
        raise ValueError(
            f"run index {path} has schema version {version}, but this agentrt reads up to "
            f"{RUN_INDEX_SCHEMA_VERSION}; upgrade agentrt to read it"
        )


def read_run_index(path: Path | str) -> list[dict[str, Any]]:
    """Read ``agent_runs.parquet`` back as a list of row dicts (checks the schema version)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if path.is_dir():
        path = path / RUN_INDEX_FILENAME
    table = pq.read_table(path)
    _check_version(path, table.schema.metadata)
    return table.to_pylist()


def query_run_index(path: Path | str, sql: str) -> list[dict[str, Any]]:
    """Run ``sql`` with DuckDB against the run index exposed as a view named ``runs``.

    Example: ``query_run_index(p, "select agent, count(*) n from runs where cache_hit group by agent")``.
    Returns one dict per result row.
    """
    import duckdb

    path = Path(path)
    if path.is_dir():
        path = path / RUN_INDEX_FILENAME
    if not path.exists():
        raise FileNotFoundError(f"run index {path} does not exist; run a backtest with agents to create it")
    literal = str(path).replace("'", "''")
    with duckdb.connect(":memory:") as con:
        con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet('{literal}')")
        cursor = con.execute(sql)
        if cursor.description is None:
            return []
        columns = [col[0] for col in cursor.description]
        return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def row_from_trace(trace: Mapping[str, Any], *, trace_path: str | Path = "") -> dict[str, Any]:
    """Build a run-index row from a trace dict (as written by ``write_trace``)."""
    usage = trace.get("usage") or {}
    cache = trace.get("cache") or {}
    decision = trace.get("decision") or {}
    tool_calls: Iterable[Any] = trace.get("tool_calls") or ()
    tools = [str(call.get("name", "")) if isinstance(call, Mapping) else str(call) for call in tool_calls]
    return {
        "sim_time": trace["sim_time"],
        "agent": trace["agent"],
        "model": trace.get("model", ""),
        "cache_hit": bool(cache.get("hit", False)),
        "cache_key": cache.get("key"),
        "tools_called": tools,
        "n_tool_calls": len(tools),
        "orders": _count(trace.get("orders")),
        "input_tokens": int(usage.get("input_tokens") or 0),
        "output_tokens": int(usage.get("output_tokens") or 0),
        "cost_usd": float(trace.get("cost_usd") or 0.0),
        "latency_ms": float(trace.get("wall_time_ms") or 0.0),
        "warnings": _codes(trace.get("warnings")),
        "n_warnings": len(trace.get("warnings") or ()),
        "summary": str(decision.get("summary") or ""),
        "trace_path": Path(trace_path).as_posix() if trace_path else "",
    }
