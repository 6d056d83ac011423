"""24/7 market, daily bars: a DAY order expires at the close of its session; the next session's open cannot fill it."""
import pandas as pd
from testkit import make_frame, run, scripted

from agentrt.data.sources import PandasData


def test_day_limit_does_not_fill_after_its_session_closed():
    days = [str(d.date()) for d in pd.date_range("2021-03-01", periods=4, freq="D")]
    rows = [
        (100, 100, 100, 100),  # day 0: iteration after its close places a DAY buy limit at 90
        (100, 101, 95, 100),   # day 1: the session the order is active in; low 95 never reaches 90
        (85, 86, 84, 85),      # day 2: opens at 85, but the day order should already have expired
        (85, 86, 84, 85),
    ]
    data = PandasData({"BTC": make_frame(rows, days)})

    def init(self):
        self.set_market("24/7")

    def place(self):
        self.vars.order = self.submit_order(self.create_order("BTC", 1, "buy", limit_price=90.0,
                                                              time_in_force="day"))

    cls = scripted({0: place}, init=init)
    result = run(cls, data, days[0], days[-1])
    t = result.trades
    statuses = list(t.loc[t["event_kind"] == "trade", ["status", "price", "time"]].itertuples(index=False))
    assert cls.instance.vars.order.status.value == "expired", statuses


def test_a_day_order_placed_in_initialize_expires_at_the_markets_close_not_the_provisional_one():
    import numpy as np

    from agentrt import Strategy

    days = pd.date_range("2012-02-20", "2012-03-10", freq="D")
    px = np.linspace(100, 110, len(days))
    data = PandasData({"BTC": pd.DataFrame({"open": px, "high": px + 1, "low": px - 1, "close": px, "volume": 1.0},
                                           index=days)})

    class Early(Strategy):
        market = "24/7"

        def initialize(self):
            self.sleeptime = "1D"
            self.order = self.submit_order(self.create_order("BTC", 1, "buy", limit_price=1.0))

        def on_trading_iteration(self):
            broker = self._ctx.broker
            type(self).expiry = broker._expire_ns.get(self.order.identifier, type(self).__dict__.get("expiry"))

    Early.expiry = None
    run(Early, data, "2012-03-01", "2012-03-04")
    # the 24/7 session of 2012-03-01 closes at midnight UTC, not at the NYSE close (21:00 UTC)
    assert pd.Timestamp(Early.expiry, tz="UTC") == pd.Timestamp("2012-03-02", tz="UTC")
