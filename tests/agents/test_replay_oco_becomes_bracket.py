"""A cached rerun re-places a custom tool's OCO exit as an OCO, exactly as recorded."""
from agentrt import FunctionModel, SampleData, Strategy
from agentrt.agents import agent_tool


def policy(request):
    if request.step == 0:
        return {"tool": "place_exit", "args": {}}
    return "Placed an OCO exit."


class OcoExit(Strategy):
    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("exit", model=FunctionModel(policy), tools=[self.place_exit],
                           include_builtin_tools=False)

    @agent_tool
    def place_exit(self) -> str:
        """Place a one-cancels-other exit for the AAPL position."""
        price = self.get_last_price("AAPL")
        order = self.create_order("AAPL", 10, "sell", order_class="oco", take_profit_price=price * 1.5,
                                  stop_loss_price=price * 0.5, time_in_force="gtc")
        self.submit_order(order)
        return "ok"

    def on_trading_iteration(self):
        if self.first_iteration:
            self.submit_order(self.create_order("AAPL", 10, "buy"))
            return
        if not self.vars.get("done"):
            self.vars.done = True
            self.vars.result = self.agents["exit"].run()


def _trades(tmp_path, name):
    result = OcoExit.backtest(SampleData, "2012-01-03", "2012-01-20", show_progress=False, quiet=True,
                              output_dir=tmp_path / name, cache_dir=tmp_path / "cache", replay="record")
    t = result.trades
    return t[(t["event_kind"] == "trade") & (t["status"] == "fill")][["time", "symbol", "side", "quantity", "price"]]


def test_cached_rerun_replays_the_oco_exit_not_a_market_bracket(tmp_path):
    first = _trades(tmp_path, "r1")
    second = _trades(tmp_path, "r2")
    assert list(first["side"]) == ["buy"], first  # neither OCO leg reached in two weeks
    assert second.reset_index(drop=True).equals(first.reset_index(drop=True)), (
        f"recorded run:\n{first}\ncached rerun:\n{second}")
