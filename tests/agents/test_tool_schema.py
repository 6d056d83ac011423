"""@agent_tool schemas: built from type hints, defaults and docstrings, without ADK."""

from __future__ import annotations

import enum
import subprocess
import sys
from typing import Annotated, Literal, Optional

import pydantic
import pytest

from agentrt.agents.schema import function_schema, parse_docstring, type_schema
from agentrt.agents.tool import ToolSpec, agent_tool, make_tool, source_hash


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(pydantic.BaseModel):
    x: int
    y: float = 0.0


def test_primitive_and_container_types_map_to_json_schema():
    assert type_schema(str) == {"type": "string"}
    assert type_schema(int) == {"type": "integer"}
    assert type_schema(float) == {"type": "number"}
    assert type_schema(bool) == {"type": "boolean"}
    assert type_schema(list[int]) == {"type": "array", "items": {"type": "integer"}}
    assert type_schema(dict[str, float]) == {"type": "object", "additionalProperties": {"type": "number"}}
    assert type_schema(tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}


def test_optional_literal_enum_and_annotated_types():
    assert type_schema(Optional[float]) == {"type": ["number", "null"]}  # noqa: UP045 - the typing spelling
    assert type_schema(int | None) == {"type": ["integer", "null"]}
    assert type_schema(Literal["buy", "sell"]) == {"type": "string", "enum": ["buy", "sell"]}
    assert type_schema(Color) == {"type": "string", "enum": ["red", "blue"]}
    assert type_schema(Annotated[int, "bars to load"]) == {"type": "integer", "description": "bars to load"}
    union = type_schema(int | str)
    assert union == {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def test_pydantic_model_is_inlined_without_refs():
    schema = type_schema(list[Point])
    assert schema["type"] == "array"
    item = schema["items"]
    assert item["type"] == "object"
    assert item["properties"]["x"] == {"type": "integer"}
    assert item["required"] == ["x"]
    assert "$ref" not in repr(schema) and "$defs" not in repr(schema)


def test_google_docstring_args_become_parameter_descriptions():
    def load(symbol: str, length: int = 20, timestep: str = "day") -> dict:
        """Load bars.

        Longer explanation.

        Args:
            symbol: The ticker,
                for example AAPL.
            length (int): Number of bars.
            timestep: Bar size.

        Returns:
            A table description.
        """

    params, doc = function_schema(load)
    assert params["required"] == ["symbol"]
    assert params["properties"]["symbol"] == {"type": "string", "description": "The ticker, for example AAPL."}
    assert params["properties"]["length"] == {"type": "integer", "description": "Number of bars.", "default": 20}
    assert params["properties"]["timestep"]["default"] == "day"
    assert doc.summary.startswith("Load bars.")
    assert "Returns:" in doc.summary and "Args:" not in doc.summary


def test_numpy_and_sphinx_docstrings_are_parsed():
    numpy_doc = """Compute.

    Parameters
    ----------
    window : int
        Rolling window length.
    column : str
        Which column.

    Returns
    -------
    float
    """
    parsed = parse_docstring(numpy_doc)
    assert parsed.params == {"window": "Rolling window length.", "column": "Which column."}
    sphinx = parse_docstring("Do it.\n\n:param symbol: The ticker.\n:param int n: How many.\n")
    assert sphinx.params == {"symbol": "The ticker.", "n": "How many."}
    assert sphinx.summary == "Do it."


def test_self_varargs_and_kwargs_are_not_parameters():
    class S:
        def tool(self, a: int, *rest: int, b: str = "x", **extra: int) -> None:
            """T."""

    params, _ = function_schema(S().tool)
    assert list(params["properties"]) == ["a", "b"]
    params2, _ = function_schema(S.tool)
    assert list(params2["properties"]) == ["a", "b"]


def test_description_shows_description_docstring_and_source():
    @agent_tool(name="fred", description="Fetch economic data.")
    def get_fred_series(series_id: str) -> dict:
        """Fetch a FRED series.

        Args:
            series_id: FRED series identifier (e.g., M2SL)
        """
        return {"id": series_id}

    spec = make_tool(get_fred_series).spec
    assert spec.name == "fred"
    assert spec.description.startswith("Fetch economic data.\n\nFetch a FRED series.")
    assert "Source code:\n```python\n@agent_tool(name=\"fred\"" in spec.description
    assert 'return {"id": series_id}' in spec.description
    assert spec.kind == "custom" and spec.mutates_trading is False
    assert spec.source_hash.startswith("sha256:") and len(spec.source_hash) == 7 + 64


def test_source_hash_changes_with_the_body():
    def a(x: int) -> int:
        return x + 1

    def b(x: int) -> int:
        return x + 2

    assert source_hash(a) != source_hash(b)
    assert source_hash(a) == source_hash(a)


def test_tool_spec_key_material_has_the_agreed_fields():
    spec = ToolSpec(name="t", description="d", parameters={"type": "object", "properties": {}},
                    source_hash="sha256:00", kind="builtin")
    assert set(spec.key_material()) == {"name", "kind", "schema", "source_hash", "server"}


def test_invalid_tool_names_are_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="'account_positions'"):
        agent_tool(name="account.positions")
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        agent_tool(name="9lives")


def test_decorated_function_stays_callable():
    @agent_tool
    def double(x: int) -> int:
        """Double."""
        return 2 * x

    assert double(4) == 8
    assert make_tool(double).spec.name == "double"


def test_building_schemas_does_not_import_adk_or_litellm():
    code = (
        "import sys\n"
        "from agentrt.agents import agent_tool, ScriptedModel, MCPServer\n"
        "from agentrt.agents.tool import make_tool\n"
        "@agent_tool\n"
        "def f(x: int, y: str = 'a') -> dict:\n"
        "    '''Doc.'''\n"
        "    return {}\n"
        "make_tool(f)\n"
        "ScriptedModel(['hi'])\n"
        "MCPServer('m', url='http://127.0.0.1:1/mcp')\n"
        "from agentrt.agents.manager import AgentManager\n"
        "bad = [m for m in sys.modules if m.startswith(('google.adk', 'litellm', 'mcp.'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
