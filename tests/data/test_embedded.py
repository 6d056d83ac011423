"""Tests for the embedded real data files and their loaders (agentrt.data.embedded)."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agentrt.data import embedded
from agentrt.data.embedded import (
    BENCHMARK_SYMBOL,
    OHLCV_COLUMNS,
    SAMPLE_SYMBOLS,
    load_core_cpi,
    load_macro_quarterly,
    load_sample_stocks,
    load_spx,
    load_treasury_curves,
)

EMBEDDED_DIR = Path(embedded.__file__).parent / "_embedded"

# sha256 of every shipped data file, as recorded in _embedded/README.md and the NOTICE files.
EXPECTED_SHA256 = {
    "stocks.csv.gz": "5abadf99b2d394f920120a27de6f0df129859d71d4cfb0bf661bcc99446ab1fd",
    "sp500.csv.gz": "1e028cbb9c400cc018c816ccc439b33c919387e726c3ed5ca2c05c82746059de",
    "core-cpi.csv.gz": "81fc912d5967ad23f4b3722a10f76867034405354b8f03f3951ebce31e5bd412",
    "macrodata.csv": "d93c0d3a7a77ef83c3af14e46032bb1d02ae3a512b22ab94159a8ca226fcf708",
    "treasury_curves.csv.gz": "a8f5a055e5501d64b5d9cfd9f41b2863f6eeddc9ea2141241b1a0914fd69efc8",
}
NOTICE_FOR_FILE = {
    "stocks.csv.gz": "NOTICE-stocks.md",
    "sp500.csv.gz": "NOTICE-arch.md",
    "core-cpi.csv.gz": "NOTICE-arch.md",
    "macrodata.csv": "NOTICE-statsmodels.md",
    "treasury_curves.csv.gz": "NOTICE-zipline.md",
}
CACHED_PARSERS = (
    embedded._raw_stocks,
    embedded._stock_frames,
    embedded._spx_frame,
    embedded._macro_frame,
    embedded._core_cpi_frame,
    embedded._treasury_frame,
)


def _clear_caches() -> None:
    for parser in CACHED_PARSERS:
        parser.cache_clear()


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    _clear_caches()
    yield
    _clear_caches()


def _serve_stocks_csv(monkeypatch: pytest.MonkeyPatch, csv_text: str) -> None:
    real_open = embedded._open_embedded
    payload = gzip.compress(csv_text.encode())

    def fake_open(name: str) -> io.BytesIO:
        if name == "stocks.csv.gz":
            return io.BytesIO(payload)
        return real_open(name)

    monkeypatch.setattr(embedded, "_open_embedded", fake_open)


STOCKS_HEADER = "Ticker,Date,Open,High,Low,Close,Volume,Adj Close\n"


def _good_stock_rows(symbol: str) -> str:
    return (
        f"{symbol},2001-01-02,10.0,11.0,9.0,10.5,1000,5.25\n"
        f"{symbol},2001-01-03,10.5,12.0,10.0,11.0,2000,5.5\n"
    )


# --------------------------------------------------------------------------- the files


def test_embedded_files_match_recorded_checksums() -> None:
    for name, expected in EXPECTED_SHA256.items():
        assert hashlib.sha256((EMBEDDED_DIR / name).read_bytes()).hexdigest() == expected, name


def test_every_embedded_file_is_named_in_its_notice_and_the_readme() -> None:
    readme = (EMBEDDED_DIR / "README.md").read_text()
    for name, notice in NOTICE_FOR_FILE.items():
        assert f"`{name}`" in (EMBEDDED_DIR / notice).read_text(), (name, notice)
        assert f"`{name}`" in readme, name
        assert EXPECTED_SHA256[name] in readme, name


def test_notices_carry_the_licence_of_their_source_package() -> None:
    assert "Public domain" in (EMBEDDED_DIR / "NOTICE-stocks.md").read_text()
    assert "Quandl WIKI" in (EMBEDDED_DIR / "NOTICE-stocks.md").read_text()
    assert "License-Expression: NCSA" in (EMBEDDED_DIR / "NOTICE-arch.md").read_text()
    assert (
        "License-Expression: BSD-3-Clause" in (EMBEDDED_DIR / "NOTICE-statsmodels.md").read_text()
    )
    zipline_notice = (EMBEDDED_DIR / "NOTICE-zipline.md").read_text()
    assert "License-Expression: Apache-2.0" in zipline_notice
    assert "Apache License" in zipline_notice and "Version 2.0, January 2004" in zipline_notice


def test_only_listed_files_are_embedded_and_they_stay_small() -> None:
    data_files = {p.name for p in EMBEDDED_DIR.iterdir() if not p.name.endswith(".md")}
    assert data_files == set(EXPECTED_SHA256)
    total = sum((EMBEDDED_DIR / name).stat().st_size for name in data_files)
    assert total < 5_000_000


# --------------------------------------------------------------------------- stocks


def test_sample_stocks_cover_2000_to_2013_and_goog_starts_at_its_ipo() -> None:
    stocks = load_sample_stocks()
    assert tuple(stocks) == SAMPLE_SYMBOLS == ("AAPL", "MSFT", "IBM", "GOOG")
    for symbol in ("AAPL", "MSFT", "IBM"):
        assert stocks[symbol].index[0] == pd.Timestamp("2000-03-01")
        assert len(stocks[symbol]) == 3270
    assert stocks["GOOG"].index[0] == pd.Timestamp("2004-08-19")
    assert len(stocks["GOOG"]) == 2148
    for frame in stocks.values():
        assert frame.index[-1] == pd.Timestamp("2013-03-01")


@pytest.mark.parametrize("adjusted", [True, False])
def test_stock_frames_have_float_ohlcv_on_a_sorted_unique_naive_date_index(adjusted: bool) -> None:
    for symbol, frame in load_sample_stocks(adjusted=adjusted).items():
        assert tuple(frame.columns) == OHLCV_COLUMNS, symbol
        assert (frame.dtypes == np.float64).all(), symbol
        assert isinstance(frame.index, pd.DatetimeIndex)
        assert frame.index.name == "date"
        assert frame.index.tz is None
        assert frame.index.is_monotonic_increasing and frame.index.is_unique
        assert (frame.index == frame.index.normalize()).all()
        assert not frame.isna().any().any()
        assert (frame[["open", "high", "low", "close"]] > 0).all().all()


@pytest.mark.parametrize("adjusted", [True, False])
def test_stock_bars_are_ohlc_consistent(adjusted: bool) -> None:
    for symbol, frame in load_sample_stocks(adjusted=adjusted).items():
        assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all(), symbol
        assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all(), symbol


def test_adjustment_removes_the_aapl_split_jumps_that_unadjusted_prices_show() -> None:
    adjusted = load_sample_stocks()["AAPL"]["close"].pct_change()
    raw = load_sample_stocks(adjusted=False)["AAPL"]["close"].pct_change()
    for split_day in ("2005-02-28", "2000-06-21"):  # both 2:1 splits
        assert abs(adjusted.loc[split_day]) < 0.20, split_day
        assert -0.55 < raw.loc[split_day] < -0.40, split_day
    assert raw.loc["2005-02-28"] == pytest.approx(44.86 / 88.99 - 1)


def test_unadjusted_stocks_are_the_raw_file_values() -> None:
    raw = load_sample_stocks(adjusted=False)
    first = raw["AAPL"].loc["2000-03-01"]
    assert first.to_dict() == {
        "open": 118.56,
        "high": 132.06,
        "low": 118.5,
        "close": 130.31,
        "volume": 9616100.0,
    }
    assert raw["MSFT"].loc["2013-03-01", "close"] == 27.95
    assert raw["GOOG"].loc["2004-08-19", "open"] == 100.01


def test_adjusted_close_is_the_source_adjusted_close_and_dollar_volume_is_kept() -> None:
    adjusted = load_sample_stocks()
    raw = load_sample_stocks(adjusted=False)
    assert adjusted["AAPL"].loc["2000-03-01", "close"] == pytest.approx(4.186662803811, rel=1e-12)
    assert adjusted["MSFT"].loc["2013-03-01", "close"] == pytest.approx(24.684342419163, rel=1e-12)
    for symbol in SAMPLE_SYMBOLS:
        dollar_adjusted = adjusted[symbol]["close"] * adjusted[symbol]["volume"]
        dollar_raw = raw[symbol]["close"] * raw[symbol]["volume"]
        np.testing.assert_allclose(dollar_adjusted, dollar_raw, rtol=1e-9)


def test_loaders_return_copies_that_callers_may_modify() -> None:
    first = load_sample_stocks()
    first["AAPL"].loc[:, "close"] = -1.0
    first.pop("MSFT")
    again = load_sample_stocks()
    assert "MSFT" in again
    assert (again["AAPL"]["close"] > 0).all()
    for loader in (load_spx, load_macro_quarterly, load_core_cpi, load_treasury_curves):
        frame = loader()
        frame.iloc[:, 0] = -123.0
        assert (loader().iloc[:, 0] != -123.0).any(), loader.__name__


def test_rows_with_missing_or_zero_prices_are_dropped(
    monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    rows = "".join(_good_stock_rows(symbol) for symbol in SAMPLE_SYMBOLS)
    rows += "AAPL,2001-01-04,0.0,12.0,10.0,11.0,2000,5.5\nAAPL,2001-01-05,10.0,,9.0,10.0,2000,5.0\n"
    _serve_stocks_csv(monkeypatch, STOCKS_HEADER + rows)
    for adjusted in (True, False):
        frame = load_sample_stocks(adjusted=adjusted)["AAPL"]
        assert list(frame.index) == [pd.Timestamp("2001-01-02"), pd.Timestamp("2001-01-03")]
    assert load_sample_stocks()["AAPL"].loc["2001-01-02"].to_dict() == pytest.approx(
        {"open": 5.0, "high": 5.5, "low": 4.5, "close": 5.25, "volume": 2000.0}
    )


def test_a_bar_with_high_below_close_raises_naming_symbol_and_date(
    monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    rows = "".join(_good_stock_rows(symbol) for symbol in SAMPLE_SYMBOLS)
    rows += "IBM,2001-01-04,10.0,10.2,9.0,11.0,1000,5.5\n"
    _serve_stocks_csv(monkeypatch, STOCKS_HEADER + rows)
    with pytest.raises(ValueError, match=r"IBM .*2001-01-04"):
        load_sample_stocks()


def test_float_noise_in_ohlc_is_clipped_not_raised(
    monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    rows = "".join(_good_stock_rows(symbol) for symbol in SAMPLE_SYMBOLS)
    rows += "IBM,2001-01-04,10.0,10.999999999999,9.0,11.0,1000,5.5\n"
    _serve_stocks_csv(monkeypatch, STOCKS_HEADER + rows)
    bar = load_sample_stocks(adjusted=False)["IBM"].loc["2001-01-04"]
    assert bar["high"] == bar["close"] == 11.0


def test_a_file_with_unexpected_columns_is_rejected(
    monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    _serve_stocks_csv(monkeypatch, "Ticker,Date,Close\nAAPL,2001-01-02,1.0\n")
    with pytest.raises(ValueError, match=r"stocks\.csv\.gz.*expected"):
        load_sample_stocks()


def test_a_missing_embedded_file_says_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    monkeypatch.setattr(embedded, "_EMBEDDED_DIR", "_no_such_dir")
    with pytest.raises(FileNotFoundError, match="package data"):
        load_spx()


# --------------------------------------------------------------------------- S&P 500


def test_spx_covers_1999_through_2018_with_the_shipped_values() -> None:
    spx = load_spx()
    assert BENCHMARK_SYMBOL == "SPX"
    assert tuple(spx.columns) == OHLCV_COLUMNS
    assert (spx.dtypes == np.float64).all()
    assert spx.index.name == "date" and spx.index.tz is None
    assert spx.index.is_monotonic_increasing and spx.index.is_unique
    assert spx.index[0] == pd.Timestamp("1999-01-04")
    assert spx.index[-1] == pd.Timestamp("2018-12-31")
    assert len(spx) == 5031
    assert set(spx.index.year) == set(range(1999, 2019))
    assert spx.loc["1999-01-04"].to_dict() == {
        "open": 1229.22998,
        "high": 1248.810059,
        "low": 1219.099976,
        "close": 1228.099976,
        "volume": 877000000.0,
    }
    assert spx.loc["2018-12-31", "close"] == 2506.850098


def test_spx_bars_are_ohlc_consistent() -> None:
    spx = load_spx()
    assert (spx["high"] >= spx[["open", "close"]].max(axis=1)).all()
    assert (spx["low"] <= spx[["open", "close"]].min(axis=1)).all()
    assert not spx.isna().any().any()


# --------------------------------------------------------------------------- macro series


def test_macro_quarterly_is_indexed_by_quarter_end_with_the_shipped_first_row() -> None:
    macro = load_macro_quarterly()
    assert list(macro.columns) == [
        "year", "quarter", "realgdp", "realcons", "realinv", "realgovt", "realdpi",
        "cpi", "m1", "tbilrate", "unemp", "pop", "infl", "realint", "release_date",
    ]  # fmt: skip
    assert len(macro) == 203
    assert macro.index.name == "date"
    assert macro.index[0] == pd.Timestamp("1959-03-31")
    assert macro.index[-1] == pd.Timestamp("2009-09-30")
    first = macro.iloc[0]
    assert (first["year"], first["quarter"]) == (1959, 1)
    assert first["realgdp"] == 2710.349
    assert first["cpi"] == 28.98
    assert first["m1"] == 139.7
    assert first["tbilrate"] == 2.82
    assert first["unemp"] == 5.8
    assert first["release_date"] == pd.Timestamp("1959-05-31")
    assert (macro.index.is_quarter_end).all()


def test_macro_release_date_is_two_months_after_quarter_end_and_never_before_it() -> None:
    macro = load_macro_quarterly()
    assert macro.index.is_monotonic_increasing and macro.index.is_unique
    assert (macro["release_date"] >= macro.index).all()
    expected = macro.index + pd.offsets.MonthEnd(2)
    assert (macro["release_date"].to_numpy() == expected.to_numpy()).all()
    assert macro.loc["2009-06-30", "release_date"] == pd.Timestamp("2009-08-31")
    # Q4 1995's advance GDP came out on 1996-02-23 (shutdown): the conservative date is not earlier
    assert macro.loc["1995-12-31", "release_date"] >= pd.Timestamp("1996-02-23")


def test_core_cpi_is_monthly_first_of_month_released_by_the_end_of_the_next_month() -> None:
    cpi = load_core_cpi()
    assert list(cpi.columns) == ["cpilfesl", "release_date"]
    assert cpi.index.name == "date"
    assert cpi.index.is_monotonic_increasing and cpi.index.is_unique
    assert (cpi.index.day == 1).all()
    assert len(cpi) == 743
    assert cpi.index[0] == pd.Timestamp("1957-01-01")
    assert cpi.index[-1] == pd.Timestamp("2018-11-01")
    assert cpi.iloc[0].to_dict() == {"cpilfesl": 28.5, "release_date": pd.Timestamp("1957-02-28")}
    assert cpi.loc["2018-11-01", "cpilfesl"] == 259.481
    assert cpi.loc["2018-11-01", "release_date"] == pd.Timestamp("2018-12-31")
    # September 2013 CPI was published on 2013-10-30 (shutdown): the conservative date is not earlier
    assert cpi.loc["2013-09-01", "release_date"] >= pd.Timestamp("2013-10-30")
    assert (cpi["release_date"] >= cpi.index).all()


def test_treasury_curves_keep_the_shipped_tenors_and_release_the_same_day() -> None:
    curves = load_treasury_curves()
    tenors = [
        "1month",
        "3month",
        "6month",
        "1year",
        "2year",
        "3year",
        "5year",
        "7year",
        "10year",
        "20year",
        "30year",
    ]
    assert list(curves.columns) == [*tenors, "release_date"]
    assert (curves[tenors].dtypes == np.float64).all()
    assert curves.index.name == "date" and curves.index.tz is None
    assert curves.index.is_monotonic_increasing and curves.index.is_unique
    assert len(curves) == 6816
    assert curves.index[0] == pd.Timestamp("1990-01-02")
    assert curves.index[-1] == pd.Timestamp("2017-03-29")
    first = curves.iloc[0]
    assert np.isnan(first["1month"]) and np.isnan(first["20year"])
    assert (first["3month"], first["10year"], first["30year"]) == (0.0783, 0.0794, 0.08)
    assert curves.loc["2017-03-29", "10year"] == 0.0239
    assert (curves["release_date"].to_numpy() == curves.index.to_numpy()).all()
    assert curves["1month"].first_valid_index() == pd.Timestamp("2001-07-31")
