"""RunKeyer.key must equal content_hash(run_material(...)) for every task/context/state."""
import datetime as dt

from hypothesis import given, settings, strategies as st

from agentrt.agents.caching import RunKeyer, run_material
from agentrt.agents.tool import agent_tool, make_tool
from agentrt.replay.hashing import content_hash


@agent_tool
def probe(x: int) -> int:
    """A probe tool.

    Args:
        x: a number.
    """
    return x


SPECS = [make_tool(probe).spec]
MODEL = {"name": "offline/policy", "settings": {"temperature": 0.0, "ünï": [1, 2.0, None]}}
KEYER = RunKeyer(agent="a", model=MODEL, system_prompt="sys ✓", tools=SPECS)


def expected(task, context, state):
    return content_hash(run_material(agent="a", model=MODEL, system_prompt="sys ✓", task=task, context=context,
                                     state=state, tools=SPECS))


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
           | st.datetimes() | st.dates())
keys = st.text(min_size=0, max_size=6)
json_like = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.tuples(c, c)
                         | st.dictionaries(keys, c, max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(task=st.none() | st.text(), context=json_like, state=st.dictionaries(keys, json_like, max_size=5))
def test_keyer_matches_content_hash_on_str_keyed_material(task, context, state):
    assert KEYER.key(task=task, context=context, state=state) == expected(task, context, state)


def test_keyer_matches_content_hash_with_int_keys_in_state():
    # canonical_json accepts int keys (written as strings, then sorted as strings: "10" < "9");
    # the keyer's fast path sorts the *ints* (9 < 10) before stringifying them.
    state = {"positions": {9: "x", 10: "y"}}
    assert KEYER.key(task=None, context=None, state=state) == expected(None, None, state)


def test_keyer_rejects_what_content_hash_rejects():
    # canonical_json refuses None/float/bool keys; the keyer silently hashes them (a key that
    # put_run's _check_key later refuses)
    import pytest

    state = {"x": {None: 1}}
    with pytest.raises(TypeError):
        expected(None, None, state)
    with pytest.raises(TypeError):
        KEYER.key(task=None, context=None, state=state)
