"""Clocks: `SimClock` (simulated time, moved only by the backtest engine) and `WallClock` (live)."""

from __future__ import annotations

import datetime as _dt
import time
from zoneinfo import ZoneInfo

UTC = _dt.timezone.utc


def ns_to_datetime(ns: int, tz: _dt.tzinfo) -> _dt.datetime:
    """Exact conversion of epoch nanoseconds to an aware datetime (microsecond precision)."""
    seconds, rem = divmod(int(ns), 1_000_000_000)
    return _dt.datetime.fromtimestamp(seconds, tz).replace(microsecond=rem // 1000)


def datetime_to_ns(value: _dt.datetime) -> int:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give a timezone-aware datetime")
    delta = value - _dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


class SimClock:
    """Simulated time. Only the engine advances it, and only forwards."""

    __slots__ = ("tz", "now_ns", "_now_dt", "_dt_ns")

    def __init__(self, tz: str | _dt.tzinfo = "America/New_York", start_ns: int = 0) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.now_ns = start_ns
        self._now_dt: _dt.datetime | None = None
        self._dt_ns = -1

    def advance_to(self, ns: int) -> None:
        if ns < self.now_ns:
            raise RuntimeError(f"simulated clock cannot go backwards ({ns} < {self.now_ns})")
        self.now_ns = ns

    def now(self) -> _dt.datetime:
        if self._dt_ns != self.now_ns:
            self._now_dt = ns_to_datetime(self.now_ns, self.tz)
            self._dt_ns = self.now_ns
        return self._now_dt  # type: ignore[return-value]

    @property
    def is_simulated(self) -> bool:
        return True


class WallClock:
    """Real time for live runs; `now_ns` reads the system clock each time."""

    __slots__ = ("tz",)

    def __init__(self, tz: str | _dt.tzinfo = "America/New_York") -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz

    @property
    def now_ns(self) -> int:
        return time.time_ns()

    def now(self) -> _dt.datetime:
        return ns_to_datetime(time.time_ns(), self.tz)

    @property
    def is_simulated(self) -> bool:
        return False
