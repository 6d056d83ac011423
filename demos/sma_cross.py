"""SMA cross: buy when the 10-day average crosses above the 30-day one, sell on the cross back.

A plain (agent-free) strategy on the embedded sample data:

    agentrt backtest demos/sma_cross.py --start 2005-01-01 --end 2012-12-31
"""

from agentrt import Strategy


class SmaCross(Strategy):
    parameters = {"symbol": "GOOG", "fast": 10, "slow": 30}

    def initialize(self):
        self.sleeptime = "1D"

    def on_trading_iteration(self):
        symbol, fast, slow = self.parameters["symbol"], self.parameters["fast"], self.parameters["slow"]
        closes = self.get_historical_prices(symbol, slow + 1).close
        if len(closes) < slow + 1:
            return
        fast_now, slow_now = closes[-fast:].mean(), closes[-slow:].mean()
        fast_before, slow_before = closes[-fast - 1:-1].mean(), closes[-slow - 1:-1].mean()
        position = self.get_position(symbol)
        if fast_before <= slow_before and fast_now > slow_now and position is None:
            quantity = self.cash // closes[-1]
            if quantity > 0:
                self.submit_order(self.create_order(symbol, quantity, "buy"))
        elif fast_before >= slow_before and fast_now < slow_now and position is not None:
            self.submit_order(self.create_order(symbol, position.quantity, "sell"))


if __name__ == "__main__":
    from agentrt import SampleData

    result = SmaCross.backtest(SampleData, "2004-08-19", "2013-03-01", benchmark_asset="SPX")
    print(result)
