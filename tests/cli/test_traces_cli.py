"""A real agent backtest's spans and traces: span tree backtest > iteration > agent run > calls; traces CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agentrt import FunctionModel, SampleData, Strategy
from agentrt.cli import commands  # noqa: F401 - registers the traces group
from agentrt.cli.main import app


def _policy(request):
    if request.step == 0:
        return [{"tool": "market_last_price", "args": {"symbol": "MSFT"}}, {"tool": "account_positions"}]
    if request.step == 1 and not request.tool_results("account_positions")[-1].value["positions"]:
        return {"tool": "orders_submit", "args": {"symbol": "MSFT", "quantity": 5, "side": "buy"}}
    return "holding MSFT"


def _leaky(request):
    """Calls a custom tool that returns a row from the future: a look-ahead warning each run."""
    if request.step == 0:
        return {"tool": "peek", "args": {}}
    return "peeked"


class Traced(Strategy):
    def initialize(self):
        from agentrt import agent_tool

        @agent_tool
        def peek() -> dict:
            """Returns a row dated after the simulated time (a deliberate leak)."""
            return {"date": "2030-01-01", "close": 1.0}

        self.agents.create("buyer", model=FunctionModel(_policy), system_prompt="Buy some MSFT once.")
        self.agents.create("leaky", model=FunctionModel(_leaky), system_prompt="Peek.", tools=[peek],
                           allow_trading=False)

    def on_trading_iteration(self):
        self.agents["buyer"].run()
        self.agents["leaky"].run()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("traces")
    result = Traced.backtest(SampleData, "2012-03-01", "2012-03-09", show_progress=False, quiet=True,
                             output_dir=root, cache_dir=root / "cache", replay="record", tearsheet=False)
    return result.output_dir


def test_spans_nest_backtest_iteration_agent_run_and_calls(run_dir):
    spans = [json.loads(line) for line in (run_dir / "spans.jsonl").read_text().splitlines()]
    by_id = {s["span_id"]: s for s in spans}

    def parent(span):
        return by_id.get(span["parent_id"], {}).get("name", "")

    roots = [s for s in spans if s["name"].startswith("backtest")]
    assert len(roots) == 1 and roots[0]["parent_id"] is None
    iterations = [s for s in spans if s["name"] == "iteration"]
    assert len(iterations) == 7 and all(parent(s).startswith("backtest") for s in iterations)
    runs = [s for s in spans if s["name"].startswith("invoke_agent")]
    assert len(runs) == 14 and all(parent(s) == "iteration" for s in runs)
    calls = [s for s in spans if s["name"].startswith(("chat", "execute_tool"))]
    assert calls and all(parent(s).startswith("invoke_agent") for s in calls)
    chat = next(s for s in calls if s["name"].startswith("chat"))
    assert chat["attributes"]["gen_ai.operation.name"] == "chat"
    assert "gen_ai.usage.input_tokens" in chat["attributes"]
    tool = next(s for s in calls if s["name"] == "execute_tool orders_submit")
    assert tool["attributes"]["gen_ai.tool.name"] == "orders_submit"


def test_traces_list_show_warnings_and_query(run_dir):
    runner = CliRunner()
    root = str(run_dir.parent)
    listed = runner.invoke(app, ["traces", "list", "--root", root, "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert row["n_agent_runs"] == 14 and row["agents"] == ["buyer", "leaky"]

    shown = runner.invoke(app, ["traces", "show", run_dir.name, "--root", root, "--agent", "buyer",
                                "--at", "2012-03-01"])
    assert shown.exit_code == 0, shown.output
    assert "orders_submit" in shown.output and "market_last_price" in shown.output
    assert "2012-03-02" not in shown.output

    warned = runner.invoke(app, ["traces", "warnings", run_dir.name, "--root", root])
    assert warned.exit_code == 0
    assert "future_data" in warned.output and "2030-01-01" in warned.output

    queried = runner.invoke(app, ["traces", "query", run_dir.name, "select agent, count(*) as n from runs "
                                  "group by agent order by agent", "--root", root])
    assert queried.exit_code == 0, queried.output
    assert json.loads(queried.output) == [{"agent": "buyer", "n": 7}, {"agent": "leaky", "n": 7}]


def test_unknown_run_is_a_clear_error(run_dir):
    out = CliRunner().invoke(app, ["traces", "show", "nope", "--root", str(run_dir.parent)])
    assert out.exit_code == 2 and "error:" in out.output
