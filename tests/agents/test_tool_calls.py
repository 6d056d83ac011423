"""Calling tools: malformed arguments and exceptions become tool errors; results become JSON."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json

import numpy as np
import pandas as pd
import pytest

from agentrt.agents._jsonable import to_jsonable
from agentrt.agents.tool import (
    ToolRunContext,
    agent_tool,
    current_tool_context,
    make_tool,
    reset_tool_context,
    set_tool_context,
)


@agent_tool
def bars(symbol: str, length: int = 20, side: str = "buy", limit: float | None = None) -> dict:
    """Pretend to load bars.

    Args:
        symbol: Ticker.
        length: Bars.
    """
    return {"symbol": symbol, "length": length, "limit": limit}


def test_a_string_where_an_integer_is_expected_is_a_tool_error():
    out = make_tool(bars).invoke({"symbol": "AAPL", "length": "abc"})
    assert out.error == "argument 'length' must be an integer, got 'abc'"
    assert out.as_response() == {"error": "argument 'length' must be an integer, got 'abc'", "type": "ToolArgumentError"}


def test_missing_and_unknown_arguments_are_named():
    tool = make_tool(bars)
    assert tool.invoke({}).error == "missing required argument 'symbol'"
    err = tool.invoke({"symbol": "A", "lenght": 3}).error
    assert err.startswith("unknown argument 'lenght'; this tool takes: symbol, length, side, limit")


def test_numeric_strings_are_coerced_like_a_model_would_expect():
    out = make_tool(bars).invoke({"symbol": "AAPL", "length": "30", "limit": "101.5"})
    assert out.ok and out.result == {"symbol": "AAPL", "length": 30, "limit": 101.5}


def test_exceptions_inside_a_tool_come_back_as_errors():
    @agent_tool
    def broken(x: int) -> int:
        """Always fails."""
        raise ValueError(f"bad x {x}")

    out = make_tool(broken).invoke({"x": 3})
    assert out.as_response() == {"error": "bad x 3", "type": "ValueError"}


def test_non_dict_results_are_wrapped_for_the_model():
    @agent_tool
    def seven() -> int:
        """Seven."""
        return 7

    assert make_tool(seven).invoke({}).as_response() == {"result": 7}


def test_pydantic_model_and_enum_arguments_are_validated_into_objects():
    import pydantic

    class Leg(pydantic.BaseModel):
        symbol: str
        weight: float

    class Mode(enum.Enum):
        FAST = "fast"
        SLOW = "slow"

    seen = {}

    @agent_tool
    def allocate(legs: list[Leg], mode: Mode = Mode.SLOW) -> str:
        """Allocate."""
        seen["legs"], seen["mode"] = legs, mode
        return "ok"

    tool = make_tool(allocate)
    assert tool.invoke({"legs": [{"symbol": "A", "weight": "0.5"}], "mode": "fast"}).ok
    assert isinstance(seen["legs"][0], Leg) and seen["mode"] is Mode.FAST
    err = tool.invoke({"legs": [{"symbol": "A"}]}).error
    assert err == "missing required argument 'legs[0].weight'"
    err = tool.invoke({"legs": [], "mode": "medium"}).error
    assert err.startswith("argument 'mode' must be one of 'fast' or 'slow'")


def test_strategy_methods_are_bound_to_the_strategy():
    class Strat:
        factor = 3

        @agent_tool(mutates_trading=True)
        def scaled(self, x: int) -> int:
            """Scale by the strategy's factor."""
            return self.factor * x

    s = Strat()
    bound = make_tool(s.scaled)
    assert bound.invoke({"x": 2}).result == 6
    from_class = make_tool(Strat.scaled, host=s)
    assert from_class.invoke({"x": 2}).result == 6
    by_name = make_tool("scaled", host=s)
    assert by_name.spec.mutates_trading is True
    assert "self" not in by_name.spec.parameters["properties"]


async def _async_tool_result():
    @agent_tool
    async def later(x: int) -> dict:
        """Async tool."""
        return {"x": x}

    return await make_tool(later).invoke_async({"x": "5"})


def test_async_tools_are_awaited():
    import asyncio

    out = asyncio.run(_async_tool_result())
    assert out.result == {"x": 5}


def test_results_are_made_json_serialisable():
    idx = pd.DatetimeIndex(["2020-01-02 16:00", "2020-01-03 16:00"]).tz_localize("America/New_York")
    frame = pd.DataFrame({"close": [1.5, np.nan], "volume": np.array([10, 20], dtype="int64")}, index=idx)
    value = {
        "frame": frame,
        "series": pd.Series([1.0, 2.0], index=["a", "b"]),
        "np_float": np.float64(2.5),
        "np_int": np.int32(7),
        "array": np.array([1, 2, 3]),
        "when": dt.datetime(2020, 1, 2, 16, 0),
        "day": dt.date(2020, 1, 2),
        "dec": decimal.Decimal("1.25"),
        "inf": float("inf"),
        "tags": {"b", "a"},
        "ts": pd.Timestamp("2020-01-02"),
    }
    out = to_jsonable(value)
    json.dumps(out, allow_nan=False)
    assert out["frame"] == [
        {"datetime": "2020-01-02T16:00:00-05:00", "close": 1.5, "volume": 10},
        {"datetime": "2020-01-03T16:00:00-05:00", "close": None, "volume": 20},
    ]
    assert out["series"] == {"a": 1.0, "b": 2.0}
    assert out["np_float"] == 2.5 and out["np_int"] == 7 and out["array"] == [1, 2, 3]
    assert out["when"] == "2020-01-02T16:00:00" and out["day"] == "2020-01-02"
    assert out["dec"] == 1.25 and out["inf"] is None and out["tags"] == ["a", "b"]
    assert out["ts"] == "2020-01-02T00:00:00"


def test_current_tool_context_is_only_available_inside_a_tool_call():
    with pytest.raises(RuntimeError, match="outside an agent tool call"):
        current_tool_context()
    ctx = ToolRunContext(agent_name="a", sim_time=dt.datetime(2020, 1, 2), host=None)
    token = set_tool_context(ctx)
    try:
        assert current_tool_context().sim_time == dt.datetime(2020, 1, 2)
    finally:
        reset_tool_context(token)
