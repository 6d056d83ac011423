"""Agent runs on the real ADK Runner with offline models: tools, errors, trading, limits."""

from __future__ import annotations

import sys

import pydantic
import pytest

from agentrt.agents import FunctionModel, ModelRequest, ScriptedModel, ToolCall, agent_tool, current_tool_context
from agentrt.agents.builtin_tools import BUILTIN_TOOL_NAMES


def _sma_script(qty: int = 10) -> list:
    return [
        {"tool": "market_load_history_table", "args": {"symbol": "AAPL", "length": 20}},
        {"tool": "duckdb_query", "args": {"sql": "SELECT avg(close) AS sma FROM aapl_day"}},
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": qty, "side": "buy"}},
        "Bought AAPL: the close is above its 20-day average.",
    ]


def test_scripted_model_runs_through_the_adk_runner(host):
    model = ScriptedModel(_sma_script())
    host.agents.create("trader", model=model, system_prompt="Trade AAPL on its moving average.")
    result = host.agents["trader"].run()
    assert "google.adk" in sys.modules
    assert model.calls == 4 and result.model_calls == 4
    assert [c["name"] for c in result.tool_calls] == ["market_load_history_table", "duckdb_query", "orders_submit"]
    sma = result.tool_results[1]["result"]["rows"][0][0]
    closes = host.frames["AAPL"]["close"].iloc[host._i - 19: host._i + 1]
    assert sma == pytest.approx(float(closes.mean()))
    assert result.summary == "Bought AAPL: the close is above its 20-day average."
    assert result.cache_hit is False and result.error is None
    assert [(o["symbol"], o["side"], o["quantity"], o["status"]) for o in result.orders] == [("AAPL", "buy", 10.0, "open")]
    assert len(host.get_orders()) == 1 and host.get_orders()[0].source == "agent:trader"
    assert result.usage["input_tokens"] > 0 and result.cost_usd == 0.0
    assert result.warning_messages == ()
    host.advance()
    assert host.get_positions()[0].quantity == 10


def test_function_model_sees_prompt_state_tools_and_results(host):
    seen: list[ModelRequest] = []

    def policy(request: ModelRequest):
        seen.append(request)
        if request.step == 0:
            return [ToolCall("account_portfolio"), ToolCall("market_last_price", {"symbol": "MSFT"})]
        results = {r.name: r.value for r in request.last_tool_results()}
        return f"cash {results['account_portfolio']['cash']:.0f}, MSFT {results['market_last_price']['price']}"

    host.agents.create("reader", model=FunctionModel(policy), system_prompt="Only read {no templating here}.")
    result = host.agents["reader"].run("Report the account.", context={"risk": "low", "symbols": ["MSFT"]})
    first = seen[0]
    assert "Simulated datetime: " + host.get_datetime().isoformat() in first.prompt
    assert "Cash: 100000.00" in first.prompt and "Positions: none" in first.prompt
    assert 'Context (JSON): {"risk": "low", "symbols": ["MSFT"]}' in first.prompt
    assert first.prompt.endswith("Task: Report the account.")
    assert "Strategy instructions:\nOnly read {no templating here}." in first.system_prompt
    assert "never use knowledge" in first.system_prompt.lower()
    assert set(first.tool_names) == set(BUILTIN_TOOL_NAMES)
    load = next(t for t in first.tools if t["name"] == "market_load_history_table")
    assert load["parameters"]["properties"]["timestep"]["enum"] == ["day", "hour", "minute"]
    assert result.text == f"cash 100000, MSFT {host.get_last_price('MSFT')}"
    assert len(result.tool_calls) == 2  # parallel calls in one model turn


def test_tool_exception_and_malformed_arguments_go_back_to_the_model(host):
    calls = []

    @agent_tool
    def fragile(n: int) -> dict:
        """Divide 100 by n.

        Args:
            n: Divisor.
        """
        calls.append(n)
        return {"value": 100 / n}

    def policy(request: ModelRequest):
        if request.step == 0:
            return {"tool": "fragile", "args": {"n": "abc"}}
        if request.step == 1:
            return {"tool": "fragile", "args": {"n": 0}}
        if request.step == 2:
            return {"tool": "fragile", "args": {"n": 4}}
        return "errors: " + "; ".join(str(r.response.get("error")) for r in request.tool_results() if r.is_error)

    host.agents.create("fixer", model=FunctionModel(policy), tools=[fragile], include_builtin_tools=False)
    result = host.agents["fixer"].run()
    assert calls == [0, 4]
    assert result.tool_results[0] == {"id": result.tool_calls[0]["id"], "name": "fragile",
                                      "error": "argument 'n' must be an integer, got 'abc'", "type": "ToolArgumentError"}
    assert result.tool_results[1]["type"] == "ZeroDivisionError"
    assert result.tool_results[2]["result"] == {"value": 25.0}
    assert result.text == "errors: argument 'n' must be an integer, got 'abc'; division by zero"
    assert result.warning_codes.count("tool_error") == 2


