"""The backtest loop: portfolio valuation, NYSE calendar (holidays, half days), hook order, intraday
and 24/7 schedules, run settings from arguments and BACKTESTING_* environment variables."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from testkit import buy, make_bars, nyse_sessions, run, scripted, sell

from agentrt import SampleData, Strategy
from agentrt.data.embedded import load_sample_stocks
from agentrt.engine.backtest import BacktestError

NY = "America/New_York"


class Recorder(Strategy):
    """Records (hook, time, last AAPL price) for every lifecycle hook."""

    instance = None

    def initialize(self):
        type(self).instance = self
        self.vars.log = []

    def _note(self, hook: str) -> None:
        self.vars.log.append((hook, self.get_datetime(), self.get_last_price("AAPL")))

    def before_market_opens(self):
        self._note("before_market_opens")

    def before_starting_trading(self):
        self._note("before_starting_trading")

    def before_market_closes(self):
        self._note("before_market_closes")

    def on_trading_iteration(self):
        self._note("on_trading_iteration")

    def after_market_closes(self):
        self._note("after_market_closes")


def iteration_log(start: str, end: str):
    run(Recorder, SampleData(), start, end)
    return Recorder.instance.vars.log


def aapl_close(date: str) -> float:
    return float(load_sample_stocks()["AAPL"].loc[date, "close"])


# ----------------------------------------------------------------------------------------------
# portfolio valuation
# ----------------------------------------------------------------------------------------------
def test_portfolio_value_is_cash_plus_positions_at_last_close_across_assets():
    a = [(10, 10, 10, 10), (10, 11, 9, 10.5), (11, 12, 10, 11.5), (12, 12, 8, 9)]
    b = [(50, 50, 50, 50), (51, 52, 50, 51), (49, 50, 47, 48), (48, 55, 48, 54)]
    c = [(20, 20, 20, 20), (20, 20, 20, 20), (21, 21, 21, 21), (22, 22, 22, 22)]
    cls = scripted({0: lambda s: (buy("AAA", 100)(s), buy("BBB", 40)(s), sell("CCC", 30)(s))})
    result = run(cls, make_bars({"AAA": a, "BBB": b, "CCC": c}), "2012-01-03", "2012-01-06", allow_short=True)
    cash = 100_000 - 100 * 10 - 40 * 51 + 30 * 20  # fills at the 2012-01-04 opens
    expected = [100_000] + [cash + 100 * a[i][3] + 40 * b[i][3] - 30 * c[i][3] for i in (1, 2, 3)]
    stats = result.stats_frame
    assert list(stats["cash"]) == [100_000, cash, cash, cash]
    assert list(stats["portfolio_value"]) == pytest.approx(expected)
    assert list(stats["positions_value"]) == pytest.approx([v - c_ for v, c_ in zip(expected, stats["cash"])])
    assert list(result.equity.values) == list(stats["portfolio_value"])


# ----------------------------------------------------------------------------------------------
# NYSE calendar
# ----------------------------------------------------------------------------------------------
def _dates(log, hook="on_trading_iteration"):
    return [t.date().isoformat() for h, t, _ in log if h == hook]


@pytest.mark.parametrize("start, end, expected", [
    ("2012-07-02", "2012-07-06", ["2012-07-02", "2012-07-03", "2012-07-05", "2012-07-06"]),  # Independence Day
    ("2012-10-26", "2012-11-01", ["2012-10-26", "2012-10-31", "2012-11-01"]),  # Hurricane Sandy closures
    ("2012-12-21", "2012-12-28", ["2012-12-21", "2012-12-24", "2012-12-26", "2012-12-27", "2012-12-28"]),
], ids=["july-4", "hurricane-sandy", "christmas"])
def test_iterations_skip_nyse_holidays_and_closures(start, end, expected):
    assert _dates(iteration_log(start, end)) == expected


def test_half_day_closes_at_13_and_hooks_follow_the_early_close():
    log = iteration_log("2012-11-23", "2012-11-23")  # day after Thanksgiving: closes 13:00
    times = {h: t for h, t, _ in log}
    assert times["before_market_closes"] == pd.Timestamp("2012-11-23 12:55", tz=NY)
    assert times["on_trading_iteration"] == pd.Timestamp("2012-11-23 13:00", tz=NY)
    assert times["after_market_closes"] == pd.Timestamp("2012-11-23 13:00", tz=NY)


def test_daily_iteration_runs_after_the_close_and_sees_that_sessions_bar():
    log = iteration_log("2012-11-20", "2012-11-21")
    prices = {(h, t.date().isoformat()): p for h, t, p in log}
    # before the close of 11-21 only 11-20's bar is visible; at the iteration 11-21's bar is
    assert prices[("before_market_opens", "2012-11-21")] == aapl_close("2012-11-20")
    assert prices[("before_market_closes", "2012-11-21")] == aapl_close("2012-11-20")
    assert prices[("on_trading_iteration", "2012-11-21")] == aapl_close("2012-11-21")
    assert prices[("after_market_closes", "2012-11-21")] == aapl_close("2012-11-21")


def test_hooks_run_in_lifecycle_order_each_session():
    log = iteration_log("2012-11-20", "2012-11-21")
    day = [(h, t.strftime("%H:%M")) for h, t, _ in log if t.date() == dt.date(2012, 11, 21)]
    assert day == [
        ("before_market_opens", "08:30"),  # minutes_before_opening = 60
        ("before_starting_trading", "09:30"),
        ("before_market_closes", "15:55"),  # minutes_before_closing = 5
        ("on_trading_iteration", "16:00"),
        ("after_market_closes", "16:00"),
    ]


def test_minutes_before_closing_and_opening_move_the_hooks():
    class Early(Recorder):
        minutes_before_closing = 30
        minutes_before_opening = 15

    run(Early, SampleData(), "2012-11-21", "2012-11-21")
    times = {h: t.strftime("%H:%M") for h, t, _ in Early.instance.vars.log}
    assert times["before_market_opens"] == "09:15" and times["before_market_closes"] == "15:30"


# ----------------------------------------------------------------------------------------------
# intraday and 24/7 schedules
# ----------------------------------------------------------------------------------------------
def _minute_data(freq: str):
    idx = pd.date_range("2012-01-03 09:30", "2012-01-03 15:59", freq=freq)
    rows = [(100 + i, 100.5 + i, 99.5 + i, 100.25 + i) for i in range(len(idx))]
    timestep = "minute"
    return make_bars(rows, [str(t) for t in idx], timestep=timestep), idx


@pytest.mark.parametrize("freq", ["1min", "30min"])
def test_intraday_sleeptime_iterates_every_30_minutes_and_sees_only_closed_bars(freq):
    data, idx = _minute_data(freq)
    step = pd.Timedelta(freq)

    def look(self):
        now = self.get_datetime()
        bars = self.get_historical_prices("TEST", 5, timestep="minute")
        self.vars.seen.append((now.strftime("%H:%M"), self.get_last_price("TEST"),
                               None if len(bars) == 0 else bars.df.index[-1]))

    cls = scripted({i: look for i in range(20)}, sleeptime="30M")
    run(cls, data, "2012-01-03", "2012-01-03")
    seen = cls.instance.vars.seen
    assert [s[0] for s in seen] == ["09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00",
                                    "13:30", "14:00", "14:30", "15:00", "15:30"]
    assert seen[0][1:] == (None, None)  # at the open no bar of the day has closed yet
    for hhmm, last, last_start in seen[1:]:
        now = pd.Timestamp(f"2012-01-03 {hhmm}", tz=NY)
        expected_start = now - step  # the bar that ended exactly now
        assert last_start == expected_start
        assert last == 100.25 + list(idx).index(expected_start.tz_localize(None))


def test_intraday_market_order_fills_at_the_open_of_the_next_bar():
    data, _ = _minute_data("1min")
    cls = scripted({1: buy("TEST", 10)}, sleeptime="30M")  # submitted at 10:00
    result = run(cls, data, "2012-01-03", "2012-01-03")
    fill = result.trades.iloc[0]
    assert fill["time"] == pd.Timestamp("2012-01-03 10:00", tz=NY)
    assert fill["price"] == 100 + 30  # the open of the 10:00 bar (row 30)


def test_24_7_market_iterates_every_calendar_day_with_crypto_bars():
    days = pd.date_range("2012-01-06", periods=5, freq="D")  # Fri..Tue, weekend included
    data = make_bars({"BTC": [(10 + i, 11 + i, 9 + i, 10.5 + i) for i in range(5)]}, [str(d.date()) for d in days])

    def look(self):
        self.vars.seen.append((self.get_datetime(), self.get_last_price("BTC/USD")))

    cls = scripted({i: look for i in range(5)} | {0: lambda s: (look(s), buy("BTC/USD", 2)(s))},
                   init=lambda self: self.set_market("24/7"))
    result = run(cls, data, "2012-01-06", "2012-01-10")
    utc = dt.UTC
    assert cls.instance.vars.seen == [(dt.datetime(2012, 1, 7 + i, tzinfo=utc), 10.5 + i) for i in range(5)]
    fill = result.trades.iloc[0]
    assert (fill["symbol"], fill["asset_type"], fill["price"]) == ("BTC", "crypto", 11.0)
    assert fill["time"] == pd.Timestamp("2012-01-07", tz="UTC")


def test_two_day_sleeptime_iterates_every_other_session():
    cls = scripted({}, sleeptime="2D")
    result = run(cls, make_bars([(100, 100, 100, 100)] * 6), "2012-01-03", "2012-01-10")
    assert [t.date().isoformat() for t in result.stats_frame["datetime"]] == nyse_sessions("2012-01-03", 6)[::2]


# ----------------------------------------------------------------------------------------------
# strategy state across the run
# ----------------------------------------------------------------------------------------------
def test_first_iteration_is_true_only_once_and_vars_persist():
    class Counter(Strategy):
        def initialize(self):
            type(self).instance = self
            self.vars.count = 0
            self.vars.firsts = []

        def on_trading_iteration(self):
            self.vars.count += 1
            self.vars.firsts.append(self.first_iteration)

    result = run(Counter, SampleData(), "2012-01-03", "2012-01-06")
    assert Counter.instance.vars.count == 4 == result.iterations
    assert Counter.instance.vars.firsts == [True, False, False, False]
    assert Counter.instance.is_backtesting is True


# ----------------------------------------------------------------------------------------------
# parameters and environment overrides
# ----------------------------------------------------------------------------------------------
class Params(Strategy):
    parameters = {"symbol": "AAPL", "fast": 10, "slow": 30}  # noqa: RUF012 - LumiBot's class-level dict
    instance = None

    def initialize(self):
        type(self).instance = self

    def on_trading_iteration(self):
        pass


def test_class_parameters_are_the_defaults():
    run(Params, SampleData(), "2012-01-03", "2012-01-03")
    assert Params.instance.parameters == {"symbol": "AAPL", "fast": 10, "slow": 30}
    assert Params.parameters == {"symbol": "AAPL", "fast": 10, "slow": 30}


def test_backtest_parameters_override_class_defaults():
    result = run(Params, SampleData(), "2012-01-03", "2012-01-03", parameters={"fast": 5})
    assert Params.instance.parameters == {"symbol": "AAPL", "fast": 5, "slow": 30}
    assert result.settings["parameters"] == {"symbol": "AAPL", "fast": 5, "slow": 30}
    assert Params.parameters["fast"] == 10  # the class is not mutated


def test_backtesting_parameters_env_json_overrides_arguments(monkeypatch):
    monkeypatch.setenv("BACKTESTING_PARAMETERS", '{"fast": 7, "symbol": "MSFT"}')
    run(Params, SampleData(), "2012-01-03", "2012-01-03", parameters={"fast": 5, "slow": 20})
    assert Params.instance.parameters == {"symbol": "MSFT", "fast": 7, "slow": 20}


def test_unknown_parameter_suggests_the_closest_name():
    with pytest.raises(BacktestError, match=r"unknown parameter 'fsat'.*Did you mean 'fast'\?"):
        run(Params, SampleData(), "2012-01-03", "2012-01-03", parameters={"fsat": 5})


def test_unknown_backtest_argument_suggests_the_closest_name():
    with pytest.raises(BacktestError, match=r"unknown backtest argument 'budgte'.*Did you mean 'budget'\?"):
        run(Params, SampleData(), "2012-01-03", "2012-01-03", budgte=5)


def test_backtesting_start_end_budget_env_override_arguments(monkeypatch):
    monkeypatch.setenv("BACKTESTING_START", "2012-03-05")
    monkeypatch.setenv("BACKTESTING_END", "2012-03-07")
    monkeypatch.setenv("BACKTESTING_BUDGET", "5000")
    result = run(Params, SampleData(), "2011-01-03", "2011-12-30", budget=1_000_000)
    assert [t.date().isoformat() for t in result.stats_frame["datetime"]] == ["2012-03-05", "2012-03-06",
                                                                                "2012-03-07"]
    assert result.stats_frame["portfolio_value"].iloc[0] == 5000
    assert (result.settings["start"], result.settings["end"], result.settings["budget"]) == (
        "2012-03-05", "2012-03-07", 5000.0)


@pytest.mark.parametrize("value", ["sample", '{"default": "sample"}', '{"Stock": "sample", "crypto": "sample"}'])
def test_backtesting_data_source_env_overrides_the_argument(monkeypatch, value):
    monkeypatch.setenv("BACKTESTING_DATA_SOURCE", value)
    only_test = make_bars([(1, 1, 1, 1)] * 3)  # has no AAPL: the run only works on the env source
    run(Recorder, only_test, "2012-11-20", "2012-11-20")
    last = [p for h, _, p in Recorder.instance.vars.log if h == "on_trading_iteration"]
    assert last == [aapl_close("2012-11-20")]


def test_backtesting_budget_env_must_be_a_number(monkeypatch):
    monkeypatch.setenv("BACKTESTING_BUDGET", "lots")
    with pytest.raises(BacktestError, match="BACKTESTING_BUDGET='lots' is not a number"):
        run(Params, SampleData(), "2012-01-03", "2012-01-03")
