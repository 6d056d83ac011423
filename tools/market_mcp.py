"""An MCP server of point-in-time market and macro look-ups: every tool answers as of ``as_of``.

Run it::

    python -m tools.market_mcp --transport stdio
    python -m tools.market_mcp --transport streamable-http --port 8765   # http://127.0.0.1:8765/mcp

and attach it to an agent::

    from agentrt import MCPServer
    market = MCPServer(name="market", command=sys.executable,
                       args=["-m", "tools.market_mcp", "--transport", "stdio"], transport="stdio")
    self.agents.create("macro", model=..., system_prompt=..., mcp_servers=[market])

Tools (all JSON objects; none returns data published after ``as_of``):

- ``macro_series(series_id, as_of, lookback=12)`` — an economic series with release dates
  (:func:`tools.macro.fetch_macro_series`: FRED when the server's environment has
  ``FRED_API_KEY``, else the embedded series).
- ``list_macro_series(as_of)`` — the series available.
- ``treasury_curve(as_of)`` — the latest published Treasury yield of every tenor, plus the
  10y-2y and 10y-3m spreads.
- ``inflation(as_of, months=12)`` — core CPI (CPILFESL) year-over-year inflation, from the last
  published values.
- ``price_history(symbol, as_of, length=20)`` — daily bars of the embedded sample stocks
  (AAPL, MSFT, IBM, GOOG) and the S&P 500 index (SPX) that had closed by ``as_of``.

**How the simulated time reaches the server.** An MCP server runs in its own process and knows
nothing of the backtest clock, and agentrt's ``MCPServer`` sends no per-call data. So every
tool takes a required ``as_of`` argument: the model passes the "Simulated datetime" its run
prompt states (the tool descriptions say so), and the server clips every answer at ``as_of``.
If a model passes a later time anyway, agentrt's ``future_data`` check flags (or, with
``lookahead="block"``, blocks) the result, because every value carries its date and release date.
A bare date means 00:00 of that day, New York time (nothing released that day is visible).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import sys
from typing import Any, Final

from tools._clock import parse_as_of

__all__ = ["SERVER_NAME", "build_server", "main", "price_history_as_of", "treasury_curve_as_of"]

SERVER_NAME: Final = "agentrt-market"
_TENOR_LABELS: Final = (("1M", "DGS1MO"), ("3M", "DGS3MO"), ("6M", "DGS6MO"), ("1Y", "DGS1"), ("2Y", "DGS2"),
                        ("3Y", "DGS3"), ("5Y", "DGS5"), ("7Y", "DGS7"), ("10Y", "DGS10"), ("20Y", "DGS20"),
                        ("30Y", "DGS30"))
_MAX_BARS: Final = 1000


# --------------------------------------------------------------------------- look-ups (plain functions)


def treasury_curve_as_of(as_of: str | _dt.datetime | _dt.date) -> dict[str, Any]:
    """The newest published yield of each Treasury tenor at ``as_of`` (percent), with spreads."""
    from tools.macro import fetch_macro_series

    now = parse_as_of(as_of)
    points = []
    for label, series_id in _TENOR_LABELS:
        answer = fetch_macro_series(series_id, as_of=now, lookback=1)
        if answer["observations"]:
            obs = answer["observations"][-1]
            points.append({"tenor": label, "series_id": series_id, "yield_pct": obs["value"],
                           "date": obs["date"], "release_date": obs["release_date"]})
    by_tenor = {p["tenor"]: p["yield_pct"] for p in points}
    out: dict[str, Any] = {"as_of": now.isoformat(), "source": answer["source"] if points else None, "curve": points}
    if "10Y" in by_tenor and "2Y" in by_tenor:
        out["spread_10y_2y_pct"] = round(by_tenor["10Y"] - by_tenor["2Y"], 4)
    if "10Y" in by_tenor and "3M" in by_tenor:
        out["spread_10y_3m_pct"] = round(by_tenor["10Y"] - by_tenor["3M"], 4)
    if not points:
        out["note"] = "no Treasury yield had been published by as_of"
    return out


def inflation_as_of(as_of: str | _dt.datetime | _dt.date, *, months: int = 12) -> dict[str, Any]:
    """Core CPI inflation over ``months`` months (percent, annualised) from the values published by ``as_of``."""
    from tools.macro import fetch_macro_series

    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
        raise ValueError(f"months must be a whole number from 1 to 120, got {months!r}")
    now = parse_as_of(as_of)
    answer = fetch_macro_series("CPILFESL", as_of=now, lookback=months + 1)
    obs = answer["observations"]
    out: dict[str, Any] = {"as_of": now.isoformat(), "series_id": "CPILFESL", "source": answer["source"],
                           "months": months}
    if len(obs) < months + 1:
        out["note"] = f"fewer than {months + 1} monthly core CPI values had been published by as_of"
        out["observations"] = obs
        return out
    first, last = obs[0], obs[-1]
    change = last["value"] / first["value"] - 1.0
    out["inflation_pct"] = round(((1.0 + change) ** (12.0 / months) - 1.0) * 100.0, 3)
    out["from"] = first
    out["to"] = last
    return out


@functools.lru_cache(maxsize=16)
def _bar_series(symbol: str) -> Any:
    from agentrt.calendars import sessions
    from agentrt.data.feed import bind_frame
    from agentrt.data.sources import SampleData
    from agentrt.domain.assets import as_asset

    frame = SampleData().frame(symbol)
    return bind_frame(as_asset(symbol), frame, sessions("NYSE"), timestep="day")


def price_history_as_of(symbol: str, as_of: str | _dt.datetime | _dt.date, *, length: int = 20) -> dict[str, Any]:
    """The last ``length`` daily bars of ``symbol`` that had closed by ``as_of`` (oldest first)."""
    from agentrt.clock import datetime_to_ns

    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= _MAX_BARS:
        raise ValueError(f"length must be a whole number of bars from 1 to {_MAX_BARS}, got {length!r}")
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError("symbol must be a ticker such as 'AAPL'")
    now = parse_as_of(as_of)
    series = _bar_series(symbol.strip().upper())
    hi = series.visible_count(datetime_to_ns(now))
    lo = max(0, hi - length)
    tz = _dt.timezone(_dt.timedelta(0))
    bars = []
    for i in range(lo, hi):
        day = _dt.datetime.fromtimestamp(int(series.start_ns[i]) // 1_000_000_000, tz).astimezone(now.tzinfo)
        bars.append({"date": day.date().isoformat(), "open": round(float(series.open[i]), 4),
                     "high": round(float(series.high[i]), 4), "low": round(float(series.low[i]), 4),
                     "close": round(float(series.close[i]), 4), "volume": float(series.volume[i])})
    out: dict[str, Any] = {"symbol": symbol.strip().upper(), "as_of": now.isoformat(), "bars": bars}
    if not bars:
        out["note"] = f"no bar of {out['symbol']} had closed by as_of"
    return out


# --------------------------------------------------------------------------- the MCP server


def build_server() -> Any:
    """The MCP server object (``mcp.server.mcpserver.MCPServer``, the SDK's FastMCP) with all tools."""
    from mcp.server.mcpserver import MCPServer

    server = MCPServer(
        SERVER_NAME,
        instructions=(
            "Point-in-time market and macro data for a backtest. Every tool needs as_of: pass the "
            "simulated datetime of your run exactly as given in your task; answers hold only data "
            "published by then."
        ),
        log_level="WARNING",
    )

    @server.tool()
    def macro_series(series_id: str, as_of: str, lookback: int = 12) -> dict[str, Any]:
        """Economic series (FRED ids: CPIAUCSL, CPILFESL, UNRATE, TB3MS, M1SL, DGS2, DGS10, ...) with release dates.

        Returns the last `lookback` observations published by as_of, oldest first:
        {"series_id", "source", "as_of", "observations": [{"date", "value", "release_date"}]}.
        as_of: the simulated datetime of your run, exactly as given in your task.
        """
        from tools.macro import fetch_macro_series

        return _answer(fetch_macro_series, series_id, as_of=as_of, lookback=lookback)

    @server.tool()
    def list_macro_series(as_of: str) -> dict[str, Any]:
        """List the economic series macro_series can return (id, title, units, frequency).

        as_of: the simulated datetime of your run, exactly as given in your task.
        """
        from tools.macro import fetch_macro_catalog

        return _answer(fetch_macro_catalog, as_of=as_of)

    @server.tool()
    def treasury_curve(as_of: str) -> dict[str, Any]:
        """The US Treasury yield curve (1M..30Y, percent) last published by as_of, with 10y-2y and 10y-3m spreads.

        as_of: the simulated datetime of your run, exactly as given in your task.
        """
        return _answer(treasury_curve_as_of, as_of)

    @server.tool()
    def inflation(as_of: str, months: int = 12) -> dict[str, Any]:
        """Core CPI inflation (percent, annualised) over the last `months` months published by as_of.

        as_of: the simulated datetime of your run, exactly as given in your task.
        """
        return _answer(inflation_as_of, as_of, months=months)

    @server.tool()
    def price_history(symbol: str, as_of: str, length: int = 20) -> dict[str, Any]:
        """Daily OHLCV bars of AAPL, MSFT, IBM, GOOG or SPX (S&P 500) that had closed by as_of, oldest first.

        as_of: the simulated datetime of your run, exactly as given in your task.
        """
        return _answer(price_history_as_of, symbol, as_of, length=length)

    return server


def _answer(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a look-up; a bad argument or unavailable data becomes a tool error the model can read.

    The MCP SDK hides the text of unexpected exceptions from the client, so the errors a model
    can fix (unknown series, bad ``as_of``, unknown symbol) are re-raised as ``ToolError``.
    """
    from mcp.server.mcpserver.exceptions import ToolError

    from agentrt.data.base import DataError
    from tools.macro import MacroDataError

    try:
        return fn(*args, **kwargs)
    except (MacroDataError, DataError, ValueError, TypeError, KeyError) as exc:
        raise ToolError(str(exc).strip("'\"") or type(exc).__name__) from None


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m tools.market_mcp [--transport stdio|streamable-http] [--port N]``."""
    parser = argparse.ArgumentParser(prog="python -m tools.market_mcp", description=__doc__.splitlines()[0])
    parser.add_argument("--transport", choices=("stdio", "streamable-http"), default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (streamable-http; default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (streamable-http; default 8765)")
    args = parser.parse_args(argv)
    server = build_server()
    if args.transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
