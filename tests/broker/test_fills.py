"""SimBroker fills on hand-built daily bars: every order type, gaps, linked orders, statuses, fees,
slippage, callbacks and cash events.

Layout of every case: the strategy iterates after each session's close (16:00 New York) and sees
that session's bar; an order submitted there becomes active with the next session's bar. Rows are
(open, high, low, close) on consecutive NYSE sessions from 2012-01-03 (Tue), so D[1] = 2012-01-04.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from testkit import buy, make_bars, nyse_sessions, run, run_to, scripted, sell

from agentrt.domain import Asset, OrderStatus, TradingFee

NY = "America/New_York"
D = nyse_sessions("2012-01-03", 8)
FLAT = (100.0, 100.0, 100.0, 100.0)


def at(day: int, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{D[day]} {hhmm}", tz=NY)


def trade_rows(result, status: str | None = None) -> pd.DataFrame:
    rows = result.trades[result.trades["event_kind"] == "trade"]
    return rows if status is None else rows[rows["status"] == status]


def backtest(steps, rows, **kw):
    """Run a scripted strategy over `rows` (one per session from D[0]); returns (result, strategy)."""
    hooks = {k: kw.pop(k) for k in list(kw) if k.startswith("on_") or k in ("init", "sleeptime")}
    cls = scripted(steps, **hooks)
    result = run(cls, make_bars(rows), D[0], D[len(rows) - 1], **kw)
    return result, cls.instance


# ----------------------------------------------------------------------------------------------
# market orders
# ----------------------------------------------------------------------------------------------
def test_market_order_fills_at_next_session_open():
    result, strat = backtest({0: buy("TEST", 10)}, [FLAT, (103, 106, 101, 105)])
    fill = trade_rows(result, "fill").iloc[0]
    assert (fill["price"], fill["quantity"], fill["time"]) == (103.0, 10.0, at(1, "09:30"))
    assert strat.get_position("TEST").quantity == 10
    assert strat.get_position("TEST").avg_fill_price == 103.0
    assert strat.cash == 100_000 - 1_030


def test_market_order_is_not_filled_at_the_close_it_was_sized_on():
    seen = []

    def look(self):
        seen.append((self.get_position("TEST"), self.get_orders()[0].status))

    _, _ = backtest({0: lambda s: (buy("TEST", 10)(s), look(s))}, [FLAT, (103, 106, 101, 105)])
    assert seen == [(None, OrderStatus.OPEN)]


def test_fill_at_close_fills_market_order_at_the_current_close():
    seen = []

    def step(self):
        buy("TEST", 10)(self)
        seen.append(self.get_position("TEST").quantity)

    result, strat = backtest({0: step}, [(98, 101, 97, 100), (103, 106, 101, 105)], fill_at="close")
    fill = trade_rows(result, "fill").iloc[0]
    assert (fill["price"], fill["time"]) == (100.0, at(0, "16:00"))
    assert seen == [10]  # filled within the same iteration
    assert strat.cash == 100_000 - 1_000


def test_market_sell_fills_at_next_open():
    result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10)}, [FLAT, FLAT, (97, 99, 96, 98)])
    sold = trade_rows(result, "fill").iloc[1]
    assert (sold["side"], sold["price"], sold["time"]) == ("sell", 97.0, at(2, "09:30"))
    assert strat.get_position("TEST") is None
    assert strat.cash == 100_000 - 1_000 + 970


# ----------------------------------------------------------------------------------------------
# limit / stop / stop-limit, including gaps: one bar after the order, last visible close 100
# ----------------------------------------------------------------------------------------------
BUY_CASES = [
    # id, order kwargs, the bar after submission, expected (price, time) or None
    ("limit-trades-through", {"limit_price": 98}, (103, 104, 97, 101), (98.0, "16:00")),
    ("limit-gap-open-better", {"limit_price": 98}, (95, 99, 94, 97), (95.0, "09:30")),
    ("limit-untouched", {"limit_price": 98}, (103, 104, 99, 101), None),
    ("stop-trades-through", {"stop_price": 105}, (101, 106, 100, 104), (105.0, "16:00")),
    ("stop-gap-through", {"stop_price": 105}, (108, 110, 107, 109), (108.0, "09:30")),
    ("stop-untouched", {"stop_price": 105}, (101, 104, 100, 103), None),
    ("stop-limit-triggered-in-bar", {"stop_price": 102, "limit_price": 104}, (100, 103, 99, 101), (102.0, "16:00")),
    ("stop-limit-gap-within-limit", {"stop_price": 102, "limit_price": 104}, (103, 105, 102.5, 104), (103.0, "09:30")),
    ("stop-limit-gap-beyond-limit", {"stop_price": 102, "limit_price": 104}, (108, 109, 107, 108), None),
    ("stop-limit-untouched", {"stop_price": 102, "limit_price": 104}, (100, 101, 99, 100), None),
]


@pytest.mark.parametrize("kw, bar, expected", [c[1:] for c in BUY_CASES], ids=[c[0] for c in BUY_CASES])
def test_buy_order_fill_price(kw, bar, expected):
    result, strat = backtest({0: buy("TEST", 10, **kw)}, [FLAT, bar])
    fills = trade_rows(result, "fill")
    order = strat.vars.orders[0]
    if expected is None:
        assert fills.empty
        assert order.status is OrderStatus.EXPIRED  # a day order, untouched during its session
        assert strat.get_position("TEST") is None
    else:
        price, hhmm = expected
        assert list(zip(fills["price"], fills["time"])) == [(price, at(1, hhmm))]
        assert order.status is OrderStatus.FILLED and order.avg_fill_price == price
        assert strat.cash == pytest.approx(100_000 - 10 * price)


SELL_CASES = [
    ("limit-trades-through", {"limit_price": 105}, (101, 106, 100, 102), (105.0, "16:00")),
    ("limit-gap-open-better", {"limit_price": 105}, (108, 109, 107, 108), (108.0, "09:30")),
    ("limit-untouched", {"limit_price": 105}, (101, 104, 100, 102), None),
    ("stop-trades-through", {"stop_price": 95}, (99, 100, 94, 96), (95.0, "16:00")),
    ("stop-gap-through", {"stop_price": 95}, (90, 91, 89, 90), (90.0, "09:30")),
    ("stop-untouched", {"stop_price": 95}, (99, 100, 96, 97), None),
    ("stop-limit-triggered-in-bar", {"stop_price": 98, "limit_price": 96}, (99, 100, 97, 98), (98.0, "16:00")),
    ("stop-limit-gap-within-limit", {"stop_price": 98, "limit_price": 96}, (97, 98, 96.5, 97), (97.0, "09:30")),
    ("stop-limit-gap-beyond-limit", {"stop_price": 98, "limit_price": 96}, (94, 95, 93, 94), None),
]


@pytest.mark.parametrize("kw, bar, expected", [c[1:] for c in SELL_CASES], ids=[c[0] for c in SELL_CASES])
def test_sell_order_fill_price(kw, bar, expected):
    result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10, **kw)}, [FLAT, FLAT, bar])
    sells = trade_rows(result, "fill").query("side == 'sell'")
    order = strat.vars.orders[1]
    if expected is None:
        assert sells.empty
        assert order.status is OrderStatus.EXPIRED
        assert strat.get_position("TEST").quantity == 10
    else:
        price, hhmm = expected
        assert list(zip(sells["price"], sells["time"])) == [(price, at(2, hhmm))]
        assert strat.get_position("TEST") is None
        assert strat.cash == pytest.approx(100_000 - 1_000 + 10 * price)


def test_stop_limit_triggers_first_then_fills_at_its_limit_on_a_later_bar():
    # buy stop 102 / limit 101: bar 1 triggers (high 103) but the stop is above the limit; bar 2 trades down to 101
    rows = [FLAT, (100, 103, 100.5, 102), (102, 102.5, 100.5, 101)]
    result, _strat = backtest({0: buy("TEST", 10, stop_price=102, limit_price=101, time_in_force="gtc")}, rows)
    fills = trade_rows(result, "fill")
    assert list(zip(fills["price"], fills["time"])) == [(101.0, at(2, "16:00"))]


def test_stop_limit_gapped_beyond_its_limit_stays_open_until_price_returns():
    rows = [FLAT, (108, 109, 107, 108), (108, 109, 107, 108), (105, 106, 103.5, 104)]
    result, _strat = backtest({0: buy("TEST", 10, stop_price=102, limit_price=104, time_in_force="gtc")}, rows)
    fills = trade_rows(result, "fill")
    assert list(zip(fills["price"], fills["time"])) == [(104.0, at(3, "16:00"))]


# ----------------------------------------------------------------------------------------------
# trailing stops
# ----------------------------------------------------------------------------------------------
def _trail_levels(self):
    self.vars.seen.append(self.vars.orders[1].trail_stop_price if len(self.vars.get("orders") or []) > 1 else None)


def test_trailing_stop_by_price_follows_the_highs_and_fills_at_the_stop():
    rows = [FLAT, FLAT, (101, 110, 100, 109), (109, 112, 108, 111), (111, 111, 106, 107), (107, 107, 107, 107)]

    def trail(self):
        sell("TEST", 10, trail_price=5, time_in_force="gtc")(self)
        _trail_levels(self)

    result, strat = backtest({0: buy("TEST", 10), 1: trail, 2: _trail_levels, 3: _trail_levels,
                              4: _trail_levels}, rows)
    assert strat.vars.seen == [95.0, 105.0, 107.0, 107.0]  # 100-5, then high 110-5, then 112-5
    sold = trade_rows(result, "fill").query("side == 'sell'")
    assert list(zip(sold["price"], sold["time"])) == [(107.0, at(4, "16:00"))]
    assert strat.vars.orders[1].status is OrderStatus.FILLED


def test_trailing_stop_by_percent_gapped_through_fills_at_the_open():
    rows = [FLAT, FLAT, (101, 110, 100, 110), (90, 91, 89, 90)]

    def trail(self):
        sell("TEST", 10, trail_percent=0.10, time_in_force="gtc")(self)
        _trail_levels(self)

    result, strat = backtest({0: buy("TEST", 10), 1: trail, 2: _trail_levels}, rows)
    assert strat.vars.seen == [90.0, 99.0]  # 10 % under 100, then under the high of 110
    sold = trade_rows(result, "fill").query("side == 'sell'")
    assert list(zip(sold["price"], sold["time"])) == [(90.0, at(3, "09:30"))]


def test_trailing_stop_is_not_lifted_by_the_high_of_the_bar_whose_low_it_checks():
    # stop at 95; this bar reaches 110 (stop would become 105) and dips to 96: no fill in this bar
    rows = [FLAT, FLAT, (101, 110, 96, 109), (109, 109, 104, 104)]
    result, _strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10, trail_price=5, time_in_force="gtc")}, rows)
    sold = trade_rows(result, "fill").query("side == 'sell'")
    assert list(zip(sold["price"], sold["time"])) == [(105.0, at(3, "16:00"))]


def test_trailing_stop_order_needs_a_trail():
    _result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10, type="trailing_stop")}, [FLAT, FLAT, FLAT])
    assert strat.vars.orders[1].status is OrderStatus.REJECTED
    assert "trail_price or trail_percent" in strat.vars.orders[1].reject_reason


# ----------------------------------------------------------------------------------------------
# bracket, OCO, OTO
# ----------------------------------------------------------------------------------------------
BRACKET = {"order_class": "bracket", "take_profit_price": 110, "stop_loss_price": 95}


def test_bracket_take_profit_fills_and_cancels_the_stop_loss():
    rows = [FLAT, (100, 101, 99, 100), (102, 111, 101, 108), (108, 109, 90, 92)]
    canceled = []
    result, strat = backtest({0: buy("TEST", 10, **BRACKET)}, rows,
                             on_canceled_order=lambda self, order: canceled.append(order.identifier))
    parent = strat.vars.orders[0]
    tp, sl = parent.child_orders
    assert parent.status is OrderStatus.FILLED and parent.avg_fill_price == 100.0
    assert (tp.status, tp.avg_fill_price, sl.status) == (OrderStatus.FILLED, 110.0, OrderStatus.CANCELED)
    assert tp.parent_identifier == sl.parent_identifier == parent.identifier
    fills = trade_rows(result, "fill")
    assert list(zip(fills["side"], fills["price"], fills["time"])) == [
        ("buy", 100.0, at(1, "09:30")), ("sell", 110.0, at(2, "16:00"))]
    cancel = trade_rows(result, "canceled").iloc[0]
    assert cancel["identifier"] == sl.identifier and tp.identifier in cancel["reason"]
    assert canceled == [sl.identifier]
    assert strat.get_position("TEST") is None
    assert strat.cash == 100_000 + 100


def test_bracket_stop_loss_fills_and_cancels_the_take_profit():
    rows = [FLAT, (100, 101, 99, 100), (99, 100, 94, 96), (96, 120, 96, 119)]
    _result, strat = backtest({0: buy("TEST", 10, **BRACKET)}, rows)
    tp, sl = strat.vars.orders[0].child_orders
    assert (sl.status, sl.avg_fill_price, tp.status) == (OrderStatus.FILLED, 95.0, OrderStatus.CANCELED)
    assert strat.cash == 100_000 - 50


def test_bracket_stop_loss_gapped_through_fills_at_the_open():
    rows = [FLAT, (100, 101, 99, 100), (90, 92, 88, 91)]
    _result, strat = backtest({0: buy("TEST", 10, **BRACKET)}, rows)
    tp, sl = strat.vars.orders[0].child_orders
    assert sl.avg_fill_price == 90.0 and sl.updated_at == at(2, "09:30")
    assert tp.status is OrderStatus.CANCELED


def test_bracket_exits_watch_the_rest_of_the_entry_bar():
    rows = [FLAT, (100, 111, 99, 105)]  # entry at the open (100), then the bar reaches 111
    _result, strat = backtest({0: buy("TEST", 10, **BRACKET)}, rows)
    tp, _ = strat.vars.orders[0].child_orders
    assert (tp.status, tp.avg_fill_price, tp.updated_at) == (OrderStatus.FILLED, 110.0, at(1, "16:00"))


def test_bracket_bar_reaching_both_exits_counts_as_the_stop_loss():
    # the bar's high passes the take profit and its low the stop loss; which came first is unknown
    rows = [FLAT, (100, 101, 99, 100), (100, 111, 94, 100)]
    _result, strat = backtest({0: buy("TEST", 10, **BRACKET)}, rows)
    tp, sl = strat.vars.orders[0].child_orders
    assert (sl.status, sl.avg_fill_price, tp.status) == (OrderStatus.FILLED, 95.0, OrderStatus.CANCELED)


def test_linked_exits_fill_in_time_order_when_one_step_covers_many_minute_bars():
    # 1-minute bars, iterations every 30 minutes: the stop is hit at 10:35, the target at 10:50,
    # both inside the 10:30-11:00 step; the stop came first and must win
    idx = pd.date_range("2012-01-03 09:30", "2012-01-03 15:59", freq="1min")
    special = {"10:35": (100, 100, 94, 96), "10:50": (100, 111, 100, 105)}
    rows = [special.get(t.strftime("%H:%M"), (100, 100.5, 99.5, 100)) for t in idx]
    data = make_bars(rows, [str(t) for t in idx], timestep="minute")
    cls = scripted({1: buy("TEST", 10, **BRACKET)}, sleeptime="30M")  # submitted at 10:00
    result = run(cls, data, "2012-01-03", "2012-01-03")
    fills = trade_rows(result, "fill")
    assert list(zip(fills["type"], fills["price"], fills["time"])) == [
        ("market", 100.0, pd.Timestamp("2012-01-03 10:00", tz=NY)),
        ("stop", 95.0, pd.Timestamp("2012-01-03 10:36", tz=NY)),  # the end of the 10:35 bar
    ]
    tp, _sl = cls.instance.vars.orders[0].child_orders
    assert tp.status is OrderStatus.CANCELED


def test_bracket_needs_both_exit_prices():
    _result, strat = backtest({0: buy("TEST", 10, order_class="bracket", take_profit_price=110)}, [FLAT, FLAT])
    order = strat.vars.orders[0]
    assert order.status is OrderStatus.REJECTED
    assert "take_profit_price and stop_loss_price" in order.reject_reason


def test_oco_exits_an_existing_position_and_the_other_leg_is_canceled():
    rows = [FLAT, FLAT, (100, 101, 99, 100), (99, 100, 94, 96), (96, 96, 96, 96)]
    oco = {"order_class": "oco", "take_profit_price": 110, "stop_loss_price": 95, "time_in_force": "gtc"}
    _result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10, **oco)}, rows)
    parent = strat.vars.orders[1]
    tp, sl = parent.child_orders
    assert (sl.status, sl.avg_fill_price, tp.status) == (OrderStatus.FILLED, 95.0, OrderStatus.CANCELED)
    assert parent.status is OrderStatus.FILLED and parent.avg_fill_price == 95.0
    assert strat.get_position("TEST") is None
    assert strat.get_orders() == []


def test_oto_places_its_one_exit_after_the_entry_fills():
    rows = [FLAT, (100, 101, 99, 100), (102, 111, 101, 108)]
    seen = []
    _result, strat = backtest({0: buy("TEST", 10, order_class="oto", take_profit_price=110),
                              1: lambda self: seen.append([o.identifier for o in self.get_orders()])}, rows)
    parent = strat.vars.orders[0]
    assert [c.order_type.value for c in parent.child_orders] == ["limit"]
    assert seen == [[parent.child_orders[0].identifier]]  # the exit was working after the entry filled
    assert parent.child_orders[0].avg_fill_price == 110.0
    assert strat.get_position("TEST") is None


def test_canceling_an_oco_cancels_both_legs():
    oco = {"order_class": "oco", "take_profit_price": 110, "stop_loss_price": 95, "time_in_force": "gtc"}

    def cancel(self):
        self.cancel_order(self.vars.orders[1])

    _result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10, **oco), 2: cancel}, [FLAT] * 4)
    parent = strat.vars.orders[1]
    assert [c.status for c in parent.child_orders] == [OrderStatus.CANCELED, OrderStatus.CANCELED]
    assert parent.status is OrderStatus.CANCELED
    assert strat.get_position("TEST").quantity == 10


def test_canceling_one_oco_leg_cancels_the_pair_and_its_parent():
    oco = {"order_class": "oco", "take_profit_price": 110, "stop_loss_price": 95, "time_in_force": "gtc"}

    def cancel_leg(self):
        self.cancel_order(self.vars.orders[1].child_orders[0])

    _result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10, **oco), 2: cancel_leg}, [FLAT] * 4)
    parent = strat.vars.orders[1]
    assert [c.status for c in parent.child_orders] == [OrderStatus.CANCELED, OrderStatus.CANCELED]
    assert parent.status is OrderStatus.CANCELED
    assert strat.get_orders() == []


# ----------------------------------------------------------------------------------------------
# statuses and reasons
# ----------------------------------------------------------------------------------------------
def test_order_status_goes_new_open_filled():
    seen = []

    def submit(self):
        order = self.create_order("TEST", 10, "buy")
        seen.append(order.status)
        self.submit_order(order)
        seen.append(order.status)
        self.vars.order = order

    backtest({0: submit, 1: lambda self: seen.append(self.vars.order.status)}, [FLAT, FLAT])
    assert seen == [OrderStatus.NEW, OrderStatus.OPEN, OrderStatus.FILLED]


def test_canceled_order_reports_status_reason_and_callback():
    received = []

    def cancel(self):
        self.cancel_order(self.vars.orders[0])

    result, strat = backtest({0: buy("TEST", 10, limit_price=90, time_in_force="gtc"), 1: cancel}, [FLAT] * 3,
                             on_canceled_order=lambda self, order: received.append(order))
    order = strat.vars.orders[0]
    assert order.status is OrderStatus.CANCELED
    assert received == [order]
    row = trade_rows(result, "canceled").iloc[0]
    assert (row["reason"], row["time"]) == ("canceled by strategy", at(1, "16:00"))


def test_day_order_expires_at_the_close_of_its_first_session():
    seen = []
    result, _strat = backtest({0: buy("TEST", 10, limit_price=90),
                              1: lambda self: seen.append(self.vars.orders[0].status)}, [FLAT] * 3)
    assert seen == [OrderStatus.EXPIRED]
    row = trade_rows(result, "expired").iloc[0]
    assert row["time"] == at(1, "16:00")
    assert "day order" in row["reason"]


def test_gtc_order_stays_open_across_sessions():
    seen = []
    look = lambda self: seen.append(self.vars.orders[0].status)
    result, _strat = backtest({0: buy("TEST", 10, limit_price=90, time_in_force="gtc"), 1: look, 2: look, 3: look},
                             [FLAT] * 4)
    assert seen == [OrderStatus.OPEN] * 3
    assert trade_rows(result).empty


def test_order_that_does_not_fit_the_cash_is_rejected_at_submission():
    seen = []

    def step(self):
        order = self.submit_order(self.create_order("TEST", 2_000, "buy"))
        seen.append((order.status, order.reject_reason))

    result, strat = backtest({0: step}, [FLAT, FLAT])
    status, reason = seen[0]
    assert status is OrderStatus.REJECTED
    assert "insufficient buying power" in reason and "200,000.00" in reason and "100,000.00" in reason
    row = trade_rows(result, "rejected").iloc[0]
    assert row["reason"] == reason and row["time"] == at(0, "16:00")
    assert strat.get_position("TEST") is None and strat.cash == 100_000


def test_open_buy_orders_reserve_buying_power():
    _result, strat = backtest({0: lambda self: (buy("TEST", 600, limit_price=100, time_in_force="gtc")(self),
                                               buy("TEST", 600, limit_price=100, time_in_force="gtc")(self))},
                             [FLAT, (101, 101, 101, 101)])
    first, second = strat.vars.orders
    assert first.status is OrderStatus.OPEN
    assert second.status is OrderStatus.REJECTED and "40,000.00" in second.reject_reason


def test_selling_more_than_held_is_rejected_when_shorting_is_off():
    _result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 15)}, [FLAT] * 3)
    order = strat.vars.orders[1]
    assert order.status is OrderStatus.REJECTED
    assert "holding 10" in order.reject_reason and "allow_short=True" in order.reject_reason
    assert strat.get_position("TEST").quantity == 10


def test_short_selling_is_allowed_with_allow_short():
    _result, strat = backtest({0: sell("TEST", 10)}, [FLAT, (101, 101, 101, 101)], allow_short=True)
    assert strat.vars.orders[0].status is OrderStatus.FILLED
    assert strat.get_position("TEST").quantity == -10
    assert strat.cash == 100_000 + 1_010
    assert strat.portfolio_value == 100_000 + 1_010 - 1_010


@pytest.mark.parametrize("qty, reason", [(0, "quantity must be positive"), (-5, "quantity must be positive")])
def test_non_positive_quantity_is_rejected(qty, reason):
    _result, strat = backtest({0: buy("TEST", qty)}, [FLAT, FLAT])
    assert strat.vars.orders[0].status is OrderStatus.REJECTED
    assert reason in strat.vars.orders[0].reject_reason


def test_order_for_an_asset_missing_from_the_data_is_rejected():
    _result, strat = backtest({0: buy("NOPE", 1)}, [FLAT, FLAT])
    assert strat.vars.orders[0].status is OrderStatus.REJECTED
    assert "NOPE" in strat.vars.orders[0].reject_reason


def test_faq_all_in_market_buy_fills_through_a_gap_up_leaving_small_negative_cash(tmp_path):
    # the LumiBot FAQ example: qty = self.portfolio_value // price, market buy, next open gaps up 1 %
    def all_in(self):
        price = self.get_last_price("TEST")
        qty = self.portfolio_value // price
        self.vars.orders = [self.submit_order(self.create_order("TEST", qty, "buy"))]

    cls = scripted({0: all_in})
    result = run_to(tmp_path, cls, make_bars([FLAT, (101, 102, 100, 101)]), D[0], D[1])
    order = cls.instance.vars.orders[0]
    assert order.status is OrderStatus.FILLED and order.quantity == 1_000 and order.avg_fill_price == 101.0
    assert cls.instance.cash == -1_000.0
    logs = pd.read_csv(result.output_dir / "logs.csv")
    warning = logs[logs["message"].str.contains("cash is negative")]
    assert list(warning["level"]) == ["warning"]
    assert "-1,000.00" in warning["message"].iloc[0]


# ----------------------------------------------------------------------------------------------
# fees and slippage
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fees, expected", [
    ([TradingFee(percent_fee=0.001)], 1.0),  # 0.1 % of 1,000
    ([TradingFee(per_share_fee=0.05)], 0.5),  # 10 shares
    ([TradingFee(flat_fee=2.0)], 2.0),
    ([TradingFee(per_contract_fee=9.0)], 0.0),  # stocks are not contracts
    ([TradingFee(percent_fee=0.001), TradingFee(flat_fee=2.0, per_share_fee=0.05)], 3.5),
], ids=["percent", "per-share", "flat", "per-contract-not-on-stock", "combined"])
def test_buy_fee_is_charged_on_the_fill(fees, expected):
    result, strat = backtest({0: buy("TEST", 10)}, [FLAT, FLAT], buy_trading_fees=fees)
    fill = trade_rows(result, "fill").iloc[0]
    assert fill["fees"] == pytest.approx(expected)
    assert strat.cash == pytest.approx(100_000 - 1_000 - expected)


def test_buy_and_sell_fee_lists_apply_separately():
    result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 10)}, [FLAT] * 3,
                             buy_trading_fees=[TradingFee(flat_fee=1.0)], sell_trading_fees=[TradingFee(flat_fee=7.0)])
    fills = trade_rows(result, "fill")
    assert list(zip(fills["side"], fills["fees"])) == [("buy", 1.0), ("sell", 7.0)]
    assert strat.cash == 100_000 - 8.0


def test_per_contract_fee_and_multiplier_on_a_future():
    es = Asset("ES", asset_type="future", multiplier=50)
    fee = TradingFee(per_contract_fee=2.5, per_share_fee=1.0)
    got = []
    cls = scripted({0: lambda self: self.submit_order(self.create_order(es, 2, "buy"))},
                   on_filled_order=lambda self, pos, order, price, qty, mult: got.append((price, qty, mult)))
    result = run(cls, make_bars({"ES": [FLAT, (101, 101, 101, 101), (103, 103, 103, 103)]}), D[0], D[2],
                 buy_trading_fees=[fee])
    fill = trade_rows(result, "fill").iloc[0]
    assert (fill["fees"], fill["multiplier"], fill["asset_type"]) == (5.0, 50.0, "future")
    assert got == [(101.0, 2.0, 50.0)]
    strat = cls.instance
    assert strat.cash == 100_000 - 2 * 101 * 50 - 5.0
    assert strat.portfolio_value == strat.cash + 2 * 103 * 50


def test_per_contract_fee_and_multiplier_on_an_option():
    call = Asset("SPY", asset_type="option", expiration=dt.date(2012, 3, 16), strike=130, right="call")
    fee = TradingFee(per_contract_fee=0.65, percent_fee=0.001)
    cls = scripted({0: lambda self: self.submit_order(self.create_order(call, 3, "buy"))})
    data = make_bars({str(call): [(2.4, 2.6, 2.3, 2.5), (2.5, 2.7, 2.4, 2.6)]})
    result = run(cls, data, D[0], D[1], buy_trading_fees=[fee])
    fill = trade_rows(result, "fill").iloc[0]
    assert fill["multiplier"] == 100.0
    assert fill["fees"] == pytest.approx(3 * 0.65 + 0.001 * 3 * 2.5 * 100)
    assert cls.instance.cash == pytest.approx(100_000 - 3 * 2.5 * 100 - fill["fees"])


def test_maker_and_taker_flags_select_which_fills_pay():
    taker_only = TradingFee(flat_fee=3.0, maker=False)
    maker_only = TradingFee(flat_fee=4.0, taker=False)
    rows = [FLAT, FLAT, (100, 100, 97, 99), (101, 101, 101, 101)]
    # market buy (taker), resting limit buy filled inside the bar at its limit (maker), market sell (taker)
    result, _strat = backtest({0: buy("TEST", 10), 1: buy("TEST", 10, limit_price=98), 2: sell("TEST", 20)}, rows,
                             buy_trading_fees=[taker_only, maker_only], sell_trading_fees=[taker_only, maker_only])
    fills = trade_rows(result, "fill")
    assert list(zip(fills["type"], fills["price"], fills["fees"])) == [
        ("market", 100.0, 3.0), ("limit", 98.0, 4.0), ("market", 101.0, 3.0)]


def test_limit_order_marketable_at_the_open_pays_the_taker_fee():
    result, _ = backtest({0: buy("TEST", 10, limit_price=98)}, [FLAT, (95, 99, 94, 97)],
                         buy_trading_fees=[TradingFee(flat_fee=3.0, maker=False), TradingFee(flat_fee=4.0, taker=False)])
    fill = trade_rows(result, "fill").iloc[0]
    assert (fill["price"], fill["fees"]) == (95.0, 3.0)


def test_slippage_moves_market_and_stop_fills_against_the_trader_but_not_limits():
    rows = [FLAT, FLAT, (99, 100, 97, 98), (98, 98, 98, 98), (98, 106, 98, 104)]
    steps = {0: buy("TEST", 10), 1: buy("TEST", 10, limit_price=98), 2: sell("TEST", 20),
             3: buy("TEST", 10, stop_price=105)}
    result, _strat = backtest(steps, rows, slippage_bps=10)
    fills = trade_rows(result, "fill")
    assert list(fills["type"]) == ["market", "limit", "market", "stop"]
    assert list(fills["price"]) == pytest.approx([100 * 1.001, 98.0, 98 * 0.999, 105 * 1.001])


# ----------------------------------------------------------------------------------------------
# callbacks and cash events
# ----------------------------------------------------------------------------------------------
def test_on_filled_order_receives_position_order_price_quantity_multiplier():
    got = []

    def on_filled_order(self, position, order, price, quantity, multiplier):
        got.append((position.quantity, order.identifier, order.status, price, quantity, multiplier,
                    self.get_datetime()))

    _result, strat = backtest({0: buy("TEST", 10), 1: sell("TEST", 4)}, [FLAT, (103, 104, 102, 103), (99, 99, 99, 99)],
                             on_filled_order=on_filled_order)
    first, second = strat.vars.orders
    assert got == [
        (10, first.identifier, OrderStatus.FILLED, 103.0, 10.0, 1.0, at(1, "09:30")),
        (6, second.identifier, OrderStatus.FILLED, 99.0, 4.0, 1.0, at(2, "09:30")),
    ]


def test_cash_events_are_recorded_in_the_trades_event_stream():
    steps = {
        0: lambda self: self.deposit_cash(5_000, "top up"),
        1: lambda self: self.adjust_cash(105.0, "interest on cash"),
        2: lambda self: self.withdraw_cash(5_000),
        3: lambda self: self.adjust_cash(-12.5, "platform fee"),
        4: lambda self: self.adjust_cash(20.0, "div", cash_event_type="dividend"),
    }
    result, strat = backtest(steps, [FLAT] * 5)
    rows = result.trades[result.trades["event_kind"] == "cash_event"]
    got = list(zip(rows["cash_event_type"], rows["cash_event_amount"], rows["cash_event_direction"],
                   rows["is_external_cash_flow"], rows["cash_event_reason"], rows["time"]))
    assert got == [
        ("deposit", 5_000.0, "in", True, "top up", at(0, "16:00")),
        ("interest", 105.0, "in", False, "interest on cash", at(1, "16:00")),
        ("withdrawal", -5_000.0, "out", True, "withdrawal", at(2, "16:00")),
        ("fee", -12.5, "out", False, "platform fee", at(3, "16:00")),
        ("dividend", 20.0, "in", False, "div", at(4, "16:00")),
    ]
    assert strat.cash == 100_000 + 105 - 12.5 + 20


def test_cash_adjusted_value_ignores_external_flows_but_counts_interest_and_fees():
    steps = {
        1: lambda self: self.deposit_cash(5_000),
        2: lambda self: self.adjust_cash(105.0),
        3: lambda self: self.withdraw_cash(5_000),
    }
    result, _ = backtest(steps, [FLAT] * 4)
    stats = result.stats_frame
    assert list(stats["portfolio_value"]) == [100_000, 105_000, 105_105, 100_105]
    assert list(stats["cash_adjusted_value"]) == pytest.approx([100_000, 100_000, 100_100, 100_100])
    assert list(stats["return"]) == pytest.approx([0.0, 0.0, 0.001, 0.0])


@pytest.mark.parametrize("call, message", [
    (lambda s: s.deposit_cash(0), "positive amount"),
    (lambda s: s.withdraw_cash(-5), "positive amount"),
    (lambda s: s.adjust_cash(5, cash_event_type="deposit"), "deposit_cash / withdraw_cash"),
])
def test_bad_cash_event_arguments_say_what_to_use(call, message):
    from agentrt.engine.backtest import StrategyCrash

    with pytest.raises(StrategyCrash, match=message):
        backtest({0: call}, [FLAT, FLAT])
