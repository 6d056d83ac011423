"""Leak suite: five ways to show an agent the future, each caught in warn mode and blocked in block mode.

1. a custom tool returning a future-dated row;
2. an MCP tool returning a news item published after the simulated time;
3. a value observed before the simulated time but released after it;
4. a date buried deep in a nested JSON result;
5. a DuckDB query trying to reach rows after the simulated time (impossible by construction).
A clean run raises no look-ahead warning (the demos' tests check the same on every demo).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest

from agentrt import FunctionModel, MCPServer, SampleData, Strategy, agent_tool

SERVER = Path(__file__).with_name("leaky_mcp_server.py")
SEEN: dict[str, list] = {}


def _now(request) -> dt.datetime:
    return dt.datetime.fromisoformat(request.prompt.splitlines()[0].split(": ", 1)[1])


@agent_tool
def future_row() -> dict:
    """Yesterday's close (buggy: returns next month's row)."""
    from agentrt.agents.tool import current_tool_context

    now = current_tool_context().sim_time
    return {"symbol": "AAPL", "date": (now + dt.timedelta(days=30)).date().isoformat(), "close": 101.5}


@agent_tool
def revised_gdp() -> dict:
    """Last quarter's GDP (buggy: serves the revision released three weeks from now)."""
    from agentrt.agents.tool import current_tool_context

    now = current_tool_context().sim_time
    return {"series": "GDP", "observations": [{
        "date": (now - dt.timedelta(days=60)).date().isoformat(),
        "release_date": (now + dt.timedelta(days=21)).date().isoformat(), "value": 15_800.2}]}


@agent_tool
def deep_report() -> dict:
    """A research report (buggy: one nested field is dated next year)."""
    from agentrt.agents.tool import current_tool_context

    later = current_tool_context().sim_time + dt.timedelta(days=365)
    return {"report": {"sections": [{"title": "outlook", "items": [{"note": "ok"},
                                                                    {"meta": {"as_of": later.isoformat()}}]}]}}


def _single_tool_policy(name: str, args_fn=None):
    def policy(request):
        if request.step == 0:
            args = args_fn(request) if args_fn else {}
            return {"tool": name, "args": args}
        SEEN.setdefault(name, []).append((_now(request), request.tool_results(name)[-1].response))
        return "done"

    policy.__name__ = f"policy_{name}"
    return policy


def _duckdb_policy(request):
    if request.step == 0:
        return {"tool": "market_load_history_table", "args": {"symbol": "AAPL", "length": 400}}
    if request.step == 1:
        later = (_now(request) + dt.timedelta(days=30)).date().isoformat()
        return {"tool": "duckdb_query", "args": {"sql": f"SELECT count(*) AS n, max(datetime) AS last FROM aapl_day "
                                                        f"WHERE datetime <= TIMESTAMP '{later} 23:59:59'"}}
    if request.step == 2:
        SEEN.setdefault("duckdb", []).append((_now(request), request.tool_results("duckdb_query")[-1].response))
        return {"tool": "duckdb_query", "args": {"sql": "SELECT * FROM read_csv('/etc/hosts')"}}
    SEEN.setdefault("duckdb_file", []).append(request.tool_results("duckdb_query")[-1].response)
    return "done"


class Leaky(Strategy):
    def initialize(self):
        self.sleeptime = "1D"
        mcp = MCPServer("news", command=sys.executable, args=[str(SERVER)], transport="stdio", timeout_s=20)
        self.agents.create("custom", model=FunctionModel(_single_tool_policy("future_row")), system_prompt="Look.",
                           tools=[future_row], include_builtin_tools=False)
        self.agents.create("mcp", model=FunctionModel(_single_tool_policy(
            "news", lambda r: {"symbol": "AAPL", "as_of": _now(r).date().isoformat()})), system_prompt="Read news.",
            mcp_servers=[mcp], include_builtin_tools=False)
        self.agents.create("vintage", model=FunctionModel(_single_tool_policy("revised_gdp")), system_prompt="GDP.",
                           tools=[revised_gdp], include_builtin_tools=False)
        self.agents.create("nested", model=FunctionModel(_single_tool_policy("deep_report")), system_prompt="Read.",
                           tools=[deep_report], include_builtin_tools=False)
        self.agents.create("duck", model=FunctionModel(_duckdb_policy), system_prompt="Query.", allow_trading=False)

    def on_trading_iteration(self):
        for name in ("custom", "mcp", "vintage", "nested", "duck"):
            self.agents[name].run()


LEAKS = {"custom": "future_row", "mcp": "news", "vintage": "revised_gdp", "nested": "deep_report"}


def _backtest(tmp_path: Path, lookahead: str):
    SEEN.clear()
    result = Leaky.backtest(SampleData, "2012-05-01", "2012-05-07", show_progress=False, quiet=True, tearsheet=False,
                            output_dir=tmp_path / lookahead, replay="off", lookahead=lookahead)
    from agentrt.telemetry.inspect import collect_warnings

    return result, collect_warnings(result.output_dir)


@pytest.mark.parametrize("lookahead", ["warn", "block"])
def test_every_leak_is_caught_and_in_block_mode_never_reaches_the_model(tmp_path, lookahead):
    result, warnings = _backtest(tmp_path, lookahead)
    bars = result.iterations
    assert bars == 5
    by_agent: dict[str, int] = {}
    for w in warnings:
        if w["code"] == "future_data":
            by_agent[w["agent"]] = by_agent.get(w["agent"], 0) + 1
    # 100% caught: every run of every leaking agent carries a future_data warning ...
    for agent in LEAKS:
        assert by_agent.get(agent, 0) >= bars, (agent, by_agent)
    # ... and nothing is flagged for the DuckDB agent, which cannot reach a future row at all
    assert "duck" not in by_agent
    for tool in LEAKS.values():
        responses = [resp for _, resp in SEEN[tool]]
        assert len(responses) == bars
        if lookahead == "block":  # 100% blocked: the model saw an error, not the data
            assert all("error" in r and "after the simulated time" in r["error"] for r in responses), responses[0]
        else:  # warn mode: the data went through, flagged
            assert all("error" not in r for r in responses)
    for now, resp in SEEN["duckdb"]:
        (n, last), = resp["rows"]
        assert dt.datetime.fromisoformat(str(last)).date() <= now.date()
    assert all("error" in r for r in SEEN["duckdb_file"])


def test_a_clean_agent_run_has_no_lookahead_warning(tmp_path):
    def clean(request):
        if request.step == 0:
            return [{"tool": "market_load_history_table", "args": {"symbol": "MSFT", "length": 30}},
                    {"tool": "account_portfolio"}, {"tool": "market_last_price", "args": {"symbol": "MSFT"}}]
        if request.step == 1:
            return {"tool": "duckdb_query", "args": {"sql": "SELECT avg(close), max(datetime) FROM msft_day"}}
        return "fine"

    class Clean(Strategy):
        def initialize(self):
            self.agents.create("clean", model=FunctionModel(clean), system_prompt="Check MSFT.")

        def on_trading_iteration(self):
            self.agents["clean"].run()

    result = Clean.backtest(SampleData, "2012-05-01", "2012-05-31", show_progress=False, quiet=True,
                            tearsheet=False, output_dir=tmp_path, replay="off")
    assert result.agent_summary["runs"] == result.iterations
    assert "future_data" not in result.agent_summary["warnings"]
