"""`self.agents`: creating a strategy's agents, finding them by name, closing them at the end.

:class:`AgentManager` is what ``Strategy.agents`` returns; constructing it is cheap and
imports nothing heavy. ``create()`` checks everything it can up front (model string and
API key, tool names and schemas, MCP server specs) without importing Google ADK; the
agents themselves live in :mod:`agentrt.agents.agent`.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from agentrt.agents.agent import Agent, AgentRunError
from agentrt.agents.builtin_tools import Toolbox, builtin_tools
from agentrt.agents.caching import schema_json
from agentrt.agents.mcp import MCPServer
from agentrt.agents.models import resolve_model
from agentrt.agents.tool import AgentTool, make_tool
from agentrt.agents.workspace import Workspace

__all__ = ["Agent", "AgentManager", "AgentRunError"]


_log = logging.getLogger(__name__)


class AgentManager:
    """A strategy's agents (``self.agents``): ``create(...)`` them, then ``self.agents[name].run()``."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self._agents: dict[str, Agent] = {}
        self._loop: Any = None
        self._own_services: Any = None
        self._registered_with: Any = None

    # -- services and loop ----------------------------------------------------------------
    def services(self) -> Any:
        """The engine's services for this run, or local defaults outside the engine."""
        services = getattr(self.host, "_agent_services", None)
        if services is None:
            if self._own_services is None:
                from agentrt.agents.services import AgentServices

                self._own_services = AgentServices()
            services = self._own_services
        if self._registered_with is not services:
            services.register_closer(self.close)
            self._registered_with = services
        return services

    def event_loop(self) -> Any:
        """The backtest's persistent agent event loop (started on first need)."""
        if self._loop is None:
            from agentrt.agents.runtime import EventLoopThread

            self._loop = EventLoopThread()
        return self._loop

    # -- creating -------------------------------------------------------------------------
    def create(
        self,
        name: str,
        *,
        model: Any = None,
        default_model: Any = None,
        system_prompt: str = "",
        tools: Sequence[Any] = (),
        mcp_servers: Sequence[MCPServer] = (),
        include_builtin_tools: bool = True,
        allow_trading: bool = True,
        temperature: float = 0.0,
        max_steps: int = 8,
        output_schema: Any = None,
        api_base: str | None = None,
    ) -> Agent:
        """Create an agent (in ``initialize()``).

        ``model`` (LumiBot's ``default_model=`` is accepted too): ``"gemini-2.5-flash"``,
        ``"openai/gpt-4.1-mini"``, ``"ollama_chat/llama3.1"`` with ``api_base=...``, an offline
        ``ScriptedModel``/``FunctionModel``, or an ADK ``BaseLlm``. ``tools``: ``@agent_tool``
        functions or strategy methods (their source code is shown to the model).
        ``allow_trading=False`` withholds the order tools and any ``mutates_trading`` tool.
        ``max_steps`` bounds the model calls of one run.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError("agent name must be a non-empty string, e.g. self.agents.create('research', ...)")
        name = name.strip()
        if name in self._agents:
            raise ValueError(f"agent {name!r} already exists; give each agent of a strategy its own name")
        if model is not None and default_model is not None:
            raise ValueError("give model= or default_model= (LumiBot's name for it), not both")
        chosen = model if model is not None else default_model
        if chosen is None:
            raise ValueError(
                f"agent {name!r} needs a model: model='gemini-2.5-flash' (GOOGLE_API_KEY), "
                "'openai/gpt-4.1-mini' (OPENAI_API_KEY), or an offline ScriptedModel([...]) / FunctionModel(fn)"
            )
        resolved = resolve_model(chosen, api_base=api_base)
        if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
            raise ValueError(f"max_steps must be a whole number >= 1, got {max_steps!r}")
        try:
            temp = float(temperature)
        except (TypeError, ValueError):
            raise ValueError(f"temperature must be a number, got {temperature!r}") from None
        if not 0.0 <= temp <= 2.0:
            raise ValueError(f"temperature must be between 0 and 2, got {temperature!r}")
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise TypeError(f"system_prompt must be a string, got {type(system_prompt).__name__}")
        if output_schema is not None:
            schema_json(output_schema)  # fails early on a type pydantic cannot describe

        toolbox = None
        all_tools: list[AgentTool] = []
        if include_builtin_tools:
            toolbox = Toolbox(self.host, Workspace(self.host), agent_name=name)
            all_tools += builtin_tools(toolbox)
        builtin_names = {t.spec.name for t in all_tools}
        custom: list[AgentTool] = []
        for obj in tools or ():
            tool = make_tool(obj, host=self.host)
            if tool.spec.name in builtin_names:
                raise ValueError(
                    f"tool {tool.spec.name!r} has the name of a built-in tool; rename it with "
                    f"@agent_tool(name='my_{tool.spec.name}') or pass include_builtin_tools=False"
                )
            if any(t.spec.name == tool.spec.name for t in custom):
                raise ValueError(f"two tools of agent {name!r} are named {tool.spec.name!r}; names must be unique")
            custom.append(tool)
        all_tools += custom
        if not allow_trading:
            all_tools = [t for t in all_tools if not t.spec.mutates_trading]
        servers = list(mcp_servers or ())
        for server in servers:
            if not isinstance(server, MCPServer):
                raise TypeError(f"mcp_servers takes MCPServer(...) objects, got {type(server).__name__}: {server!r}")
        names = [s.name for s in servers]
        if len(set(names)) != len(names):
            raise ValueError(f"MCP server names must be unique within an agent, got {names}")
        agent = Agent(
            self, name, model=resolved, system_prompt=system_prompt or "", tools=all_tools, mcp_servers=servers,
            toolbox=toolbox, allow_trading=allow_trading, temperature=temp, max_steps=max_steps,
            output_schema=output_schema, api_base=api_base,
        )
        self._agents[name] = agent
        return agent

    # -- access ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Agent:
        try:
            return self._agents[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self._agents) or "none yet"
            close = difflib.get_close_matches(str(name), list(self._agents), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise KeyError(
                f"no agent named {name!r}; known agents: {known}.{hint} Create it in initialize() with "
                f"self.agents.create({name!r}, model=..., system_prompt=...)"
            ) from None

    def get(self, name: str, default: Any = None) -> Agent | Any:
        return self._agents.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._agents

    def __iter__(self) -> Iterator[str]:
        return iter(self._agents)

    def __len__(self) -> int:
        return len(self._agents)

    @property
    def names(self) -> list[str]:
        return list(self._agents)

    def __repr__(self) -> str:
        return f"AgentManager({', '.join(self._agents) or 'no agents'})"

    def prepare(self, *, since: str) -> None:
        """Before the first bar: let every agent load its replay index (see :meth:`Agent.prepare`).

        Preparing only saves time: an agent whose preparation fails (its data cannot be read,
        say) is left as it is, and its first run does the same work and reports the error
        where the strategy made the call."""
        for agent in self._agents.values():
            try:
                agent.prepare(since=since)
            except Exception:  # noqa: BLE001 - see the docstring
                _log.debug("preparing agent %s failed; its first run will say why", agent.name, exc_info=True)

    # -- end of run -----------------------------------------------------------------------
    def close(self) -> None:
        """Close every agent's runtime (MCP sessions, DuckDB) and the event loop (idempotent)."""
        errors = []
        for agent in self._agents.values():
            try:
                agent.close()
            except Exception as exc:
                errors.append(exc)
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        self._registered_with = None
        if errors:
            raise errors[0]
