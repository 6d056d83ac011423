"""Functions behind `agentrt traces`: listing runs, selecting traces, rendering timelines and warnings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agentrt.telemetry.inspect import (
    RunNotFoundError,
    collect_warnings,
    list_runs,
    render_run,
    render_warnings,
    resolve_run,
    select_traces,
)
from agentrt.telemetry.runindex import RUN_INDEX_COLUMNS, row_from_trace, write_run_index
from agentrt.telemetry.traces import write_trace
from agentrt.telemetry.warnings import find_future_data, tool_error

NY = ZoneInfo("America/New_York")
DAY1 = dt.datetime(2021, 3, 4, 16, tzinfo=NY)
DAY2 = dt.datetime(2021, 3, 5, 16, tzinfo=NY)


@pytest.fixture
def traces_root(tmp_path: Path, make_trace: Callable[..., dict[str, Any]]) -> Path:
    root = tmp_path / "traces"
    run_a = root / "momentum_2021"
    leak = {"rows": [{"date": "2021-03-08", "close": 390.1}]}
    future = [w.to_dict() for w in find_future_data(leak, DAY2, tool_name="fred_series")]
    failure = tool_error("get_quote", ValueError("unknown symbol 'XYZ'")).to_dict()
    traces = [
        make_trace(run_id="r1", agent="trader", sim_time=DAY1, cache_hit=True),
        make_trace(
            run_id="r2",
            agent="trader",
            sim_time=DAY2,
            tool_calls=[
                {
                    "index": 1,
                    "call_id": "c1",
                    "name": "fred_series",
                    "kind": "mcp",
                    "arguments": {"series_id": "CPIAUCSL"},
                    "result": leak,
                    "error": None,
                    "duration_ms": 5.0,
                    "cache_hit": False,
                    "warnings": future,
                },
                {
                    "index": 2,
                    "call_id": "c2",
                    "name": "get_quote",
                    "kind": "builtin",
                    "arguments": {"symbol": "XYZ"},
                    "result": None,
                    "error": "ValueError: unknown symbol 'XYZ'",
                    "duration_ms": 1.0,
                    "cache_hit": False,
                    "warnings": [failure],
                },
            ],
            warnings=[*future, failure],
        ),
        make_trace(
            run_id="r3",
            agent="risk",
            sim_time=DAY2,
            tool_calls=[],
            orders=[],
            warnings=[
                {"code": "no_tool_calls", "message": "the agent decided without calling any tool", "details": {}}
            ],
        ),
    ]
    rows = [row_from_trace(t, trace_path=write_trace(t, run_a).relative_to(run_a)) for t in traces]
    write_run_index(rows, run_a / "agent_runs.parquet")

    run_b = root / "nested" / "plain_run"  # traces only, no run index
    write_trace(make_trace(run_id="r9", agent="solo", sim_time=DAY1), run_b)
    (root / "not_a_run" / "empty").mkdir(parents=True)
    return root


def test_list_runs_finds_run_folders_with_index_or_traces(traces_root: Path) -> None:
    runs = list_runs(traces_root)
    assert [r["run"] for r in runs] == ["momentum_2021", "nested/plain_run"]
    momentum = runs[0]
    assert momentum["n_agent_runs"] == 3
    assert momentum["agents"] == ["risk", "trader"]
    assert momentum["first_sim_time"] == "2021-03-04T16:00:00-05:00"
    assert momentum["last_sim_time"] == "2021-03-05T16:00:00-05:00"
    assert momentum["cache_hits"] == 1
    assert momentum["n_warnings"] == 3
    assert runs[1]["n_agent_runs"] == 1


def test_list_runs_of_one_run_gives_its_agent_runs(traces_root: Path) -> None:
    rows = list_runs(traces_root, "momentum_2021")
    assert [(r["sim_time"], r["agent"]) for r in rows] == [
        ("2021-03-04T16:00:00-05:00", "trader"),
        ("2021-03-05T16:00:00-05:00", "risk"),
        ("2021-03-05T16:00:00-05:00", "trader"),
    ]
    assert set(rows[0]) == set(RUN_INDEX_COLUMNS)
    from_traces = list_runs(traces_root, "nested/plain_run")
    assert [r["agent"] for r in from_traces] == ["solo"]
    assert from_traces[0]["trace_path"] == "traces/20210304T160000_solo_r9.json"


def test_unknown_run_name_suggests_close_matches(traces_root: Path) -> None:
    with pytest.raises(RunNotFoundError, match="Did you mean 'momentum_2021'"):
        list_runs(traces_root, "momentum_2012")


def test_latest_resolves_to_most_recently_written_run(
    traces_root: Path, make_trace: Callable[..., dict[str, Any]]
) -> None:
    import os

    os.utime(traces_root / "momentum_2021", (1, 1))
    os.utime(traces_root / "momentum_2021" / "agent_runs.parquet", (1, 1))
    assert resolve_run(traces_root, "latest") == traces_root / "nested" / "plain_run"


def test_select_traces_filters_by_date_datetime_and_agent(traces_root: Path) -> None:
    run = traces_root / "momentum_2021"
    assert [t["run_id"] for _, t in select_traces(run, at="2021-03-05")] == ["r3", "r2"]
    assert [t["run_id"] for _, t in select_traces(run, at="2021-03-05", agent="trader")] == ["r2"]
    assert [t["run_id"] for _, t in select_traces(run, at="2021-03-04T16:00")] == ["r1"]
    assert [t["run_id"] for _, t in select_traces(run, at="2021-03-04T21:00:00+00:00")] == ["r1"]
    assert list(select_traces(run, at="2021-03-04T15:00")) == []
    with pytest.raises(ValueError, match="2021-03-05"):
        list(select_traces(run, at="yesterday"))


def test_render_run_shows_tools_arguments_results_orders_and_warnings(
    traces_root: Path, text_console: Callable[[], Any]
) -> None:
    console, buffer = text_console()
    shown = render_run(traces_root / "momentum_2021", at="2021-03-05", agent="trader", console=console)
    text = buffer.getvalue()
    assert shown == 1
    assert "2021-03-05T16:00:00-05:00" in text
    assert "trader" in text and "scripted" in text and "cache miss" in text
    assert "model call #0" in text
    assert 'tool #1 fred_series(series_id="CPIAUCSL")' in text
    assert "390.1" in text
    assert "tool #2 get_quote" in text and "unknown symbol 'XYZ'" in text
    assert "future_data" in text and "$.rows[0].date" in text
    assert "tool_error" in text
    assert "orders (1)" in text and "buy" in text
    assert "decision: buy 10 SPY" in text


def test_render_run_truncates_long_results(
    traces_root: Path, text_console: Callable[[], Any], make_trace: Callable[..., dict[str, Any]]
) -> None:
    run = traces_root / "long"
    trace = make_trace(run_id="r5")
    trace["tool_calls"][0]["result"] = {"text": "x" * 5000}
    write_trace(trace, run)
    console, buffer = text_console()
    render_run(run, console=console, max_chars=100)
    assert "x" * 200 not in buffer.getvalue()
    assert "…" in buffer.getvalue()


def test_render_run_with_no_match_lists_available_dates(traces_root: Path, text_console: Callable[[], Any]) -> None:
    console, buffer = text_console()
    assert render_run(traces_root / "momentum_2021", at="2020-01-02", console=console) == 0
    assert "2021-03-04, 2021-03-05" in buffer.getvalue()


def test_render_run_limits_output_and_says_how_many_were_left_out(
    traces_root: Path, text_console: Callable[[], Any]
) -> None:
    console, buffer = text_console()
    assert render_run(traces_root / "momentum_2021", console=console, limit=1) == 1
    assert "2 more agent run(s) not shown" in buffer.getvalue()


def test_collect_warnings_reads_every_warning_once_in_time_order(traces_root: Path) -> None:
    warnings = collect_warnings(traces_root / "momentum_2021")
    assert [(w["agent"], w["code"]) for w in warnings] == [
        ("risk", "no_tool_calls"),
        ("trader", "future_data"),
        ("trader", "tool_error"),
    ]
    leak = warnings[1]
    assert leak["severity"] == "error"
    assert leak["details"]["path"] == "$.rows[0].date"
    assert leak["trace_path"] == "traces/20210305T160000_trader_r2.json"


def test_collect_warnings_falls_back_to_run_index_codes(traces_root: Path) -> None:
    run = traces_root / "momentum_2021"
    for path in (run / "traces").glob("*.json"):
        path.unlink()
    assert sorted(w["code"] for w in collect_warnings(run)) == ["future_data", "no_tool_calls", "tool_error"]


def test_render_warnings_prints_a_table_and_counts(traces_root: Path, text_console: Callable[[], Any]) -> None:
    console, buffer = text_console()
    assert render_warnings(traces_root / "momentum_2021", console) == 3
    text = buffer.getvalue()
    assert "future_data" in text and "fred_series" in text
    assert "no_tool_calls" in text
    assert "3 warning(s)" in text


def test_render_warnings_of_a_clean_run_says_so(traces_root: Path, text_console: Callable[[], Any]) -> None:
    console, buffer = text_console()
    assert render_warnings(traces_root / "nested" / "plain_run", console) == 0
    assert "no warnings" in buffer.getvalue()


def test_warning_markup_in_messages_is_printed_literally(
    tmp_path: Path, make_trace: Callable[..., dict[str, Any]], text_console: Callable[[], Any]
) -> None:
    run = tmp_path / "run"
    write_trace(
        make_trace(warnings=[{"code": "tool_error", "message": "bad [bold]input[/bold] here", "details": {}}]), run
    )
    console, buffer = text_console()
    render_warnings(run, console)
    assert "bad [bold]input[/bold] here" in buffer.getvalue()
