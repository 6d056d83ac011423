"""The Strategy API as a LumiBot user meets it: orders, positions, strings as assets, state, hooks, errors."""

from __future__ import annotations

import pandas as pd
import pytest
from testkit import buy, make_bars, run, scripted, sell

from agentrt import Asset, SampleData, Strategy, StrategyError
from agentrt.domain import OrderClass, OrderSide, OrderStatus, OrderType, TimeInForce
from agentrt.engine.backtest import StrategyCrash

FLAT = (100.0, 100.0, 100.0, 100.0)


def test_create_order_infers_the_type_from_the_prices_given():
    s = Strategy()
    assert s.create_order("AAPL", 1, "buy").order_type is OrderType.MARKET
    assert s.create_order("AAPL", 1, "buy", limit_price=10).order_type is OrderType.LIMIT
    assert s.create_order("AAPL", 1, "sell", stop_price=9).order_type is OrderType.STOP
    assert s.create_order("AAPL", 1, "sell", stop_price=9, limit_price=8.5).order_type is OrderType.STOP_LIMIT
    assert s.create_order("AAPL", 1, "sell", trail_percent=0.05).order_type is OrderType.TRAILING_STOP
    assert s.create_order("AAPL", 1, "sell", trail_price=2).order_type is OrderType.TRAILING_STOP
    assert s.create_order("AAPL", 1, "sell", type="stop_market", stop_price=9).order_type is OrderType.STOP


def test_create_order_accepts_lumibot_spellings():
    s = Strategy()
    order = s.create_order("aapl", "3", "BUY", order_class="Bracket", time_in_force="GTC",
                           take_profit_price=12, stop_loss_price=9)
    assert (order.asset, order.quantity, order.side, order.order_class, order.time_in_force) == (
        Asset("AAPL"), 3.0, OrderSide.BUY, OrderClass.BRACKET, TimeInForce.GTC)
    assert s.create_order("AAPL", 1, "short").side is OrderSide.SELL_SHORT
    assert s.create_order("AAPL", 1, "sell").status is OrderStatus.NEW


@pytest.mark.parametrize("kwargs, message", [
    ({"quantity": "ten"}, "quantity must be a number, got 'ten'"),
    ({"quantity": float("nan")}, "quantity is NaN; check the price you sized the order with"),
    ({"side": "purchase"}, "unknown order side 'purchase'"),
    ({"time_in_force": "forever"}, "unknown time_in_force 'forever'"),
    ({"order_class": "braket"}, "Did you mean 'bracket'?"),
])
def test_create_order_rejects_bad_arguments_with_advice(kwargs, message):
    args = {"asset": "AAPL", "quantity": 1, "side": "buy"} | kwargs
    with pytest.raises(ValueError) as info:
        Strategy().create_order(**args)
    assert message in str(info.value)


def test_account_and_data_methods_outside_a_run_say_how_to_run():
    s = Strategy()
    for call in (lambda: s.cash, lambda: s.get_last_price("AAPL"), lambda: s.get_datetime(),
                 lambda: s.submit_order(s.create_order("AAPL", 1, "buy"))):
        with pytest.raises(StrategyError, match=r"Strategy\.backtest\(\.\.\.\) or run it with `agentrt backtest"):
            call()


def test_a_symbol_string_and_an_asset_are_the_same_instrument():
    seen = []

    def look(self):
        a, b = self.get_position("TEST"), self.get_position(Asset("test"))
        seen.append((a is b, a.quantity, self.get_last_price(Asset("TEST")) == self.get_last_price("TEST")))

    cls = scripted({0: lambda s: s.submit_order(s.create_order(Asset("TEST"), 5, "buy")), 1: buy("TEST", 5), 2: look})
    run(cls, make_bars([FLAT] * 3), "2012-01-03", "2012-01-05")
    assert seen == [(True, 10.0, True)]
    assert [p.symbol for p in cls.instance.get_positions()] == ["TEST"]


