"""Live runs through PaperBroker on a replayed feed at accelerated wall-clock speed."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from livekit import AllIn, at, paper, replay_trader

from agentrt import SampleData


class AllInWithHooks(AllIn):
    """AllIn that notes when each lifecycle hook ran."""

    def initialize(self):
        super().initialize()
        self.vars.hooks = []

    def _note(self, name):
        self.vars.hooks = self.vars.hooks + [(name, self.get_datetime().isoformat())]

    def before_market_opens(self):
        self._note("before_market_opens")

    def before_market_closes(self):
        self._note("before_market_closes")

    def after_market_closes(self):
        self._note("after_market_closes")

    def on_trading_iteration(self):
        self._note("on_trading_iteration")
        super().on_trading_iteration()


def test_live_paper_run_fills_like_the_backtest_and_writes_artifacts(tmp_path):
    trader = replay_trader(tmp_path, "2012-03-05 15:50", max_iterations=3)
    strategy = AllInWithHooks(broker=paper(cash=100_000))
    trader.add_strategy(strategy)
    result = trader.run_all()["AllInWithHooks"]

    assert result.crashed is None and result.stopped_by == "max iterations (3)"
    assert result.iterations == 3
    assert strategy.vars.last_bar == "2012-03-07"  # the daily iteration at the close sees that day's bar
    trades = result.result.trades
    fills = trades[(trades.event_kind == "trade") & (trades.status == "fill")]
    assert len(fills) == 1
    # the order was sent after the 2012-03-05 close; it fills at the next session's open, as in a backtest
    aapl = SampleData().frame("AAPL")
    fill = fills.iloc[0]
    assert fill.price == pytest.approx(aapl.loc["2012-03-06", "open"])
    assert fill.time.date().isoformat() == "2012-03-06"
    backtest = AllInWithHooks.backtest(SampleData, "2012-03-05", "2012-03-07", show_progress=False,
                                       write_outputs=False)
    bt = backtest.trades[backtest.trades.status == "fill"].iloc[0]
    assert (fill.price, fill.quantity) == (bt.price, bt.quantity)

    out = result.output_dir
    for name in ("trades.csv", "trades.parquet", "stats.csv", "logs.csv", "settings.json", "indicators.csv"):
        assert (out / name).exists(), name
    settings = json.loads((out / "settings.json").read_text())
    assert settings["mode"] == "live"
    assert settings["live"]["stopped_by"] == "max iterations (3)"
    stats = pd.read_csv(out / "stats.csv")
    assert len(stats) == 3
    assert stats["portfolio_value"].iloc[-1] != stats["portfolio_value"].iloc[0]  # marked to the live quotes

    # hooks ran in the backtest's order, each at (or, at 100 000x, a few wall milliseconds after) its time:
    # 60 min before the open, 5 min before the close, the daily iteration at the close, then after the close
    march6 = [(name, dt.datetime.fromisoformat(when)) for name, when in strategy.vars.hooks
              if when.startswith("2012-03-06")]
    assert [name for name, _ in march6] == ["before_market_opens", "before_market_closes", "on_trading_iteration",
                                            "after_market_closes"]
    bounds = [("08:30", "09:00"), ("15:55", "16:25"), ("16:00", "23:59"), ("16:00", "23:59")]
    for (name, when), (lo, hi) in zip(march6, bounds):
        assert at(f"2012-03-06 {lo}") <= when <= at(f"2012-03-06 {hi}"), (name, when)


def test_restart_restores_vars_and_account_and_does_not_buy_again(tmp_path):
    first = replay_trader(tmp_path, "2012-03-05 15:50", max_iterations=2)
    first.add_strategy(AllIn(broker=paper()))
    run1 = first.run_all()["AllIn"]
    held = run1.result.trades.query("status == 'fill'").quantity.sum()
    assert held > 0

    # a new process: new objects, the same state folder, the clock two days later
    second = replay_trader(tmp_path, "2012-03-07 15:50", max_iterations=2)
    strategy = AllIn(broker=paper())
    second.add_strategy(strategy)
    run2 = second.run_all()["AllIn"]

    assert run2.run_id == run1.run_id
    assert strategy.vars.count == 4
    assert [f[2] for f in strategy.vars.fills] == [held]  # restored from the first run, no new fill
    assert strategy.get_position("AAPL").quantity == held
    assert (run2.result.trades.event_kind == "trade").sum() == 0  # first_iteration stayed False: no second buy
    from agentrt.engine.persistence import StateStore

    store = StateStore.open(state_dir=tmp_path / "out" / "state")
    rows = store.orders("AllIn")
    store.close()
    assert [(r.status, r.order["quantity"]) for r in rows] == [("filled", held)]


class CrashAfterOrder(AllIn):
    crash = True

    def on_trading_iteration(self):
        super().on_trading_iteration()
        if type(self).crash:
            raise RuntimeError("boom after submitting")


def test_a_step_retried_after_a_crash_does_not_submit_its_order_twice(tmp_path):
    from agentrt.engine.backtest import StrategyCrash

    first = replay_trader(tmp_path, "2012-03-05 15:50")
    first.add_strategy(CrashAfterOrder(broker=paper()))
    with pytest.raises(StrategyCrash, match="boom after submitting"):
        first.run_all()

    CrashAfterOrder.crash = False
    try:
        second = replay_trader(tmp_path, "2012-03-05 16:30", max_iterations=2)
        strategy = CrashAfterOrder(broker=paper())
        second.add_strategy(strategy)
        result = second.run_all()["CrashAfterOrder"]
    finally:
        CrashAfterOrder.crash = True
    broker = strategy._ctx.broker
    orders = broker.get_orders(active_only=False)
    assert len(orders) == 1  # the retried step asked for the same client order id and got the same order
    assert orders[0].status.value == "filled"
    assert strategy.vars.count == 2  # the crashed step's vars were rolled back, then it ran again, then once more
    assert result.result.settings["live"]["duplicate_orders_ignored"] == 1


class Flaky(AllIn):
    def on_trading_iteration(self):
        if self.vars.count == 1:
            self.vars.count += 1
            raise TimeoutError("model provider timed out")
        super().on_trading_iteration()


def test_a_provider_error_skips_the_step_loudly_and_the_run_goes_on(tmp_path):
    trader = replay_trader(tmp_path, "2012-03-05 15:50", max_iterations=3)
    trader.add_strategy(Flaky(broker=paper()))
    result = trader.run_all()["Flaky"]
    assert result.crashed is None
    assert result.iterations == 3
    assert result.provider_errors == 1
    logs = pd.read_csv(result.output_dir / "logs.csv")
    errors = logs[logs.level == "error"].message.tolist()
    assert any("provider error in on_trading_iteration" in m and "TimeoutError" in m for m in errors)
    assert result.result.settings["live"]["provider_errors"] == 1


def test_each_strategy_of_a_trader_has_its_own_account(tmp_path):
    trader = replay_trader(tmp_path, "2012-03-05 15:50", max_iterations=2)
    a = AllIn(broker=paper(cash=100_000))
    b = AllIn(name="AllInMSFT", parameters={"symbol": "MSFT"}, broker=paper(cash=20_000))
    trader.add_strategy(a).add_strategy(b)
    results = trader.run_all()
    assert set(results) == {"AllIn", "AllInMSFT"}
    assert [p.symbol for p in a.get_positions()] == ["AAPL"]
    assert [p.symbol for p in b.get_positions()] == ["MSFT"]
    assert b.portfolio_value < 25_000 < a.portfolio_value


def test_one_broker_object_cannot_serve_two_strategies(tmp_path):
    from agentrt.engine.live import LiveError

    shared = paper()
    trader = replay_trader(tmp_path, "2012-03-05 15:50")
    trader.add_strategy(AllIn(broker=shared))
    with pytest.raises(LiveError, match="own broker"):
        trader.add_strategy(AllIn(name="Other", broker=shared))


STRATEGY_FILE = '''
from agentrt import Strategy


class Counter(Strategy):
    def initialize(self):
        self.sleeptime = "1D"
        self.vars.count = 0

    def on_trading_iteration(self):
        self.vars.count += 1
        if self.first_iteration:
            self.submit_order(self.create_order("IBM", 10, "buy"))
'''


def test_sigint_stops_a_cli_run_cleanly_after_saving_state(tmp_path):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    file = tmp_path / "counter.py"
    file.write_text(STRATEGY_FILE)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from agentrt.cli.main import main; main()", "live", str(file), "--broker", "paper",
         "--data", "sample", "--start", "2012-03-05", "--speed", "20000", "--out", str(out), "--no-html"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    db = out / "state" / "live_state.sqlite"
    deadline = time.monotonic() + 30
    iterations = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                with sqlite3.connect(db) as conn:
                    try:
                        row = conn.execute("SELECT iterations FROM agentrt_strategy_state").fetchone()
                    except sqlite3.OperationalError:
                        row = None
                iterations = row[0] if row else 0
                if iterations >= 1:
                    break
            time.sleep(0.05)
        assert iterations >= 1, "the live run never completed an iteration"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "SIGINT received" in stderr and "stopped by SIGINT" in stderr
    with sqlite3.connect(db) as conn:
        saved_iterations, vars_json, done = conn.execute(
            "SELECT iterations, vars_json, step_done FROM agentrt_strategy_state WHERE strategy = 'Counter'").fetchone()
    import json

    assert done == 1
    assert json.loads(vars_json)["count"] == saved_iterations >= 1
    runs = list(out.glob("Counter_live_*"))
    assert len(runs) == 1
    settings = json.loads((runs[0] / "settings.json").read_text())
    assert settings["live"]["stopped_by"] == "SIGINT"
    assert (runs[0] / "trades.csv").exists()
