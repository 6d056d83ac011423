"""The agent runtime and the replay cache: whole-run hits, call-level reuse, modes, honest replays."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentrt.agents import FunctionModel, ScriptedModel, agent_tool
from agentrt.agents.caching import RunKeyer, run_material
from agentrt.replay.hashing import content_hash

from .conftest import FakeHost


def _script() -> list:
    return [
        {"tool": "market_load_history_table", "args": {"symbol": "AAPL", "length": 20}},
        {"tool": "duckdb_query", "args": {"sql": "SELECT avg(close) FROM aapl_day"}},
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 10, "side": "buy"}},
        "Bought 10 AAPL.",
    ]


def _host(frames, services, **kw) -> FakeHost:
    host = FakeHost(frames, **kw)
    host._agent_services = services
    return host


def test_a_warm_rerun_makes_no_model_call_and_reapplies_the_orders(frames, services_factory, tmp_path):
    cold_model = ScriptedModel(_script())
    cold = _host(frames, services_factory("record"))
    cold.agents.create("trader", model=cold_model)
    first = cold.agents["trader"].run()
    assert first.cache_hit is False and cold_model.calls == 4

    warm_model = ScriptedModel(_script())
    warm = _host(frames, services_factory("record"))
    warm.agents.create("trader", model=warm_model)
    again = warm.agents["trader"].run()
    assert again.cache_hit is True and warm_model.calls == 0 and again.model_calls == 0
    assert again.cache_key == first.cache_key and again.cache_key.startswith("sha256:")
    assert (again.text, again.summary, again.tool_calls, again.tool_results) == (
        first.text, first.summary, first.tool_calls, first.tool_results)
    assert [(o["symbol"], o["quantity"], o["status"]) for o in again.orders] == [("AAPL", 10.0, "open")]
    assert [o.source for o in warm.get_orders()] == ["agent:trader"]
    assert warm.history_calls == 0  # no tool ran
    assert again.payload["trace_path"] == first.payload["trace_path"]  # the hit points to the recorded trace
    assert again.usage == {"input_tokens": 0, "output_tokens": 0} and again.cost_usd == 0.0
    assert again.payload["recorded_usage"] == first.usage
    counters = warm._agent_services.counters
    assert (counters.hits, counters.misses, counters.model_calls_reused, counters.model_calls_made) == (1, 0, 4, 0)


def test_a_replayed_order_the_broker_now_refuses_is_a_warning_not_a_confirmation(frames, services_factory):
    cold = _host(frames, services_factory("record"))
    cold.agents.create("trader", model=ScriptedModel(_script()))
    cold.agents["trader"].run()

    class RefusingHost(FakeHost):
        def submit_order(self, order):
            order = super().submit_order(order)
            from agentrt.domain import OrderStatus

            order.status, order.reject_reason = OrderStatus.REJECTED, "market halted"
            return order

    warm = RefusingHost(frames)
    warm._agent_services = services_factory("record")
    warm.agents.create("trader", model=ScriptedModel(_script()))
    result = warm.agents["trader"].run()
    assert result.cache_hit is True
    assert result.orders[0]["status"] == "rejected"
    assert "market halted" in result.orders[0]["reject_reason"]
    assert "replayed_order_rejected" in result.warning_codes
    assert any("did not happen" in m for m in result.warning_messages)
    assert warm.get_orders() == []


def test_changing_a_tool_body_misses_with_that_reason(frames, services_factory):
    @agent_tool
    def signal(symbol: str) -> float:
        """A signal."""
        return 1.0

    first = _host(frames, services_factory("record"))
    first.agents.create("a", model=ScriptedModel([{"tool": "signal", "args": {"symbol": "AAPL"}}, "ok"]), tools=[signal])
    first.agents["a"].run()

    @agent_tool
    def signal(symbol: str) -> float:
        """A signal."""
        return 2.0

    model = ScriptedModel([{"tool": "signal", "args": {"symbol": "AAPL"}}, "ok"])
    second = _host(frames, services_factory("record"))
    second.agents.create("a", model=model, tools=[signal])
    result = second.agents["a"].run()
    assert result.cache_hit is False and model.calls == 2
    assert "tool signal source changed" in result.miss_reasons
    assert result.tool_results[0]["result"] == 2.0


def test_a_run_level_miss_reuses_unchanged_model_calls(frames, services_factory):
    host1 = _host(frames, services_factory("record"))
    host1.agents.create("a", model=ScriptedModel(_script()), max_steps=8)
    host1.agents["a"].run()
    model = ScriptedModel(_script())
    host2 = _host(frames, services_factory("record"))
    host2.agents.create("a", model=model, max_steps=9)
    result = host2.agents["a"].run()
    assert result.cache_hit is False
    assert result.miss_reasons == ("model settings changed: max_steps",)
    assert model.calls == 0 and result.model_calls == 0  # every model call came from the call cache
    assert len(host2.get_orders()) == 1  # the tools (and the order) really ran again
    counters = host2._agent_services.counters
    assert (counters.model_calls_reused, counters.model_calls_made) == (4, 0)


def test_a_run_level_miss_reuses_external_tool_calls(frames, services_factory):
    fetched = []

    @agent_tool
    def fred(series_id: str) -> dict:
        """Fetch a series (pretend network call)."""
        fetched.append(series_id)
        return {"series": series_id, "value": 21.5}

    def policy(request):
        if request.step == 0:
            return {"tool": "fred", "args": {"series_id": "M2SL"}}
        return f"M2 is {request.last_tool_results()[0].value['value']}"

    host1 = _host(frames, services_factory("record"))
    host1.agents.create("macro", model=FunctionModel(policy), tools=[fred])
    host1.agents["macro"].run(context={"v": 1})
    host2 = _host(frames, services_factory("record"))
    host2.agents.create("macro", model=FunctionModel(policy), tools=[fred])
    result = host2.agents["macro"].run(context={"v": 2})
    assert result.cache_hit is False and result.miss_reasons == ("context changed: key v",)
    assert fetched == ["M2SL"]  # the second run was served the recorded tool result
    assert result.text == "M2 is 21.5"
    assert host2._agent_services.counters.tool_calls_reused == 1


def test_strict_mode_fails_on_a_miss_and_names_the_reason(frames, services_factory):
    from agentrt.replay.modes import ReplayMissError

    host1 = _host(frames, services_factory("record"))
    host1.agents.create("a", model=ScriptedModel(["hold"]))
    host1.agents["a"].run(task="first task")
    host2 = _host(frames, services_factory("strict"))
    host2.agents.create("a", model=ScriptedModel(["hold"]))
    assert host2.agents["a"].run(task="first task").cache_hit is True
    with pytest.raises(ReplayMissError, match="task changed"):
        host2.agents["a"].run(task="another task")


def test_refresh_calls_again_and_live_runs_never_serve_hits(frames, services_factory):
    host1 = _host(frames, services_factory("record"))
    host1.agents.create("a", model=ScriptedModel(["v1"]))
    host1.agents["a"].run()

    fresh = ScriptedModel(["v1"])
    host2 = _host(frames, services_factory("refresh"))
    host2.agents.create("a", model=fresh)
    assert host2.agents["a"].run().cache_hit is False and fresh.calls == 1

    live_model = ScriptedModel(["v1"])
    host3 = _host(frames, services_factory("record", live=True))
    host3.agents.create("a", model=live_model)
    assert host3.agents["a"].run().cache_hit is False and live_model.calls == 1

    recorded_live = ScriptedModel(["v3"])
    host4 = _host(frames, services_factory("record", live=True))
    host4.agents.create("a", model=recorded_live)
    host4.agents["a"].run()
    replayed = ScriptedModel(["v3"])
    host5 = _host(frames, services_factory("record"))
    host5.agents.create("a", model=replayed)
    result = host5.agents["a"].run()
    assert result.cache_hit is True and replayed.calls == 0 and result.text == "v3"  # live runs are recorded


def test_mode_off_uses_no_cache(frames, services_factory):
    host = _host(frames, services_factory("off"))
    model = ScriptedModel(["x"])
    host.agents.create("a", model=model)
    first = host.agents["a"].run()
    second = host.agents["a"].run()
    assert (first.cache_hit, second.cache_hit, model.calls) == (False, False, 2)
    assert first.cache_key is None and host._agent_services.replay_store is None


def test_failed_runs_are_not_cached(frames, services_factory):
    def broken(request):
        raise TimeoutError("provider timeout")

    host1 = _host(frames, services_factory("record"))
    host1.agents.create("a", model=FunctionModel(broken))
    assert host1.agents["a"].run().error
    ok = FunctionModel(lambda r: "recovered")
    host2 = _host(frames, services_factory("record"))
    host2.agents.create("a", model=ok)
    result = host2.agents["a"].run()
    assert result.cache_hit is False and result.text == "recovered"


def test_the_fast_run_key_equals_the_hash_of_the_material(host):
    agent = host.agents.create("k", model=ScriptedModel(["x"]), system_prompt="Trade {carefully}.")
    specs = [t.spec for t in agent.tools]
    from agentrt.agents.state import snapshot

    state = snapshot(host)
    data = {"source": {"name": "pandas"}, "bars": {"AAPL": "3:00ff", "MSFT": "0"}}
    for task, context, data in [(None, None, None), ("t", {"a": [1, 2.5, "é"], "z": None}, data), ("", {}, data)]:
        material = run_material(agent="k", model=agent.model_identity, system_prompt=agent.effective_system_prompt,
                                task=task, context=context, state=state, tools=specs, data=data)
        keyer = RunKeyer(agent="k", model=agent.model_identity, system_prompt=agent.effective_system_prompt,
                         tools=specs)
        assert keyer.key(task=task, context=context, state=state, data=data) == content_hash(material)
    assert set(material) == {"v", "runtime_version", "base_prompt_version", "agent", "model", "system_prompt",
                             "task", "context", "data", "state", "tools"}
    assert set(material["state"]) == {"sim_time", "cash", "portfolio_value", "positions", "open_orders"}
    assert material["state"]["cash"] == "100000.00"


WARM_STRATEGY = textwrap.dedent(
    """
    import json, sys
    from agentrt import SampleData, ScriptedModel, Strategy

    class Agentic(Strategy):
        def initialize(self):
            self.sleeptime = "1D"
            self.agents.create("trader", model=ScriptedModel([
                {"tool": "market_load_history_table", "args": {"symbol": "AAPL", "length": 5}},
                {"tool": "duckdb_query", "args": {"sql": "SELECT avg(close) FROM aapl_day"}},
                "Hold.",
            ]), system_prompt="Watch AAPL.")

        def on_trading_iteration(self):
            self.agents["trader"].run()

    result = Agentic.backtest(SampleData, "2012-03-01", "2012-03-20", show_progress=False, quiet=True,
                              output_dir=sys.argv[1])
    loaded = sorted(m for m in sys.modules if m.startswith(("google.adk", "litellm")))
    print(json.dumps({"loaded": loaded, "summary": result.agent_summary}))
    """
)


@pytest.mark.slow
def test_a_fully_cached_backtest_never_imports_adk_or_litellm(tmp_path):
    script = tmp_path / "warm.py"
    script.write_text(WARM_STRATEGY)
    env = {**__import__("os").environ, "AGENTRT_CACHE_DIR": str(tmp_path / "cache"), "AGENTRT_REPLAY": "record"}

    def run(out: str) -> dict:
        proc = subprocess.run([sys.executable, str(script), str(tmp_path / out)], check=False, capture_output=True, text=True,
                              env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    cold = run("cold")
    assert "google.adk" in cold["loaded"]
    warm = run("warm")
    assert warm["loaded"] == []
    assert warm["summary"]["replay"]["hits"] == warm["summary"]["runs"] > 0
    assert warm["summary"]["replay"]["misses"] == 0
    cold_trades = next(Path(tmp_path / "cold").glob("*/trades.csv")).read_bytes()
    warm_trades = next(Path(tmp_path / "warm").glob("*/trades.csv")).read_bytes()
    assert cold_trades == warm_trades


def test_orders_a_custom_tool_places_itself_are_replayed_too(frames, services_factory):
    class TradingHost(FakeHost):
        @agent_tool(mutates_trading=True)
        def buy_dip(self, symbol: str, quantity: int) -> dict:
            """Buy through the strategy's own order API (LumiBot style)."""
            order = self.submit_order(self.create_order(symbol, quantity, "buy", limit_price=90.0))
            return {"order_id": order.identifier}

    def run(mode: str) -> tuple:
        host = TradingHost(frames)
        host._agent_services = services_factory(mode)
        model = ScriptedModel([{"tool": "buy_dip", "args": {"symbol": "AAPL", "quantity": 3}}, "done"])
        host.agents.create("dipper", model=model, tools=[host.buy_dip], include_builtin_tools=False)
        return host, host.agents["dipper"].run(), model

    cold_host, cold, _ = run("record")
    warm_host, warm, model = run("record")
    assert warm.cache_hit and model.calls == 0
    describe = lambda h: [(o.asset.symbol, o.quantity, o.limit_price, o.status.value) for o in h._orders]  # noqa: E731
    assert describe(warm_host) == describe(cold_host) == [("AAPL", 3.0, 90.0, "open")]
    assert [o["action"] for o in cold.orders] == ["submit"]
    assert "submit_order" not in vars(cold_host)  # the recording wrapper was removed after the call
