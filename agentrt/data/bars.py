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
                 "volume", "_end_list", "_cursor_ns", "_cursor", "_fingerprints")

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
        self._fingerprints: list[int] | None = None

    def __len__(self) -> int:
        return len(self._end_list)

    def fingerprint(self, count: int) -> str:
        """A digest of the first `count` bars (times and OHLCV, bit for bit), for cache keys.

        A running sum of mixed 64-bit row hashes, built once per series: O(1) per call, and bars
        after `count` (the future) do not change it, so appending data invalidates nothing earlier.
        """
        if count <= 0:
            return "0"
        fps = self._fingerprints
        if fps is None:
            fps = self._fingerprints = _row_fingerprints(self).tolist()
        return f"{count}:{fps[count - 1]:016x}"

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


_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB)


def row_hashes(s: BarSeries) -> np.ndarray:
    """One mixed 64-bit hash per bar of `s` (its times and OHLCV, bit for bit)."""
    h = np.zeros(len(s), dtype=np.uint64)
    cols = (s.start_ns, s.end_ns, s.open, s.high, s.low, s.close, s.volume)
    with np.errstate(over="ignore"):
        for k, col in zip(_MIX, cols):
            h ^= col.view(np.uint64) * np.uint64(k)
            h ^= h >> np.uint64(31)
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(29)
    return h


def _row_fingerprints(s: BarSeries) -> np.ndarray:
    return np.cumsum(row_hashes(s), dtype=np.uint64)


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
