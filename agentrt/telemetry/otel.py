"""OpenTelemetry setup: the tracer provider, our span processors, the JSON-lines and OTLP exporters.

``setup_tracing(output_dir)`` installs (or reuses) an SDK ``TracerProvider`` and attaches
our exporters: always a JSON-lines file ``<output_dir>/spans.jsonl``, plus an OTLP
exporter when the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` variables are set. ``TracingHandle.close()``
flushes and detaches exactly what ``setup_tracing`` attached.

The GenAI-convention span helpers live in :mod:`agentrt.telemetry.spans` and are
re-exported here.

Import policy: this module imports no ``opentelemetry`` package at import time; the
SDK and exporters are imported inside :func:`setup_tracing` and only when a tracer is
active, so ``import agentrt.telemetry`` stays light.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = [
    "NOOP_SPAN",
    "SPANS_FILENAME",
    "SPANS_SCHEMA_VERSION",
    "JsonLinesSpanExporter",  # noqa: F822 - built lazily by the module __getattr__
    "TracingHandle",
    "agent_run_span",
    "backtest_span",
    "iteration_span",
    "model_call_span",
    "provider_name_for",
    "record_agent_outcome",
    "record_model_usage",
    "record_tool_error",
    "setup_tracing",
    "tool_call_span",
]

log = logging.getLogger(__name__)

SPANS_FILENAME = "spans.jsonl"
SPANS_SCHEMA_VERSION = 1
_INSTRUMENTATION_NAME = "agentrt"


# --------------------------------------------------------------------------- no-op span


class _NoopSpan:
    """Stands in for an OTel span when tracing is off; every method does nothing."""

    __slots__ = ()

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def set_attributes(self, attributes: Any) -> None:
        return None

    def add_event(self, name: str, attributes: Any = None, timestamp: Any = None) -> None:
        return None

    def record_exception(
        self, exception: BaseException, attributes: Any = None, timestamp: Any = None, escaped: bool = False
    ) -> None:
        return None

    def set_status(self, status: Any, description: str | None = None) -> None:
        return None

    def update_name(self, name: str) -> None:
        return None

    def is_recording(self) -> bool:
        return False


NOOP_SPAN: Any = _NoopSpan()


# --------------------------------------------------------------------------- JSON-lines exporter


def _span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    from agentrt.telemetry.redact import redact_jsonable

    ctx = span.context
    parent = span.parent
    status = span.status
    return {
        "schema_version": SPANS_SCHEMA_VERSION,
        "name": span.name,
        "trace_id": f"{ctx.trace_id:032x}" if ctx is not None else None,
        "span_id": f"{ctx.span_id:016x}" if ctx is not None else None,
        "parent_id": f"{parent.span_id:016x}" if parent is not None else None,
        "kind": span.kind.name if span.kind is not None else None,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "attributes": redact_jsonable(dict(span.attributes or {})),
        "status": {"code": status.status_code.name, "description": status.description},
        "events": [
            {
                "name": event.name,
                "time_ns": event.timestamp,
                "attributes": redact_jsonable(dict(event.attributes or {})),
            }
            for event in span.events
        ],
    }


def _exporter_base() -> type:
    from opentelemetry.sdk.trace.export import SpanExporter

    return SpanExporter


class _JsonLinesSpanExporterImpl:
    """Shared implementation; the public class is built on first use so OTel stays unimported."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fh: Any = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in shutdown()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        from opentelemetry.sdk.trace.export import SpanExportResult

        lines = [
            json.dumps(_span_to_dict(span), ensure_ascii=False, default=str, separators=(",", ":")) for span in spans
        ]
        with self._lock:
            if self._fh is None:
                return SpanExportResult.FAILURE
            for line in lines:
                self._fh.write(line + "\n")
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            if self._fh is not None:
                self._fh.flush()
        return True

    def shutdown(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


_JSONL_CLASS: type | None = None
_JSONL_DOC = """SpanExporter writing one JSON object per finished span to ``path`` (JSON lines).

Each line: ``schema_version, name, trace_id, span_id, parent_id, kind, start_ns, end_ns,
attributes, status {code, description}, events [{name, time_ns, attributes}]``; ids are
lowercase hex, attributes are redacted. The file is truncated when the exporter is created.
Access it as ``agentrt.telemetry.otel.JsonLinesSpanExporter`` (built on first access).
"""


def _jsonl_class() -> type:
    global _JSONL_CLASS
    if _JSONL_CLASS is None:
        _JSONL_CLASS = type(
            "JsonLinesSpanExporter",
            (_JsonLinesSpanExporterImpl, _exporter_base()),
            {
                "__doc__": _JSONL_DOC,
                "__module__": __name__,
            },
        )
    return _JSONL_CLASS


def __getattr__(name: str) -> Any:
    if not name.startswith("_"):  # the span helpers moved to agentrt.telemetry.spans; still reachable here
        from agentrt.telemetry import spans

        if name in spans.__all__:
            return getattr(spans, name)
    # PEP 562: build JsonLinesSpanExporter (a real SpanExporter subclass) on first access,
    # so that importing this module does not import the OTel SDK.
    if name == "JsonLinesSpanExporter":
        return _jsonl_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _redacted_span(span: ReadableSpan) -> ReadableSpan:
    from opentelemetry.sdk.trace import Event, ReadableSpan

    from agentrt.telemetry.redact import redact

    attributes = dict(span.attributes or {})
    clean = redact(attributes)
    changed = clean != attributes
    events = []
    for event in span.events:
        event_attributes = dict(event.attributes or {})
        clean_event = redact(event_attributes)
        if clean_event != event_attributes:
            changed = True
            event = Event(event.name, clean_event, event.timestamp)
        events.append(event)
    if not changed:
        return span
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=clean,
        events=events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class _RedactingExporterImpl:
    """Passes spans to another exporter after redacting their attributes and events.

    Libraries tracing into the same provider (Google ADK records prompts and tool payloads
    in span attributes by default) must not ship secrets to an OTLP backend.
    """

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([_redacted_span(span) for span in spans])

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self.inner.shutdown()


def _redacting(inner: SpanExporter) -> SpanExporter:
    cls = type("_RedactingSpanExporter", (_RedactingExporterImpl, _exporter_base()), {"__module__": __name__})
    return cls(inner)


# --------------------------------------------------------------------------- processor router


class _RouterImpl:
    """One processor per provider that forwards to a swappable tuple of our processors.

    The SDK has no public way to remove a span processor, so we add this router once per
    provider and attach/detach our processors inside it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delegates: tuple[Any, ...] = ()

    def attach(self, processors: Sequence[Any]) -> None:
        with self._lock:
            self.delegates = self.delegates + tuple(processors)

    def detach(self, processors: Sequence[Any]) -> None:
        drop = {id(p) for p in processors}
        with self._lock:
            self.delegates = tuple(p for p in self.delegates if id(p) not in drop)

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        for processor in self.delegates:
            processor.on_start(span, parent_context=parent_context)

    def _on_ending(self, span: Any) -> None:
        for processor in self.delegates:
            on_ending = getattr(processor, "_on_ending", None)
            if on_ending is not None:
                on_ending(span)

    def on_end(self, span: Any) -> None:
        for processor in self.delegates:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self.delegates:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self.delegates)


def _new_router() -> Any:
    from opentelemetry.sdk.trace import SpanProcessor

    cls = type("_AgentrtRouterProcessor", (_RouterImpl, SpanProcessor), {"__module__": __name__})
    return cls()


# --------------------------------------------------------------------------- state and setup


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    own_provider: Any = None
    routers: dict[int, tuple[Any, Any]] = field(default_factory=dict)  # id(provider) -> (provider, router)
    open_handles: list[TracingHandle] = field(default_factory=list)
    tracer: Any = None
    foreign: tuple[Any, Any] | None = None  # (provider, tracer) installed by the application


_STATE = _State()


@dataclass(eq=False)
class TracingHandle:
    """What :func:`setup_tracing` attached; call :meth:`close` (or use ``with``) when the run ends.

    ``provider`` is the SDK provider in use, ``processors`` the span processors this handle
    added, ``spans_path`` the JSON-lines file (None without an output folder),
    ``otlp_protocol`` "http/protobuf"/"grpc" when an OTLP exporter was added, and
    ``owns_provider`` False when the application's own provider was reused.
    """

    provider: TracerProvider
    processors: tuple[SpanProcessor, ...]
    spans_path: Path | None
    otlp_protocol: str | None
    owns_provider: bool
    _router: Any = field(repr=False, default=None)
    _closed: bool = field(repr=False, default=False)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export everything our processors hold; True when all finished in time."""
        return all(processor.force_flush(timeout_millis) for processor in self.processors)

    def close(self, timeout_millis: int = 30000) -> None:
        """Flush, detach and shut down the processors this handle added; idempotent.

        The provider itself stays installed (OTel allows setting the global provider only
        once per process), so a later :func:`setup_tracing` reuses it with new files.
        """
        if self._closed:
            return
        self._closed = True
        try:
            self.force_flush(timeout_millis)
        finally:
            self._router.detach(self.processors)
            for processor in self.processors:
                try:
                    processor.shutdown()
                except Exception:
                    log.exception("shutting down span processor %r failed", processor)
            with _STATE.lock:
                if self in _STATE.open_handles:
                    _STATE.open_handles.remove(self)
                if not _STATE.open_handles:
                    _STATE.tracer = None

    def __enter__(self) -> TracingHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _agentrt_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("agentrt")
    except PackageNotFoundError:
        module = sys.modules.get("agentrt")
        return str(getattr(module, "__version__", "0+unknown"))


def _otlp_endpoint_configured() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def _otlp_protocol() -> str:
    raw = (
        (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "")
        .strip()
        .lower()
    )
    if raw in ("", "http/protobuf", "http"):
        return "http/protobuf"
    if raw == "grpc":
        return "grpc"
    raise ValueError(
        f"OTEL_EXPORTER_OTLP_PROTOCOL={raw!r} is not supported; use 'http/protobuf' (the default) or 'grpc'"
    )


def _otlp_exporter(protocol: str) -> SpanExporter:
    # The exporters read endpoint, headers, timeout, compression and certificates from the
    # standard OTEL_EXPORTER_OTLP_* variables themselves.
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return HttpExporter()


def _resolve_provider(service_name: str) -> tuple[Any, bool]:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current, current is _STATE.own_provider
    if _STATE.own_provider is None:
        attributes: dict[str, Any] = {"agentrt.version": _agentrt_version(), "service.version": _agentrt_version()}
        if not os.environ.get("OTEL_SERVICE_NAME"):
            attributes["service.name"] = service_name
        _STATE.own_provider = TracerProvider(resource=Resource.create(attributes))
    own = _STATE.own_provider
    if isinstance(current, trace.ProxyTracerProvider):
        trace.set_tracer_provider(own)
    if trace.get_tracer_provider() is not own:
        # The application installed a non-SDK provider (e.g. NoOpTracerProvider) that we
        # cannot extend or replace; our spans still reach our own exporters.
        log.info("agentrt: global tracer provider %r is not an SDK TracerProvider; using a private one", current)
    return own, True


def setup_tracing(
    output_dir: Path | None,
    *,
    service_name: str = "agentrt",
    exporters: Sequence[SpanExporter] = (),
    otlp: bool | None = None,
) -> TracingHandle:
    """Start tracing agentrt spans and return the handle that stops it.

    Provider: if the application already installed an SDK ``TracerProvider``, agentrt
    adds its processors to it (the resource and ``service_name`` stay the application's);
    otherwise agentrt creates one with ``service.name``/``agentrt.version`` in its resource
    and sets it as the global provider (once per process; later calls reuse it).

    Exporters attached: a JSON-lines file ``<output_dir>/spans.jsonl`` (unless
    ``output_dir`` is None); an OTLP exporter when ``otlp`` is True, or when ``otlp`` is
    None and ``OTEL_EXPORTER_OTLP_ENDPOINT``/``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set
    and agentrt owns the provider (an application's own provider is assumed to export
    already); protocol from ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL``/``OTEL_EXPORTER_OTLP_PROTOCOL``
    (``http/protobuf`` by default, or ``grpc``); and each of ``exporters`` (e.g. an
    ``InMemorySpanExporter`` in tests), each behind a ``SimpleSpanProcessor``.
    """
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    with _STATE.lock:
        provider, owns = _resolve_provider(service_name)
        entry = _STATE.routers.get(id(provider))
        if entry is None or entry[0] is not provider:
            router = _new_router()
            provider.add_span_processor(router)
            _STATE.routers[id(provider)] = (provider, router)
        else:
            router = entry[1]

    want_otlp = otlp if otlp is not None else (owns and _otlp_endpoint_configured())
    protocol = _otlp_protocol() if want_otlp else None  # validate before opening any file
    processors: list[Any] = []
    spans_path: Path | None = None
    if output_dir is not None:
        spans_path = Path(output_dir) / SPANS_FILENAME
        processors.append(SimpleSpanProcessor(_jsonl_class()(spans_path)))
    if protocol is not None:
        processors.append(BatchSpanProcessor(_redacting(_otlp_exporter(protocol))))
    processors.extend(SimpleSpanProcessor(exporter) for exporter in exporters)

    handle = TracingHandle(
        provider=provider,
        processors=tuple(processors),
        spans_path=spans_path,
        otlp_protocol=protocol,
        owns_provider=owns,
        _router=router,
    )
    router.attach(handle.processors)
    with _STATE.lock:
        _STATE.open_handles.append(handle)
        _STATE.tracer = provider.get_tracer(_INSTRUMENTATION_NAME, _agentrt_version())
    return handle
