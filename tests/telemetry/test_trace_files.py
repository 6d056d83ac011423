"""Trace JSON files: pinned keys, file naming, redaction, stable layout, version checks."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentrt.telemetry.traces import (
    MODEL_CALL_KEYS,
    TOOL_CALL_KEYS,
    TRACE_KEYS,
    TRACE_SCHEMA_VERSION,
    TraceVersionError,
    new_trace,
    read_trace,
    trace_filename,
    write_trace,
)
from agentrt.telemetry.warnings import AgentWarning

MakeTrace = Callable[..., dict[str, Any]]


def test_trace_schema_keys_are_pinned() -> None:
    # Changing any of these is a format change: bump TRACE_SCHEMA_VERSION and update readers.
    assert TRACE_SCHEMA_VERSION == 1
    assert TRACE_KEYS == (
        "schema_version",
        "run_id",
        "agent",
        "model",
        "sim_time",
        "wall_time_ms",
        "inputs",
        "model_calls",
        "tool_calls",
        "decision",
        "orders",
        "usage",
        "cost_usd",
        "cache",
        "warnings",
    )
    assert MODEL_CALL_KEYS == (
        "index",
        "request_summary",
        "response",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "cache_hit",
    )
    assert TOOL_CALL_KEYS == (
        "index",
        "call_id",
        "name",
        "kind",
        "arguments",
        "result",
        "error",
        "duration_ms",
        "cache_hit",
        "warnings",
    )


def test_written_trace_has_every_key_in_canonical_order(tmp_path: Path, make_trace: MakeTrace) -> None:
    path = write_trace(make_trace(), tmp_path)
    data = json.loads(path.read_text())
    assert tuple(data) == TRACE_KEYS
    assert list(data["inputs"]) == ["system_prompt", "task", "context", "state"]
    assert tuple(data["model_calls"][0]) == MODEL_CALL_KEYS
    assert tuple(data["tool_calls"][0]) == TOOL_CALL_KEYS
    assert list(data["decision"]) == ["summary", "text"]
    assert list(data["usage"]) == ["input_tokens", "output_tokens"]
    assert list(data["cache"]) == ["hit", "key", "recorded_trace"]


def test_trace_file_name_sorts_by_sim_time_and_names_agent_and_run(tmp_path: Path, make_trace: MakeTrace) -> None:
    path = write_trace(make_trace(run_id="a1b2", agent="macro trader"), tmp_path)
    assert path == tmp_path / "traces" / "20210305T160000_macro-trader_a1b2.json"
    assert trace_filename(sim_time="2021-03-05T09:30:00-05:00", agent="x", run_id="r_1") == "20210305T093000_x_r-1.json"


def test_trace_roundtrips_through_read_trace(tmp_path: Path, make_trace: MakeTrace) -> None:
    trace = make_trace()
    data = read_trace(write_trace(trace, tmp_path))
    assert data["sim_time"] == "2021-03-05T16:00:00-05:00"
    assert data["tool_calls"][0]["result"] == {"rows": [{"close": 381.42, "date": "2021-03-04"}]}
    assert data["orders"] == trace["orders"]
    assert data["usage"] == {"input_tokens": 120, "output_tokens": 15}


def test_same_trace_writes_identical_bytes_whatever_the_dict_order(tmp_path: Path, make_trace: MakeTrace) -> None:
    first = make_trace()
    second = dict(reversed(list(make_trace().items())))
    second["tool_calls"][0]["arguments"] = {"lookback": 5, "symbol": "SPY"}
    a = write_trace(first, tmp_path / "a").read_bytes()
    b = write_trace(second, tmp_path / "b").read_bytes()
    assert a == b
    assert a.decode().startswith('{\n  "schema_version": 1,\n  "run_id": "r1",')


def test_secrets_never_reach_the_trace_file(
    tmp_path: Path, make_trace: MakeTrace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWS_API_KEY", "fake-news-key-424242")
    trace = make_trace()
    trace["tool_calls"][0]["arguments"] = {
        "url": "https://news.example/api",
        "headers": {"Authorization": "Bearer t0k3n-xyz"},
    }
    trace["tool_calls"][0]["result"] = {"echo": "requested with fake-news-key-424242"}
    trace["inputs"]["context"] = {"api_key": "abc123456"}
    text = write_trace(trace, tmp_path).read_text()
    for secret in ("fake-news-key-424242", "t0k3n-xyz", "abc123456"):
        assert secret not in text
    assert text.count("[REDACTED]") == 3


def test_non_json_values_and_agent_warnings_are_converted(tmp_path: Path, make_trace: MakeTrace) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

        __str__ = __repr__

    trace = make_trace(warnings=[AgentWarning("no_tool_calls", "no tools", {})])
    trace["tool_calls"][0]["result"] = {"when": dt.datetime(2021, 3, 4, 16, 0), "obj": Opaque(), "ids": {3}}
    data = read_trace(write_trace(trace, tmp_path))
    assert data["tool_calls"][0]["result"] == {"ids": [3], "obj": "<Opaque>", "when": "2021-03-04T16:00:00"}
    assert data["warnings"] == [{"code": "no_tool_calls", "message": "no tools", "details": {}}]


def test_missing_keys_are_completed_with_defaults(tmp_path: Path) -> None:
    data = read_trace(
        write_trace(
            {"run_id": "r9", "agent": "a", "model": "scripted", "sim_time": "2021-03-05T16:00:00-05:00"}, tmp_path
        )
    )
    assert tuple(data) == TRACE_KEYS
    assert data["cache"] == {"hit": False, "key": None, "recorded_trace": None}
    assert data == {**new_trace(run_id="r9", agent="a", model="scripted", sim_time="2021-03-05T16:00:00-05:00")}


def test_trace_without_a_name_part_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="run_id"):
        write_trace({"agent": "a", "sim_time": "2021-03-05T16:00:00"}, tmp_path)


def test_reading_a_newer_trace_version_says_to_upgrade(tmp_path: Path, make_trace: MakeTrace) -> None:
    path = write_trace(make_trace(), tmp_path)
    data = json.loads(path.read_text())
    data["schema_version"] = TRACE_SCHEMA_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(TraceVersionError, match="upgrade agentrt"):
        read_trace(path)


def test_reading_a_non_trace_json_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not an agentrt trace"):
        read_trace(path)
    path.write_text('{"schema_version": 1,')
    with pytest.raises(ValueError, match="not valid JSON"):
        read_trace(path)
