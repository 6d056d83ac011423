"""Run recorder: per-iteration stats, indicators (`add_line`/`add_marker`) and log lines."""

from __future__ import annotations

import sys
import time
from typing import Any

_COLORS = {"red": "\x1b[31m", "green": "\x1b[32m", "yellow": "\x1b[33m", "blue": "\x1b[34m"}


class Recorder:
    """Collects what a run produces, in memory, cheaply; artifacts are written at the end."""

    def __init__(self, *, echo_logs: bool = False) -> None:
        self.echo_logs = echo_logs
        self.stat_times: list[int] = []
        self.stat_rows: list[tuple[float, float, float, float, float]] = []  # pv, cash, pos, cav, ret
        self.extra_stats: list[dict | None] = []
        self.indicators: list[tuple] = []
        self.logs: list[tuple[int, float, str, str]] = []

    def stat(self, now_ns: int, pv: float, cash: float, cav: float, ret: float, extra: dict | None) -> None:
        self.stat_times.append(now_ns)
        self.stat_rows.append((pv, cash, pv - cash, cav, ret))
        self.extra_stats.append(extra)

    def indicator(self, clock, kind: str, name: str, value: Any, color: str | None, symbol: str | None,
                  asset: str | None, detail_text: str | None) -> None:
        self.indicators.append((clock.now_ns, kind, str(name), None if value is None else float(value), color,
                                symbol, asset, detail_text))

    def log(self, clock, message: str, level: str = "info", *, color: str | None = None) -> None:
        self.logs.append((clock.now_ns, time.time(), level, message))
        if self.echo_logs:
            stamp = clock.now().strftime("%Y-%m-%d %H:%M")
            code = _COLORS.get(color or "")
            text = f"{stamp} {level.upper():7s} {message}"
            if code and sys.stderr.isatty():
                text = f"{code}{text}\x1b[0m"
            print(text, file=sys.stderr)
