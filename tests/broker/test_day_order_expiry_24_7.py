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