def test_an_unknown_tool_name_is_an_error_the_model_can_read(host):
    host.agents.create("typo", model=ScriptedModel([{"tool": "acount_positions"}, "ok"]))
    result = host.agents["typo"].run()
    error = result.tool_results[0]["error"]
    assert error.startswith("unknown tool 'acount_positions'; available tools: account_positions")
    assert result.text == "ok" and "tool_error" in result.warning_codes


def test_allow_trading_false_withholds_trading_tools(host):
    @agent_tool(mutates_trading=True)
    def place_hedge(symbol: str) -> str:
        """Place a hedge."""
        return "hedged"

    @agent_tool
    def read_only(symbol: str) -> str:
        """Read."""
        return "fine"

    model = ScriptedModel([{"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 1, "side": "buy"}}, "done"])
    agent = host.agents.create("analyst", model=model, tools=[place_hedge, read_only], allow_trading=False)
    assert not any(n.startswith("orders_") and n != "orders_open_orders" for n in agent.tool_names)
    assert "orders_open_orders" in agent.tool_names and "read_only" in agent.tool_names
    assert "place_hedge" not in agent.tool_names
    result = host.agents["analyst"].run()
    assert result.tool_results[0]["error"].startswith("unknown tool 'orders_submit'")
    assert result.orders == () and host.get_orders() == []


def test_two_agents_in_one_strategy_keep_their_own_tools_and_runs(host):
    @agent_tool
    def macro_view() -> dict:
        """The macro view."""
        return {"regime": "expansion"}

    macro = ScriptedModel([{"tool": "macro_view"}, "Expansion."])
    tech = ScriptedModel([{"tool": "market_last_price", "args": {"symbol": "AAPL"}}, "Uptrend."])
    host.agents.create("macro", default_model=macro, tools=[macro_view], include_builtin_tools=False)
    host.agents.create("technicals", model=tech)
    a = host.agents["macro"].run()
    b = host.agents["technicals"].run()
    assert (a.summary, b.summary) == ("Expansion.", "Uptrend.")
    assert host.agents["macro"].tool_names == ["macro_view"]
    assert (macro.calls, tech.calls) == (2, 2)
    assert sorted(host.agents) == ["macro", "technicals"]


def test_unknown_agent_names_list_the_known_agents(host):
    host.agents.create("research", model=ScriptedModel(["x"]))
    with pytest.raises(KeyError, match="known agents: 'research'.* Did you mean 'research'"):
        host.agents["reserch"]


def test_create_checks_its_arguments(host):
    with pytest.raises(ValueError, match="needs a model"):
        host.agents.create("a")
    with pytest.raises(ValueError, match="not both"):
        host.agents.create("a", model=ScriptedModel([]), default_model=ScriptedModel([]))
    with pytest.raises(ValueError, match="max_steps"):
        host.agents.create("a", model=ScriptedModel([]), max_steps=0)

    @agent_tool(name="duckdb_query")
    def shadow(sql: str) -> str:
        """Shadow."""
        return sql

    with pytest.raises(ValueError, match="name of a built-in tool"):
        host.agents.create("a", model=ScriptedModel([]), tools=[shadow])
    host.agents.create("a", model=ScriptedModel([]))
    with pytest.raises(ValueError, match="already exists"):
        host.agents.create("a", model=ScriptedModel([]))


def test_max_steps_stops_a_run_with_a_warning_not_a_crash(host):
    loop = ScriptedModel([{"tool": "account_portfolio"}] * 10)
    host.agents.create("looper", model=loop, max_steps=3)
    result = host.agents["looper"].run()
    assert loop.calls == 3
    assert "max_steps_exceeded" in result.warning_codes
    assert result.text.startswith("Stopped after 3 model calls")


def test_orders_are_validated_and_rejections_are_tool_errors(host):
    bad = [
        {"symbol": "ZZZZ", "quantity": 1, "side": "buy"},
        {"symbol": "AAPL", "quantity": -5, "side": "buy"},
        {"symbol": "AAPL", "quantity": 1, "side": "hold"},
        {"symbol": "AAPL", "quantity": 1, "side": "buy", "order_type": "limit"},
        {"symbol": "AAPL", "quantity": 1, "side": "buy", "limit_price": 90.0},
        {"symbol": "AAPL", "quantity": 10_000, "side": "buy"},
    ]
    host.agents.create("clumsy", model=ScriptedModel([[{"tool": "orders_submit", "args": a} for a in bad], "done"]))
    result = host.agents["clumsy"].run()
    errors = [r.get("error") for r in result.tool_results]
    assert errors[0].startswith("unknown symbol 'ZZZZ'")
    assert errors[1] == "quantity must be a positive number, got -5.0"
    assert errors[2].startswith("argument 'side' must be one of")
    assert errors[3] == "a limit order needs limit_price"
    assert errors[4].startswith("a market order takes no limit_price")
    assert errors[5].startswith("order rejected: insufficient cash")
    assert result.orders == ()
    assert [o.status.value for o in host._orders] == ["rejected"]


def test_cancel_and_modify_open_orders(host):
    script = [
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 5, "side": "buy", "order_type": "limit",
                                           "limit_price": 100.0}},
        {"tool": "orders_modify", "args": {"order_id": "1", "limit_price": 101.5}},
        {"tool": "orders_open_orders"},
        {"tool": "orders_cancel", "args": {"order_id": "1"}},
        {"tool": "orders_cancel", "args": {"order_id": "1"}},
        "done",
    ]
    host.agents.create("manager", model=ScriptedModel(script))
    result = host.agents["manager"].run()
    assert result.tool_results[1]["result"]["limit_price"] == 101.5
    assert result.tool_results[2]["result"]["open_orders"][0]["order_id"] == "1"
    assert result.tool_results[3]["result"]["status"] == "canceled"
    assert result.tool_results[4]["error"] == "order '1' is canceled, not open; only open orders can be changed"
    assert [o["action"] for o in result.orders] == ["submit", "modify", "cancel"]


def test_modify_without_a_native_modify_cancels_and_resubmits(host, monkeypatch):
    monkeypatch.setattr(type(host), "modify_order", property(lambda self: None))
    script = [
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 5, "side": "buy", "order_type": "limit",
                                           "limit_price": 100.0}},
        {"tool": "orders_modify", "args": {"order_id": "1", "limit_price": 99.0}},
        "done",
    ]
    host.agents.create("m2", model=ScriptedModel(script))
    result = host.agents["m2"].run()
    assert result.tool_results[1]["result"]["order_id"] == "2"
    assert [(o.identifier, o.status.value, o.limit_price) for o in host._orders] == [("1", "canceled", 100.0),
                                                                                       ("2", "open", 99.0)]


