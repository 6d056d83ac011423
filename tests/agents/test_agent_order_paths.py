"""Order paths of custom tools: allow_trading=False refuses them; reruns write identical trades."""
from agentrt import SampleData, ScriptedModel, Strategy
from agentrt.agents import agent_tool

RESULTS = []


class ToolTrader(Strategy):
    parameters = {"allow": True}

    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("analyst", model=ScriptedModel([{"tool": "rebalance", "args": {"qty": 5}}, "done"]),
                           tools=[self.rebalance], allow_trading=self.parameters["allow"])

    @agent_tool
    def rebalance(self, qty: int) -> str:
        """Rebalance the AAPL position."""
        self.submit_order(self.create_order("AAPL", qty, "buy"))
        return "ok"

    def on_trading_iteration(self):
        if not self.vars.get("done"):
            self.vars.done = True
            RESULTS.append(self.agents["analyst"].run())


def _run(tmp_path, name, allow):
    RESULTS.clear()
    result = ToolTrader.backtest(SampleData, "2012-01-03", "2012-01-10", show_progress=False, quiet=True,
                                 output_dir=tmp_path / name, cache_dir=tmp_path / "cache", replay="record",
                                 parameters={"allow": allow})
    return result, RESULTS[0]


def test_allow_trading_false_blocks_orders_from_custom_tools(tmp_path):
    result, run = _run(tmp_path, "r1", allow=False)
    fills = result.trades[result.trades["status"] == "fill"]
    assert fills.empty and not run.orders, (
        f"allow_trading=False agent traded: orders={run.orders}\n{fills[['time', 'side', 'quantity', 'source']]}")


def test_cached_rerun_writes_identical_trades_for_custom_tool_orders(tmp_path):
    first, _ = _run(tmp_path, "r1", allow=True)
    second, run = _run(tmp_path, "r2", allow=True)
    assert run.cache_hit
    a = (first.output_dir / "trades.csv").read_text()
    b = (second.output_dir / "trades.csv").read_text()
    assert a == b, f"recorded:\n{a}\ncached rerun:\n{b}"
