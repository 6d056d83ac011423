"""Strategies for benchmarks/replay.py: one agent per bar (scripted model) and its agent-free twin."""

from agentrt import ScriptedModel, Strategy

SCRIPT = [
    [{"tool": "market_last_price", "args": {"symbol": "AAPL"}}, {"tool": "account_positions"}],
    "Checked AAPL and the positions; the strategy code sizes the trade.",
]


def _trade(strategy, closes):
    """The same SMA(10/30) rule in both strategies, so their states evolve identically."""
    if len(closes) < 31:
        return
    fast_now, slow_now = closes[-10:].mean(), closes[-30:].mean()
    fast_prev, slow_prev = closes[-11:-1].mean(), closes[-31:-1].mean()
    held = strategy.get_position("AAPL")
    if fast_prev <= slow_prev and fast_now > slow_now and held is None:
        strategy.submit_order(strategy.create_order("AAPL", strategy.cash // closes[-1], "buy"))
    elif fast_prev >= slow_prev and fast_now < slow_now and held is not None:
        strategy.submit_order(strategy.create_order("AAPL", held.quantity, "sell"))


class AgentBench(Strategy):
    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("watch", model=ScriptedModel(SCRIPT), system_prompt="Watch AAPL.", allow_trading=False)

    def on_trading_iteration(self):
        self.agents["watch"].run()
        _trade(self, self.get_historical_prices("AAPL", 31).close)


class PlainBench(Strategy):
    def initialize(self):
        self.sleeptime = "1D"

    def on_trading_iteration(self):
        self.get_last_price("AAPL")
        self.get_positions()
        _trade(self, self.get_historical_prices("AAPL", 31).close)
