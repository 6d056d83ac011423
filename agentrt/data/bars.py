"""Bar storage and views: `BarSeries` (one asset's full history as arrays) and `Bars` (a slice).

Every bar carries two instants: `start_ns` (when the bar began) and `end_ns` (when it closed and so
became visible). Point-in-time views cut on `end_ns`; nothing here hands out a bar whose `end_ns`
is after the clock.
"""

from __future__ import annotations

import datetime as _dt
from bisect import bisect_right
from zoneinfo import ZoneInfo

import numpy as np

from agentrt.domain.assets import Asset

OHLCV = ("open", "high", "low", "close", "volume")


class BarSeries:
    """The full, immutable history of one asset at one timestep (numpy arrays, read-only)."""

    __slots__ = ("asset", "timestep", "tz", "start_ns", "end_ns", "open", "high", "low", "close",
                 "volume", "_end_list", "_cursor_ns", "_cursor")

    def __init__(self, asset: Asset, timestep: str, tz: str, start_ns: np.ndarray, end_ns: np.ndarray,
                 open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
                 volume: np.ndarray) -> None:
        self.asset = asset
        self.timestep = timestep
        self.tz = tz
        arrays = []
        for arr, dtype in ((start_ns, np.int64), (end_ns, np.int64), (open_, np.float64), (high, np.float64),
                           (low, np.float64), (close, np.float64), (volume, np.float64)):
            a = np.ascontiguousarray(arr, dtype=dtype)
            a.setflags(write=False)
            arrays.append(a)
        (self.start_ns, self.end_ns, self.open, self.high, self.low, self.close, self.volume) = arrays
        self._end_list = self.end_ns.tolist()
        self._cursor_ns = -1
        self._cursor = 0

    def __len__(self) -> int:
        return len(self._end_list)

    def visible_count(self, now_ns: int) -> int:
        """Number of bars closed at or before `now_ns` (memoised: the clock asks the same time often)."""
        if now_ns != self._cursor_ns:
            self._cursor = bisect_right(self._end_list, now_ns)
            self._cursor_ns = now_ns
        return self._cursor

    def first_start_at_or_after(self, ns: int, lo: int = 0) -> int:
        """Index of the first bar that starts at or after `ns`."""
        return int(np.searchsorted(self.start_ns, ns, side="left")) if lo == 0 else lo + int(
            np.searchsorted(self.start_ns[lo:], ns, side="left"))


class Bars:
    """Bars of one asset up to the current time: small numpy arrays plus a lazily built `.df`.

    The arrays are copies of the visible slice, never views: a view's `.base` would reach the
    whole history, including bars after the simulated time.

    `bars.close` (numpy array), `bars.df` (pandas DataFrame indexed by bar start, columns open,
    high, low, close, volume), `len(bars)`, `bars.get_last_price()`.
    """

    __slots__ = ("asset", "_s", "_lo", "_hi", "_df")

    def __init__(self, series: BarSeries, lo: int, hi: int) -> None:
        self.asset = series.asset
        self._s = series
        self._lo = lo
        self._hi = hi
        self._df = None

    def __len__(self) -> int:
        return self._hi - self._lo

    def __repr__(self) -> str:
        return f"Bars({self.asset}, {len(self)} x {self._s.timestep})"

    @property
    def timestep(self) -> str:
        return self._s.timestep

    @property
    def open(self) -> np.ndarray:
        return self._s.open[self._lo:self._hi].copy()

    @property
    def high(self) -> np.ndarray:
        return self._s.high[self._lo:self._hi].copy()

    @property
    def low(self) -> np.ndarray:
        return self._s.low[self._lo:self._hi].copy()

    @property
    def close(self) -> np.ndarray:
        return self._s.close[self._lo:self._hi].copy()

    @property
    def volume(self) -> np.ndarray:
        return self._s.volume[self._lo:self._hi].copy()

    @property
    def start_ns(self) -> np.ndarray:
        return self._s.start_ns[self._lo:self._hi].copy()

    @property
    def end_ns(self) -> np.ndarray:
        return self._s.end_ns[self._lo:self._hi].copy()

    def get_last_price(self) -> float | None:
        return float(self._s.close[self._hi - 1]) if self._hi > self._lo else None

    def get_total_volume(self) -> float:
        return float(self.volume.sum())

    @property
    def df(self):
        """pandas DataFrame (index `datetime` = bar start in the market's time zone)."""
        if self._df is None:
            import pandas as pd

            index = pd.DatetimeIndex(self.start_ns.astype("datetime64[ns]"), name="datetime").tz_localize(
                "UTC").tz_convert(self._s.tz)
            data = {name: getattr(self, name) for name in OHLCV}
            self._df = pd.DataFrame(data, index=index, copy=True)
        return self._df

    def to_records(self) -> list[dict]:
        """Plain rows (ISO datetimes), e.g. for JSON tool results."""
        tz = ZoneInfo(self._s.tz)
        rows = []
        for i in range(self._lo, self._hi):
            ts = _dt.datetime.fromtimestamp(int(self._s.start_ns[i]) // 1_000_000_000, tz)
            rows.append({"datetime": ts.isoformat(), "open": float(self._s.open[i]), "high": float(self._s.high[i]),
                         "low": float(self._s.low[i]), "close": float(self._s.close[i]),
                         "volume": float(self._s.volume[i])})
        return rows
