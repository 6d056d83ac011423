"""YahooData: normalisation of yfinance frames, Parquet caching, clear errors (no network)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from agentrt.data.base import DataError, UnknownSymbolError
from agentrt.data.yahoo import YahooData


def _recorded_history() -> pd.DataFrame:
    """The shape yfinance's Ticker.history(auto_adjust=True, actions=False) returns."""
    index = pd.DatetimeIndex(
        ["2023-01-03 00:00:00-05:00", "2023-01-04 00:00:00-05:00", "2023-01-05 00:00:00-05:00"], name="Date"
    )
    return pd.DataFrame(
        {
            "Open": [128.61, 125.27, 125.50],
            "High": [129.23, 127.01, 125.86],
            "Low": [122.91, 123.46, 122.75],
            "Close": [123.63, 124.91, 123.58],
            "Volume": [112117500, 89113600, 80962700],
        },
        index=index,
    )


def test_yahoo_frame_is_normalised_and_cached(tmp_path):
    calls = []

    def fetch(symbol, start, end, adjusted):
        calls.append((symbol, adjusted))
        return _recorded_history()

    src = YahooData(cache_dir=tmp_path, fetcher=fetch, end=dt.date(2023, 1, 6))
    frame = src.frame("aapl")
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.index.tz is None and str(frame.index[0].date()) == "2023-01-03"
    assert frame["close"].iloc[-1] == pytest.approx(123.58)
    assert (tmp_path / "AAPL-adjusted.parquet").exists()
    # a new source instance reads the cache instead of fetching again
    again = YahooData(cache_dir=tmp_path, fetcher=fetch)
    pd.testing.assert_frame_equal(again.frame("AAPL"), frame, check_freq=False)
    assert calls == [("AAPL", True)]
    assert "AAPL" in again.symbols()


def test_yahoo_unknown_symbol_and_download_errors(tmp_path):
    src = YahooData(cache_dir=tmp_path, fetcher=lambda *a: pd.DataFrame())
    with pytest.raises(UnknownSymbolError, match="no bars returned"):
        src.frame("NOPE")

    def boom(*a):
        raise ConnectionError("no route to host")

    with pytest.raises(DataError, match="could not download MSFT .*ConnectionError"):
        YahooData(cache_dir=tmp_path, fetcher=boom).frame("MSFT")


def test_yahoo_backtest_runs_on_cached_bars(tmp_path):
    from agentrt import Strategy

    src = YahooData(cache_dir=tmp_path, fetcher=lambda *a: _recorded_history())

    class Buy(Strategy):
        def on_trading_iteration(self):
            if self.first_iteration:
                self.submit_order(self.create_order("AAPL", 10, "buy"))

    result = Buy.backtest(src, "2023-01-03", "2023-01-05", show_progress=False, write_outputs=False, quiet=True)
    fills = result.trades[result.trades["status"] == "fill"]
    assert list(fills["price"]) == [125.27]  # next session's open
