"""OTLP export configured by the standard OTEL_* variables, received by local servers on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import gzip
import threading
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from agentrt.telemetry.otel import agent_run_span, model_call_span, record_model_usage, setup_tracing, tool_call_span

pytestmark = pytest.mark.usefixtures("fresh_otel")


def _spans_of(requests: list[ExportTraceServiceRequest]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for request in requests:
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {}
                    for kv in span.attributes:
                        value = kv.value
                        kind = value.WhichOneof("value")
                        attributes[kv.key] = (
                            getattr(value, kind)
                            if kind != "array_value"
                            else [v.string_value for v in value.array_value.values]
                        )
                    out[span.name] = {
                        "attributes": attributes,
                        "parent": span.parent_span_id.hex(),
                        "id": span.span_id.hex(),
                        "service": {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes},
                    }
    return out


@pytest.fixture
def otlp_http_receiver() -> Iterator[tuple[str, list[ExportTraceServiceRequest], list[str]]]:
    received: list[ExportTraceServiceRequest] = []
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            received.append(request)
            paths.append(self.path)
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received, paths
    finally:
        server.shutdown()
        server.server_close()


def _agent_run(sim_time: dt.datetime) -> None:
    with agent_run_span("trader", "gemini-2.5-flash", sim_time):
        with model_call_span("gemini-2.5-flash") as call:
            record_model_usage(call, input_tokens=50, output_tokens=7, finish_reasons=["stop"])
        with tool_call_span("get_account", call_id="c-9"):
            pass


def test_otlp_http_exporter_sends_genai_spans_to_endpoint_from_env(
    otlp_http_receiver: tuple[str, list[ExportTraceServiceRequest], list[str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sim_time: dt.datetime,
) -> None:
    endpoint, received, paths = otlp_http_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "5")
    handle = setup_tracing(tmp_path, service_name="otlp-test")
    assert handle.otlp_protocol == "http/protobuf"
    _agent_run(sim_time)
    handle.close()

    assert paths and set(paths) == {"/v1/traces"}
    spans = _spans_of(received)
    assert set(spans) == {"invoke_agent trader", "chat gemini-2.5-flash", "execute_tool get_account"}
    agent = spans["invoke_agent trader"]
    assert agent["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert agent["attributes"]["agentrt.sim_time"] == "2021-03-05T16:00:00-05:00"
    assert agent["service"]["service.name"] == "otlp-test"
    chat = spans["chat gemini-2.5-flash"]
    assert chat["parent"] == agent["id"]
    assert chat["attributes"]["gen_ai.usage.input_tokens"] == 50
    assert chat["attributes"]["gen_ai.response.finish_reasons"] == ["stop"]
    assert spans["execute_tool get_account"]["attributes"]["gen_ai.tool.call.id"] == "c-9"
    # The JSON-lines file is written beside the OTLP export.
    assert len((tmp_path / "spans.jsonl").read_text().splitlines()) == 3


def test_traces_specific_endpoint_variable_is_honoured(
    otlp_http_receiver: tuple[str, list[ExportTraceServiceRequest], list[str]],
    monkeypatch: pytest.MonkeyPatch,
    sim_time: dt.datetime,
) -> None:
    endpoint, received, paths = otlp_http_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{endpoint}/custom/traces")
    handle = setup_tracing(None)
    _agent_run(sim_time)
    handle.close()
    assert set(paths) == {"/custom/traces"}
    assert "invoke_agent trader" in _spans_of(received)


def test_otlp_grpc_protocol_sends_spans_to_grpc_receiver(
    monkeypatch: pytest.MonkeyPatch, sim_time: dt.datetime
) -> None:
    grpc = pytest.importorskip("grpc")
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    received: list[ExportTraceServiceRequest] = []

    class Servicer(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: ExportTraceServiceRequest, context: Any) -> ExportTraceServiceResponse:
            received.append(request)
            return ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        handle = setup_tracing(None)
        assert handle.otlp_protocol == "grpc"
        _agent_run(sim_time)
        handle.close()
    finally:
        server.stop(grace=None)
    assert set(_spans_of(received)) == {"invoke_agent trader", "chat gemini-2.5-flash", "execute_tool get_account"}


def test_spans_from_other_libraries_reach_otlp_redacted(
    otlp_http_receiver: tuple[str, list[ExportTraceServiceRequest], list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry import trace

    endpoint, received, _paths = otlp_http_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("FAKE_GEMINI_API_KEY", "fake-gemini-key-987654")
    handle = setup_tracing(None)
    # Google ADK traces into the global provider and records request content by default.
    with trace.get_tracer("google.adk").start_as_current_span("call_llm") as span:
        span.set_attribute("gcp.vertex.agent.llm_request", '{"key": "fake-gemini-key-987654", "q": "hi"}')
        span.set_attribute("http.request.header.authorization", "Token abcdef-123")
        span.add_event("request", {"url": "https://x.example/v1?key=fake-gemini-key-987654"})
    handle.close()

    (request,) = received
    payload = request.SerializeToString()
    assert b"fake-gemini-key-987654" not in payload
    assert b"abcdef-123" not in payload
    attributes = _spans_of(received)["call_llm"]["attributes"]
    assert attributes["gcp.vertex.agent.llm_request"] == '{"key": "[REDACTED]", "q": "hi"}'
    assert attributes["http.request.header.authorization"] == "[REDACTED]"