def test_get_orders_lists_active_orders_and_cancel_open_orders_cancels_them():
    seen = []

    def place(self):
        buy("TEST", 1, limit_price=90, time_in_force="gtc")(self)
        buy("TEST", 1, limit_price=91, time_in_force="gtc")(self)
        seen.append(len(self.get_orders()))

    def cancel(self):
        self.cancel_open_orders()
        seen.append(len(self.get_orders()))

    cls = scripted({0: place, 1: cancel})
    run(cls, make_bars([FLAT] * 3), "2012-01-03", "2012-01-05")
    assert seen == [2, 0]
    assert [o.status for o in cls.instance.vars.orders] == [OrderStatus.CANCELED] * 2
    assert cls.instance.get_order(cls.instance.vars.orders[0].identifier) is cls.instance.vars.orders[0]


def test_modify_order_moves_a_resting_limit():
    cls = scripted({0: buy("TEST", 10, limit_price=90, time_in_force="gtc"),
                    1: lambda s: s.modify_order(s.vars.orders[0], limit_price=99)})
    result = run(cls, make_bars([FLAT, FLAT, (100, 101, 98, 100)]), "2012-01-03", "2012-01-05")
    assert cls.instance.vars.orders[0].avg_fill_price == 99.0
    assert list(result.trades["price"]) == [99.0]


def test_modify_order_refuses_a_price_the_order_type_does_not_have():
    def bad(self):
        with pytest.raises(ValueError, match="is a market order; it has no limit price"):
            self.modify_order(self.vars.orders[0], limit_price=99)
        self.vars.checked = True

    cls = scripted({0: lambda s: (buy("TEST", 1)(s), bad(s))})
    run(cls, make_bars([FLAT] * 2), "2012-01-03", "2012-01-04")
    assert cls.instance.vars.checked


def test_close_position_and_sell_all_flatten_the_account():
    def close_one(self):
        self.vars.closed = self.close_position("AAA")
        self.vars.flat = self.close_position("CCC")  # nothing held: None

    def close_all(self):
        self.vars.rest = self.sell_all()

    opening = lambda s: (buy("AAA", 5)(s), buy("BBB", 7)(s), buy("BBB", 1, limit_price=1, time_in_force="gtc")(s))
    cls = scripted({0: opening, 1: close_one, 2: close_all})
    data = make_bars({"AAA": [FLAT] * 4, "BBB": [FLAT] * 4, "CCC": [FLAT] * 4})
    run(cls, data, "2012-01-03", "2012-01-06")
    strat = cls.instance
    assert strat.vars.flat is None
    assert (strat.vars.closed.side, strat.vars.closed.quantity, strat.vars.closed.status) == (
        OrderSide.SELL, 5.0, OrderStatus.FILLED)
    assert [(o.asset.symbol, o.quantity, o.status) for o in strat.vars.rest] == [("BBB", 7.0, OrderStatus.FILLED)]
    assert strat.vars.orders[2].status is OrderStatus.CANCELED  # sell_all canceled the open order first
    assert strat.get_positions() == []
    assert strat.cash == 100_000


def test_sell_order_while_a_sell_is_pending_cannot_oversell():
    cls = scripted({0: buy("TEST", 10), 1: lambda s: (sell("TEST", 6)(s), sell("TEST", 6)(s))})
    run(cls, make_bars([FLAT] * 3), "2012-01-03", "2012-01-05")
    first, second = cls.instance.vars.orders[1:]
    assert first.status is OrderStatus.FILLED
    assert second.status is OrderStatus.REJECTED and "6 already in open sell orders" in second.reject_reason


