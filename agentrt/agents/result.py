"""`AgentRunResult`: what one agent run returns to the strategy (LumiBot field names kept)."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["RESULT_VERSION", "AgentRunResult", "summarize"]

RESULT_VERSION = 1
"""Version of :meth:`AgentRunResult.to_json` (what the replay cache stores)."""

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def summarize(text: str, *, limit: int = 300) -> str:
    """The concluding summary of a final answer: its first one or two sentences, one line."""
    flat = " ".join((text or "").split())
    if not flat:
        return ""
    sentences = _SENTENCE.split(flat)
    summary = " ".join(sentences[:2])
    return summary if len(summary) <= limit else summary[: limit - 1].rstrip() + "…"


@dataclasses.dataclass(frozen=True)
class AgentRunResult:
    """The outcome of ``self.agents[name].run(...)``.

    ``tool_calls`` are ``{"id", "name", "args"}`` dicts in call order; ``tool_results``
    the matching ``{"id", "name", "result"}`` or ``{"id", "name", "error", "type"}`` dicts;
    ``orders`` the orders the run placed (on a cache hit: as re-applied now);
    ``payload["trace_path"]`` the JSON trace of the run (None without an output folder).
    """

    agent: str
    model: str
    sim_time: str
    summary: str
    text: str
    cache_hit: bool = False
    cache_key: str | None = None
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    tool_results: tuple[Mapping[str, Any], ...] = ()
    warning_messages: tuple[str, ...] = ()
    warnings: tuple[Mapping[str, Any], ...] = ()
    """Warnings as ``{"code", "message", "details"}``; ``warning_messages`` holds their messages."""
    usage: Mapping[str, int] = dataclasses.field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0})
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    orders: tuple[Mapping[str, Any], ...] = ()
    payload: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    output: Any = None
    """The final answer parsed with ``output_schema`` (a pydantic model or dict), else None."""
    model_calls: int = 0
    """Model calls the run made (0 on a cache hit)."""
    miss_reasons: tuple[str, ...] = ()
    """Why the replay cache had no entry for this run (empty on a hit or with the cache off)."""
    error: str | None = None
    """Set when the run could not finish (model error); such runs are never cached."""

    @property
    def warning_codes(self) -> list[str]:
        return [str(w.get("code")) for w in self.warnings]

    def to_json(self) -> dict[str, Any]:
        """The cacheable part of the result (what a later hit returns)."""
        return {
            "version": RESULT_VERSION,
            "agent": self.agent,
            "model": self.model,
            "sim_time": self.sim_time,
            "summary": self.summary,
            "text": self.text,
            "tool_calls": [dict(c) for c in self.tool_calls],
            "tool_results": [dict(r) for r in self.tool_results],
            "warnings": [dict(w) for w in self.warnings],
            "usage": dict(self.usage),
            "cost_usd": self.cost_usd,
            "model_calls": self.model_calls,
        }

    def __str__(self) -> str:
        hit = "cache hit" if self.cache_hit else f"{self.model_calls} model calls"
        return f"[{self.agent} @ {self.sim_time}] {self.summary} ({hit}, {len(self.tool_calls)} tool calls, {len(self.orders)} orders)"


_RECORDED = frozenset({"text", "tool_calls", "tool_results", "warnings", "warning_messages", "output"})


class _Lazy:
    """A field of a :class:`ReplayedRunResult`, filled in on first access.

    A non-data descriptor: once loaded (or when set by ``__init__``, e.g. through
    ``dataclasses.replace``) the value sits in the instance ``__dict__`` and wins.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        obj._fill(self.name in _RECORDED)
        return obj.__dict__[self.name]


class ReplayedRunResult(AgentRunResult):
    """A cache hit found by probe, made without reading anything it does not need.

    What the probe index holds about the run (summary, key, counts, usage, trace path) and
    the orders as re-applied now are turned into fields the first time any field is read;
    the recorded answer (``text``, ``tool_calls``, ``tool_results``, ``warnings``,
    ``warning_messages``, ``output``) is read from the replay cache the first time one of
    those is asked for. A strategy that does not look at a hit pays nothing for it. Compares
    equal to an :class:`AgentRunResult` with the same fields; pickles and copies as one.
    """

    @classmethod
    def make(cls, head: tuple[Any, ...], loader: tuple[Any, ...]) -> ReplayedRunResult:
        """``head`` is ``(agent, model, sim_time, summary, cache_key, latency_ms, orders,
        recorded input tokens, recorded output tokens, recorded cost, trace path)``; ``loader``
        is ``(function, *args)``, the function returning the recorded fields as a dict."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "__dict__", {"_head": head, "_loader": loader})
        return obj

    def _fill(self, recorded: bool) -> None:
        state = self.__dict__
        with _FILL_LOCK:  # two threads reading a fresh hit fill it once
            head = state.get("_head")
            if head is not None:
                agent, model, sim_time, summary, key, latency, orders, tokens_in, tokens_out, cost, trace = head
                for name, value in (
                    ("agent", agent), ("model", model), ("sim_time", sim_time), ("summary", summary),
                    ("cache_hit", True), ("cache_key", key), ("usage", {"input_tokens": 0, "output_tokens": 0}),
                    ("cost_usd", 0.0), ("latency_ms", latency), ("orders", orders), ("model_calls", 0),
                    ("payload", {"recorded_usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
                                 "recorded_cost_usd": cost, "trace_path": trace}),
                    ("miss_reasons", ()), ("error", None),
                ):
                    state.setdefault(name, value)
                del state["_head"]
            loader = state.get("_loader") if recorded else None
            if loader is not None:
                # a failed read leaves the loader in place: the next access tries again and says why
                for name, value in loader[0](*loader[1:]).items():
                    state.setdefault(name, value)
                del state["_loader"]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AgentRunResult):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in dataclasses.fields(AgentRunResult))

    __hash__ = AgentRunResult.__hash__

    def __reduce__(self) -> tuple[Any, ...]:
        return (AgentRunResult, tuple(getattr(self, f.name) for f in dataclasses.fields(self)))


_FILL_LOCK = threading.RLock()


for _field in dataclasses.fields(AgentRunResult):
    setattr(ReplayedRunResult, _field.name, _Lazy(_field.name))
del _field
