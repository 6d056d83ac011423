"""The record of one agent run as it happens: model calls, tool calls, warnings, usage, orders.

The runtime appends to a :class:`RunRecorder` from the model wrapper and the tool
executor; the manager turns it into the :class:`~agentrt.agents.result.AgentRunResult`,
the JSON trace and the replay-cache entry.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any

from agentrt.agents.trading import RunLedger

__all__ = ["RunRecorder", "estimate_cost"]


@dataclasses.dataclass
class RunRecorder:
    """Mutable per-run record (one per agent run, never shared between runs)."""

    agent: str
    model: str
    sim_time: _dt.datetime
    max_steps: int
    ledger: RunLedger = dataclasses.field(default_factory=RunLedger)
    model_calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    tool_calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    warnings: list[Any] = dataclasses.field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    final_text: str = ""
    steps: int = 0
    model_calls_made: int = 0
    stopped: str | None = None
    error: str | None = None

    def next_index(self) -> int:
        """The step number shared by model and tool calls (a trace timeline)."""
        self.steps += 1
        return self.steps

    def add_model_call(
        self,
        *,
        request_summary: Any,
        response: Any,
        input_tokens: int,
        output_tokens: int,
        latency_ms: float,
        cache_hit: bool,
        cost_usd: float = 0.0,
    ) -> None:
        self.model_calls.append({
            "index": self.next_index(),
            "request_summary": request_summary,
            "response": response,
            "input_tokens": int(input_tokens),
            "output_tokens": int(output_tokens),
            "latency_ms": round(float(latency_ms), 3),
            "cache_hit": bool(cache_hit),
        })
        if not cache_hit:
            self.model_calls_made += 1
            self.input_tokens += int(input_tokens)
            self.output_tokens += int(output_tokens)
            self.cost_usd += float(cost_usd)

    def add_tool_call(
        self,
        *,
        call_id: str | None,
        name: str,
        kind: str,
        arguments: Any,
        result: Any,
        error: str | None,
        error_type: str | None,
        duration_ms: float,
        cache_hit: bool,
        warnings: list[Any],
    ) -> None:
        self.tool_calls.append({
            "index": self.next_index(),
            "call_id": call_id,
            "name": name,
            "kind": kind,
            "arguments": arguments,
            "result": result,
            "error": error,
            "error_type": error_type,
            "duration_ms": round(float(duration_ms), 3),
            "cache_hit": bool(cache_hit),
            "warnings": [w.to_dict() if hasattr(w, "to_dict") else w for w in warnings],
        })
        self.warnings.extend(warnings)

    def warn(self, warning: Any) -> None:
        self.warnings.append(warning)


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> float:
    """Dollar cost from LiteLLM's local price map (0.0 when the model is unknown or offline)."""
    if not input_tokens and not output_tokens:
        return 0.0
    import sys

    litellm = sys.modules.get("litellm")
    if litellm is None:
        # Gemini runs natively without LiteLLM; its price map is worth the import on a miss
        try:
            from agentrt._env import ensure_offline_safe_env

            ensure_offline_safe_env()
            import litellm
        except Exception:
            return 0.0
    candidates = [model]
    if "/" not in model and model.startswith("gemini"):
        candidates.append(f"gemini/{model}")
    for name in candidates:
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=name, prompt_tokens=int(input_tokens), completion_tokens=int(output_tokens)
            )
            return float(prompt_cost) + float(completion_cost)
        except Exception:  # noqa: S112 - a name LiteLLM's price map lacks: try the next spelling
            continue
    return 0.0
