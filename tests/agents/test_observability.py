"""Agent runs write JSON traces, OpenTelemetry spans, run-index rows and warnings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from agentrt.agents import FunctionModel, ScriptedModel, agent_tool
from agentrt.agents.services import AgentServices

from .conftest import FakeHost


@pytest.fixture
def recorded(frames, services_factory):
    services = services_factory("record")
    host = FakeHost(frames)
    host._agent_services = services
    return host, services


def test_each_run_writes_a_versioned_json_trace(recorded):
    from agentrt.telemetry.traces import TRACE_KEYS, read_trace

    host, services = recorded
    host.agents.create("trader", model=ScriptedModel([
        {"tool": "market_load_history_table", "args": {"symbol": "AAPL", "length": 5}},
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 1, "side": "buy"}},
        "Bought one share.",
    ]))
    result = host.agents["trader"].run(task="Buy one", context={"why": "test"})
    path = Path(result.payload["trace_path"])
    assert path.parent == services.output_dir / "traces" and path.is_file()
    trace = read_trace(path)
    assert tuple(trace)[: len(TRACE_KEYS)] == TRACE_KEYS
    assert trace["agent"] == "trader" and trace["model"] == "scripted"
    assert trace["sim_time"] == host.get_datetime().isoformat()
    assert trace["inputs"]["task"] == "Buy one" and trace["inputs"]["context"] == {"why": "test"}
    assert trace["inputs"]["state"]["cash"] == "100000.00"
    assert [m["index"] for m in trace["model_calls"]] == [1, 3, 5]
    assert [(t["index"], t["name"]) for t in trace["tool_calls"]] == [(2, "market_load_history_table"),
                                                                      (4, "orders_submit")]
    assert trace["tool_calls"][0]["result"]["rows"] == 5
    assert trace["decision"]["summary"] == "Bought one share."
    assert trace["orders"][0]["symbol"] == "AAPL"
    assert trace["cache"]["hit"] is False and trace["cache"]["key"] == result.cache_key


def test_run_index_rows_are_written_when_the_run_ends(recorded):
    from agentrt.telemetry.runindex import read_run_index

    host, services = recorded
    host.agents.create("a", model=ScriptedModel([{"tool": "account_portfolio"}, "ok"]))
    host.agents["a"].run()
    host.agents["a"].run()
    services.close()
    rows = read_run_index(services.output_dir)
    assert [r["agent"] for r in rows] == ["a", "a"]
    assert [r["cache_hit"] for r in rows] == [False, True]
    assert rows[0]["tools_called"] == ["account_portfolio"]
    assert rows[0]["trace_path"].startswith("traces/")


def test_future_dated_tool_data_is_flagged_in_warn_mode(recorded):
    host, _ = recorded
    later = (host.get_datetime() + dt.timedelta(days=30)).date().isoformat()

    @agent_tool
    def leaky_news(symbol: str) -> dict:
        """News with a leak."""
        return {"items": [{"headline": "Earnings beat", "published_at": later}]}

    host.agents.create("w", model=ScriptedModel([{"tool": "leaky_news", "args": {"symbol": "AAPL"}}, "ok"]),
                       tools=[leaky_news])
    result = host.agents["w"].run()
    assert "future_data" in result.warning_codes
    assert result.tool_results[0]["result"]["items"][0]["published_at"] == later


def test_future_dated_tool_data_is_blocked_in_block_mode(frames, services_factory):
    host = FakeHost(frames)
    host._agent_services = services_factory("record", lookahead="block")
    later = (host.get_datetime() + dt.timedelta(days=30)).date().isoformat()

    @agent_tool
    def leaky_prices(symbol: str) -> list:
        """Prices with a leak."""
        return [{"date": later, "close": 123.0}]

    seen = []

    def policy(request):
        if request.step == 0:
            return {"tool": "leaky_prices", "args": {"symbol": "AAPL"}}
        seen.append(request.last_tool_results()[0].response)
        return "done"

    host.agents.create("b", model=FunctionModel(policy), tools=[leaky_prices])
    result = host.agents["b"].run()
    assert seen[0]["error"].startswith("blocked: this tool result contains data from after the simulated time")
    assert "123.0" not in json.dumps(seen[0])
    assert "future_data" in result.warning_codes


def test_orders_without_evidence_and_runs_without_tools_are_flagged(recorded):
    host, _ = recorded
    host.agents.create("blind", model=ScriptedModel([
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 1, "side": "buy"}}, "Bought."]))
    assert "order_without_evidence" in host.agents["blind"].run().warning_codes
    host.agents.create("careful", model=ScriptedModel([
        {"tool": "market_last_price", "args": {"symbol": "AAPL"}},
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 1, "side": "buy"}}, "Bought."]))
    assert "order_without_evidence" not in host.agents["careful"].run().warning_codes
    host.agents.create("silent", model=ScriptedModel(["Nothing to do."]))
    assert host.agents["silent"].run().warning_codes == ["no_tool_calls"]


def test_token_budget_per_run_is_enforced_as_a_warning(frames, services_factory):
    host = FakeHost(frames)
    host._agent_services = services_factory("off", budget={"run_tokens": 10, "backtest_tokens": 10})
    host.agents.create("spender", model=ScriptedModel([{"tool": "account_portfolio"}, "ok"]))
    result = host.agents["spender"].run()
    assert "budget_exceeded" in result.warning_codes
    assert any("over the budget" in m for m, _ in host.logs)  # the backtest budget is logged once


def test_knowledge_cutoff_is_flagged_for_a_real_model_name(host):
    from google.adk.models.base_llm import BaseLlm
    from google.adk.models.llm_response import LlmResponse
    from google.genai import types

    class PretendGpt(BaseLlm):
        """A user-supplied ADK model (used as is) that claims a real model name."""

        async def generate_content_async(self, llm_request, stream=False):
            yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text="hold")]))

    host.agents.create("old", model=PretendGpt(model="gpt-4o"))
    result = host.agents["old"].run()
    assert result.text == "hold" and result.model == "gpt-4o"
    assert "knowledge_cutoff" in result.warning_codes  # simulated 2020 is before gpt-4o's cutoff


def test_spans_nest_model_and_tool_calls_under_the_agent_run(frames):
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from agentrt.telemetry.otel import setup_tracing

    exporter = InMemorySpanExporter()
    handle = setup_tracing(None, exporters=[exporter])
    host = FakeHost(frames)
    host._agent_services = AgentServices(tracing=handle)
    try:
        host.agents.create("spanned", model=ScriptedModel([{"tool": "account_portfolio"}, "ok"]))
        host.agents["spanned"].run()
    finally:
        host._agent_services.close()
        handle.close()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    run = spans["invoke_agent spanned"]
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert run.attributes["agentrt.cache_hit"] is False
    for child in ("chat scripted", "execute_tool account_portfolio"):
        assert spans[child].parent.span_id == run.context.span_id
    assert spans["execute_tool account_portfolio"].attributes["gen_ai.tool.name"] == "account_portfolio"
    assert not [n for n in spans if n.startswith(("call_llm", "invocation", "generate_content"))]  # no ADK spans


def test_secrets_in_the_environment_never_reach_a_trace(recorded, monkeypatch):
    host, _ = recorded
    monkeypatch.setenv("PRIVATE_FEED_API_KEY", "s3cr3t-value-123")
    host.agents.create("s", model=ScriptedModel(["ok"]))
    result = host.agents["s"].run(context={"token_echo": "s3cr3t-value-123"})
    assert "s3cr3t-value-123" not in Path(result.payload["trace_path"]).read_text()
