"""The agent runtime on Google ADK: one persistent event loop, one LlmAgent + Runner per agent.

Created only when a run is not served whole from the replay cache (so a fully cached
backtest never imports ADK). Per backtest there is one :class:`EventLoopThread`: an
asyncio loop in a daemon thread that lives as long as the backtest, so MCP sessions
opened on it stay connected from bar to bar. Per agent, one ADK ``LlmAgent``, ``Runner``
and ``InMemorySessionService`` are built once; each run gets a fresh session, deleted
afterwards.

Reproducible event streams: inside a run (and only there: ADK keeps its providers in
context variables) ADK's id provider counts (``r<run>-<n>``), its time provider returns the
simulated time plus a microsecond per call, and its random provider is seeded from the
agent and the simulated time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import itertools
import json
import logging
import random
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any

from agentrt.agents.execution import RunState, ToolExecutor

__all__ = ["AgentRuntime", "EventLoopThread"]

log = logging.getLogger(__name__)

APP_NAME = "agentrt"
USER_ID = "strategy"


class EventLoopThread:
    """A persistent asyncio event loop running in a daemon thread (one per backtest)."""

    def __init__(self, name: str = "agentrt-agents") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()
        self._closed = False

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, Any], *, timeout: float | None = None) -> Any:
        """Run ``coro`` on the loop and wait for it; the caller's context (OTel span) goes along."""
        if self._closed:
            coro.close()
            raise RuntimeError("the agent event loop is closed (the backtest ended)")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("an agent run cannot be started from inside another agent run's tool")
        ctx = contextvars.copy_context()
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def start() -> None:
            task = self.loop.create_task(coro, context=ctx)

            def done(t: asyncio.Task[Any]) -> None:
                if t.cancelled():
                    future.cancel()
                elif t.exception() is not None:
                    future.set_exception(t.exception())  # type: ignore[arg-type]
                else:
                    future.set_result(t.result())

            task.add_done_callback(done)

        self.loop.call_soon_threadsafe(start)
        return future.result(timeout)

    def close(self) -> None:
        """Stop the loop and join its thread (idempotent)."""
        if self._closed:
            return
        self._closed = True

        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=5)

        try:
            asyncio.run_coroutine_threadsafe(drain(), self.loop).result(10)
        except Exception:  # closing must go on; the loop is stopped below either way
            log.debug("cancelling agent tasks at close failed", exc_info=True)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


def _run_config() -> Any:
    """ADK run settings: its own span attributes are not computed (agentrt records its own).

    ADK's experimental GenAI semconv serialises every request into span attributes even
    when no tracer records them (about a quarter of a scripted run); the stable layout
    without message content skips that. ``AGENTRT_ADK_SPANS=1`` keeps ADK's defaults.
    """
    import os

    from google.adk.agents.run_config import RunConfig

    if os.environ.get("AGENTRT_ADK_SPANS", "").strip().lower() in ("1", "true", "yes"):
        return RunConfig()
    from google.adk.telemetry.context import ContentCapturingMode, TelemetryConfig

    return RunConfig(telemetry=TelemetryConfig(genai_semconv_stability_opt_in="stable",
                                               capture_message_content=ContentCapturingMode.NO_CONTENT))


def _adk_name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name)
    if not cleaned or cleaned[0].isdigit() or cleaned == "user":
        cleaned = "agent_" + cleaned
    return cleaned


