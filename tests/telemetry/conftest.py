"""Shared factories for the telemetry tests: a simulated time, complete traces, a reset OTel global state."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

NY = ZoneInfo("America/New_York")
SIM_TIME = dt.datetime(2021, 3, 5, 16, 0, tzinfo=NY)


@pytest.fixture
def sim_time() -> dt.datetime:
    return SIM_TIME


def build_trace(
    *,
    run_id: str = "r1",
    agent: str = "trader",
    model: str = "scripted",
    sim_time: dt.datetime = SIM_TIME,
    tool_calls: list[dict[str, Any]] | None = None,
    warnings: list[Any] | None = None,
    orders: list[Any] | None = None,
    cache_hit: bool = False,
) -> dict[str, Any]:
    """A complete trace of one agent run: one model call, one tool call, one order."""
    from agentrt.telemetry.traces import new_trace

    trace = new_trace(run_id=run_id, agent=agent, model=model, sim_time=sim_time)
    trace["wall_time_ms"] = 812.5
    trace["inputs"] = {
        "system_prompt": "You trade SPY.",
        "task": "Decide today's SPY position.",
        "context": {"symbol": "SPY"},
        "state": {"cash": "100000.00", "positions": []},
    }
    trace["model_calls"] = [
        {
            "index": 0,
            "request_summary": {"messages": 2, "tools": ["get_bars"]},
            "response": {"function_call": "get_bars"},
            "input_tokens": 120,
            "output_tokens": 15,
            "latency_ms": 400.0,
            "cache_hit": cache_hit,
        }
    ]
    trace["tool_calls"] = (
        tool_calls
        if tool_calls is not None
        else [
            {
                "index": 1,
                "call_id": "call-1",
                "name": "get_bars",
                "kind": "builtin",
                "arguments": {"symbol": "SPY", "lookback": 5},
                "result": {"rows": [{"date": "2021-03-04", "close": 381.42}]},
                "error": None,
                "duration_ms": 3.2,
                "cache_hit": cache_hit,
                "warnings": [],
            }
        ]
    )
    trace["decision"] = {"summary": "buy 10 SPY", "text": "Trend is up, buying 10 SPY."}
    trace["orders"] = (
        orders if orders is not None else [{"side": "buy", "quantity": 10, "symbol": "SPY", "type": "market"}]
    )
    trace["usage"] = {"input_tokens": 120, "output_tokens": 15}
    trace["cost_usd"] = 0.00123
    trace["cache"] = {"hit": cache_hit, "key": "b2:abc123", "recorded_trace": None}
    trace["warnings"] = warnings if warnings is not None else []
    return trace


@pytest.fixture
def make_trace() -> Callable[..., dict[str, Any]]:
    return build_trace


@pytest.fixture
def text_console() -> Callable[[], Any]:
    """Return a factory of (console, buffer) pairs; the console writes plain text to the buffer."""
    from rich.console import Console

    def factory() -> tuple[Any, io.StringIO]:
        buffer = io.StringIO()
        return Console(file=buffer, width=200, color_system=None, force_terminal=False), buffer

    return factory


@pytest.fixture
def fresh_otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give the test an unset global tracer provider and fresh agentrt tracing state.

    OTel allows one set_tracer_provider() per process; resetting its private globals is
    what OTel's own test utilities (reset_trace_globals) do.
    """
    from opentelemetry import trace
    from opentelemetry.util._once import Once

    from agentrt.telemetry import otel

    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_SDK_DISABLED",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(otel, "_STATE", otel._State())
    yield
    for handle in list(otel._STATE.open_handles):
        handle.close()
    provider = trace._TRACER_PROVIDER
    if provider is not None and hasattr(provider, "shutdown"):
        provider.shutdown()
