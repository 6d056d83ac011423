"""agent_runs.parquet: pinned columns, roundtrip, deterministic bytes, DuckDB queries over the view `runs`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agentrt.telemetry.runindex import (
    RUN_INDEX_COLUMNS,
    RUN_INDEX_SCHEMA_VERSION,
    query_run_index,
    read_run_index,
    row_from_trace,
    write_run_index,
)
from agentrt.telemetry.warnings import AgentWarning

NY = ZoneInfo("America/New_York")


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "sim_time": dt.datetime(2021, 3, 5, 16, tzinfo=NY),
            "agent": "trader",
            "model": "scripted",
            "cache_hit": False,
            "cache_key": "b2:aaa",
            "tools_called": ["get_bars", "get_account"],
            "orders": [{"side": "buy"}],
            "input_tokens": 100,
            "output_tokens": 20,
            "cost_usd": 0.001,
            "latency_ms": 900.0,
            "warnings": [AgentWarning("future_data", "x", {})],
            "summary": "buy",
            "trace_path": "traces/20210305T160000_trader_r2.json",
        },
        {
            "sim_time": "2021-03-04T16:00:00-05:00",
            "agent": "trader",
            "model": "scripted",
            "cache_hit": True,
            "cache_key": "b2:bbb",
            "tools_called": [],
            "orders": 0,
            "warnings": ["no_tool_calls"],
            "summary": "hold",
            "trace_path": "traces/20210304T160000_trader_r1.json",
        },
    ]


def test_run_index_columns_are_pinned() -> None:
    assert RUN_INDEX_SCHEMA_VERSION == 1
    assert RUN_INDEX_COLUMNS == (
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


def test_parquet_file_has_typed_columns_and_version_metadata(tmp_path: Path) -> None:
    path = write_run_index(_rows(), tmp_path / "agent_runs.parquet")
    schema = pq.read_schema(path)
    assert tuple(schema.names) == RUN_INDEX_COLUMNS
    assert schema.field("sim_time").type == pa.timestamp("us", tz="America/New_York")
    assert schema.field("tools_called").type == pa.list_(pa.string())
    assert schema.field("warnings").type == pa.list_(pa.string())
    assert schema.field("orders").type == pa.int64()
    assert schema.metadata[b"agentrt.run_index.schema_version"] == b"1"


def test_rows_roundtrip_sorted_by_sim_time_with_derived_counts(tmp_path: Path) -> None:
    rows = read_run_index(write_run_index(_rows(), tmp_path))
    assert [r["summary"] for r in rows] == ["hold", "buy"]
    hold, buy = rows
    assert buy["sim_time"] == dt.datetime(2021, 3, 5, 16, tzinfo=NY)
    assert buy["tools_called"] == ["get_bars", "get_account"]
    assert (buy["n_tool_calls"], buy["orders"], buy["n_warnings"]) == (2, 1, 1)
    assert buy["warnings"] == ["future_data"]
    assert (hold["n_tool_calls"], hold["input_tokens"], hold["cost_usd"]) == (0, 0, 0.0)


def test_same_rows_give_identical_bytes(tmp_path: Path) -> None:
    a = write_run_index(_rows(), tmp_path / "a.parquet").read_bytes()
    b = write_run_index(list(reversed(_rows())), tmp_path / "b.parquet").read_bytes()
    assert a == b


def test_unknown_columns_are_rejected_with_the_expected_list(tmp_path: Path) -> None:
    row = {**_rows()[0], "tool_count": 3}
    with pytest.raises(ValueError, match="tool_count"):
        write_run_index([row], tmp_path / "x.parquet")


def test_empty_run_index_is_valid(tmp_path: Path) -> None:
    path = write_run_index([], tmp_path / "agent_runs.parquet")
    assert read_run_index(path) == []
    assert query_run_index(path, "select count(*) as n from runs") == [{"n": 0}]


def test_duckdb_queries_see_the_file_as_view_runs(tmp_path: Path) -> None:
    path = write_run_index(_rows(), tmp_path)
    result = query_run_index(
        path,
        "select agent, count(*) as n, sum(n_warnings) as w, "
        "list_contains(flatten(list(warnings)), 'future_data') as fd from runs group by agent",
    )
    assert result == [{"agent": "trader", "n": 2, "w": 2, "fd": True}]
    hits = query_run_index(path, "select summary from runs where cache_hit order by sim_time")
    assert hits == [{"summary": "hold"}]


def test_querying_a_missing_index_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run a backtest"):
        query_run_index(tmp_path / "nope.parquet", "select 1")


def test_row_from_trace_matches_the_trace(make_trace: Callable[..., dict[str, Any]]) -> None:
    trace = make_trace(warnings=[{"code": "no_tool_calls", "message": "m", "details": {}}])
    row = row_from_trace(trace, trace_path=Path("traces/x.json"))
    assert set(row) == set(RUN_INDEX_COLUMNS)
    assert row["tools_called"] == ["get_bars"]
    assert row["orders"] == 1
    assert row["warnings"] == ["no_tool_calls"]
    assert row["latency_ms"] == 812.5
    assert row["cache_key"] == "b2:abc123"
    assert row["trace_path"] == "traces/x.json"
