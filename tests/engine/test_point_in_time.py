"""Point in time: nothing a strategy can call returns a bar stamped after `get_datetime()`.

A daily bar becomes visible at its session's close. The property test runs random strategies (random
hooks, calls, lookback lengths, sleeptimes and date ranges, including ranges that begin before the
data does) and checks every value they were handed against the clock at the moment of the call.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit import make_bars, nyse_sessions, run, scripted

from agentrt import Strategy

NY = "America/New_York"
CALENDAR = nyse_sessions("2012-01-03", 70)
DATA_FROM = 5  # the data starts on the 6th session of CALENDAR: early iterations see no bars at all
DATA_DATES = CALENDAR[DATA_FROM:]
CLOSES = {d: 100.0 + i for i, d in enumerate(DATA_DATES)}  # a distinct close per session identifies the bar
DATA = make_bars([(c - 0.5, c + 1.0, c - 1.0, c) for c in CLOSES.values()], DATA_DATES)
SESSION_CLOSE = {d: pd.Timestamp(f"{d} 16:00", tz=NY) for d in DATA_DATES}  # no half day in Jan..Apr 2012

HOOKS = ("before_market_opens", "before_starting_trading", "before_market_closes", "on_trading_iteration",
         "after_market_closes")
CALLS = ("history_df", "history_arrays", "history_records", "last_price", "quote", "last_prices")


def visible_dates(now: pd.Timestamp) -> list[str]:
    """Data sessions whose bar has closed at `now`."""
    return [d for d in DATA_DATES if SESSION_CLOSE[d] <= now]


def observe(strategy: Strategy, kind: str, length: int) -> dict:
    now = strategy.get_datetime()
    obs = {"now": pd.Timestamp(now), "kind": kind, "length": length}
    if kind == "history_df":
        bars = strategy.get_historical_prices("TEST", length)
        df = bars.df
        obs.update(index=list(df.index), closes=list(df["close"]), end_ns=[int(x) for x in bars.end_ns])
    elif kind == "history_arrays":
        bars = strategy.get_historical_prices("TEST", length)
        obs.update(closes=[float(x) for x in bars.close], end_ns=[int(x) for x in bars.end_ns],
                   index=[pd.Timestamp(int(x), tz="UTC").tz_convert(NY) for x in bars.start_ns],
                   last=bars.get_last_price())
    elif kind == "history_records":
        rows = strategy.get_historical_prices("TEST", length).to_records()
        obs.update(index=[pd.Timestamp(r["datetime"]) for r in rows], closes=[r["close"] for r in rows])
    elif kind == "last_price":
        obs["last"] = strategy.get_last_price("TEST")
    elif kind == "quote":
        quote = strategy.get_quote("TEST")
        obs.update(last=quote.last, bid=quote.bid, ask=quote.ask, quote_time=pd.Timestamp(quote.time))
    elif kind == "last_prices":
        obs["last"] = strategy.get_last_prices(["TEST"])["TEST"]
    return obs


def check(obs: dict) -> None:
    now = obs["now"]
    seen = visible_dates(now)
    expected_last = CLOSES[seen[-1]] if seen else None
    if "index" in obs:
        assert len(obs["index"]) == min(obs["length"], len(seen)), obs
        for stamp in obs["index"]:  # bar starts: never after now, never a session after today
            assert stamp <= now and stamp.date() <= now.date(), obs
        assert obs["closes"] == [CLOSES[d] for d in seen[len(seen) - len(obs["closes"]):]], obs
    if "end_ns" in obs:
        assert all(end <= now.value for end in obs["end_ns"]), obs
    if "last" in obs:
        assert obs["last"] == expected_last, obs
    if "quote_time" in obs:
        assert obs["quote_time"] == now and obs["bid"] == obs["ask"] == expected_last, obs
    # the bar of today's session is visible exactly from its close on
    today = now.date().isoformat()
    if today in CLOSES and "closes" in obs and obs["closes"]:
        assert (obs["closes"][-1] == CLOSES[today]) == (now >= SESSION_CLOSE[today]), obs


def make_strategy(plan: list[tuple[str, str, int]], sleeptime: str) -> type:
    def hook(name):
        def call(self):
            for where, kind, length in plan:
                if where == name:
                    self.vars.obs.append(observe(self, kind, length))
        return call

    hooks = {name: hook(name) for name in HOOKS if name != "on_trading_iteration"}
    iterate = hook("on_trading_iteration")
    cls = scripted({}, sleeptime=sleeptime, init=lambda self: setattr(self.vars, "obs", []), **hooks)
    cls.on_trading_iteration = lambda self: iterate(self)
    return cls


plans = st.lists(st.tuples(st.sampled_from(HOOKS), st.sampled_from(CALLS), st.integers(1, 40)),
                 min_size=1, max_size=6)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans, first=st.integers(0, 50), days=st.integers(1, 15), sleeptime=st.sampled_from(["1D", "2D"]))
def test_no_public_data_call_returns_a_bar_after_the_clock(plan, first, days, sleeptime):
    start, end = CALENDAR[first], CALENDAR[min(max(first + days, DATA_FROM), len(CALENDAR) - 1)]
    cls = make_strategy(plan, sleeptime)
    run(cls, DATA, start, end)
    observations = cls.instance.vars.obs
    assert observations, "the plan made no calls"
    for obs in observations:
        check(obs)


def test_future_bars_exist_in_the_source_but_are_unreachable_at_each_hook():
    day = DATA_DATES[3]
    seen = {}

    def grab(name):
        def call(self):
            if self.get_datetime().date().isoformat() != day:
                return
            bars = self.get_historical_prices("TEST", 10_000)
            seen[name] = (len(bars), bars.df.index[-1].date().isoformat(), self.get_last_price("TEST"),
                          self.get_quote("TEST").last, bars.close[-1], len(bars.to_records()))
        return call

    cls = scripted({}, **{h: grab(h) for h in HOOKS if h != "on_trading_iteration"})
    cls.on_trading_iteration = lambda self: grab("on_trading_iteration")(self)
    run(cls, DATA, DATA_DATES[0], DATA_DATES[-1])
    assert len(DATA.frame("TEST")) == len(DATA_DATES)  # the future is there, in the source
    before = (3, DATA_DATES[2], CLOSES[DATA_DATES[2]], CLOSES[DATA_DATES[2]], CLOSES[DATA_DATES[2]], 3)
    after = (4, day, CLOSES[day], CLOSES[day], CLOSES[day], 4)
    assert seen == {
        "before_market_opens": before,
        "before_starting_trading": before,
        "before_market_closes": before,
        "on_trading_iteration": after,
        "after_market_closes": after,
    }


def test_nothing_is_visible_before_the_first_bar_closes():
    seen = []

    def look(self):
        seen.append((self.get_last_price("TEST"), len(self.get_historical_prices("TEST", 5)),
                     self.get_quote("TEST").last, len(self.get_historical_prices("TEST", 5).df)))

    cls = scripted({0: look})
    run(cls, DATA, CALENDAR[0], CALENDAR[DATA_FROM])
    assert seen == [(None, 0, None, 0)]


def test_intraday_history_is_clipped_to_bars_that_ended_by_now():
    idx = pd.date_range("2012-01-03 09:30", "2012-01-03 15:59", freq="1min")
    data = make_bars([(i, i + 0.5, i - 0.5, i + 0.25) for i in range(len(idx))], [str(t) for t in idx],
                     timestep="minute")
    seen = []

    def look(self):
        now = pd.Timestamp(self.get_datetime())
        bars = self.get_historical_prices("TEST", 1_000, timestep="minute")
        seen.append((now, len(bars), [int(e) for e in bars.end_ns]))

    cls = scripted({i: look for i in range(13)}, sleeptime="30M")
    run(cls, data, "2012-01-03", "2012-01-03")
    assert [n for _, n, _ in seen] == [30 * i for i in range(13)]
    assert all(end <= now.value for now, _, ends in seen for end in ends)
