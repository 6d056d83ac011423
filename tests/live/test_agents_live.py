"""An agent strategy, unchanged from its backtest, trading live through PaperBroker on a replayed feed."""

from __future__ import annotations

import json

from livekit import paper, replay_trader

from agentrt import FunctionModel, SampleData, Strategy


def policy(request):
    """Buy 10 AAPL once, after reading the price; later runs only look."""
    if request.step == 0:
        return [{"tool": "account_positions"}, {"tool": "market_last_price", "args": {"symbol": "AAPL"}}]
    if request.step == 1:
        held = request.tool_results("account_positions")[-1].value["positions"]
        if held or request.tool_results("orders_open_orders"):
            return "Holding AAPL; nothing to do."
        return {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 10, "side": "buy"}}
    return "Bought 10 AAPL."


class AgentBuyer(Strategy):
    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("buyer", model=FunctionModel(policy), system_prompt="Hold 10 shares of AAPL.")

    def on_trading_iteration(self):
        result = self.agents["buyer"].run()
        self.vars.cache_hits = self.vars.get("cache_hits", 0) + int(result.cache_hit)


def test_agent_strategy_runs_live_with_traces_and_derived_client_order_ids(tmp_path):
    # the same file backtests first (this also warms up the agent runtime before the fast clock starts)
    backtest = AgentBuyer.backtest(SampleData, "2012-03-05", "2012-03-07", show_progress=False, quiet=True,
                                   output_dir=tmp_path / "bt", tearsheet=False)
    assert (backtest.trades.status == "fill").sum() == 1

    trader = replay_trader(tmp_path, "2012-03-05 15:55", speed=60_000, max_iterations=2)
    strategy = AgentBuyer(broker=paper())
    result = trader.add_strategy(strategy).run_all()["AgentBuyer"]

    assert result.crashed is None and result.iterations == 2 and result.provider_errors == 0
    services = strategy._ctx.agent_services
    assert services.is_live and not services.serves_from_cache()
    assert strategy.vars.cache_hits == 0  # a live run records but never answers from the cache
    trades = result.result.trades
    fill = trades[trades.status == "fill"].iloc[0]
    assert (fill.symbol, fill.quantity, fill.source) == ("AAPL", 10.0, "agent:buyer")
    from agentrt.engine.persistence import StateStore

    store = StateStore.open(state_dir=tmp_path / "out" / "state")
    rows = store.orders("AgentBuyer")
    store.close()
    assert [r.client_order_id for r in rows] == [f"{result.run_id}-1-0"]  # (run id, step, order index)
    traces = sorted((result.output_dir / "traces").glob("*.json"))
    assert len(traces) == 2
    first = json.loads(traces[0].read_text())
    assert [c["name"] for c in first["tool_calls"]][:2] == ["account_positions", "market_last_price"]
    assert not [w for w in first["warnings"] if w["code"] == "future_data"]  # the step's clock held still
    settings = json.loads((result.output_dir / "settings.json").read_text())
    assert settings["agents"]["runs"] == 2 and settings["mode"] == "live"
