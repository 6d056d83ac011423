"""Option lifecycle at expiration: exercised / assigned with delivery rows, cash_settled, expired."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from agentrt import Asset, PandasData, Strategy

EXPIRY = dt.date(2012, 1, 20)
DAYS = pd.bdate_range("2012-01-03", "2012-01-31")


def _flat(prices):
    return pd.DataFrame({"open": prices, "high": prices, "low": prices, "close": prices, "volume": 1e3}, index=DAYS)


def _option(symbol, right, strike=105):
    return Asset(symbol, asset_type="option", expiration=EXPIRY, strike=strike, right=right)


def _run(data, orders, *, allow_short=False):
    class Opt(Strategy):
        def on_trading_iteration(self):
            if self.first_iteration:
                for asset, qty, side in orders:
                    self.submit_order(self.create_order(asset, qty, side))

    return Opt.backtest(data, "2012-01-03", "2012-01-31", show_progress=False, write_outputs=False, quiet=True,
                        allow_short=allow_short)


def test_long_itm_call_is_exercised_and_delivers_shares_at_the_strike():
    underlying = _flat([100.0 + i for i in range(len(DAYS))])  # 113 at expiry close
    data = PandasData({"XYZ": underlying, str(_option("XYZ", "call")): _flat([2.0] * len(DAYS)),
                       str(_option("XYZ", "put")): _flat([1.0] * len(DAYS))})
    result = _run(data, [(_option("XYZ", "call"), 2, "buy"), (_option("XYZ", "put"), 1, "buy")])
    t = result.trades
    exercised = t[t["status"] == "exercised"].iloc[0]
    assert exercised["asset_type"] == "option" and exercised["right"] == "call" and exercised["strike"] == 105
    delivery = t[(t["type"] == "exercised") & (t["status"] == "fill")].iloc[0]
    assert (delivery["symbol"], delivery["side"], delivery["price"], delivery["quantity"]) == ("XYZ", "buy", 105.0, 200.0)
    expired = t[t["status"] == "expired"].iloc[0]
    assert expired["right"] == "put" and expired["price"] == 0.0
    # cash: 100k - 400 (calls) - 100 (put) - 21,000 (200 shares at 105); shares worth 120 on the last day
    final = result.stats_frame.iloc[-1]
    assert final["cash"] == pytest.approx(78_500.0)
    assert final["portfolio_value"] == pytest.approx(78_500.0 + 200 * 120.0)


def test_short_itm_put_is_assigned():
    underlying = _flat([100.0] * len(DAYS))
    put = _option("XYZ", "put")
    data = PandasData({"XYZ": underlying, str(put): _flat([6.0] * len(DAYS))})
    result = _run(data, [(put, 1, "sell")], allow_short=True)
    t = result.trades
    assert "assigned" in set(t["status"])
    delivery = t[(t["type"] == "assigned") & (t["status"] == "fill")].iloc[0]
    assert (delivery["side"], delivery["price"], delivery["quantity"]) == ("buy", 105.0, 100.0)


def test_index_option_is_cash_settled_at_intrinsic_value():
    index = _flat([1300.0] * len(DAYS))
    call = Asset("SPX", asset_type="option", expiration=EXPIRY, strike=1290, right="call")
    data = PandasData({"SPX": index, str(call): _flat([12.0] * len(DAYS))})
    result = _run(data, [(call, 1, "buy")])
    row = result.trades[result.trades["status"] == "cash_settled"].iloc[0]
    assert row["price"] == pytest.approx(10.0)
    assert result.stats_frame.iloc[-1]["cash"] == pytest.approx(100_000 - 1_200 + 1_000)
    assert result.stats_frame.iloc[-1]["positions_value"] == pytest.approx(0.0)
