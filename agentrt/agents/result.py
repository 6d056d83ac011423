"""`AgentRunResult`: what one agent run returns to the strategy (LumiBot field names kept)."""

from __future__ import annotations

import dataclasses
import re
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
