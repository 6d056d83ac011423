"""OpenTelemetry setup and GenAI-convention span helpers for backtests and agent runs.

``setup_tracing(output_dir)`` installs (or reuses) an SDK ``TracerProvider`` and attaches
our exporters: always a JSON-lines file ``<output_dir>/spans.jsonl``, plus an OTLP
exporter when the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` /
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` variables are set. ``TracingHandle.close()``
flushes and detaches exactly what ``setup_tracing`` attached.

The span helpers (:func:`backtest_span`, :func:`iteration_span`, :func:`agent_run_span`,
:func:`model_call_span`, :func:`tool_call_span`) follow the OpenTelemetry GenAI semantic
conventions. When no tracing is set up (no open ``TracingHandle`` and no SDK provider
installed by the application) they return a shared no-op context manager yielding a
no-op span, which costs about as much as a function call.

Import policy: this module imports no ``opentelemetry`` package at import time; the
SDK and exporters are imported inside :func:`setup_tracing` and only when a tracer is
active, so ``import agentrt.telemetry`` stays light.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
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


# --------------------------------------------------------------------------- span helpers


def _active_tracer() -> Any:
    tracer = _STATE.tracer
    if tracer is not None:
        return tracer
    trace_mod = sys.modules.get("opentelemetry.trace")
    if trace_mod is None:
        return None
    provider = trace_mod.get_tracer_provider()
    if provider is _STATE.own_provider or isinstance(
        provider, (trace_mod.ProxyTracerProvider, trace_mod.NoOpTracerProvider)
    ):
        return None
    foreign = _STATE.foreign
    if foreign is None or foreign[0] is not provider:
        foreign = (provider, provider.get_tracer(_INSTRUMENTATION_NAME, _agentrt_version()))
        _STATE.foreign = foreign
    return foreign[1]


def _attr_value(value: Any) -> Any:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(item) if not isinstance(item, (str, bool, int, float)) else item for item in value]
    return str(value)


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    # OTel drops None attributes with a logged warning; skip them instead.
    return {key: _attr_value(value) for key, value in attributes.items() if value is not None}


class _NoopContext:
    """Context manager yielding ``NOOP_SPAN``; what every helper returns when tracing is off."""

    __slots__ = ()

    def __enter__(self) -> Any:
        return NOOP_SPAN

    def __exit__(self, *exc: object) -> None:
        return None


_NOOP_CONTEXT = _NoopContext()


class _ErrorTypeContext:
    """Wraps a span context manager and sets ``error.type`` when an exception escapes it."""

    __slots__ = ("_inner", "_span")

    def __init__(self, inner: AbstractContextManager[Any]) -> None:
        self._inner = inner
        self._span: Any = NOOP_SPAN

    def __enter__(self) -> Any:
        self._span = self._inner.__enter__()
        return self._span

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool | None:
        if exc_type is not None and self._span.is_recording():
            self._span.set_attribute("error.type", exc_type.__qualname__)
        return self._inner.__exit__(exc_type, exc, tb)


def _start(tracer: Any, name: str, attributes: dict[str, Any], kind: str = "INTERNAL") -> AbstractContextManager[Any]:
    from opentelemetry.trace import SpanKind

    # start_as_current_span records an escaping exception and sets status ERROR itself.
    return tracer.start_as_current_span(name, kind=SpanKind[kind], attributes=_clean(attributes))


_PROVIDER_BY_PREFIX = {
    "openai": "openai",
    "azure": "azure.ai.openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "ollama": "ollama",
    "ollama_chat": "ollama",
    "groq": "groq",
    "mistral": "mistral_ai",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "cohere": "cohere",
    "perplexity": "perplexity",
}


def provider_name_for(model: str) -> str | None:
    """Guess ``gen_ai.provider.name`` from a model string (``openai/gpt-4o`` -> ``openai``).

    LiteLLM-style ``provider/model`` strings map through a small table (unknown prefixes are
    returned as they are); bare names are recognised for Gemini, OpenAI, Anthropic and the
    offline models (``agentrt``). Returns None when nothing fits.
    """
    name = model.strip().lower()
    if name.startswith("models/"):  # Gemini API resource name
        name = name[len("models/") :]
    prefix, sep, _rest = name.partition("/")
    if sep:
        return _PROVIDER_BY_PREFIX.get(prefix, prefix)
    if name.startswith("gemini"):
        return "gcp.gemini"
    if name.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai"
    if name.startswith("claude"):
        return "anthropic"
    if name.startswith(("scripted", "function")):
        return "agentrt"
    return None


def backtest_span(
    strategy: str, start: _dt.datetime | _dt.date | str, end: _dt.datetime | _dt.date | str
) -> AbstractContextManager[Any]:
    """Root span of a backtest: ``backtest {strategy}`` with the simulated period."""
    tracer = _active_tracer()
    if tracer is None:
        return _NOOP_CONTEXT
    return _start(
        tracer,
        f"backtest {strategy}",
        {"agentrt.strategy": strategy, "agentrt.backtest.start": start, "agentrt.backtest.end": end},
    )


def iteration_span(sim_time: _dt.datetime) -> AbstractContextManager[Any]:
    """Span of one strategy iteration (one bar): ``iteration`` with ``agentrt.sim_time``."""
    tracer = _active_tracer()
    if tracer is None:
        return _NOOP_CONTEXT
    return _start(tracer, "iteration", {"agentrt.sim_time": sim_time})


class LazyIteration:
    """An ``iteration`` span that exists only if something inside the iteration is traced.

    The engine opens one per iteration (`begin_iteration`), which costs a timestamp; the span
    itself is created — with the iteration's original start time, under the current (backtest)
    span — the first time an agent run inside needs a parent (`iteration_context`). A bar whose
    agent runs were all served from the replay cache therefore costs no span at all.
    """

    __slots__ = ("sim_time", "start_ns", "span", "parent")

    def __init__(self, sim_time: _dt.datetime) -> None:
        import time

        from opentelemetry import context as otel_context

        self.sim_time = sim_time
        self.start_ns = time.time_ns()
        self.span: Any = None
        self.parent = otel_context.get_current()

    def activate(self) -> AbstractContextManager[Any]:
        tracer = _active_tracer()
        if tracer is None:
            return _NOOP_CONTEXT
        from opentelemetry import trace

        if self.span is None:
            self.span = tracer.start_span("iteration", context=self.parent, start_time=self.start_ns,
                                          attributes=_clean({"agentrt.sim_time": self.sim_time}))
        return trace.use_span(self.span, end_on_exit=False)

    def end(self) -> None:
        if self.span is not None:
            self.span.end()


_ITERATION = threading.local()


def begin_iteration(sim_time: _dt.datetime) -> LazyIteration | None:
    """Start a lazy iteration span for this thread (None when tracing is off)."""
    if _active_tracer() is None:
        return None
    it = LazyIteration(sim_time)
    _ITERATION.current = it
    return it


def end_iteration(it: LazyIteration | None) -> None:
    if it is not None:
        it.end()
        if getattr(_ITERATION, "current", None) is it:
            _ITERATION.current = None


def iteration_context() -> AbstractContextManager[Any]:
    """Make this thread's lazy iteration span current (creating it now); a no-op without one."""
    it = getattr(_ITERATION, "current", None)
    return it.activate() if it is not None else _NOOP_CONTEXT


