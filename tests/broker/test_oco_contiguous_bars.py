"""Contiguous bars (24/7 daily, minute bars): an OCO leg hit inside bar k wins over a gap at bar k+1's open."""
import pandas as pd
from testkit import make_frame, run, scripted

from agentrt.data.sources import PandasData


def _data():
    days = [str(d.date()) for d in pd.date_range("2021-03-01", periods=5, freq="D")]
    rows = [
        (100, 100, 100, 100),  # day 0: iteration after it buys
        (100, 100, 100, 100),  # day 1: buy fills at the open; iteration after it places the OCO
        (100, 111, 100, 105),  # day 2: high 111 crosses the 110 take-profit -> should fill at 110
        (85, 86, 84, 85),      # day 3: gap down through the 90 stop
        (85, 86, 84, 85),
    ]
    return days, PandasData({"BTC": make_frame(rows, days)})


def test_oco_take_profit_reached_first_wins_on_24_7_daily_bars():
    days, data = _data()

    def init(self):
        self.set_market("24/7")

    def buy(self):
        self.submit_order(self.create_order("BTC", 1, "buy"))

    def oco(self):
        self.submit_order(self.create_order("BTC", 1, "sell", order_class="oco", take_profit_price=110.0,
                                            stop_loss_price=90.0, time_in_force="gtc"))

    cls = scripted({0: buy, 1: oco}, init=init)
    result = run(cls, data, days[0], days[-1])
    t = result.trades
    fills = t[(t["event_kind"] == "trade") & (t["status"] == "fill") & (t["side"] == "sell")]
    assert len(fills) == 1
    row = fills.iloc[0]
    # day 2's high reached 110 before day 3 opened at 85
    assert row["price"] == 110.0, f"sold at {row['price']} at {row['time']} (stop leg won on a later bar)"


def test_bracket_exits_on_minute_bars_take_profit_first():
    # minute bars 09:30.. on 2012-01-03; bracket buy at the 09:31 iteration (fills at the 09:31 open)
    n = 60
    rows = [(100, 100, 100, 100)] * n
    rows[5] = (100, 111, 100, 105)   # 09:35 bar reaches the 110 take profit
    rows[6] = (85, 86, 84, 85)       # 09:36 bar opens through the 90 stop
    frame = make_frame(rows, freq="1min", start="2012-01-03 09:30")
    data = PandasData({"TEST": frame}, timestep="minute")

    def bracket(self):
        self.submit_order(self.create_order("TEST", 1, "buy", order_class="bracket", take_profit_price=110.0,
                                            stop_loss_price=90.0, time_in_force="gtc"))

    cls = scripted({1: bracket}, sleeptime="1M")  # 09:31: the 09:30 bar has closed
    result = run(cls, data, "2012-01-03", "2012-01-03")
    t = result.trades
    sells = t[(t["event_kind"] == "trade") & (t["status"] == "fill") & (t["side"] == "sell")]
    assert len(sells) == 1
    assert sells.iloc[0]["price"] == 110.0, f"exit at {sells.iloc[0]['price']} {sells.iloc[0]['time']}"
