"""Data routing by asset type: one backtest reads stocks from SampleData and crypto from another source."""

from __future__ import annotations

import pandas as pd
import pytest

from agentrt import Asset, PandasData, SampleData, Strategy
from agentrt.data.base import DataError
from agentrt.data.routing import RoutedData, resolve_data_source


def _btc() -> pd.DataFrame:
    days = pd.bdate_range("2012-03-01", "2012-03-30")
    px = [5000.0 + 10 * i for i in range(len(days))]
    return pd.DataFrame({"open": px, "high": px, "low": px, "close": px, "volume": 1.0}, index=days)


def test_routes_by_asset_type_with_loose_key_spelling():
    routed = RoutedData({"Default": SampleData(), " CRYPTO ": PandasData({"BTC": _btc()})})
    assert isinstance(routed.source_for("crypto"), PandasData)
    assert isinstance(routed.source_for("stock"), SampleData)
    assert "BTC" in routed.symbols() and "AAPL" in routed.symbols()
    assert isinstance(RoutedData({"cont-future": "sample"}).source_for("cont_future"), SampleData)
    with pytest.raises(DataError, match="unknown asset type 'bonds'"):
        RoutedData({"bonds": "sample"})


def test_backtesting_data_source_json_builds_a_routed_source(monkeypatch):
    monkeypatch.setenv("BACKTESTING_DATA_SOURCE", '{"default": "sample", "stock": "sample"}')
    assert isinstance(resolve_data_source(), RoutedData)
    with pytest.raises(DataError, match="not valid JSON"):
        resolve_data_source("{default: sample}")


def test_one_backtest_trades_a_stock_and_a_crypto_asset_from_two_sources():
    btc = Asset("BTC", asset_type="crypto", quote="USD")

    class Mixed(Strategy):
        def on_trading_iteration(self):
            if self.first_iteration:
                self.submit_order(self.create_order("AAPL", 10, "buy"))
                self.submit_order(self.create_order(btc, 2, "buy"))

    data = RoutedData({"default": SampleData(), "crypto": PandasData({"BTC": _btc()})})
    result = Mixed.backtest(data, "2012-03-01", "2012-03-30", show_progress=False, write_outputs=False, quiet=True)
    fills = result.trades[result.trades["status"] == "fill"].set_index("symbol")
    assert fills.loc["BTC", "asset_type"] == "crypto" and fills.loc["BTC", "price"] == 5010.0
    assert fills.loc["AAPL", "asset_type"] == "stock"
    last = result.stats_frame.iloc[-1]
    assert last["positions_value"] == pytest.approx(2 * _btc()["close"].iloc[-1] + 10 * SampleData().frame(
        "AAPL").loc["2012-03-30", "close"])
