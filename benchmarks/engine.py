"""Engine speed: the daily SMA(10/30) cross on sample GOOG, agentrt vs backtesting.py, in one run.

    .venv/bin/python benchmarks/engine.py

Both strategies trade the same rule on the same bars (2004-08-19..2013-03-01). agentrt reads its
closes through get_historical_prices() every bar, as a user's strategy would; backtesting.py
precomputes its indicators with I(). Each is timed end to end (setup, loop, statistics) as the
best of several repeats; the last line is the ratio of agentrt's time per bar to backtesting.py's.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentrt import SampleData, Strategy  # noqa: E402
from agentrt.data.embedded import load_sample_stocks  # noqa: E402

START, END = "2004-08-19", "2013-03-01"
FAST, SLOW = 10, 30
REPEATS = 5


class AgentrtSmaCross(Strategy):
    def initialize(self):
        self.sleeptime = "1D"

    def on_trading_iteration(self):
        closes = self.get_historical_prices("GOOG", SLOW + 1).close
        if len(closes) < SLOW + 1:
            return
        fast_now, slow_now = closes[-FAST:].mean(), closes[-SLOW:].mean()
        fast_prev, slow_prev = closes[-FAST - 1:-1].mean(), closes[-SLOW - 1:-1].mean()
        position = self.get_position("GOOG")
        if fast_prev <= slow_prev and fast_now > slow_now and position is None:
            qty = self.cash // closes[-1]
            if qty > 0:
                self.submit_order(self.create_order("GOOG", qty, "buy"))
        elif fast_prev >= slow_prev and fast_now < slow_now and position is not None:
            self.submit_order(self.create_order("GOOG", position.quantity, "sell"))


def time_agentrt() -> tuple[float, int, object]:
    data = SampleData()
    best, bars, result = float("inf"), 0, None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = AgentrtSmaCross.backtest(data, START, END, show_progress=False, write_outputs=False, quiet=True)
        best = min(best, time.perf_counter() - t0)
        bars = result.iterations
    return best, bars, result


class AgentrtNoop(Strategy):
    """The engine's own cost per bar: clock, order matching, valuation, stats — no strategy work."""

    def on_trading_iteration(self):
        pass


def time_agentrt_noop() -> float:
    data = SampleData()
    return min(AgentrtNoop.backtest(data, START, END, show_progress=False, write_outputs=False, quiet=True)
               .loop_seconds / 2148 for _ in range(REPEATS))


def time_backtesting_py() -> tuple[float, int, object]:
    import pandas as pd
    from backtesting import Backtest
    from backtesting import Strategy as BtStrategy
    from backtesting.lib import crossover

    def sma(values, n):
        return pd.Series(values).rolling(n).mean()

    class BtSmaCross(BtStrategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self):
            if crossover(self.fast, self.slow):
                self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()

    frame = load_sample_stocks()["GOOG"].loc[START:END]
    df = frame.rename(columns=str.capitalize)
    best, stats = float("inf"), None
    for _ in range(REPEATS):
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):  # its progress bar
            warnings.simplefilter("ignore")
            bt = Backtest(df, BtSmaCross, cash=100_000, commission=0.0, finalize_trades=True)
            t0 = time.perf_counter()
            stats = bt.run()
            best = min(best, time.perf_counter() - t0)
    return best, len(df), stats


def main() -> None:
    a_time, a_bars, a_result = time_agentrt()
    b_time, b_bars, b_stats = time_backtesting_py()
    a_rate, b_rate = a_bars / a_time, b_bars / b_time
    print(f"agentrt          : {a_bars} bars in {a_time * 1000:8.1f} ms = {a_rate:10,.0f} bars/s "
          f"({a_time / a_bars * 1e6:6.1f} us/bar; loop only {a_result.loop_seconds / a_bars * 1e6:.1f} us/bar), "
          f"trades={a_result.stats['num_trades']}")
    print(f"backtesting.py   : {b_bars} bars in {b_time * 1000:8.1f} ms = {b_rate:10,.0f} bars/s "
          f"({b_time / b_bars * 1e6:6.1f} us/bar), trades={b_stats['# Trades']}")
    print(f"agentrt engine alone (no-op strategy): {time_agentrt_noop() * 1e6:.1f} us/bar")
    print(f"ratio agentrt/backtesting.py: {(a_time / a_bars) / (b_time / b_bars):.2f}")


if __name__ == "__main__":
    main()
