"""One agent of a strategy and its run: cache lookup first, then ADK, then records.

:meth:`Agent.run` computes the run's replay-cache key from the point-in-time state and
the tool surface; on a hit it re-applies the recorded orders and returns the recorded
answer without touching Google ADK or LiteLLM; on a miss it runs the agent on ADK
(:mod:`agentrt.agents.runtime`), writes the trace, stores the run and returns the answer.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from agentrt.agents._jsonable import to_jsonable
from agentrt.agents.builtin_tools import EVIDENCE_TOOLS, Toolbox, run_depends, stale_reason
from agentrt.agents.caching import RunKeyer, reapply_orders, run_material, schema_json
from agentrt.agents.mcp import MCPServer, McpToolHandle, specs_from_listing, tool_list_material
from agentrt.agents.models import ResolvedModel
from agentrt.agents.prompt import effective_system_prompt, run_prompt
from agentrt.agents.result import AgentRunResult, ReplayedRunResult, summarize
from agentrt.agents.state import snapshot
from agentrt.agents.tool import AgentTool, ToolRunContext, ToolSpec

__all__ = ["Agent", "AgentRunError"]

MAX_CONSECUTIVE_FAILURES = 3
_SEP = os.sep
_MAX_SURFACES = 64  # per-surface hit finders an agent keeps (see Agent._hitter_for)


class AgentRunError(RuntimeError):
    """An agent failed several runs in a row (model unreachable, bad key ...); the backtest stops."""


def _json_context(context: Any) -> Any:
    return None if context is None else to_jsonable(context)


class Agent:
    """One agent of a strategy. Use ``self.agents[name].run(task=None, context=None)``."""

    def __init__(
        self,
        manager: Any,
        name: str,
        *,
        model: ResolvedModel,
        system_prompt: str,
        tools: list[AgentTool],
        mcp_servers: list[MCPServer],
        toolbox: Toolbox | None,
        allow_trading: bool,
        temperature: float,
        max_steps: int,
        output_schema: Any,
        api_base: str | None,
    ) -> None:
        self.manager = manager
        self.name = name
        self.model = model
        self.system_prompt = system_prompt
        self.effective_system_prompt = effective_system_prompt(system_prompt)
        self.tools = tools
        self.mcp_servers = mcp_servers
        self.toolbox = toolbox
        self.allow_trading = allow_trading
        self.temperature = float(temperature)
        self.max_steps = int(max_steps)
        self.output_schema = output_schema
        self.api_base = api_base
        identity = model.identity()
        settings = dict(identity.get("settings") or {})
        settings.update({
            "temperature": self.temperature,
            "max_steps": self.max_steps,
            "output_schema": schema_json(output_schema),
        })
        self.model_identity = {"name": identity["name"], "settings": settings}
        self.runs = 0
        self._runtime: Any = None
        self._mcp_specs: dict[str, list[tuple[ToolSpec, str]]] = {}
        self._failures = 0
        self._run_keyer: Any = None
        self._keyer_specs: list[ToolSpec] | None = None
        self._run_prober: Any = None  # RunProber of the current keyer, False when the host has none
        self._prefetch: Any = None  # runs of this agent fetched ahead from the replay store
        self._hitters: dict[str, Any] = {}  # surface -> finder of hits by probe inputs (see _hitter)
        self._fast: tuple[Any, Any, Any] | None = None  # (tools then, hitter, inputs) of plain runs, see run()
        self._plan: tuple[Any, bool, bool] | None = None  # (services, serves hits, writes runs)
        self._trace_dirs: dict[str, bool] = {}
        self._running = False

    # -- introspection --------------------------------------------------------------------
    @property
    def tool_names(self) -> list[str]:
        """Names of the local (built-in and custom) tools; MCP tools are listed on first run."""
        return [t.spec.name for t in self.tools]

    def __repr__(self) -> str:
        return f"Agent({self.name!r}, model={self.model.name!r}, tools={len(self.tools)}, mcp={len(self.mcp_servers)})"

    # -- tool surface ---------------------------------------------------------------------
    def _services(self) -> Any:
        return self.manager.services()

    def _runtime_for(self) -> Any:
        if self._runtime is None:
            from agentrt.agents.runtime import AgentRuntime

            self._runtime = AgentRuntime(
                agent_name=self.name,
                loop=self.manager.event_loop(),
                resolved_model=self.model,
                model_identity=self.model.identity(),
                system_prompt=self.effective_system_prompt,
                temperature=self.temperature,
                output_schema=self.output_schema,
            )
        return self._runtime

    def _mcp_tool_specs(self, services: Any) -> list[tuple[MCPServer, ToolSpec, str]]:
        out: list[tuple[MCPServer, ToolSpec, str]] = []
        taken = set(self.tool_names)
        for server in self.mcp_servers:
            specs = self._mcp_specs.get(server.server_id)
            if specs is None:
                listing = self._mcp_listing(server, services)
                specs = specs_from_listing(server, listing, taken)
                self._mcp_specs[server.server_id] = specs
            taken.update(s.name for s, _ in specs)
            out += [(server, spec, raw) for spec, raw in specs
                    if self.allow_trading or not spec.mutates_trading]  # withheld like custom trading tools
        return out

    def _mcp_listing(self, server: MCPServer, services: Any) -> list[dict[str, Any]]:
        store = services.replay_store
        key = store.call_key(tool_list_material(server)) if store is not None else None
        if key is not None and services.serves_from_cache():
            entry = store.get_call(key)
            if entry is not None and isinstance(entry.response, Mapping):
                return list(entry.response.get("tools") or [])
        listing = self._runtime_for().list_mcp_tools(server)
        if key is not None and services.writes_cache():
            store.put_call(key, kind="tool", name=f"{server.name}:tools/list", sim_time=None,
                           request=tool_list_material(server), response={"tools": listing})
        return listing

    # -- running --------------------------------------------------------------------------
    def _keyer(self, specs: list[ToolSpec]) -> Any:
        if self._run_keyer is None or self._keyer_specs != specs:
            self._run_keyer = RunKeyer(agent=self.name, model=self.model_identity,
                                       system_prompt=self.effective_system_prompt, tools=specs)
            self._keyer_specs = list(specs)
            self._run_prober = None
        return self._run_keyer

    def _prober(self, keyer: Any) -> Any:
        prober = self._run_prober
        if prober is None:
            from agentrt.agents.probe import host_prober

            prober = self._run_prober = host_prober(self.manager.host, keyer.static_text) or False
        return prober

    def run(self, task: str | None = None, *, context: Any = None) -> AgentRunResult:
        """Run the agent at the current simulated time and return what it did.

        ``task`` is this run's instruction (default: decide what to do now); ``context``
        any JSON-like data for the model. Served from the replay cache when the same run
        (same inputs, state and tools) was recorded before.
        """
        if task is not None and not isinstance(task, str):
            raise TypeError(f"task must be a string or None, got {type(task).__name__}")
        loop = self.manager._loop
        if self._running or (loop is not None and loop.in_loop_thread()):
            raise RuntimeError("an agent run cannot be started from inside another agent run's tool")
        fast = self._fast
        if fast is not None and task is None and context is None and fast[0] == self.tools:
            # A rerun of a plain run (no task, no context) on the same tools and services: look its
            # probe up straight away; anything else about the run was settled when `fast` was made.
            inputs = fast[2]()
            hit = fast[1](inputs, time.perf_counter()) if inputs is not None else None
            if hit is not None:
                self.runs += 1
                return hit
        self._running = True
        try:
            return self._run(task, context)
        finally:
            self._running = False

    def _run(self, task: str | None, context: Any) -> AgentRunResult:
        services = self._services()
        services.open()
        started = time.perf_counter()
        host = self.manager.host
        context_json = _json_context(context)
        mcp = self._mcp_tool_specs(services) if self.mcp_servers else []
        specs = [t.spec for t in self.tools]
        if mcp:
            specs += [spec for _, spec, _ in mcp]
        plan = self._plan
        if plan is None or plan[0] is not services:  # the replay mode is fixed for a run: decide once
            plan = self._plan = (services, services.serves_from_cache(), services.writes_cache())
        store = services.replay_store
        self.runs += 1
        probe = None
        if store is not None:
            serves = plan[1]
            if serves or plan[2]:
                prober = self._prober(self._keyer(specs))
                inputs = prober.inputs() if prober else None
                if inputs is not None:
                    probe = (prober.surface(task, context_json), inputs)
                    if serves:
                        # A hit found by probe does no new work, so it opens no span: the recorded
                        # trace (referenced by the run index row) describes the run, and the backtest
                        # counts the hit. This keeps a fully cached backtest close to a plain one.
                        hitter = self._hitters.get(probe[0])
                        if hitter is None:
                            since = host.get_datetime().date().isoformat()
                            hitter = self._hitter_for(services, store, prober, probe[0], since,
                                                      plain=task is None and context is None and not mcp)
                        hit = hitter(probe[1], started)
                        if hit is not None:
                            return hit
        sim_time: _dt.datetime = host.get_datetime()
        state = snapshot(host)
        fingerprint = getattr(host, "_data_fingerprint_json", None)
        data_json = fingerprint() if fingerprint is not None else None
        key = (self._keyer(specs).key(task=task, context=context_json, state=state, data_json=data_json)
               if store is not None else None)
        run_id = f"{services.run_id}-{self.name}-{self.runs}"
        entry = None
        stale = None
        if store is not None and services.serves_from_cache():
            if self._prefetch is None:  # a rerun asks for its runs bar after bar: fetch them in one query
                self._prefetch = store.prefetch_runs(self.name, since=sim_time.date().isoformat())
            entry = self._prefetch.take(key)
            stale = stale_reason(entry.result) if entry is not None else None
            if stale is not None:
                entry = None  # same key, but something the recorded run read has changed since
        if entry is not None:
            if probe is not None and plan[2]:
                store.put_probe(probe[0], probe[1], entry)  # found by key this time; by probe next time
            result, trace_path, row = self._replayed(entry, key, state, task, context_json, sim_time, started,
                                                     run_id, services)
        else:
            from agentrt.telemetry.spans import agent_run_span, iteration_context, record_agent_outcome

            with iteration_context(), agent_run_span(self.name, self.model.name, sim_time) as span:
                material = run_material(
                    agent=self.name, model=self.model_identity, system_prompt=self.effective_system_prompt,
                    task=task, context=context_json, state=state, tools=specs,
                    data=json.loads(data_json) if data_json else None,
                )
                reasons: list[str] = [stale] if stale is not None else []
                if store is not None and services.replay_mode.reads_cache and stale is None:
                    reasons = store.miss_reasons(material, agent=self.name, sim_time=sim_time)
                if services.raises_on_miss():
                    from agentrt.replay.modes import ReplayMissError

                    raise ReplayMissError(agent=self.name, sim_time=sim_time, reasons=reasons, key=key)
                if store is not None and services.counters is not None:
                    services.counters.record_miss(_countable(reasons) or [f"mode {services.mode_value}"])
                result, trace, events, intents = self._executed(
                    mcp, key, state, task, context_json, sim_time, started, run_id, reasons, services
                )
                trace_path, row = self._write_trace(trace, services)
                if result.error is None and services.writes_cache():
                    recorded = result.to_json()
                    recorded["external_tool_calls"] = sum(
                        1 for e in events if e.get("type") == "tool_call" and e.get("kind") in ("custom", "mcp"))
                    depends = run_depends(events)
                    if depends is not None:
                        recorded["depends"] = depends
                    store.put_run(
                        key, material=material, agent=self.name, sim_time=sim_time, model=self.model.name,
                        result=recorded, events=events, orders=intents, trace_path=trace_path, probe=probe,
                    )
                record_agent_outcome(
                    span, cache_hit=result.cache_hit, cache_key=key if store is not None else None,
                    warnings=list(result.warnings), input_tokens=result.usage.get("input_tokens"),
                    output_tokens=result.usage.get("output_tokens"),
                )
        result = _with_payload(result, trace_path)
        services.record_run(
            row, model_calls=result.model_calls, tool_calls=0 if result.cache_hit else len(result.tool_calls),
            input_tokens=int(result.usage.get("input_tokens", 0)), output_tokens=int(result.usage.get("output_tokens", 0)),
            cost_usd=result.cost_usd, warnings=result.warning_codes, orders=len(result.orders),
        )
        for warning in services.backtest_budget_warnings():
            host.log_message(f"[agent {self.name}] {warning.message}", color="red")
        self._log(result)
        return result

    def _log(self, result: AgentRunResult) -> None:
        status = "cache hit" if result.cache_hit else f"{result.model_calls} model calls"
        codes = result.warning_codes
        try:
            self.manager.host.log_message(
                _log_text(self.name, self.model.name, status, len(result.tool_calls), len(result.orders), codes,
                          result.summary),
                color="red" if result.error else ("yellow" if codes else None),
            )
        except Exception:  # logging must never break a run (e.g. a host without a recorder)
            pass

    def prepare(self, *, since: str) -> None:
        """Load this agent's replay index before the first bar of a rerun (the engine calls it,
        as it loads market data, once the run is set up): a warm rerun then starts serving
        hits at once. Does nothing unless the cache serves hits and holds probes of this agent;
        agents with MCP servers load theirs on their first run (listing needs the server).
        """
        # whatever initialize() may have built against the provisional clock and sessions goes
        self._run_prober = None
        self._hitters.clear()
        self._fast = None
        services = self._services()
        services.open()
        store = services.replay_store
        if store is None or self.mcp_servers or not services.serves_from_cache() or not store.has_probes(self.name):
            return
        prober = self._prober(self._keyer([t.spec for t in self.tools]))
        if prober:
            self._hitter_for(services, store, prober, prober.surface(None, None), since, plain=True)

    def _hitter_for(self, services: Any, store: Any, prober: Any, surface: str, since: str, *, plain: bool) -> Any:
        if len(self._hitters) >= _MAX_SURFACES:  # a task that changes every run: keep the newest
            self._hitters.clear()
        hitter = self._hitters[surface] = self._hitter(services, store, surface, since)
        if plain:  # run() looks plain runs up before anything else (see run)
            self._fast = (list(self.tools), hitter, prober.inputs)
        return hitter

    def _hitter(self, services: Any, store: Any, surface: str, since: str) -> Any:
        """``hit(inputs, started)``: the cache hit recorded under probe ``(surface, inputs)``, or
        None (then the long way decides). The agent's index at ``surface`` is fetched once.

        A hit reads nothing but its probe row unless the run placed orders (those are re-applied
        now, honestly: a refusal is a warning); the recorded answer is read only if the strategy
        asks for it (:class:`ReplayedRunResult`). A hit spends no token, so it crosses no budget.
        Runs once per bar in a warm rerun, so everything it needs is bound here.
        """
        host = self.manager.host
        name, model, perf = self.name, self.model.name, time.perf_counter
        counters, record, schema = services.counters, services.record_hit, self.output_schema
        traced, trace_exists = services.output_dir is not None, self._trace_exists
        log = host.log_message
        # Every probe row is parsed here in one pass (cheaper than parsing one row per bar
        # between strategy code): what a hit reports, and its log line when no order is replayed.
        index: dict[bytes, tuple[Any, ...]] = {}
        for inputs, head in store.prefetch_probes(name, surface, since=since).items():
            (key, sim_time, summary, tools, warnings, n_orders, model_calls, tool_calls, tokens_in, tokens_out,
             cost, trace, value) = head.split(_US) if head[0] != "[" else json.loads(head)
            codes = _names(warnings) if warnings != "[]" else []
            line = _log_text(name, model, "cache hit", _count_names(tools), 0, codes, summary)
            index[inputs] = (key, sim_time, summary, tools, codes, int(n_orders), int(model_calls), int(tool_calls),
                             int(tokens_in), int(tokens_out), float(cost), trace or None, line,
                             '"docs_search"' in tools, trace_exists(trace), value)
        find = index.get

        def hit(inputs: bytes, started: float) -> AgentRunResult | None:
            got = find(inputs)
            if got is None:
                return None
            (key, sim_time, summary, tools, codes, n_orders, model_calls, tool_calls, tokens_in, tokens_out, cost,
             trace, line, searched_docs, trace_ok, value) = got
            if traced and not trace_ok:
                return None  # the recorded trace is gone: the long way writes it again
            if searched_docs and _stale(store, key, value):
                return None  # the docs it searched have changed: the long way says so and runs it again
            orders: tuple[dict[str, Any], ...] = ()
            refused: tuple[dict[str, Any], ...] = ()
            if n_orders:
                replayed = self._reapplied(store, key)
                if replayed is None:
                    return None  # the run left the cache after the index was fetched
                orders, refused = replayed
                codes = codes + [w["code"] for w in refused]
                line = _log_text(name, model, "cache hit", _count_names(tools), len(orders), codes, summary)
            if counters is not None:
                counters.record_hit(model_calls, tool_calls, tokens_in + tokens_out, cost)
            latency = (perf() - started) * 1000.0
            result = ReplayedRunResult.make(
                (name, model, sim_time, summary, key, latency, orders, tokens_in, tokens_out, cost,
                 trace if trace_ok else None),
                (_recorded_fields, store, key, value, refused, schema),
            )
            record(_HitRow((sim_time, name, model, key, tools, len(orders), latency, codes, summary, trace))
                   if traced else None, warnings=codes, orders=len(orders))
            try:
                log(line, color="yellow" if codes else None)
            except Exception:  # logging must never break a run (e.g. a host without a recorder)
                pass
            return result

        return hit

    def _reapplied(self, store: Any, key: str) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]] | None:
        """The recorded orders of run ``key`` re-applied now: (order views, refusal warnings)."""
        intents = store.load_orders(key)
        if intents is None:
            return None
        running, self._running = self._running, True  # order callbacks must not start this agent again
        try:
            views, refused = reapply_orders(self.manager.host, intents, source=f"agent:{self.name}")
        finally:
            self._running = running
        return tuple(views), tuple(w.to_dict() for w in refused)

    def _write_trace(self, trace: dict[str, Any], services: Any) -> tuple[str | None, dict[str, Any] | None]:
        from agentrt.agents.observe import write_run_trace

        return write_run_trace(trace, services.output_dir)

    def _trace_exists(self, path: str | None) -> bool:
        """Whether a recorded trace is on disk. Checked once per trace folder rather than once per
        run: a warm rerun asks for thousands of traces of the same recorded backtest."""
        if not path:
            return False
        folder = path.rpartition(_SEP)[0]
        known = self._trace_dirs.get(folder)
        if known is None:
            known = self._trace_dirs[folder] = os.path.isdir(folder or ".")
        return known

    def _replayed(self, entry: Any, key: str, state: dict[str, Any], task: str | None, context: Any,
                  sim_time: _dt.datetime, started: float, run_id: str,
                  services: Any) -> tuple[AgentRunResult, str | None, dict[str, Any] | None]:
        """A cache hit: re-apply the recorded orders, return the recorded answer.

        No new trace file is written when the trace recorded with the entry still exists
        (the hit points to it); otherwise the trace is rebuilt from the entry.
        """
        from agentrt.agents.observe import trace_document

        recorded = entry.result
        orders, replay_warnings = reapply_orders(self.manager.host, entry.orders, source=f"agent:{self.name}")
        warnings = [dict(w) for w in recorded.get("warnings") or []] + [w.to_dict() for w in replay_warnings]
        usage = dict(recorded.get("usage") or {"input_tokens": 0, "output_tokens": 0})
        if services.counters is not None:
            external = recorded.get("external_tool_calls")
            if external is None:  # entries recorded before the count was stored
                external = sum(1 for e in entry.events or [] if e.get("type") == "tool_call"
                               and e.get("kind") in ("custom", "mcp"))
            services.counters.record_hit(
                model_calls=int(recorded.get("model_calls") or 0),
                tool_calls=int(external),
                tokens=int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0)),
                cost_usd=float(recorded.get("cost_usd") or 0.0),
            )
        text = str(recorded.get("text") or "")
        output = _parse_output(self.output_schema, text) if self.output_schema is not None else None
        latency = (time.perf_counter() - started) * 1000.0
        result = AgentRunResult(
            agent=self.name,
            model=self.model.name,
            sim_time=sim_time.isoformat(),
            summary=str(recorded.get("summary") or ""),
            text=text,
            cache_hit=True,
            cache_key=key,
            tool_calls=tuple(recorded.get("tool_calls") or ()),
            tool_results=tuple(recorded.get("tool_results") or ()),
            warning_messages=tuple(str(w.get("message", "")) for w in warnings),
            warnings=tuple(warnings),
            usage={"input_tokens": 0, "output_tokens": 0},  # a hit spends nothing
            cost_usd=0.0,
            latency_ms=latency,
            orders=tuple(orders),
            payload={"recorded_usage": usage, "recorded_cost_usd": float(recorded.get("cost_usd") or 0.0),
                     "trace_path": entry.trace_path if self._trace_exists(entry.trace_path) else None},
            output=output,
            model_calls=0,
        )
        recorded_trace = entry.trace_path
        if self._trace_exists(recorded_trace):
            row = None
            if services.output_dir is not None:
                row = {
                    "sim_time": result.sim_time, "agent": self.name, "model": self.model.name, "cache_hit": True,
                    "cache_key": key, "tools_called": [_call_name(c) for c in result.tool_calls],
                    "n_tool_calls": len(result.tool_calls), "orders": len(orders), "input_tokens": 0,
                    "output_tokens": 0, "cost_usd": 0.0, "latency_ms": latency,
                    "warnings": [str(w.get("code", "")) for w in warnings], "n_warnings": len(warnings),
                    "summary": result.summary, "trace_path": recorded_trace,
                }
            return result, recorded_trace, row
        events = entry.events or []
        trace = trace_document(
            run_id=run_id, agent=self.name, model=self.model.name, sim_time=sim_time, wall_time_ms=latency,
            system_prompt=self.effective_system_prompt, task=task, context=context, state=state,
            model_calls=[_event(e) for e in events if e.get("type") == "model_call"],
            tool_calls=[_event(e) for e in events if e.get("type") == "tool_call"],
            summary=result.summary, text=result.text, orders=list(orders), usage=result.usage, cost_usd=0.0,
            cache_hit=True, cache_key=key, recorded_trace=entry.trace_path, warnings=warnings,
        )
        path, row = self._write_trace(trace, services)
        return result, path, row

    def _executed(self, mcp: list[tuple[MCPServer, ToolSpec, str]], key: str | None, state: dict[str, Any], task: str | None,
                  context: Any, sim_time: _dt.datetime, started: float, run_id: str, reasons: list[str],
                  services: Any) -> tuple[AgentRunResult, dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        from agentrt.agents.execution import RunState
        from agentrt.agents.observe import run_warnings, trace_document
        from agentrt.agents.recorder import RunRecorder
        from agentrt.telemetry.warnings import AgentWarning

        host = self.manager.host
        runtime = self._runtime_for()
        if not runtime.built:
            executables: list[Any] = list(self.tools)
            executables += [McpToolHandle(spec, raw, runtime.mcp_connection(server)) for server, spec, raw in mcp]
            runtime.build(executables)
        recorder = RunRecorder(agent=self.name, model=self.model.name, sim_time=sim_time, max_steps=self.max_steps)
        if self.toolbox is not None:
            self.toolbox.ledger = recorder.ledger
            self.toolbox.workspace.reset()
        tool_ctx = ToolRunContext(agent_name=self.name, sim_time=sim_time, host=host,
                                  is_backtesting=bool(getattr(host, "is_backtesting", True)))
        run = RunState(recorder=recorder, services=services, host=host, sim_time=sim_time, tool_context=tool_ctx,
                       allow_trading=self.allow_trading, agent_name=self.name)
        prompt = run_prompt(state, task=task, context=context)
        error: str | None = None
        try:
            runtime.execute(prompt, run)
            self._failures = 0
        except Exception as exc:  # a provider error must not silently pass, nor kill a long backtest at once
            self._failures += 1
            error = f"{type(exc).__name__}: {exc}"
            recorder.warn(AgentWarning("model_error", f"agent {self.name!r} run failed: {error}", {"error": error}))
            if self._failures >= MAX_CONSECUTIVE_FAILURES:
                raise AgentRunError(
                    f"agent {self.name!r} failed {self._failures} runs in a row; last error: {error}. "
                    "Check the model name, API key and network (or use an offline model)"
                ) from exc
        text = recorder.final_text
        output, problem = runtime.parse_output(text) if text else (None, None)
        if problem:
            recorder.warn(AgentWarning("output_schema_mismatch", f"agent {self.name!r}: {problem}", {"text": text[:500]}))
        tool_calls = [{"id": t["call_id"], "name": t["name"], "args": t["arguments"]} for t in recorder.tool_calls]
        tool_results = []
        for t in recorder.tool_calls:
            if t["error"] is None:
                tool_results.append({"id": t["call_id"], "name": t["name"], "result": t["result"]})
            else:
                tool_results.append({"id": t["call_id"], "name": t["name"], "error": t["error"], "type": t["error_type"]})
        evidence = [s.spec.name for s in self.tools if s.spec.name in EVIDENCE_TOOLS or (s.spec.kind == "custom" and not s.spec.mutates_trading)]
        evidence += [spec.name for _, spec, _ in mcp]
        orders = list(recorder.ledger.orders)
        warnings = list(recorder.warnings) + run_warnings(
            model=self.model.name, sim_time=sim_time, tool_calls=recorder.tool_calls, orders=orders,
            evidence_tools=evidence, usage_tokens=recorder.input_tokens + recorder.output_tokens,
            cost_usd=recorder.cost_usd, budget=services.budget,
        )
        warning_dicts = tuple(w.to_dict() for w in warnings)
        usage = {"input_tokens": recorder.input_tokens, "output_tokens": recorder.output_tokens}
        latency = (time.perf_counter() - started) * 1000.0
        result = AgentRunResult(
            agent=self.name,
            model=self.model.name,
            sim_time=sim_time.isoformat(),
            summary=summarize(text) if text else (f"(no answer: {error})" if error else ""),
            text=text,
            cache_hit=False,
            cache_key=key if services.replay_store is not None else None,
            tool_calls=tuple(tool_calls),
            tool_results=tuple(tool_results),
            warning_messages=tuple(w["message"] for w in warning_dicts),
            warnings=warning_dicts,
            usage=usage,
            cost_usd=round(recorder.cost_usd, 10),
            latency_ms=latency,
            orders=tuple(orders),
            output=output,
            model_calls=recorder.model_calls_made,
            miss_reasons=tuple(reasons),
            error=error,
        )
        events = sorted(
            [{"type": "model_call", **m} for m in recorder.model_calls]
            + [{"type": "tool_call", **{k: v for k, v in t.items() if k != "error_type"}} for t in recorder.tool_calls],
            key=lambda e: e["index"],
        )
        trace = trace_document(
            run_id=run_id, agent=self.name, model=self.model.name, sim_time=sim_time, wall_time_ms=latency,
            system_prompt=self.effective_system_prompt, task=task, context=context, state=state,
            model_calls=recorder.model_calls, tool_calls=recorder.tool_calls, summary=result.summary, text=text,
            orders=orders, usage=usage, cost_usd=result.cost_usd, cache_hit=False,
            cache_key=result.cache_key, recorded_trace=None, warnings=warnings,
            extra={"miss_reasons": list(reasons)} if reasons else None,
        )
        return result, trace, events, [i.to_json() for i in recorder.ledger.intents]

    def close(self) -> None:
        self._fast = None
        self._hitters.clear()
        if self._runtime is not None:
            try:
                self._runtime.close()
            finally:
                self._runtime = None
        if self.toolbox is not None:
            self.toolbox.workspace.close()


def _stale(store: Any, key: str, value: str) -> bool:
    """Whether run ``key`` must be made again although its probe matches (or has left the cache,
    or was recorded again since the index was read)."""
    from agentrt.replay.store import ReplayStoreError

    try:
        return stale_reason(store.load_result(key, value=value)) is not None
    except ReplayStoreError:
        return True  # gone, rewritten or unreadable: the long way finds out and says so


def _recorded_fields(store: Any, key: str, value: str, refused: tuple[dict[str, Any], ...],
                     schema: Any) -> dict[str, Any]:
    """The lazy part of a hit found by probe (see :class:`ReplayedRunResult`), read from the cache
    (through a read-only connection once the backtest has closed its store). Only the value of
    the run the hit was made from is read: a run recorded again since raises."""
    if store.is_open:
        recorded = store.load_result(key, value=value)
    else:
        from agentrt.replay.store import read_result

        recorded = read_result(store.path, key, value=value)
    warnings = tuple(dict(w) for w in recorded.get("warnings") or ()) + refused
    text = str(recorded.get("text") or "")
    return {
        "text": text,
        "tool_calls": tuple(recorded.get("tool_calls") or ()),
        "tool_results": tuple(recorded.get("tool_results") or ()),
        "warnings": warnings,
        "warning_messages": tuple(str(w.get("message", "")) for w in warnings),
        "output": _parse_output(schema, text) if schema is not None else None,
    }


def _event(event: Mapping[str, Any]) -> dict[str, Any]:
    record = {k: v for k, v in event.items() if k != "type"}
    record["cache_hit"] = True
    return record


def _countable(reasons: list[str]) -> list[str]:
    # "no earlier run for this agent at <time>" names a time; count it as one reason
    return [r.split(" at ", 1)[0] if r.startswith("no earlier run for this agent at ") else r for r in reasons]


def _parse_output(schema: Any, text: str) -> Any:
    import json

    import pydantic

    try:
        return pydantic.TypeAdapter(schema).validate_python(json.loads(text))
    except Exception:
        return None


_US = "\x1f"  # separates the texts of a probe row's head (agentrt.replay._rows.encode_head)
_NAMES: dict[str, list[str]] = {}


def _names(text: str) -> list[str]:
    """A probe row's JSON list of names (tools called, warning codes), decoded once per distinct text."""
    names = _NAMES.get(text)
    if names is None:
        names = json.loads(text)
        if len(_NAMES) < 4096:
            _NAMES[text] = names
    return list(names)


