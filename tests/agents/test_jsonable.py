"""Tool results and contexts become JSON without silently losing values."""

from __future__ import annotations

import pytest

from agentrt.agents._jsonable import to_jsonable
from agentrt.agents.tool import agent_tool, make_tool


def test_colliding_keys_are_an_error_not_a_lost_value():
    assert to_jsonable({1: "a", "b": 2}) == {"1": "a", "b": 2}
    with pytest.raises(ValueError, match="keys 1 and '1' both become the JSON key '1'"):
        to_jsonable({1: "a", "1": "b"})


def test_a_tool_returning_colliding_keys_gives_the_model_a_tool_error():
    @agent_tool
    def clash() -> dict:
        """Returns a dict whose keys collide in JSON."""
        return {1: "a", "1": "b"}

    outcome = make_tool(clash).invoke({})
    assert outcome.error and "both become the JSON key" in outcome.error


def test_an_oversized_tool_result_is_a_tool_error_asking_for_less():
    @agent_tool
    def firehose(n: int) -> list:
        """Returns n rows."""
        return [{"i": i, "text": "x" * 100} for i in range(n)]

    tool = make_tool(firehose)
    assert tool.invoke({"n": 10}).error is None
    outcome = tool.invoke({"n": 5000})
    assert outcome.error and "ask for fewer rows" in outcome.error
