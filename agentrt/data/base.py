"""The `DataSource` protocol, timestep parsing, and data errors with fix-it messages."""

from __future__ import annotations

import difflib
import re

TIMESTEP_ALIASES = {
    "day": "day", "d": "day", "1d": "day", "daily": "day", "1day": "day",
    "minute": "minute", "m": "minute", "1m": "minute", "min": "minute", "1min": "minute",
    "hour": "hour", "h": "hour", "1h": "hour", "60m": "hour",
}


class DataError(ValueError):
    """Bad or missing market data, with a message that says how to fix it."""


class UnknownSymbolError(DataError, KeyError):
    def __init__(self, symbol: str, source: str, available: list[str]) -> None:
        hint = difflib.get_close_matches(symbol.upper(), available, n=1)
        extra = f" Did you mean {hint[0]!r}?" if hint else ""
        shown = ", ".join(available[:20]) + (" ..." if len(available) > 20 else "")
        super().__init__(f"unknown symbol {symbol!r} in {source} (available: {shown}).{extra}")
        self.symbol = symbol

    def __str__(self) -> str:  # KeyError would add quotes
        return self.args[0]


def parse_timestep(value: str) -> str:
    key = re.sub(r"[\s_-]", "", str(value).lower())
    try:
        return TIMESTEP_ALIASES[key]
    except KeyError:
        raise DataError(f"unknown timestep {value!r}; use 'day', 'hour' or 'minute'") from None


class DataSource:
    """Where bars come from. Subclasses implement `frame` and `symbols`.

    `frame(symbol, timestep)` returns a pandas DataFrame with a DatetimeIndex (dates for daily
    bars; timestamps of bar starts for intraday bars; naive means the market's time zone) and
    float columns open, high, low, close, volume — or None when the source lacks the symbol.
    """

    name = "data"
    timestep = "day"

    def symbols(self) -> list[str]:
        raise NotImplementedError

    def frame(self, symbol: str, *, timestep: str = "day"):
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, "timestep": self.timestep}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