def test_event_ids_are_counters_and_do_not_leak_outside_runs(host):
    host.agents.create("ids", model=ScriptedModel([{"tool": "account_portfolio"}, {"tool": "account_positions"}, "ok"]))
    first = host.agents["ids"].run()
    second = host.agents["ids"].run()
    assert [c["id"] for c in first.tool_calls] == ["adk-r1-00003", "adk-r1-00008"]
    assert [c["id"] for c in second.tool_calls] == ["adk-r2-00003", "adk-r2-00008"]
    from google.adk.platform import uuid as adk_uuid

    assert not adk_uuid.new_uuid().startswith("r")


def test_plain_function_tools_learn_the_simulated_time(host):
    @agent_tool
    def as_of() -> str:
        """The simulated time."""
        return current_tool_context().sim_time.isoformat()

    host.agents.create("clock", model=ScriptedModel([{"tool": "as_of"}, "ok"]), tools=[as_of])
    result = host.agents["clock"].run()
    assert result.tool_results[0]["result"] == host.get_datetime().isoformat()


def test_output_schema_parses_the_final_answer(host):
    class Decision(pydantic.BaseModel):
        action: str
        confidence: float

    host.agents.create("structured", model=ScriptedModel(['{"action": "hold", "confidence": 0.7}']),
                       output_schema=Decision)
    result = host.agents["structured"].run()
    assert result.output == Decision(action="hold", confidence=0.7)
    host.agents.create("sloppy", model=ScriptedModel(["not json"]), output_schema=Decision)
    assert "output_schema_mismatch" in host.agents["sloppy"].run().warning_codes


def test_a_failing_model_is_a_warning_and_repeated_failures_stop(host):
    from agentrt.agents import AgentRunError

    def broken(request):
        raise ConnectionError("provider unreachable")

    host.agents.create("flaky", model=FunctionModel(broken))
    first = host.agents["flaky"].run()
    assert first.error.startswith("ConnectionError: provider unreachable")
    assert "model_error" in first.warning_codes
    host.agents["flaky"].run()
    with pytest.raises(AgentRunError, match="failed 3 runs in a row"):
        host.agents["flaky"].run()


def test_every_run_logs_a_summary_line(host):
    host.agents.create("talker", model=ScriptedModel([{"tool": "account_portfolio"}, "All good."]))
    host.agents["talker"].run()
    message, color = host.logs[-1]
    assert message == "[agent talker] scripted | 2 model calls | 1 tool calls | 0 orders | All good."
    assert color is None


def test_the_failing_optional_a2a_import_is_tried_once(host):
    import importlib.util

    host.agents.create("a2a", model=ScriptedModel(["ok"]))
    host.agents["a2a"].run()
    if importlib.util.find_spec("a2a") is not None:
        pytest.skip("the optional a2a package is installed here")
    assert sys.modules["google.adk.agents.remote_a2a_agent"] is None
    with pytest.raises(ImportError):
        from google.adk.agents.remote_a2a_agent import RemoteA2aAgent  # noqa: F401


def test_a_model_that_hangs_times_out_as_a_model_error(host):
    import asyncio

    from google.adk.models.base_llm import BaseLlm

    from agentrt.agents.services import AgentServices

    class Hanging(BaseLlm):
        async def generate_content_async(self, llm_request, stream=False):
            await asyncio.sleep(30)
            yield None

    host._agent_services = AgentServices(model_timeout_s=0.5)
    host.agents.create("sleepy", model=Hanging(model="hanging"))
    result = host.agents["sleepy"].run()
    assert "did not answer within 0.5 s" in result.error
    assert "model_error" in result.warning_codes