def _log_text(agent: str, model: str, status: str, tool_calls: int, orders: int, codes: list[str], summary: str) -> str:
    """The log line of one run: ``[agent NAME] MODEL | STATUS | N tool calls | N orders[, warnings: ...] | SUMMARY``."""
    warn = f", warnings: {', '.join(codes)}" if codes else ""
    return f"[agent {agent}] {model} | {status} | {tool_calls} tool calls | {orders} orders{warn} | {summary}"


def _count_names(text: str) -> int:
    names = _NAMES.get(text)
    return len(names) if names is not None else len(_names(text))


class _HitRow(Mapping[str, Any]):
    """The run-index row of a probe hit, made into a dict only when the index is written."""

    __slots__ = ("_parts", "_row")

    def __init__(self, parts: tuple[Any, ...]) -> None:
        self._parts = parts
        self._row: dict[str, Any] | None = None

    def _dict(self) -> dict[str, Any]:
        row = self._row
        if row is None:
            sim_time, agent, model, key, tools, orders, latency, codes, summary, trace = self._parts
            called = _names(tools)
            row = self._row = {
                "sim_time": sim_time, "agent": agent, "model": model, "cache_hit": True, "cache_key": key,
                "tools_called": called, "n_tool_calls": len(called), "orders": orders, "input_tokens": 0,
                "output_tokens": 0, "cost_usd": 0.0, "latency_ms": latency, "warnings": list(codes),
                "n_warnings": len(codes), "summary": summary, "trace_path": trace,
            }
        return row

    def __getitem__(self, name: str) -> Any:
        return self._dict()[name]

    def __iter__(self) -> Any:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())


def _call_name(call: Any) -> str:
    return str(call.get("name", "")) if isinstance(call, Mapping) else str(call)


def _with_payload(result: AgentRunResult, trace_path: str | None) -> AgentRunResult:
    import dataclasses

    if "trace_path" in result.payload and result.payload["trace_path"] == trace_path:
        return result  # already there (cache hits build it in); replace() is not free
    payload = dict(result.payload)
    payload["trace_path"] = trace_path
    return dataclasses.replace(result, payload=payload)
