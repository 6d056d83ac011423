"""tools.market_mcp: the point-in-time MCP server, called with the mcp client over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agentrt.telemetry.warnings import find_future_data
from tools.market_mcp import inflation_as_of, price_history_as_of, treasury_curve_as_of

NY = ZoneInfo("America/New_York")
REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = {"macro_series", "list_macro_series", "treasury_curve", "inflation", "price_history"}


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FRED_", "ALPACA_", "AGENTRT_MACRO"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


async def _session_checks(target) -> dict:
    from mcp import Client

    seen = {}
    async with Client(target) as client:
        listing = await client.list_tools()
        seen["tools"] = {t.name: t.input_schema for t in listing.tools}
        seen["curve"] = (await client.call_tool(
            "treasury_curve", {"as_of": "2008-03-14T16:00:00-04:00"})).structured_content
        seen["curve_before_close"] = (await client.call_tool(
            "treasury_curve", {"as_of": "2008-03-14T15:59:00-04:00"})).structured_content
        seen["bars"] = (await client.call_tool(
            "price_history", {"symbol": "AAPL", "as_of": "2008-03-14T15:59:00-04:00", "length": 3})).structured_content
        seen["macro"] = (await client.call_tool(
            "macro_series", {"series_id": "UNRATE", "as_of": "2008-03-14T16:00:00-04:00", "lookback": 2}
        )).structured_content
        error = await client.call_tool("macro_series", {"series_id": "M2SL", "as_of": "2008-03-14"})
        seen["error"] = (error.is_error, " ".join(getattr(c, "text", "") for c in error.content))
    return seen


def _check(seen: dict) -> None:
    assert set(seen["tools"]) == TOOLS
    assert all("as_of" in schema["required"] for schema in seen["tools"].values())
    curve = seen["curve"]
    by_tenor = {p["tenor"]: p for p in curve["curve"]}
    assert by_tenor["10Y"]["yield_pct"] == pytest.approx(3.44) and by_tenor["10Y"]["date"] == "2008-03-14"
    assert curve["spread_10y_3m_pct"] == pytest.approx(3.44 - 1.18)
    assert {p["date"] for p in seen["curve_before_close"]["curve"]} == {"2008-03-13"}
    assert [b["date"] for b in seen["bars"]["bars"]] == ["2008-03-11", "2008-03-12", "2008-03-13"]
    assert [o["date"] for o in seen["macro"]["observations"]] == ["2007-07-01", "2007-10-01"]
    is_error, text = seen["error"]
    assert is_error and "M2SL" in text and "FRED_API_KEY" in text
    sim = dt.datetime(2008, 3, 14, 15, 59, tzinfo=NY)
    assert find_future_data([seen["bars"], seen["curve_before_close"]], sim) == []


def test_server_answers_point_in_time_over_stdio() -> None:
    from mcp import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "tools.market_mcp", "--transport", "stdio"],
                                   env=_server_env(), cwd=str(REPO_ROOT))
    _check(asyncio.run(_session_checks(params)))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the MCP server exited with {process.returncode}: {process.stderr.read()!r}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"the MCP server did not listen on 127.0.0.1:{port} within {timeout:g} s")


def test_server_answers_point_in_time_over_streamable_http_on_loopback() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.market_mcp", "--transport", "streamable-http", "--port", str(port)],
        cwd=str(REPO_ROOT), env=_server_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for_port(port, process)
        _check(asyncio.run(_session_checks(f"http://127.0.0.1:{port}/mcp")))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_a_bar_of_a_half_day_is_visible_from_that_days_early_close() -> None:
    # 2008-11-28, the day after Thanksgiving, closed at 13:00
    before = price_history_as_of("MSFT", "2008-11-28T12:59:00-05:00", length=1)
    after = price_history_as_of("MSFT", "2008-11-28T13:00:00-05:00", length=1)
    assert before["bars"][-1]["date"] == "2008-11-26" and after["bars"][-1]["date"] == "2008-11-28"


def test_price_history_of_the_index_and_before_any_bar() -> None:
    assert price_history_as_of("spx", "2010-01-05T16:00:00-05:00", length=2)["bars"][-1]["date"] == "2010-01-05"
    empty = price_history_as_of("GOOG", "2004-08-18T16:00:00-04:00", length=5)
    assert empty["bars"] == [] and "no bar" in empty["note"]


def test_price_history_of_an_unknown_symbol_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="AAPL"):
        price_history_as_of("TSLA", "2010-01-05", length=2)


def test_inflation_is_core_cpi_year_over_year_from_published_values() -> None:
    answer = inflation_as_of("2008-03-14T16:00:00-04:00", months=12)
    assert answer["from"]["date"] == "2007-01-01" and answer["to"]["date"] == "2008-01-01"
    assert answer["inflation_pct"] == pytest.approx((213.771 / 208.6 - 1) * 100, abs=1e-3)
    assert find_future_data(answer, dt.datetime(2008, 3, 14, 16, tzinfo=NY)) == []


def test_curve_before_the_one_month_bill_existed_has_no_1m_point() -> None:
    curve = treasury_curve_as_of("2000-06-01T16:00:00-04:00")
    assert "1M" not in {p["tenor"] for p in curve["curve"]} and "spread_10y_2y_pct" in curve