class AgentRuntime:
    """One agent on ADK: its LlmAgent, Runner, session service, tool adapters and MCP connections."""

    def __init__(self, *, agent_name: str, loop: EventLoopThread, resolved_model: Any, model_identity: dict[str, Any],
                 system_prompt: str, temperature: float, output_schema: Any) -> None:
        from agentrt.agents.adk_bridge import install_adk_guards

        install_adk_guards()
        self.agent_name = agent_name
        self.loop = loop
        self.resolved_model = resolved_model
        # the model's own identity, not the agent's settings: max_steps must not change call keys
        self.model_identity = model_identity
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.output_schema = output_schema
        self.executor = ToolExecutor(agent_name=agent_name)
        self.current_run: RunState | None = None
        self.connections: dict[str, Any] = {}
        self._runner: Any = None
        self._sessions: Any = None
        self._adk_agent: Any = None
        self._tool_names: list[str] = []
        self._runs = itertools.count(1)
        self._run_config: Any = None
        self._cost_model = resolved_model.name

    # -- MCP ----------------------------------------------------------------------------
    def mcp_connection(self, server: Any) -> Any:
        from agentrt.agents.mcp import McpConnection

        conn = self.connections.get(server.server_id)
        if conn is None:
            conn = McpConnection(server)
            self.connections[server.server_id] = conn
        return conn

    def list_mcp_tools(self, server: Any) -> list[dict[str, Any]]:
        """Connect to ``server`` on the loop (once) and return its tool listing."""
        return self.loop.run(self.mcp_connection(server).list_tools())

    # -- building -----------------------------------------------------------------------
    def build(self, executables: Sequence[Any]) -> None:
        """Create the ADK agent, runner and session service for this tool surface (once)."""
        from google.adk.agents.llm_agent import LlmAgent
        from google.adk.runners import Runner
        from google.adk.sessions.in_memory_session_service import InMemorySessionService
        from google.genai import types

        from agentrt.agents.adk_bridge import AdkTool, RecordingLlm, mute_adk_tracers

        offline = self.resolved_model.instance if self.resolved_model.kind == "offline" else None
        inner = None if offline is not None else self.resolved_model.build_adk_llm()
        llm = RecordingLlm.wrap(name=self.resolved_model.name, inner=inner, offline=offline, runtime=self)
        tools = [AdkTool(e, self) for e in executables]
        self._tool_names = [t.name for t in tools]
        system_prompt = self.system_prompt
        self._adk_agent = LlmAgent(
            name=_adk_name(self.agent_name),
            model=llm,
            instruction=lambda _ctx: system_prompt,  # a provider: ADK leaves its {braces} alone
            tools=tools,
            generate_content_config=types.GenerateContentConfig(temperature=self.temperature),
            output_schema=self.output_schema,
            on_tool_error_callback=self._on_tool_error,
            disallow_transfer_to_parent=True,
            disallow_transfer_to_peers=True,
        )
        self._sessions = InMemorySessionService()
        self._runner = Runner(agent=self._adk_agent, app_name=APP_NAME, session_service=self._sessions)
        self._run_config = _run_config()
        mute_adk_tracers()

    @property
    def built(self) -> bool:
        return self._runner is not None

    def cost_of(self, input_tokens: int, output_tokens: int) -> float:
        from agentrt.agents.recorder import estimate_cost

        return estimate_cost(self._cost_model, input_tokens, output_tokens)

    def _on_tool_error(self, *, tool: Any, args: dict[str, Any], tool_context: Any, error: Exception) -> dict[str, Any] | None:
        """Unknown tool names and adapter failures become tool errors the model can correct."""
        if isinstance(error, asyncio.CancelledError):
            return None
        from agentrt.telemetry.warnings import tool_error

        name = getattr(tool, "name", "?")
        if name not in self._tool_names:
            message = f"unknown tool {name!r}; available tools: {', '.join(self._tool_names)}"
            kind = "UnknownTool"
        else:
            message = f"{type(error).__name__}: {error}"
            kind = type(error).__name__
        run = self.current_run
        if run is not None:
            run.recorder.add_tool_call(
                call_id=getattr(tool_context, "function_call_id", None), name=name, kind="unknown",
                arguments=dict(args or {}), result=None, error=message, error_type=kind, duration_ms=0.0,
                cache_hit=False, warnings=[tool_error(name, message)],
            )
        return {"error": message, "type": kind}

    # -- running ------------------------------------------------------------------------
    def execute(self, prompt: str, run: RunState) -> None:
        """Run the agent once (blocking the caller); results land in ``run.recorder``."""
        self.current_run = run
        run_no = next(self._runs)
        try:
            self.loop.run(self._run(prompt, run, run_no))
        finally:
            self.current_run = None
            if run_no == 1:  # ADK imports some modules lazily during its first run
                from agentrt.agents.adk_bridge import mute_adk_tracers

                mute_adk_tracers()

    async def _run(self, prompt: str, run: RunState, run_no: int) -> None:
        if run.services.is_live:  # a live run may outlast a server hiccup: try failed servers again
            for conn in self.connections.values():
                await conn.reconnect_if_failed()
        from google.adk.platform import set_random_provider
        from google.adk.platform import time as adk_time
        from google.adk.platform import uuid as adk_uuid
        from google.genai import types

        ids = itertools.count()
        ticks = itertools.count()
        base = run.sim_time.timestamp()
        adk_uuid.set_id_provider(lambda: f"r{run_no}-{next(ids):05d}")
        adk_time.set_time_provider(lambda: base + next(ticks) * 1e-6)
        rng = random.Random(f"{self.agent_name}|{run.sim_time.isoformat()}")
        set_random_provider(lambda: rng)
        session_id = f"run-{run_no}"
        await self._sessions.create_session(app_name=APP_NAME, user_id=USER_ID, session_id=session_id)
        recorder = run.recorder
        name = self._adk_agent.name
        try:
            message = types.Content(role="user", parts=[types.Part(text=prompt)])
            async for event in self._runner.run_async(
                user_id=USER_ID, session_id=session_id, new_message=message, run_config=self._run_config
            ):
                if event.author != name or event.content is None or not event.content.parts:
                    continue
                if event.is_final_response():
                    text = "".join(p.text for p in event.content.parts if p.text and not p.thought)
                    if text:
                        recorder.final_text = text
        finally:
            await self._sessions.delete_session(app_name=APP_NAME, user_id=USER_ID, session_id=session_id)

    def parse_output(self, text: str) -> tuple[Any, str | None]:
        """``(output, problem)``: the final text validated against ``output_schema``."""
        if self.output_schema is None:
            return None, None
        import pydantic

        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            return None, "the final answer is not JSON"
        try:
            return pydantic.TypeAdapter(self.output_schema).validate_python(data), None
        except pydantic.ValidationError as exc:
            return data, f"the final answer does not match output_schema: {exc.errors()[0].get('msg')}"

    def close(self) -> None:
        """Close MCP connections (on the loop) and forget the ADK objects."""
        conns = list(self.connections.values())
        self.connections.clear()
        for conn in conns:
            try:
                self.loop.run(conn.close(), timeout=15)
            except Exception:  # one server failing to close must not keep the others open
                log.warning("closing MCP server %r failed", conn.server.name, exc_info=True)
        self._runner = None
        self._sessions = None
        self._adk_agent = None
