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
