"""Iteration schedules: parse `sleeptime` and list the instants a strategy iterates at."""

from __future__ import annotations

import re

import numpy as np

from agentrt.calendars import Sessions

_UNITS = {"S": 1, "M": 60, "H": 3600, "D": 86_400}
_SLEEPTIME_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdSMHD])?\s*$")


class ScheduleError(ValueError):
    """A bad sleeptime or date range; the message says how to fix it."""


def parse_sleeptime(value: str | int | float) -> tuple[int, bool]:
    """Return (seconds, is_daily). Strings like "1D", "4H", "15M", "30S"; a bare number is minutes."""
    if isinstance(value, bool):
        raise ScheduleError(f"bad sleeptime {value!r}")
    if isinstance(value, (int, float)):
        seconds = int(value * 60)
        daily = False
    else:
        m = _SLEEPTIME_RE.match(str(value))
        if not m:
            raise ScheduleError(
                f"bad sleeptime {value!r}; use a number and a unit: '1D' (daily), '4H', '15M' or '30S'")
        unit = (m.group(2) or "M").upper()
        seconds = int(float(m.group(1)) * _UNITS[unit])
        daily = unit == "D"
    if seconds <= 0:
        raise ScheduleError(f"bad sleeptime {value!r}: it must be longer than zero")
    if daily and seconds % 86_400:
        raise ScheduleError(f"bad sleeptime {value!r}: use whole days ('1D', '2D')")
    return seconds, daily


def iteration_times(sessions: Sessions, seconds: int, daily: bool) -> tuple[np.ndarray, np.ndarray]:
    """Instants (epoch ns) at which `on_trading_iteration` runs, and the session index of each.

    Daily sleeptimes iterate once per N sessions, after the close (the session's bar is then
    complete and visible). Intraday sleeptimes iterate from the open every `seconds` until the close.
    """
    n = len(sessions)
    if daily:
        every = max(1, seconds // 86_400)
        idx = np.arange(0, n, every, dtype=np.int64)
        return sessions.closes[idx].copy(), idx
    step = seconds * 1_000_000_000
    times, owners = [], []
    for i in range(n):
        t = np.arange(int(sessions.opens[i]), int(sessions.closes[i]), step, dtype=np.int64)
        times.append(t)
        owners.append(np.full(len(t), i, dtype=np.int64))
    if not times:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(times), np.concatenate(owners)