def agent_run_span(agent: str, model: str, sim_time: _dt.datetime) -> AbstractContextManager[Any]:
    """Span of one agent run: ``invoke_agent {agent}`` (GenAI ``invoke_agent`` operation).

    Use as ``with agent_run_span(...) as span:``; set the outcome with
    :func:`record_agent_outcome` (``agentrt.cache_hit``, ``agentrt.cache_key``,
    ``agentrt.warnings``) before the block ends.
    """
    tracer = _active_tracer()
    if tracer is None:
        return _NOOP_CONTEXT
    return _start(
        tracer,
        f"invoke_agent {agent}",
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": agent,
            "gen_ai.request.model": model,
            "gen_ai.provider.name": provider_name_for(model),
            "agentrt.sim_time": sim_time,
        },
    )


def model_call_span(model: str, *, provider: str | None = None) -> AbstractContextManager[Any]:
    """Span of one model request: ``chat {model}`` (GenAI ``chat`` operation, kind CLIENT).

    ``gen_ai.provider.name`` (and the older ``gen_ai.system``) come from ``provider`` or are
    guessed from the model string. Set usage with :func:`record_model_usage`.
    """
    tracer = _active_tracer()
    if tracer is None:
        return _NOOP_CONTEXT
    provider = provider or provider_name_for(model)
    return _start(
        tracer,
        f"chat {model}",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model,
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,
        },
        kind="CLIENT",
    )


def tool_call_span(
    tool_name: str, *, call_id: str | None = None, tool_type: str = "function"
) -> AbstractContextManager[Any]:
    """Span of one tool execution: ``execute_tool {tool}`` (GenAI ``execute_tool`` operation).

    An exception escaping the block marks the span as an error with ``error.type``; a tool
    error returned to the model instead of raised is recorded with :func:`record_tool_error`.
    """
    tracer = _active_tracer()
    if tracer is None:
        return _NOOP_CONTEXT
    return _ErrorTypeContext(
        _start(
            tracer,
            f"execute_tool {tool_name}",
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": tool_name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.type": tool_type,
            },
        )
    )


def record_model_usage(
    span: Any,
    *,
    input_tokens: int | None,
    output_tokens: int | None,
    finish_reasons: Sequence[str] | None = None,
    response_model: str | None = None,
    cache_hit: bool | None = None,
) -> None:
    """Set ``gen_ai.usage.*``, ``gen_ai.response.finish_reasons`` (and model / cache hit) on a model span."""
    if not span.is_recording():
        return
    span.set_attributes(
        _clean(
            {
                "gen_ai.usage.input_tokens": input_tokens,
                "gen_ai.usage.output_tokens": output_tokens,
                "gen_ai.response.finish_reasons": list(finish_reasons) if finish_reasons is not None else None,
                "gen_ai.response.model": response_model,
                "agentrt.cache_hit": cache_hit,
            }
        )
    )


def record_agent_outcome(
    span: Any,
    *,
    cache_hit: bool,
    cache_key: str | None = None,
    warnings: Sequence[Any] = (),
    input_tokens: int | None = None,
    output_tokens: int | None = None,
) -> None:
    """Set ``agentrt.cache_hit``, ``agentrt.cache_key``, ``agentrt.warnings`` (codes) and usage on an agent span."""
    if not span.is_recording():
        return
    codes = [w if isinstance(w, str) else str(getattr(w, "code", None) or w.get("code")) for w in warnings]
    span.set_attributes(
        _clean(
            {
                "agentrt.cache_hit": cache_hit,
                "agentrt.cache_key": cache_key,
                "agentrt.warnings": codes,
                "gen_ai.usage.input_tokens": input_tokens,
                "gen_ai.usage.output_tokens": output_tokens,
            }
        )
    )


def record_tool_error(span: Any, error: BaseException | str) -> None:
    """Mark a tool span as failed (status ERROR, ``error.type``) for an error returned to the model."""
    if not span.is_recording():
        return
    from opentelemetry.trace import Status, StatusCode

    error_type = type(error).__qualname__ if isinstance(error, BaseException) else "tool_error"
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, str(error)[:500]))
