"""Agents run on their own event loop thread, so they work from code that already runs a loop."""

from __future__ import annotations

import asyncio
import threading

from agentrt.agents import ScriptedModel, agent_tool


def test_an_agent_runs_from_inside_a_running_event_loop(host):
    host.agents.create("a", model=ScriptedModel([{"tool": "account_portfolio"}, "ok"]))

    async def notebook_cell() -> str:
        return host.agents["a"].run().text

    assert asyncio.run(notebook_cell()) == "ok"


def test_tools_run_on_one_persistent_loop_thread_across_runs(host):
    threads = []

    @agent_tool
    def where() -> str:
        """Which thread runs the tool."""
        threads.append(threading.current_thread())
        return "here"

    host.agents.create("a", model=ScriptedModel([{"tool": "where"}, "ok"]), tools=[where], include_builtin_tools=False)
    host.agents.create("b", model=ScriptedModel([{"tool": "where"}, "ok"]), tools=[where], include_builtin_tools=False)
    for _ in range(2):
        host.agents["a"].run()
        host.agents["b"].run()
    assert len(set(threads)) == 1 and threads[0] is not threading.main_thread()
    assert threads[0].name == "agentrt-agents"
    host.agents.close()
    assert not threads[0].is_alive()


def test_starting_an_agent_from_inside_a_tool_is_a_tool_error(host):
    @agent_tool
    def recurse() -> str:
        """Run the agent again from inside its own tool."""
        return host.agents["outer"].run().text

    host.agents.create("outer", model=ScriptedModel([{"tool": "recurse"}, "done"]), tools=[recurse])
    result = host.agents["outer"].run()
    assert result.tool_results[0]["error"] == "an agent run cannot be started from inside another agent run's tool"
