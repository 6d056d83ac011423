"""GenAI-convention span helpers: backtest, iteration (lazy), agent run, model call, tool call.

They follow the OpenTelemetry GenAI semantic conventions. When no tracing is set up (no open
``TracingHandle`` from :func:`agentrt.telemetry.otel.setup_tracing` and no SDK provider installed
by the application) they return a shared no-op context manager yielding a no-op span, which
costs about as much as a function call. No ``opentelemetry`` import happens here unless a tracer
is active.
"""

from __future__ import annotations

import datetime as _dt
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from agentrt.telemetry.otel import _INSTRUMENTATION_NAME, _STATE, NOOP_SPAN, _agentrt_version  # noqa: F401

__all__ = [
    "IterationTracker",
    "LazyIteration",
    "agent_run_span",
    "backtest_span",
    "iteration_context",
    "iteration_span",
    "model_call_span",
    "provider_name_for",
    "record_agent_outcome",
    "record_model_usage",
    "record_tool_error",
    "tool_call_span",
]


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

    The engine starts one per iteration (:class:`IterationTracker`), which costs a timestamp; the span
    itself is created — with the iteration's original start time, under the context current
    when the iteration began — the first time an agent run inside needs a parent
    (`iteration_context`). A bar whose agent runs were all served from the replay cache
    therefore costs no span at all. ``sim_time`` may be a zero-argument callable (the
    engine passes its clock's ``now``), read only when the span is made.
    """

    __slots__ = ("_sim_time", "start_ns", "span", "parent")

    def __init__(self, sim_time: _dt.datetime | Callable[[], _dt.datetime], parent: Any = None) -> None:
        self._sim_time = sim_time
        self.start_ns = time.time_ns()
        self.span: Any = None
        self.parent = parent if parent is not None else _otel_context().get_current()

    @property
    def sim_time(self) -> _dt.datetime:
        value = self._sim_time
        return value() if callable(value) else value

    def activate(self) -> AbstractContextManager[Any]:
        tracer = _active_tracer()
        if tracer is None:
            return _NOOP_CONTEXT
        from opentelemetry import trace

        if self.span is None:
            self.span = tracer.start_span("iteration", context=self.parent, start_time=self.start_ns,
                                          attributes=_clean({"agentrt.sim_time": self.sim_time}))
        return trace.use_span(self.span, end_on_exit=False)



_ITERATION = threading.local()
_OTEL_CONTEXT: Any = None


def _otel_context() -> Any:
    global _OTEL_CONTEXT
    if _OTEL_CONTEXT is None:
        from opentelemetry import context

        _OTEL_CONTEXT = context
    return _OTEL_CONTEXT


class IterationTracker:
    """The engine loop's iteration spans: ``begin()`` and ``end()`` around each iteration, with
    one :class:`LazyIteration` reused bar after bar under the context current when the loop
    began (the backtest span), so an untraced bar costs a timestamp and two assignments."""

    __slots__ = ("_it",)

    def __init__(self, sim_time: Callable[[], _dt.datetime]) -> None:
        self._it = LazyIteration(sim_time, _otel_context().get_current()) if _active_tracer() is not None else None

    def begin(self) -> None:
        it = self._it
        if it is not None:
            it.start_ns = time.time_ns()
            it.span = None
            _ITERATION.current = it

    def end(self) -> None:
        it = self._it
        if it is not None:
            if it.span is not None:
                it.span.end()
                it.span = None
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
