"""One tool call inside an agent run: call cache, invocation, look-ahead check, span, record.

Framework-neutral (no ADK import): the ADK tool adapter hands every call to
:meth:`ToolExecutor.execute`, which

1. serves an external tool call (custom ``@agent_tool`` or MCP) from the replay cache's
   ``calls`` table when the same tool (identity + source hash) was called with the same
   arguments at the same simulated time, else invokes the tool and records the call;
2. turns malformed arguments and exceptions into a tool error for the model, and records
   the orders a custom tool places through the strategy itself (so a cache hit re-applies
   them);
3. walks the result for values dated after the simulated time (``future_data``) and, with
   ``lookahead="block"``, replaces the result by an error naming the simulated time;
4. opens an ``execute_tool`` span and appends a tool record to the run's recorder.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from collections.abc import Mapping
from typing import Any, Protocol

from agentrt.agents.recorder import RunRecorder
from agentrt.agents.tool import ToolOutcome, ToolRunContext, ToolSpec, reset_tool_context, set_tool_context
from agentrt.agents.trading import recording_orders
from agentrt.telemetry.spans import record_tool_error, tool_call_span
from agentrt.telemetry.warnings import block_future_data, find_future_data, tool_error

__all__ = ["ExecutableTool", "RunState", "ToolExecutor", "tool_call_material"]

TOOL_CALL_KEY_VERSION = 1


class ExecutableTool(Protocol):
    spec: ToolSpec

    async def invoke_async(self, args: Mapping[str, Any] | None) -> ToolOutcome: ...


@dataclasses.dataclass
class RunState:
    """What a tool call needs to know about the run it belongs to."""

    recorder: RunRecorder
    services: Any
    host: Any
    sim_time: _dt.datetime
    tool_context: ToolRunContext
    allow_trading: bool = True
    agent_name: str = "agent"


def tool_call_material(spec: ToolSpec, args: Mapping[str, Any] | None, sim_time: _dt.datetime) -> dict[str, Any]:
    """Key material of one external tool call in the replay cache's ``calls`` table."""
    return {
        "v": TOOL_CALL_KEY_VERSION,
        "type": "tool_call",
        "tool": spec.name,
        "kind": spec.kind,
        "server": spec.server,
        "source_hash": spec.source_hash,
        "args": dict(args or {}),
        "sim_time": sim_time.isoformat(),
    }


class ToolExecutor:
    """Runs tool calls for one agent (shared by all its runs)."""

    def __init__(self, *, agent_name: str) -> None:
        self.agent_name = agent_name

    async def execute(
        self,
        tool: ExecutableTool,
        args: Mapping[str, Any] | None,
        call_id: str | None,
        run: RunState,
        *,
        adk_context: Any = None,
    ) -> dict[str, Any]:
        spec = tool.spec
        services = run.services
        started = time.perf_counter()
        cache_hit = False
        outcome: ToolOutcome | None = None
        key: str | None = None
        store = services.replay_store
        external = spec.kind in ("custom", "mcp") and spec.cacheable
        with tool_call_span(spec.name, call_id=call_id, tool_type="extension" if spec.kind == "mcp" else "function") as span:
            if external and store is not None and (services.reads_calls() or services.writes_cache()):
                key = store.call_key(tool_call_material(spec, args, run.sim_time))
                if services.reads_calls():
                    entry = store.get_call(key)
                    if entry is not None and isinstance(entry.response, Mapping):
                        outcome = ToolOutcome(result=entry.response.get("result"))
                        cache_hit = True
            if outcome is None:
                actions_before = len(run.recorder.ledger.intents)
                token = set_tool_context(run.tool_context)
                try:
                    if getattr(tool, "wants_adk_context", False):
                        outcome = await tool.invoke_async(args, adk_context)  # type: ignore[call-arg]
                    elif spec.kind == "custom":
                        with recording_orders(run.host, run.recorder.ledger, allow_trading=run.allow_trading,
                                              source=f"agent:{run.agent_name}"):
                            outcome = await tool.invoke_async(args)
                    else:
                        outcome = await tool.invoke_async(args)
                finally:
                    reset_tool_context(token)
                traded = len(run.recorder.ledger.intents) > actions_before  # a call with side effects is not replayable
                if key is not None and outcome.ok and not traded and services.writes_cache():
                    store.put_call(
                        key, kind="tool", name=spec.name, sim_time=run.sim_time,
                        request=tool_call_material(spec, args, run.sim_time), response={"result": outcome.result},
                    )
            if external and services.counters is not None and store is not None and services.mode_value != "off":
                services.counters.record_tool_call(reused=cache_hit)
            warnings = self._check(spec, outcome, run)
            response = outcome.as_response()
            if outcome.ok and any(w.code == "future_data" for w in warnings) and services.lookahead == "block":
                response = block_future_data(outcome.result, warnings)
            if not outcome.ok:
                record_tool_error(span, outcome.error or "tool error")
        run.recorder.add_tool_call(
            call_id=call_id,
            name=spec.name,
            kind=spec.kind,
            arguments=dict(args or {}),
            result=outcome.result if outcome.ok else None,
            error=outcome.error,
            error_type=outcome.error_type,
            duration_ms=(time.perf_counter() - started) * 1000.0,
            cache_hit=cache_hit,
            warnings=warnings,
        )
        return response

    def _check(self, spec: ToolSpec, outcome: ToolOutcome, run: RunState) -> list[Any]:
        if not outcome.ok:
            return [tool_error(spec.name, f"{outcome.error_type}: {outcome.error}")]
        if outcome.result is None or spec.name == "docs_search":
            return []
        return find_future_data(outcome.result, run.sim_time, tool_name=spec.name)
