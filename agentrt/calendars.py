"""Market calendars: trading sessions (open/close instants) for "NYSE" and "24/7" markets.

NYSE sessions come from exchange_calendars (holidays, half days). Building that calendar costs
~0.5 s, so the session table is cached as a small .npz file in the agentrt cache folder, keyed
by the exchange_calendars version; the cache is only an accelerator and is rebuilt when missing.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_NS_PER_DAY = 86_400 * 1_000_000_000
_MARKET_ALIASES = {
    "nyse": "XNYS", "xnys": "XNYS", "nasdaq": "XNYS", "us": "XNYS", "stock": "XNYS",
    "24/7": "24/7", "24_7": "24/7", "crypto": "24/7", "always_open": "24/7",
}
_TZ = {"XNYS": "America/New_York", "24/7": "UTC"}
_CAL_START, _CAL_END = "1990-01-01", "2030-12-31"


def cache_dir() -> Path:
    """The agentrt cache folder (`AGENTRT_CACHE_DIR`, else ~/.cache/agentrt)."""
    root = os.environ.get("AGENTRT_CACHE_DIR")
    if root:
        return Path(root).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agentrt"


def normalize_market(market: str) -> str:
    key = str(market).strip().lower().replace(" ", "")
    if key in _MARKET_ALIASES:
        return _MARKET_ALIASES[key]
    if key.upper() in _TZ:
        return key.upper()
    raise ValueError(f"unknown market {market!r}; use set_market('NYSE') for US stocks or set_market('24/7') for crypto")


@dataclass(frozen=True)
class Sessions:
    """Sessions of a market between two dates: session dates and open/close instants (epoch ns)."""

    market: str
    tz: str
    dates: np.ndarray  # datetime64[D]
    opens: np.ndarray  # int64 ns
    closes: np.ndarray  # int64 ns

    def __len__(self) -> int:
        return len(self.dates)

    def slice(self, start: _dt.date, end: _dt.date) -> "Sessions":
        lo = int(np.searchsorted(self.dates, np.datetime64(start, "D"), side="left"))
        hi = int(np.searchsorted(self.dates, np.datetime64(end, "D"), side="right"))
        return Sessions(self.market, self.tz, self.dates[lo:hi], self.opens[lo:hi], self.closes[lo:hi])

    def is_half_day(self, i: int) -> bool:
        return self.market == "XNYS" and (self.closes[i] - self.opens[i]) < 6 * 3_600_000_000_000


_LOADED: dict[str, Sessions] = {}


def sessions(market: str = "NYSE") -> Sessions:
    """All sessions of `market` from 1990 to 2030."""
    name = normalize_market(market)
    cached = _LOADED.get(name)
    if cached is not None:
        return cached
    if name == "24/7":
        dates = np.arange(np.datetime64(_CAL_START), np.datetime64(_CAL_END) + 1, dtype="datetime64[D]")
        opens = dates.astype("datetime64[ns]").astype(np.int64)
        result = Sessions(name, "UTC", dates, opens, opens + _NS_PER_DAY)
    else:
        result = _exchange_sessions(name)
    _LOADED[name] = result
    return result


def _exchange_sessions(name: str) -> Sessions:
    import importlib.metadata as md

    version = md.version("exchange_calendars")
    path = cache_dir() / "calendars" / f"{name}-{version}-{_CAL_START}-{_CAL_END}.npz"
    try:
        with np.load(path) as data:
            return Sessions(name, _TZ[name], data["dates"], data["opens"], data["closes"])
    except (OSError, KeyError, ValueError):
        pass
    import exchange_calendars as xcals

    import warnings

    with warnings.catch_warnings():  # exchange_calendars itself still uses Series.values (pandas 3 deprecation)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from pandas.errors import Pandas4Warning

            warnings.simplefilter("ignore", Pandas4Warning)
        except ImportError:
            pass
        cal = xcals.get_calendar(name, start=_CAL_START, end=_CAL_END)
    sched = cal.schedule
    import pandas as pd

    dates = sched.index.values.astype("datetime64[D]")
    opens = pd.DatetimeIndex(sched["open"]).as_unit("ns").asi8.astype(np.int64)
    closes = pd.DatetimeIndex(sched["close"]).as_unit("ns").asi8.astype(np.int64)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, dates=dates, opens=opens, closes=closes)
        os.replace(tmp, path)
    except OSError:
        pass  # read-only cache folder: just rebuild next time
    return Sessions(name, _TZ[name], dates, opens, closes)


def market_tz(market: str) -> str:
    return _TZ[normalize_market(market)]
