"""Daily bars stamped at UTC midnight belong to that date's session: no bar is visible before its session."""
import pandas as pd
from testkit import make_frame, nyse_sessions, run, scripted

from agentrt.data.sources import PandasData


def test_utc_midnight_daily_index_does_not_reveal_todays_bar():
    days = nyse_sessions("2012-01-03", 6)
    rows = [(100 + i, 101 + i, 99 + i, 100.5 + i) for i in range(6)]
    frame = make_frame(rows, days)
    frame.index = frame.index.tz_localize("UTC")  # 2012-01-04 00:00+00:00 means "the Jan 4 bar"
    data = PandasData({"TEST": frame})
    seen = []

    def look(self):
        bars = self.get_historical_prices("TEST", 10)
        seen.append((self.get_datetime(), bars.df.index[-1].date(), self.get_last_price("TEST")))

    cls = scripted({i: look for i in range(3)}, sleeptime="1H")  # intraday: first iteration at 09:30
    run(cls, data, days[1], days[3])
    now, last_bar_date, last = seen[0]  # 2012-01-04 09:30 New York
    assert now.date() == pd.Timestamp(days[1]).date()
    # at 09:30 on Jan 4 only the Jan 3 bar has closed
    assert last_bar_date < now.date(), f"bar dated {last_bar_date} visible at {now}"
    assert last == rows[0][3], f"last price {last} is not Jan 3's close {rows[0][3]}"
