"""Tracing setup and GenAI span helpers: span tree, attributes, JSON-lines file, provider reuse."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agentrt.telemetry import otel
from agentrt.telemetry.otel import (
    NOOP_SPAN,
    agent_run_span,
    backtest_span,
    iteration_span,
    model_call_span,
    record_agent_outcome,
    record_model_usage,
    record_tool_error,
    setup_tracing,
    tool_call_span,
)

pytestmark = pytest.mark.usefixtures("fresh_otel")


def _run_one_backtest_bar(sim_time: dt.datetime, *, tool_fails: bool = False) -> None:
    with backtest_span("demo_strategy", dt.date(2021, 1, 1), dt.date(2021, 12, 31)), iteration_span(sim_time):
        with agent_run_span("trader", "openai/gpt-4o", sim_time) as run:
            with model_call_span("openai/gpt-4o") as call:
                record_model_usage(call, input_tokens=120, output_tokens=15, finish_reasons=["tool_calls"])
            with tool_call_span("get_bars", call_id="call-1") as tool:
                if tool_fails:
                    record_tool_error(tool, ValueError("unknown symbol 'XYZ'"))
            record_agent_outcome(run, cache_hit=False, cache_key="b2:abc", warnings=["no_tool_calls"])


def _by_name(spans):  # type: ignore[no-untyped-def]
    return {span.name: span for span in spans}


def test_spans_form_backtest_iteration_agent_model_tool_tree(tmp_path: Path, sim_time: dt.datetime) -> None:
    memory = InMemorySpanExporter()
    with setup_tracing(tmp_path, exporters=[memory]):
        _run_one_backtest_bar(sim_time)
    spans = _by_name(memory.get_finished_spans())
    assert set(spans) == {
        "backtest demo_strategy",
        "iteration",
        "invoke_agent trader",
        "chat openai/gpt-4o",
        "execute_tool get_bars",
    }
    root = spans["backtest demo_strategy"]
    assert root.parent is None

    def parent_of(name: str) -> int:
        return spans[name].parent.span_id

    assert parent_of("iteration") == root.context.span_id
    assert parent_of("invoke_agent trader") == spans["iteration"].context.span_id
    assert parent_of("chat openai/gpt-4o") == spans["invoke_agent trader"].context.span_id
    assert parent_of("execute_tool get_bars") == spans["invoke_agent trader"].context.span_id
    assert len({span.context.trace_id for span in spans.values()}) == 1


def test_agent_model_and_tool_spans_carry_genai_attributes(tmp_path: Path, sim_time: dt.datetime) -> None:
    memory = InMemorySpanExporter()
    with setup_tracing(tmp_path, exporters=[memory]):
        _run_one_backtest_bar(sim_time)
    spans = _by_name(memory.get_finished_spans())

    agent = spans["invoke_agent trader"]
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.agent.name"] == "trader"
    assert agent.attributes["gen_ai.request.model"] == "openai/gpt-4o"
    assert agent.attributes["agentrt.sim_time"] == "2021-03-05T16:00:00-05:00"
    assert agent.attributes["agentrt.cache_hit"] is False
    assert agent.attributes["agentrt.cache_key"] == "b2:abc"
    assert tuple(agent.attributes["agentrt.warnings"]) == ("no_tool_calls",)

    chat = spans["chat openai/gpt-4o"]
    assert chat.kind == SpanKind.CLIENT
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.attributes["gen_ai.system"] == "openai"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 120
    assert chat.attributes["gen_ai.usage.output_tokens"] == 15
    assert tuple(chat.attributes["gen_ai.response.finish_reasons"]) == ("tool_calls",)

    tool = spans["execute_tool get_bars"]
    assert tool.kind == SpanKind.INTERNAL
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "get_bars"
    assert tool.attributes["gen_ai.tool.call.id"] == "call-1"
    assert tool.status.status_code == StatusCode.UNSET


def test_tool_error_returned_to_model_marks_span_as_error(tmp_path: Path, sim_time: dt.datetime) -> None:
    memory = InMemorySpanExporter()
    with setup_tracing(None, exporters=[memory]):
        _run_one_backtest_bar(sim_time, tool_fails=True)
    tool = _by_name(memory.get_finished_spans())["execute_tool get_bars"]
    assert tool.status.status_code == StatusCode.ERROR
    assert "unknown symbol" in tool.status.description
    assert tool.attributes["error.type"] == "ValueError"


def test_exception_escaping_tool_span_sets_error_status_and_type() -> None:
    memory = InMemorySpanExporter()
    with setup_tracing(None, exporters=[memory]), pytest.raises(KeyError), tool_call_span("lookup"):
        raise KeyError("missing")
    (span,) = memory.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["error.type"] == "KeyError"
    assert [event.name for event in span.events] == ["exception"]


def test_model_provider_is_guessed_from_bare_and_prefixed_model_names() -> None:
    assert otel.provider_name_for("gemini-2.5-flash") == "gcp.gemini"
    assert otel.provider_name_for("models/gemini-2.0-flash") == "gcp.gemini"
    assert otel.provider_name_for("anthropic/claude-sonnet-4-20250514") == "anthropic"
    assert otel.provider_name_for("ollama_chat/llama3.1") == "ollama"
    assert otel.provider_name_for("scripted") == "agentrt"
    assert otel.provider_name_for("mystery-model") is None


def test_spans_jsonl_holds_one_json_object_per_finished_span(tmp_path: Path, sim_time: dt.datetime) -> None:
    handle = setup_tracing(tmp_path)
    _run_one_backtest_bar(sim_time)
    handle.close()
    assert handle.spans_path == tmp_path / "spans.jsonl"
    lines = (tmp_path / "spans.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 5
    assert list(records[0]) == [
        "schema_version",
        "name",
        "trace_id",
        "span_id",
        "parent_id",
        "kind",
        "start_ns",
        "end_ns",
        "attributes",
        "status",
        "events",
    ]
    by_name = {r["name"]: r for r in records}
    agent = by_name["invoke_agent trader"]
    assert by_name["chat openai/gpt-4o"]["parent_id"] == agent["span_id"]
    assert by_name["backtest demo_strategy"]["parent_id"] is None
    assert len(agent["trace_id"]) == 32 and len(agent["span_id"]) == 16
    assert agent["attributes"]["agentrt.warnings"] == ["no_tool_calls"]
    assert agent["start_ns"] <= agent["end_ns"]
    assert agent["status"] == {"code": "UNSET", "description": None}


def test_spans_jsonl_redacts_secret_attributes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_API_KEY", "fake-key-0123456789")
    handle = setup_tracing(tmp_path)
    with tool_call_span("http_get") as span:
        span.set_attribute("http.request.header.authorization", "Bearer abc.def.ghi")
        span.set_attribute("agentrt.note", "called with fake-key-0123456789")
    handle.close()
    text = (tmp_path / "spans.jsonl").read_text()
    assert "fake-key-0123456789" not in text
    assert "abc.def.ghi" not in text
    assert "[REDACTED]" in text


def test_close_detaches_exporters_so_next_backtest_writes_its_own_file(tmp_path: Path, sim_time: dt.datetime) -> None:
    first, second = tmp_path / "run1", tmp_path / "run2"
    handle = setup_tracing(first)
    _run_one_backtest_bar(sim_time)
    handle.close()
    handle.close()  # idempotent
    handle2 = setup_tracing(second)
    with iteration_span(sim_time):
        pass
    handle2.close()
    assert handle2.provider is handle.provider
    assert len((first / "spans.jsonl").read_text().splitlines()) == 5
    assert [json.loads(x)["name"] for x in (second / "spans.jsonl").read_text().splitlines()] == ["iteration"]


def test_agentrt_installs_global_provider_once_with_service_resource(tmp_path: Path) -> None:
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    handle = setup_tracing(tmp_path, service_name="agentrt-test")
    assert handle.owns_provider
    assert trace.get_tracer_provider() is handle.provider
    resource = handle.provider.resource.attributes
    assert resource["service.name"] == "agentrt-test"
    assert resource["agentrt.version"]
    handle.close()
    again = setup_tracing(tmp_path)
    assert again.provider is handle.provider
    again.close()


def test_application_sdk_provider_is_reused_and_keeps_its_exporters(tmp_path: Path, sim_time: dt.datetime) -> None:
    app_memory = InMemorySpanExporter()
    app_provider = TracerProvider(resource=Resource.create({"service.name": "my-app"}))
    app_provider.add_span_processor(SimpleSpanProcessor(app_memory))
    trace.set_tracer_provider(app_provider)

    handle = setup_tracing(tmp_path)
    assert handle.provider is app_provider
    assert not handle.owns_provider
    _run_one_backtest_bar(sim_time)
    handle.close()
    assert len(app_memory.get_finished_spans()) == 5
    assert len((tmp_path / "spans.jsonl").read_text().splitlines()) == 5

    # After close our file gets nothing more, the application's exporter still does,
    # and the helpers keep tracing into the application's provider.
    with iteration_span(sim_time):
        pass
    assert len((tmp_path / "spans.jsonl").read_text().splitlines()) == 5
    assert len(app_memory.get_finished_spans()) == 6


def test_helpers_yield_noop_span_when_tracing_is_not_set_up(sim_time: dt.datetime) -> None:
    with agent_run_span("trader", "scripted", sim_time) as span:
        record_agent_outcome(span, cache_hit=True, cache_key="k", warnings=[])
        with model_call_span("scripted") as call:
            record_model_usage(call, input_tokens=1, output_tokens=1)
        with tool_call_span("get_bars") as tool:
            record_tool_error(tool, "bad")
    assert span is NOOP_SPAN
    assert not span.is_recording()


def test_unsupported_otlp_protocol_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(ValueError, match="http/protobuf"):
        setup_tracing(tmp_path)


def test_no_otlp_exporter_without_otel_endpoint_variables(tmp_path: Path) -> None:
    handle = setup_tracing(tmp_path)
    assert handle.otlp_protocol is None
    assert len(handle.processors) == 1
    handle.close()