def test_historical_prices_are_copies_that_reach_no_other_bars_with_a_lazy_dataframe():
    seen = {}

    def look(self):
        bars = self.get_historical_prices("AAPL", 3)
        seen["df"] = bars.df
        seen["len"] = len(bars)
        closes = bars.close
        assert closes.base is None or len(closes.base) == 3  # no view onto the full history (or the future)
        closes[0] = 0.0  # the strategy can scribble on its copy, but cannot rewrite history
        assert self.get_historical_prices("AAPL", 3).close[0] != 0.0
        seen["quote"] = self.get_quote("AAPL")

    cls = scripted({2: look})
    run(cls, SampleData(), "2012-01-03", "2012-01-05")
    df = seen["df"]
    assert seen["len"] == 3
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert df.index.name == "datetime" and str(df.index.tz) == "America/New_York"
    assert [t.strftime("%Y-%m-%d %H:%M") for t in df.index] == ["2012-01-03 09:30", "2012-01-04 09:30",
                                                                   "2012-01-05 09:30"]
    quote = seen["quote"]
    assert quote.bid == quote.ask == quote.last == quote.mid_price == df["close"].iloc[-1]


def test_time_to_close_and_open():
    seen = []

    class Timer(Strategy):
        def before_market_opens(self):
            seen.append(("bmo", self.get_time_to_open(), self.get_time_to_close()))

        def before_market_closes(self):
            seen.append(("bmc", self.get_time_to_open(), self.get_time_to_close()))

        def on_trading_iteration(self):
            pass

    run(Timer, SampleData(), "2012-11-23", "2012-11-23")  # a half day: 09:30-13:00
    assert seen == [("bmo", 60.0, None), ("bmc", 0.0, 5.0)]


def test_set_market_validates_the_name():
    s = Strategy()
    s.set_market("nasdaq")
    assert s.market == "nasdaq"
    with pytest.raises(ValueError, match=r"use set_market\('NYSE'\) for US stocks or set_market\('24/7'\)"):
        s.set_market("moon")


def test_vars_tell_which_names_exist():
    s = Strategy()
    s.vars.a = 1
    s.vars["b"] = 2
    assert (s.vars.a, s.vars["b"], s.vars.get("c", 3), "a" in s.vars) == (1, 2, 3, True)
    with pytest.raises(AttributeError, match=r"self.vars has no 'c' \(set it in initialize\(\); known: a, b\)"):
        _ = s.vars.c
    assert s.vars.to_dict() == {"a": 1, "b": 2}


def test_on_bot_crash_receives_the_error_and_the_run_stops():
    got = []

    class Crashy(Strategy):
        def on_trading_iteration(self):
            raise KeyError("missing")

        def on_bot_crash(self, error):
            got.append(error)

    with pytest.raises(StrategyCrash, match=r"Crashy crashed at simulated time 2012-01-03T16:00:00-05:00: KeyError"):
        run(Crashy, SampleData(), "2012-01-03", "2012-01-05")
    assert len(got) == 1 and isinstance(got[0], KeyError)


def test_log_message_colors_map_to_levels(tmp_path):
    from testkit import run_to

    cls = scripted({0: lambda s: (s.log_message("plain"), s.log_message("hot", color="red"),
                                  s.log_message("hmm", color="yellow"), s.log_message("ok", color="green"))})
    result = run_to(tmp_path, cls, make_bars([FLAT]), "2012-01-03", "2012-01-03")
    logs = pd.read_csv(result.output_dir / "logs.csv")
    assert list(zip(logs["message"], logs["level"])) == [("plain", "info"), ("hot", "error"), ("hmm", "warning"),
                                                          ("ok", "info")]


def test_cash_and_portfolio_value_aliases_agree():
    seen = []

    def look(self):
        seen.append((self.cash == self.get_cash(), self.portfolio_value == self.get_portfolio_value(),
                     self.portfolio_value))

    cls = scripted({0: buy("TEST", 10), 1: look, 2: look})
    run(cls, make_bars([FLAT, FLAT, (100, 110, 100, 110)]), "2012-01-03", "2012-01-05")
    assert seen == [(True, True, 100_000.0), (True, True, 100_100.0)]
