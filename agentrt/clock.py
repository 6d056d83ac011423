"""Clocks: `SimClock` (backtests), `WallClock` and `AcceleratedClock` (live), and `StepClock`."""

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

    def set_tz(self, tz: str | _dt.tzinfo) -> None:
        """Report times in ``tz`` from now on (the engine sets the market's zone after initialize())."""
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
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


class AcceleratedClock:
    """Wall time running `speed` times faster from `start`: replayed feeds and tests.

    `AcceleratedClock(datetime(2012, 3, 5, 15, 0, tzinfo=NY), speed=3600)` makes an hour pass
    every second. Like `WallClock` it moves on its own; only the engine builder chooses it.
    """

    __slots__ = ("tz", "speed", "_start_ns", "_t0")

    def __init__(self, start: _dt.datetime, speed: float = 1.0, *, tz: str | _dt.tzinfo | None = None,
                 _t0: int | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError(f"AcceleratedClock start {start!r} is naive; give a timezone-aware datetime")
        if not speed > 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        from zoneinfo import ZoneInfo

        self.tz = ZoneInfo(tz) if isinstance(tz, str) else (tz or start.tzinfo)
        self.speed = float(speed)
        self._start_ns = datetime_to_ns(start)
        self._t0 = time.monotonic_ns() if _t0 is None else _t0

    @property
    def now_ns(self) -> int:
        return self._start_ns + int((time.monotonic_ns() - self._t0) * self.speed)

    def now(self) -> _dt.datetime:
        return ns_to_datetime(self.now_ns, self.tz)

    def with_tz(self, tz: str | _dt.tzinfo) -> AcceleratedClock:
        """The same running clock, read in another time zone."""
        return AcceleratedClock(ns_to_datetime(self._start_ns, _dt.timezone.utc), self.speed, tz=tz, _t0=self._t0)

    @property
    def is_simulated(self) -> bool:
        return False


class StepClock:
    """The clock a strategy sees: live between steps, held at the step's start during a step.

    A step (an iteration or a hook, with every agent run in it) happens at one instant, as in a
    backtest: an agent that spends 20 s thinking still sees the time its iteration began, so
    its tool results are never stamped after its own simulated time.
    """

    __slots__ = ("base", "_held")

    def __init__(self, base) -> None:
        self.base = base
        self._held: int | None = None

    @property
    def tz(self):
        return self.base.tz

    @property
    def speed(self) -> float:
        return getattr(self.base, "speed", 1.0)

    @property
    def now_ns(self) -> int:
        held = self._held
        return self.base.now_ns if held is None else held

    def now(self) -> _dt.datetime:
        return ns_to_datetime(self.now_ns, self.base.tz)

    def hold(self) -> None:
        self._held = self.base.now_ns

    def release(self) -> None:
        self._held = None

    @property
    def is_simulated(self) -> bool:
        return False
