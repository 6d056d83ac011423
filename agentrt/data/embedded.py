"""Loaders for the real market and macro data shipped inside agentrt (``agentrt/data/_embedded``).

The files are copies of public data sets found in other PyPI packages; provenance and licence
notices sit beside them (``_embedded/README.md`` and ``_embedded/NOTICE-*.md``). Everything here
is offline and pandas-only. Each loader parses its file once per process (``functools.lru_cache``)
and returns a fresh copy, so callers may modify what they get without affecting later calls.

Time conventions: indexes are naive, normalized dates (no time zone). Daily bars are dated by
their session; economic series are dated by their observation period and carry a
``release_date`` column that says when a value could first have been known, which is what a
point-in-time view must clip on.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import IO, Final

import numpy as np
import pandas as pd

__all__ = [
    "BENCHMARK_SYMBOL",
    "OHLCV_COLUMNS",
    "SAMPLE_SYMBOLS",
    "load_core_cpi",
    "load_macro_quarterly",
    "load_sample_stocks",
    "load_spx",
    "load_treasury_curves",
]

SAMPLE_SYMBOLS: Final = ("AAPL", "MSFT", "IBM", "GOOG")
"""Stocks of :func:`load_sample_stocks`: daily 2000-03-01..2013-03-01 (GOOG from 2004-08-19)."""

BENCHMARK_SYMBOL: Final = "SPX"
"""Symbol under which the embedded S&P 500 index (:func:`load_spx`) is meant to be exposed."""

OHLCV_COLUMNS: Final = ("open", "high", "low", "close", "volume")
"""Columns of every daily bar frame returned here, in this order, all float64."""

_PACKAGE = "agentrt.data"
_EMBEDDED_DIR = "_embedded"

_STOCKS_FILE = "stocks.csv.gz"
_STOCKS_COLUMNS = ("Ticker", "Date", "Open", "High", "Low", "Close", "Volume", "Adj Close")
_SPX_FILE = "sp500.csv.gz"
_SPX_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")
_MACRO_FILE = "macrodata.csv"
_MACRO_COLUMNS = (
    "year", "quarter", "realgdp", "realcons", "realinv", "realgovt", "realdpi",
    "cpi", "m1", "tbilrate", "unemp", "pop", "infl", "realint",
)  # fmt: skip
_CPI_FILE = "core-cpi.csv.gz"
_CPI_COLUMNS = ("Date", "CPILFESL")
_TREASURY_FILE = "treasury_curves.csv.gz"
_TREASURY_COLUMNS = (
    "Time Period", "1month", "3month", "6month", "1year", "2year", "3year",
    "5year", "7year", "10year", "20year", "30year",
)  # fmt: skip

# Relative size of an OHLC inconsistency that is float noise (clipped), not bad data (raised).
_OHLC_REL_TOLERANCE = 1e-9


# --------------------------------------------------------------------------- public loaders


def load_sample_stocks(*, adjusted: bool = True) -> dict[str, pd.DataFrame]:
    """Daily bars of AAPL, MSFT, IBM and GOOG from the embedded Quandl WIKI extract.

    Returns a dict keyed by :data:`SAMPLE_SYMBOLS` (in that order). Each frame has a naive,
    normalized, sorted, unique ``DatetimeIndex`` named ``"date"`` (one row per trading
    session, 2000-03-01..2013-03-01; GOOG starts 2004-08-19) and float64 columns
    ``open, high, low, close, volume``.

    With ``adjusted=True`` (the default) prices are split- and dividend-adjusted with the
    source's adjusted close: ``factor = adj_close / close``; open, high, low and close are
    multiplied by ``factor`` and volume is divided by it, so splits such as AAPL's 2:1 on
    2000-06-21 and 2005-02-28 do not look like crashes. The source's adjusted close also
    reflects corporate actions after 2013 (e.g. AAPL's 2014 and 2020 splits), so adjusted
    prices are far below the historical quotes. With ``adjusted=False`` the raw quoted OHLCV
    is returned.

    Rows with a missing or non-positive price are dropped. Raises ``ValueError`` if a bar's
    high is below its open/close or its low above them by more than float noise.
    """
    return {symbol: frame.copy() for symbol, frame in _stock_frames(adjusted).items()}


def load_spx() -> pd.DataFrame:
    """Daily bars of the S&P 500 index, 1999-01-04..2018-12-31, from the ``arch`` package data.

    Same shape as each frame of :func:`load_sample_stocks`: naive normalized ``DatetimeIndex``
    named ``"date"`` and float64 ``open, high, low, close, volume`` (volume as shipped; a
    missing volume would become 0). Index levels need no adjustment (the file's adjusted close
    equals its close), so the raw values are returned.
    """
    return _spx_frame().copy()


def load_macro_quarterly() -> pd.DataFrame:
    """US quarterly macro data 1959Q1..2009Q3 (statsmodels ``macrodata``), with release dates.

    Index: the quarter-end observation date (naive ``Timestamp``, e.g. ``1959-03-31`` for
    1959Q1), named ``"date"``. Columns as shipped: ``year, quarter`` (int64) and ``realgdp,
    realcons, realinv, realgovt, realdpi, cpi, m1, tbilrate, unemp, pop, infl, realint``
    (float64; see ``_embedded/NOTICE-statsmodels.md`` for units), plus ``release_date``.

    ``release_date`` is a conservative approximation: the last day of the second month after the
    quarter ends (1959-03-31 -> 1959-05-31). The BEA's advance GDP estimate usually comes about a
    month after the quarter, but later after government shutdowns (Q4 1995: 1996-02-23), so this
    date is never early, only sometimes late.
    Monthly series such as cpi, m1 or unemp are in fact known earlier, and the values are one
    2009 vintage (revised), not the figures first published; treat ``release_date`` as "not
    knowable before", not as an exact publication timestamp.
    """
    return _macro_frame().copy()


def load_core_cpi() -> pd.DataFrame:
    """US core CPI (CPI-U less food and energy, FRED ``CPILFESL``), monthly 1957-01..2018-11.

    Index: the observation month as shipped, i.e. the FIRST day of the month (``1957-01-01``
    holds January 1957), named ``"date"``. Columns: ``cpilfesl`` (float64, index level,
    1982-84 = 100, seasonally adjusted) and ``release_date``.

    ``release_date`` is a conservative approximation: the last day of the following month
    (January 1957 -> 1957-02-28). The BLS usually publishes mid-month, a few days either side of
    the 15th and later after shutdowns (September 2013: 2013-10-30), so this date is never early,
    only sometimes late. The values are a later (revised) vintage, not the first print.
    """
    return _core_cpi_frame().copy()


def load_treasury_curves() -> pd.DataFrame:
    """Daily US Treasury constant-maturity yields, 1990-01-02..2017-03-29 (zipline's file).

    Index: the observation date, naive and normalized, named ``"date"``. Columns as shipped:
    ``1month, 3month, 6month, 1year, 2year, 3year, 5year, 7year, 10year, 20year, 30year``
    (float64 decimal fractions: 0.0783 means 7.83 %; NaN where a tenor was not published,
    e.g. 1month before 2001-07-31), plus ``release_date``.

    ``release_date`` equals the observation date: the yields are treated as published at the
    end of that day, so a point-in-time view should expose a row only after that session's
    close, like a daily bar. (The Federal Reserve's H.15 table itself is posted the next
    business day; the same-day convention is a deliberate simplification.)
    """
    return _treasury_frame().copy()


# --------------------------------------------------------------------------- cached parsing


@functools.lru_cache(maxsize=1)
def _raw_stocks() -> pd.DataFrame:
    raw = _read_embedded_csv(
        _STOCKS_FILE,
        expected_columns=_STOCKS_COLUMNS,
        dtype={"Ticker": "string", "Date": "string", "Volume": "float64"},
    )
    return raw[raw["Ticker"].isin(SAMPLE_SYMBOLS)]


@functools.lru_cache(maxsize=2)
def _stock_frames(adjusted: bool) -> dict[str, pd.DataFrame]:
    raw = _raw_stocks()
    frames: dict[str, pd.DataFrame] = {}
    for symbol in SAMPLE_SYMBOLS:
        rows = raw[raw["Ticker"] == symbol]
        if rows.empty:
            raise ValueError(
                f"embedded file {_STOCKS_FILE} has no rows for {symbol!r}; expected all of "
                f"{SAMPLE_SYMBOLS}. The file is damaged: reinstall agentrt."
            )
        frames[symbol] = _daily_bars(
            rows,
            date_format="%Y-%m-%d",
            adj_close_column="Adj Close" if adjusted else None,
            what=f"{symbol} in {_STOCKS_FILE}",
        )
    return frames


@functools.lru_cache(maxsize=1)
def _spx_frame() -> pd.DataFrame:
    raw = _read_embedded_csv(
        _SPX_FILE,
        expected_columns=_SPX_COLUMNS,
        dtype={"Date": "string", "Volume": "float64"},
    )
    return _daily_bars(
        raw, date_format="%m/%d/%Y", adj_close_column=None, what=f"SPX in {_SPX_FILE}"
    )


@functools.lru_cache(maxsize=1)
def _macro_frame() -> pd.DataFrame:
    raw = _read_embedded_csv(_MACRO_FILE, expected_columns=_MACRO_COLUMNS)
    year = raw["year"].astype("int64")
    quarter = raw["quarter"].astype("int64")
    if not quarter.between(1, 4).all():
        raise ValueError(
            f"embedded file {_MACRO_FILE} has a quarter outside 1..4; "
            "the file is damaged: reinstall agentrt."
        )
    first_day_of_last_month = pd.to_datetime(
        pd.DataFrame({"year": year, "month": quarter * 3, "day": 1})
    )
    observed = pd.DatetimeIndex(
        first_day_of_last_month + pd.offsets.MonthEnd(0), name="date"
    ).as_unit("ns")
    frame = raw.copy()
    frame["year"] = year
    frame["quarter"] = quarter
    frame.index = observed
    # the advance estimate comes about a month after the quarter, later after shutdowns (Q4 1995:
    # 1996-02-23): the end of the second month after the quarter is never early
    frame["release_date"] = (observed + pd.offsets.MonthEnd(2)).as_unit("ns")
    return _checked_series_frame(frame, what=_MACRO_FILE)


@functools.lru_cache(maxsize=1)
def _core_cpi_frame() -> pd.DataFrame:
    raw = _read_embedded_csv(_CPI_FILE, expected_columns=_CPI_COLUMNS, dtype={"Date": "string"})
    observed = _parse_dates(raw["Date"], date_format="%m/%d/%Y", what=_CPI_FILE)
    frame = pd.DataFrame({"cpilfesl": raw["CPILFESL"].to_numpy(dtype="float64")}, index=observed)
    # BLS publishes mid-month, a few days either side of the 15th, and later after government
    # shutdowns (Sept 2013 CPI came out on Oct 30): the end of the next month is never early
    frame["release_date"] = (observed + pd.offsets.MonthEnd(2)).as_unit("ns")
    return _checked_series_frame(frame, what=_CPI_FILE)


@functools.lru_cache(maxsize=1)
def _treasury_frame() -> pd.DataFrame:
    raw = _read_embedded_csv(
        _TREASURY_FILE, expected_columns=_TREASURY_COLUMNS, dtype={"Time Period": "string"}
    )
    # Shipped as "1990-01-02 00:00:00+00:00": the date part is the observation date.
    observed = _parse_dates(
        raw["Time Period"].str.slice(0, 10), date_format="%Y-%m-%d", what=_TREASURY_FILE
    )
    tenors = [column.lower() for column in _TREASURY_COLUMNS[1:]]
    frame = pd.DataFrame(
        raw[list(_TREASURY_COLUMNS[1:])].to_numpy(dtype="float64"), index=observed, columns=tenors
    )
    frame["release_date"] = observed.to_series(index=observed)
    return _checked_series_frame(frame, what=_TREASURY_FILE)


# --------------------------------------------------------------------------- helpers


def _open_embedded(name: str) -> IO[bytes]:
    resource = resources.files(_PACKAGE).joinpath(_EMBEDDED_DIR, name)
    try:
        return resource.open("rb")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"embedded data file {name!r} is missing from the agentrt installation "
            f"(looked in {_PACKAGE}/{_EMBEDDED_DIR}). Reinstall agentrt; when building it "
            "yourself, include agentrt/data/_embedded/* as package data."
        ) from None


def _read_embedded_csv(
    name: str,
    *,
    expected_columns: tuple[str, ...],
    dtype: dict[str, str] | None = None,
) -> pd.DataFrame:
    with _open_embedded(name) as handle:
        frame = pd.read_csv(
            handle, compression="gzip" if name.endswith(".gz") else None, dtype=dtype
        )
    if tuple(frame.columns) != expected_columns:
        raise ValueError(
            f"embedded file {name!r} has columns {list(frame.columns)}, "
            f"expected {list(expected_columns)}; "
            "the file is damaged or from another release: reinstall agentrt."
        )
    return frame


def _parse_dates(values: pd.Series, *, date_format: str, what: str) -> pd.DatetimeIndex:
    try:
        parsed = pd.to_datetime(values, format=date_format)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"cannot parse the dates of {what} as {date_format!r}: {exc}. Reinstall agentrt."
        ) from exc
    return pd.DatetimeIndex(parsed, name="date").as_unit("ns").normalize()


def _daily_bars(
    raw: pd.DataFrame, *, date_format: str, adj_close_column: str | None, what: str
) -> pd.DataFrame:
    index = _parse_dates(raw["Date"], date_format=date_format, what=what)
    bars = pd.DataFrame(
        {column: raw[column.capitalize()].to_numpy(dtype="float64") for column in OHLCV_COLUMNS},
        index=index,
    )
    prices = ["open", "high", "low", "close"]
    # NaN compares False, so this drops missing prices as well as zero ones.
    usable = bars[prices].gt(0).all(axis=1).to_numpy()
    if adj_close_column is not None:
        adj_close = raw[adj_close_column].to_numpy(dtype="float64")
        usable = usable & (adj_close > 0)
    bars = bars[usable]
    bars["volume"] = bars["volume"].fillna(0.0)
    if adj_close_column is not None:
        factor = adj_close[usable] / bars["close"].to_numpy()
        for column in prices:
            bars[column] = bars[column].to_numpy() * factor
        bars["volume"] = bars["volume"].to_numpy() / factor
    bars = bars.sort_index(kind="stable")
    if not bars.index.is_unique:
        duplicated = bars.index[bars.index.duplicated()][0]
        raise ValueError(
            f"{what} has more than one bar on {duplicated.date()}; "
            "expected one bar per session. Reinstall agentrt."
        )
    return _consistent_ohlc(bars, what=what)


def _consistent_ohlc(bars: pd.DataFrame, *, what: str) -> pd.DataFrame:
    open_, high, low, close = (
        bars[column].to_numpy() for column in ("open", "high", "low", "close")
    )
    body_top = np.maximum(open_, close)
    body_bottom = np.minimum(open_, close)
    tolerance = _OHLC_REL_TOLERANCE * body_top
    high_gap = body_top - high
    low_gap = low - body_bottom
    bad = (high_gap > tolerance) | (low_gap > tolerance) | (low > high + tolerance)
    if bad.any():
        row = bars.index[np.flatnonzero(bad)[0]]
        values = bars.loc[row, ["open", "high", "low", "close"]].to_dict()
        raise ValueError(
            f"{what} has an inconsistent bar on {row.date()}: {values}; "
            "expected low <= open, close <= high. The embedded file is damaged: reinstall agentrt."
        )
    bars["high"] = np.maximum(high, body_top)
    bars["low"] = np.minimum(low, body_bottom)
    return bars


def _checked_series_frame(frame: pd.DataFrame, *, what: str) -> pd.DataFrame:
    frame.index.name = "date"
    if not (frame.index.is_monotonic_increasing and frame.index.is_unique):
        raise ValueError(
            f"embedded file {what!r} has unsorted or repeated dates; "
            "expected one row per period. Reinstall agentrt."
        )
    if (frame["release_date"] < frame.index).any():
        raise ValueError(
            f"embedded file {what!r} gives a release_date before its observation date; "
            "this is a bug in agentrt."
        )
    return frame
