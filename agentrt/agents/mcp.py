"""MCP servers for agents: the `MCPServer` spec and its connection through ADK's McpToolset.

An :class:`MCPServer` is a plain description (no import of ADK or the ``mcp`` SDK until a
run needs the server). During a backtest each server is connected once, on the agent
runtime's persistent event loop, its tool list is read once (and cached in the replay
store, so a fully cached rerun never connects), and the session is reused for every bar
and closed at the end. A call that does not answer within ``timeout_s``, or a server that
died, gives the model a tool error naming the server; after such a failure the server is
marked unavailable and later calls fail at once instead of hanging (in a live run, the
next agent run tries to reconnect).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from agentrt.agents.tool import ToolOutcome, ToolSpec

__all__ = ["MCPServer", "McpConnection", "McpToolHandle", "specs_from_listing", "tool_list_material"]

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"[^A-Za-z0-9_]")


@dataclasses.dataclass(frozen=True)
class MCPServer:
    """An MCP server an agent may use: over streamable HTTP (``url=``) or stdio (``command=``).

    ``allowed_tools`` limits which of the server's tools the agent sees; ``trading_tools`` names
    the server's tools that place or change orders (withheld from agents created with
    ``allow_trading=False``, like ``mutates_trading`` custom tools); ``headers`` (HTTP) and
    ``env`` (stdio) are sent to the server but never written to traces or cache keys.
    """

    name: str
    url: str | None = None
    command: str | None = None
    args: Sequence[str] = ()
    env: Mapping[str, str] | None = None
    transport: Literal["streamable_http", "stdio"] | None = None
    allowed_tools: Sequence[str] | None = None
    headers: Mapping[str, str] | None = None
    timeout_s: float = 30.0
    trading_tools: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("MCPServer needs a name, e.g. MCPServer('macro', url='http://127.0.0.1:8000/mcp')")
        if (self.url is None) == (self.command is None):
            raise ValueError(
                f"MCPServer {self.name!r}: give exactly one of url= (streamable HTTP) or command= (stdio)"
            )
        transport = self.transport or ("stdio" if self.command is not None else "streamable_http")
        if transport not in ("streamable_http", "stdio"):
            raise ValueError(f"MCPServer {self.name!r}: transport must be 'streamable_http' or 'stdio', got {transport!r}")
        if transport == "stdio" and self.command is None:
            raise ValueError(f"MCPServer {self.name!r}: transport='stdio' needs command=")
        if transport == "streamable_http" and self.url is None:
            raise ValueError(f"MCPServer {self.name!r}: transport='streamable_http' needs url=")
        if self.timeout_s <= 0:
            raise ValueError(f"MCPServer {self.name!r}: timeout_s must be positive, got {self.timeout_s!r}")
        object.__setattr__(self, "transport", transport)
        object.__setattr__(self, "args", tuple(str(a) for a in self.args))
        if self.allowed_tools is not None:
            object.__setattr__(self, "allowed_tools", tuple(self.allowed_tools))
        object.__setattr__(self, "trading_tools", tuple(str(t) for t in self.trading_tools))

    def identity(self) -> dict[str, Any]:
        """What identifies the server in cache keys (no headers or env values: they may be secrets)."""
        return {
            "name": self.name,
            "transport": self.transport,
            "url": self.url,
            "command": self.command,
            "args": list(self.args),
            "env_keys": sorted(self.env) if self.env else [],
            "allowed_tools": list(self.allowed_tools) if self.allowed_tools is not None else None,
            "trading_tools": sorted(self.trading_tools),
        }

    @property
    def server_id(self) -> str:
        digest = hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:16]
        return f"mcp:{self.name}:{digest}"


def tool_list_material(server: MCPServer) -> dict[str, Any]:
    """Key material of a server's tool list in the replay cache's ``calls`` table."""
    return {"v": 1, "type": "mcp_tool_list", "server": server.identity()}


def _tool_name(server: MCPServer, raw_name: str, taken: set[str]) -> str:
    name = _NAME_RE.sub("_", raw_name).strip("_") or "tool"
    if name[0].isdigit():
        name = "t_" + name
    if name in taken:
        name = _NAME_RE.sub("_", f"{server.name}_{name}")
    return name[:64]


def specs_from_listing(server: MCPServer, listing: Sequence[Mapping[str, Any]], taken: set[str]) -> list[tuple[ToolSpec, str]]:
    """``(spec, server_tool_name)`` for each allowed tool of a listing; names made unique against ``taken``."""
    out: list[tuple[ToolSpec, str]] = []
    allowed = set(server.allowed_tools) if server.allowed_tools is not None else None
    for entry in sorted(listing, key=lambda e: str(e.get("name"))):
        raw_name = str(entry.get("name"))
        if allowed is not None and raw_name not in allowed:
            continue
        schema = entry.get("inputSchema") or {"type": "object", "properties": {}}
        description = str(entry.get("description") or raw_name)
        name = _tool_name(server, raw_name, taken)
        taken.add(name)
        declared = {"name": raw_name, "description": description, "inputSchema": schema}
        digest = hashlib.sha256(json.dumps(declared, sort_keys=True, default=str).encode()).hexdigest()
        out.append((ToolSpec(
            name=name,
            description=f"{description}\n\n(MCP server {server.name!r}, tool {raw_name!r})",
            parameters=schema,
            source_hash="sha256:" + digest,
            kind="mcp",
            mutates_trading=raw_name in server.trading_tools,
            server=server.server_id,
        ), raw_name))
    if allowed is not None:
        missing = allowed - {str(e.get("name")) for e in listing}
        if missing:
            known = sorted(str(e.get("name")) for e in listing)
            raise ValueError(f"MCP server {server.name!r} has no tool(s) {sorted(missing)}; it offers {known}")
    return out


class McpToolHandle:
    """One MCP tool as an executable tool: validated arguments, timeout, errors for the model."""

    wants_adk_context = True

    def __init__(self, spec: ToolSpec, server_tool: str, connection: McpConnection) -> None:
        self.spec = spec
        self.server_tool = server_tool
        self.connection = connection
        self._validator: Any = None

    def _validate(self, args: Mapping[str, Any]) -> str | None:
        if self._validator is None:
            import jsonschema

            cls = jsonschema.validators.validator_for(dict(self.spec.parameters))
            self._validator = cls(dict(self.spec.parameters))
        errors = sorted(self._validator.iter_errors(dict(args)), key=lambda e: list(e.absolute_path))
        if not errors:
            return None
        messages = []
        for err in errors[:3]:
            where = ".".join(str(p) for p in err.absolute_path)
            messages.append(f"argument '{where}': {err.message}" if where else err.message)
        return "; ".join(messages)

    async def invoke_async(self, args: Mapping[str, Any] | None, adk_context: Any = None) -> ToolOutcome:
        args = dict(args or {})
        problem = self._validate(args)
        if problem is not None:
            return ToolOutcome(error=problem, error_type="ToolArgumentError")
        return await self.connection.call(self.server_tool, args, adk_context)


class McpConnection:
    """One server's ADK ``McpToolset``, opened on the runtime's loop and reused across runs."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self._toolset: Any = None
        self._tools: dict[str, Any] = {}
        self._errlog: Any = None
        self.failure: str | None = None

    def _connection_params(self) -> Any:
        from google.adk.tools.mcp_tool.mcp_session_manager import (
            StdioConnectionParams,
            StreamableHTTPConnectionParams,
        )
        from mcp import StdioServerParameters

        s = self.server
        if s.transport == "stdio":
            env = dict(os.environ)
            if s.env:
                env.update(s.env)
            params = StdioServerParameters(command=s.command, args=list(s.args), env=env)
            return StdioConnectionParams(server_params=params, timeout=s.timeout_s)
        return StreamableHTTPConnectionParams(url=s.url, headers=dict(s.headers or {}) or None, timeout=s.timeout_s,
                                              sse_read_timeout=max(s.timeout_s, 30.0))

    async def list_tools(self) -> list[dict[str, Any]]:
        """Connect (once) and return the server's tools as ``{"name", "description", "inputSchema"}``."""
        import asyncio

        from google.adk.tools.mcp_tool.mcp_toolset import McpToolset

        if self._toolset is None:
            if self._errlog is None:
                self._errlog = _server_errlog()
            self._toolset = McpToolset(connection_params=self._connection_params(), errlog=self._errlog)
        try:
            tools = await asyncio.wait_for(self._toolset.get_tools(), timeout=self.server.timeout_s + 5)
        except Exception as exc:
            raise ConnectionError(
                f"cannot list the tools of MCP server {self.server.name!r} "
                f"({self.server.url or self.server.command}): {_describe(exc)}. Check that the server runs "
                "and the url/command is right"
            ) from None
        listing = []
        for tool in tools:
            raw = getattr(tool, "raw_mcp_tool", None)
            if raw is None:
                continue
            self._tools[raw.name] = tool
            dumped = raw.model_dump(mode="json", by_alias=True, exclude_none=True)
            listing.append({
                "name": raw.name,
                "description": dumped.get("description") or "",
                "inputSchema": dumped.get("inputSchema") or dumped.get("input_schema") or {"type": "object", "properties": {}},
            })
        return listing

    async def call(self, tool_name: str, args: dict[str, Any], adk_context: Any) -> ToolOutcome:
        import asyncio

        s = self.server
        if self.failure is not None:
            return ToolOutcome(error=f"MCP server {s.name!r} is unavailable: {self.failure}", error_type="MCPServerUnavailable")
        if tool_name not in self._tools:
            try:
                await self.list_tools()
            except ConnectionError as exc:
                self.failure = str(exc)
                return ToolOutcome(error=str(exc), error_type="MCPServerUnavailable")
        tool = self._tools.get(tool_name)
        if tool is None:
            return ToolOutcome(error=f"MCP server {s.name!r} has no tool {tool_name!r}", error_type="ToolArgumentError")
        try:
            response = await asyncio.wait_for(tool.run_async(args=args, tool_context=adk_context), timeout=s.timeout_s)
        except TimeoutError:
            self.failure = f"no answer to {tool_name!r} within {s.timeout_s:g} s"
            return ToolOutcome(
                error=f"MCP server {s.name!r} did not answer tool {tool_name!r} within {s.timeout_s:g} s (timeout_s); "
                "it is treated as unavailable for the rest of this backtest",
                error_type="TimeoutError",
            )
        except Exception as exc:
            self.failure = _describe(exc)
            return ToolOutcome(error=f"MCP server {s.name!r} failed on tool {tool_name!r}: {_describe(exc)}",
                               error_type="MCPServerError")
        if isinstance(response, Mapping) and set(response) == {"error"}:
            # ADK reports session and transport failures (a closed connection) this way
            self.failure = str(response["error"])
            return ToolOutcome(error=f"MCP server {s.name!r} failed on tool {tool_name!r}: {response['error']}",
                               error_type="MCPServerError")
        return _outcome(s, tool_name, response)

    async def reconnect_if_failed(self) -> None:
        """Forget a failure and open a fresh session (live runs, at the start of an agent run)."""
        if self.failure is None:
            return
        self.failure = None
        await self.close()

    async def close(self) -> None:
        import asyncio

        if self._toolset is not None:
            try:
                await asyncio.wait_for(self._toolset.close(), timeout=10)
            except Exception:  # a dead server cannot be closed cleanly; its session is dropped anyway
                log.debug("closing MCP server %r failed", self.server.name, exc_info=True)
            self._toolset = None
            self._tools.clear()
        if self._errlog is not None and self._errlog is not sys.stderr:
            self._errlog.close()
        self._errlog = None


def _server_errlog() -> Any:
    # a stdio server's stderr needs a real file; its log lines would clutter backtest output
    if os.environ.get("AGENTRT_MCP_STDERR"):
        return sys.stderr
    return open(os.devnull, "w")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def _outcome(server: MCPServer, tool_name: str, response: Any) -> ToolOutcome:
    if not isinstance(response, Mapping):
        return ToolOutcome(result=response)
    is_error = bool(response.get("isError"))
    structured = response.get("structuredContent")
    texts = [c.get("text") for c in response.get("content") or [] if isinstance(c, Mapping) and c.get("type") == "text"]
    if is_error:
        return ToolOutcome(error=" ".join(t for t in texts if t) or "the tool reported an error", error_type="MCPToolError")
    if structured is not None:
        if isinstance(structured, Mapping) and set(structured) == {"result"}:
            return ToolOutcome(result=structured["result"])
        return ToolOutcome(result=structured)
    if len(texts) == 1:
        text = texts[0] or ""
        try:
            return ToolOutcome(result=json.loads(text))
        except (TypeError, ValueError):
            return ToolOutcome(result=text)
    return ToolOutcome(result={"content": list(response.get("content") or [])})
