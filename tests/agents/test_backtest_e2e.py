"""End to end on the real engine and SampleData: agents load history into DuckDB, query, trade, fill."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from agentrt import FunctionModel, SampleData, ScriptedModel, Strategy

SEEN: list = []


def sma_policy(request):
    """Buy 10 AAPL when the close is above its 10-day average and nothing is held; sell when below."""
    SEEN.append(request)
    if request.step == 0:
        return [{"tool": "market_load_history_table", "args": {"symbol": "AAPL", "length": 10}},
                {"tool": "account_positions"}]
    if request.step == 1:
        return {"tool": "duckdb_query", "args": {"sql": (
            "SELECT avg(close) AS sma, arg_max(close, datetime) AS last, max(datetime) AS asof FROM aapl_day")}}
    if request.step == 2:
        sma, last, _ = request.tool_results("duckdb_query")[-1].value["rows"][0]
        held = sum(p["quantity"] for p in request.tool_results("account_positions")[-1].value["positions"])
        if last > sma and held == 0:
            return {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 10, "side": "buy"}}
        if last < sma and held > 0:
            return {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": held, "side": "sell"}}
        return f"Hold: close {last:.2f} vs 10-day average {sma:.2f}."
    return "Traded on the 10-day average."


class SmaAgent(Strategy):
    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("sma", model=FunctionModel(sma_policy), system_prompt="Trade AAPL on its 10-day average.")
        self.vars.results = []

    def on_trading_iteration(self):
        self.vars.results.append(self.agents["sma"].run())


def test_agent_trades_a_moving_average_through_duckdb_and_its_orders_fill(tmp_path):
    SEEN.clear()
    result = SmaAgent.backtest(SampleData, "2012-01-03", "2012-03-30", show_progress=False, quiet=True,
                               output_dir=tmp_path / "out", cache_dir=tmp_path / "cache", replay="record")
    trades = result.trades
    fills = trades[(trades["event_kind"] == "trade") & (trades["status"] == "fill")]
    assert len(fills) >= 2
    assert set(fills["source"]) == {"agent:sma"}
    assert set(fills["side"]) == {"buy", "sell"}

    # every query saw only bars visible at its simulated time
    for request in SEEN:
        if request.step != 2:
            continue
        sim_time = dt.datetime.fromisoformat(request.prompt.splitlines()[0].split(": ", 1)[1])
        _sma, _last, asof = request.tool_results("duckdb_query")[-1].value["rows"][0]
        assert dt.datetime.fromisoformat(asof) <= sim_time.replace(tzinfo=None)
        load = request.tool_results("market_load_history_table")[-1].value
        assert load["rows"] == 10 and load["last"] == asof

    # a fill is reported back on a later run's state
    prompts = [r.prompt for r in SEEN if r.step == 0]
    assert any("Positions:\n- AAPL (stock): quantity 10," in p for p in prompts)
    assert (result.output_dir / "agent_runs.parquet").is_file()
    assert result.agent_summary["runs"] == len(prompts)


def test_the_moving_average_matches_pandas_on_the_same_visible_bars(tmp_path):
    SEEN.clear()
    SmaAgent.backtest(SampleData, "2012-02-01", "2012-02-10", show_progress=False, quiet=True,
                      output_dir=None, cache_dir=tmp_path / "cache", replay="off")
    from agentrt.data.embedded import load_sample_stocks

    aapl = load_sample_stocks()["AAPL"]
    for request in (r for r in SEEN if r.step == 2):
        sma, last, asof = request.tool_results("duckdb_query")[-1].value["rows"][0]
        day = pd.Timestamp(asof).normalize()
        index = aapl.index.tz_localize(None).normalize() if aapl.index.tz is not None else aapl.index.normalize()
        window = aapl["close"][index <= day].iloc[-10:]
        assert sma == pytest.approx(float(window.mean()), rel=1e-9)
        assert last == pytest.approx(float(window.iloc[-1]), rel=1e-9)


class TwoAgents(Strategy):
    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("macro", model=ScriptedModel(["Risk on."]), include_builtin_tools=False,
                           system_prompt="Judge the macro backdrop.")
        self.agents.create("trader", model=ScriptedModel([
            {"tool": "market_last_price", "args": {"symbol": "MSFT"}},
            {"tool": "orders_submit", "args": {"symbol": "MSFT", "quantity": 5, "side": "buy"}},
            "Bought MSFT.",
        ]), allow_trading=True)
        self.vars.done = False

    def on_trading_iteration(self):
        view = self.agents["macro"].run()
        if not self.vars.done and view.summary == "Risk on.":
            self.agents["trader"].run(context={"macro": view.summary})
            self.vars.done = True


def test_two_agents_in_one_backtest(tmp_path):
    result = TwoAgents.backtest(SampleData, "2012-01-03", "2012-01-13", show_progress=False, quiet=True,
                                output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    fills = result.trades[result.trades["status"] == "fill"]
    assert list(fills["symbol"]) == ["MSFT"] and list(fills["quantity"]) == [5.0]
    assert list(fills["source"]) == ["agent:trader"]
    from agentrt.telemetry.runindex import read_run_index

    rows = read_run_index(result.output_dir)
    assert sorted({r["agent"] for r in rows}) == ["macro", "trader"]
    assert sum(r["agent"] == "trader" for r in rows) == 1
