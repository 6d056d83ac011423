"""Pinned layouts of what the agent runtime persists: cached results and events, the services summary."""

from __future__ import annotations

import pytest

from agentrt.agents import ScriptedModel
from agentrt.agents.result import RESULT_VERSION, AgentRunResult
from agentrt.agents.services import AgentBudget, AgentServices

from .conftest import FakeHost


def test_cached_result_layout_is_pinned():
    result = AgentRunResult(agent="a", model="m", sim_time="2020-01-02T16:00:00-05:00", summary="s", text="t")
    assert RESULT_VERSION == 1
    assert list(result.to_json()) == ["version", "agent", "model", "sim_time", "summary", "text", "tool_calls",
                                      "tool_results", "warnings", "usage", "cost_usd", "model_calls"]


def test_cached_events_and_orders_layout_is_pinned(frames, services_factory):
    host = FakeHost(frames)
    services = services_factory("record")
    host._agent_services = services
    host.agents.create("a", model=ScriptedModel([
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 2, "side": "buy", "order_type": "limit",
                                           "limit_price": 99.5}},
        "done",
    ]))
    result = host.agents["a"].run()
    entry = services.replay_store.get_run(result.cache_key)
    assert [e["type"] for e in entry.events] == ["model_call", "tool_call", "model_call"]
    assert set(entry.events[0]) == {"type", "index", "request_summary", "response", "input_tokens", "output_tokens",
                                    "latency_ms", "cache_hit"}
    assert set(entry.events[1]) == {"type", "index", "call_id", "name", "kind", "arguments", "result", "error",
                                    "duration_ms", "cache_hit", "warnings"}
    assert entry.orders == [{"action": "submit", "symbol": "AAPL", "quantity": 2.0, "side": "buy",
                             "order_type": "limit", "limit_price": 99.5, "time_in_force": "day"}]
    assert entry.material["v"] == 2 and entry.material["agent"] == "a" and "data" in entry.material


def test_services_summary_layout_is_pinned(frames):
    services = AgentServices()
    host = FakeHost(frames)
    host._agent_services = services
    host.agents.create("a", model=ScriptedModel(["ok"]))
    host.agents["a"].run()
    summary = services.summary()
    assert set(summary) == {"runs", "model_calls", "tool_calls", "input_tokens", "output_tokens", "cost_usd",
                            "warnings", "orders", "replay_mode", "replay", "run_index"}
    assert summary["runs"] == 1 and summary["replay_mode"] == "off" and summary["warnings"] == {"no_tool_calls": 1}
    services.close()


def test_services_arguments_are_checked():
    with pytest.raises(ValueError, match="Did you mean 'run_tokens'"):
        AgentBudget.parse({"run_token": 5})
    with pytest.raises(ValueError, match="lookahead must be 'warn' or 'block'"):
        AgentServices.for_backtest(output_dir=None, run_id="x", lookahead="strict")
    with pytest.raises(ValueError, match="Did you mean 'record'"):
        AgentServices.for_backtest(output_dir=None, run_id="x", replay="recrod")
    assert AgentServices.for_live(output_dir=None, run_id="x").is_live is True


def test_a_failing_close_step_is_logged_not_raised(caplog):
    services = AgentServices()

    def broken() -> None:
        raise OSError("disk full")

    services.register_closer(broken)
    services.close()
    assert isinstance(services.close_errors[0], OSError)
    assert "disk full" in caplog.text
