"""LLM agents inside strategies: `self.agents.create(...)`, `@agent_tool`, MCP servers, offline models.

The public names load lazily, so ``import agentrt.agents`` stays light and a fully
cached backtest never imports Google ADK or LiteLLM:

- :func:`agent_tool`, :func:`current_tool_context` (:mod:`~agentrt.agents.tool`)
- :class:`MCPServer` (:mod:`~agentrt.agents.mcp`)
- :class:`ScriptedModel`, :class:`FunctionModel`, :class:`ModelRequest`,
  :class:`ModelResponse`, :class:`ToolCall`, :func:`resolve_model` (:mod:`~agentrt.agents.models`)
- :class:`AgentRunResult` (:mod:`~agentrt.agents.result`)
- :class:`AgentManager` (:mod:`~agentrt.agents.manager`), :class:`Agent`, :class:`AgentRunError` (:mod:`~agentrt.agents.agent`)
- :class:`AgentServices`, :class:`AgentBudget` (:mod:`~agentrt.agents.services`)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs; the names load lazily at run time
    from agentrt.agents.agent import Agent, AgentRunError
    from agentrt.agents.manager import AgentManager
    from agentrt.agents.mcp import MCPServer
    from agentrt.agents.models import (
        FunctionModel,
        Message,
        ModelRequest,
        ModelResponse,
        ScriptedModel,
        ToolCall,
        ToolResult,
        resolve_model,
    )
    from agentrt.agents.result import AgentRunResult
    from agentrt.agents.services import AgentBudget, AgentServices
    from agentrt.agents.tool import ToolSpec, agent_tool, current_tool_context

_EXPORTS: dict[str, str] = {
    "agent_tool": "tool",
    "current_tool_context": "tool",
    "ToolSpec": "tool",
    "MCPServer": "mcp",
    "ScriptedModel": "models",
    "FunctionModel": "models",
    "ModelRequest": "models",
    "ModelResponse": "models",
    "Message": "models",
    "ToolCall": "models",
    "ToolResult": "models",
    "resolve_model": "models",
    "AgentRunResult": "result",
    "Agent": "agent",
    "AgentManager": "manager",
    "AgentRunError": "agent",
    "AgentServices": "services",
    "AgentBudget": "services",
}

__all__ = [
    "Agent", "AgentBudget", "AgentManager", "AgentRunError", "AgentRunResult", "AgentServices", "FunctionModel",
    "MCPServer", "Message", "ModelRequest", "ModelResponse", "ScriptedModel", "ToolCall", "ToolResult", "ToolSpec",
    "agent_tool", "current_tool_context", "resolve_model",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentrt.agents' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agentrt.agents.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
