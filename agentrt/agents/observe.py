"""Run-level warnings, JSON traces and run-index rows of agent runs (the seam to agentrt.telemetry)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["run_warnings", "trace_document", "write_run_trace"]


def run_warnings(
    *,
    model: str,
    sim_time: _dt.datetime,
    tool_calls: Sequence[Mapping[str, Any]],
    orders: Sequence[Any],
    evidence_tools: Iterable[str],
    usage_tokens: int,
    cost_usd: float,
    budget: Any,
) -> list[Any]:
    """The warnings judged on a whole run: no tools, order without evidence, cutoff, budget."""
    from agentrt.telemetry.warnings import budget_exceeded, knowledge_cutoff, no_tool_calls, order_without_evidence

    found = list(no_tool_calls(tool_calls))
    found += order_without_evidence(tool_calls, orders, evidence_tools=frozenset(evidence_tools))
    found += knowledge_cutoff(model, sim_time)
    if budget is not None:
        found += budget_exceeded(
            used_tokens=usage_tokens, used_cost=cost_usd, token_budget=budget.run_tokens,
            cost_budget=budget.run_cost_usd, scope="run",
        )
    return found


def trace_document(
    *,
    run_id: str,
    agent: str,
    model: str,
    sim_time: _dt.datetime,
    wall_time_ms: float,
    system_prompt: str,
    task: str | None,
    context: Any,
    state: Mapping[str, Any],
    model_calls: Sequence[Mapping[str, Any]],
    tool_calls: Sequence[Mapping[str, Any]],
    summary: str,
    text: str,
    orders: Sequence[Any],
    usage: Mapping[str, int],
    cost_usd: float,
    cache_hit: bool,
    cache_key: str | None,
    recorded_trace: str | None,
    warnings: Sequence[Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A trace dict in the telemetry schema (``agentrt.telemetry.traces``)."""
    from agentrt.telemetry.traces import new_trace

    trace = new_trace(run_id=run_id, agent=agent, model=model, sim_time=sim_time)
    trace["wall_time_ms"] = round(float(wall_time_ms), 3)
    trace["inputs"] = {"system_prompt": system_prompt, "task": task or "", "context": context, "state": dict(state)}
    trace["model_calls"] = [dict(m) for m in model_calls]
    trace["tool_calls"] = [{k: v for k, v in t.items() if k != "error_type"} for t in tool_calls]
    trace["decision"] = {"summary": summary, "text": text}
    trace["orders"] = list(orders)
    trace["usage"] = {"input_tokens": int(usage.get("input_tokens", 0)), "output_tokens": int(usage.get("output_tokens", 0))}
    trace["cost_usd"] = float(cost_usd)
    trace["cache"] = {"hit": cache_hit, "key": cache_key, "recorded_trace": recorded_trace}
    trace["warnings"] = [w.to_dict() if hasattr(w, "to_dict") else dict(w) for w in warnings]
    if extra:
        for key, value in extra.items():
            trace.setdefault(key, value)
    return trace


def write_run_trace(trace: Mapping[str, Any], output_dir: Path | None) -> tuple[str | None, dict[str, Any] | None]:
    """Write ``trace`` under ``output_dir/traces``; return (absolute path, run-index row)."""
    if output_dir is None:
        return None, None
    from agentrt.telemetry.runindex import row_from_trace
    from agentrt.telemetry.traces import write_trace

    path = write_trace(trace, Path(output_dir))
    try:
        relative = path.relative_to(Path(output_dir))
    except ValueError:
        relative = path
    return str(path), row_from_trace(trace, trace_path=relative)
