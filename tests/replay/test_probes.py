"""Replay probes: a warm rerun finds its runs by their packed raw inputs, and a probe never
finds the wrong run (equal probes mean equal keys; every input that reaches the key moves
the probe; data after the simulated time does not)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agentrt import PandasData, SampleData, ScriptedModel, Strategy
from agentrt.agents import agent as agent_module
from agentrt.agents.caching import RunKeyer
from agentrt.agents.state import snapshot
from agentrt.replay.store import ReplayStore

START, END = "2012-03-01", "2012-03-30"
BARS = 22
TRADE_SCRIPT = [
    {"tool": "market_last_price", "args": {"symbol": "AAPL"}},
    {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 1, "side": "buy"}},
    "Bought one AAPL after checking the price.",
]
LOOK_SCRIPT = [[{"tool": "market_last_price", "args": {"symbol": "AAPL"}}, {"tool": "account_positions"}],
               "Checked AAPL and the positions."]


class Trader(Strategy):
    """An agent that buys every fourth bar and strategy code that trades at random (seeded)."""

    parameters = {"seed": 0, "deposit_at": -1}
    seen: list = []

    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("watch", model=ScriptedModel(LOOK_SCRIPT), system_prompt="Watch AAPL.",
                           allow_trading=False)
        self.agents.create("buyer", model=ScriptedModel(TRADE_SCRIPT), system_prompt="Buy AAPL.")
        self.rng = random.Random(self.parameters["seed"])

    def on_trading_iteration(self):
        i = self.vars.get("i", 0)
        self.vars.i = i + 1
        if i == self.parameters["deposit_at"]:
            self.deposit_cash(1_000)
        type(self).seen.append(self.agents["watch"].run())
        if i % 4 == 0:
            type(self).seen.append(self.agents["buyer"].run())
        roll = self.rng.random()
        symbol = self.rng.choice(["MSFT", "IBM"])
        if roll < 0.3:
            self.submit_order(self.create_order(symbol, self.rng.randint(1, 20), "buy"))
        elif roll < 0.4:
            price = self.get_last_price(symbol)
            self.submit_order(self.create_order(symbol, 5, "buy", limit_price=round(price * 0.9, 2)))
        elif roll < 0.5 and self.get_position(symbol) is not None:
            self.submit_order(self.create_order(symbol, self.get_position(symbol).quantity, "sell"))
        elif roll < 0.55:
            for order in self.get_orders():
                self.cancel_order(order)


def _backtest(cls: type, tmp_path: Path, data: Any = SampleData, **params: Any) -> Any:
    return cls.backtest(data, START, END, show_progress=False, quiet=True, tearsheet=False,
                        output_dir=tmp_path / "out", cache_dir=tmp_path / "cache", parameters=params or None)


class _Calls:
    """Counts calls of a method while the spy is installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> None:
        self.count = 0
        original = getattr(owner, name)

        def spy(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, spy)


@pytest.fixture(autouse=True)
def _fresh_seen():
    Trader.seen = []
    yield
    Trader.seen = []


def test_a_warm_rerun_finds_every_run_by_probe_without_computing_a_key(tmp_path, monkeypatch):
    cold = _backtest(Trader, tmp_path)
    cold_results = list(Trader.seen)
    runs = BARS + (BARS + 3) // 4
    assert cold.agent_summary["replay"]["misses"] == runs
    with sqlite3.connect(tmp_path / "cache" / "replay.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM run_probes").fetchone()[0] == runs

    Trader.seen = []
    keys = _Calls(monkeypatch, RunKeyer, "key")
    reads = _Calls(monkeypatch, ReplayStore, "get_run")
    warm = _backtest(Trader, tmp_path)
    replay = warm.agent_summary["replay"]
    assert (replay["hits"], replay["misses"], replay["model_calls_made"]) == (runs, 0, 0)
    assert keys.count == 0 and reads.count == 0  # found by probe: no key rendered, no run row read
    assert warm.trades.drop(columns=["source"]).equals(cold.trades.drop(columns=["source"]))
    assert (warm.trades["source"] == cold.trades["source"]).all()  # the agent's orders are re-applied
    for hit, made in zip(Trader.seen, cold_results, strict=True):
        assert type(hit).__name__ == "ReplayedRunResult" and hit.cache_hit and not made.cache_hit
        assert (hit.cache_key, hit.summary, hit.text, hit.tool_calls, hit.tool_results, hit.sim_time) == (
            made.cache_key, made.summary, made.text, made.tool_calls, made.tool_results, made.sim_time)
        assert [o["symbol"] for o in hit.orders] == [o["symbol"] for o in made.orders]
        assert hit.payload["recorded_usage"] == made.usage and hit.model_calls == 0
        assert hit.payload["trace_path"] == made.payload["trace_path"]
    # the run index of a hit names the recorded trace and the tools the recorded run called
    index = pd.read_parquet(max((tmp_path / "out").glob("Trader_*/agent_runs.parquet"), key=lambda f: f.stat().st_mtime))
    hits = index[index["cache_hit"]]
    assert len(hits) == runs
    assert set(map(tuple, hits["tools_called"])) == {("market_last_price", "account_positions"),
                                                     ("market_last_price", "orders_submit")}


def test_a_hit_result_reads_its_recorded_answer_after_the_backtest_closed_its_store(tmp_path):
    _backtest(Trader, tmp_path)
    cold_texts = [r.text for r in Trader.seen]
    Trader.seen = []
    _backtest(Trader, tmp_path)
    assert all(r.__dict__.get("_loader") is not None for r in Trader.seen)  # nothing read yet
    assert [r.text for r in Trader.seen] == cold_texts


def test_equal_probes_always_mean_equal_keys(tmp_path, monkeypatch):
    """Record (probe, key) for every run of several randomly trading backtests and look for a
    probe that stands for two keys; also check every input of the key moves the probe."""
    pairs: dict[tuple[str, bytes], str] = {}
    seen_keys: set[str] = set()
    original = agent_module.Agent._run

    def spy(self, task, context):
        host = self.manager.host
        specs = [t.spec for t in self.tools]
        keyer = self._keyer(specs)
        prober = self._prober(keyer)
        assert prober, "a backtest strategy on the simulated broker has probes"
        probe = (prober.surface(task, None), prober.inputs())
        key = keyer.key(task=task, context=None, state=snapshot(host), data_json=host._data_fingerprint_json())
        assert pairs.setdefault(probe, key) == key, f"probe stands for two keys at {host.get_datetime()}"
        seen_keys.add(key)
        return original(self, task, context)

    monkeypatch.setattr(agent_module.Agent, "_run", spy)
    for seed in range(4):
        _backtest(Trader, tmp_path / f"s{seed}", seed=seed)
        _backtest(Trader, tmp_path / f"d{seed}", seed=seed, deposit_at=5)
    assert len(pairs) >= len(seen_keys) > 2 * BARS  # many distinct states were probed


class Probed(Strategy):
    """Packs its probe inputs before and after each change of one input, at one bar."""

    parameters = {"at": 6}
    inputs: dict[str, bytes] = {}

    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("watch", model=ScriptedModel(LOOK_SCRIPT), allow_trading=False)

    def on_trading_iteration(self):
        i = self.vars.get("i", 0)
        self.vars.i = i + 1
        if i == 2:
            self.submit_order(self.create_order("AAPL", 10, "buy"))
        if i != self.parameters["at"]:
            return
        static, dynamic = self._agent_probe_source()
        got = type(self).inputs
        got["static"] = static
        got["start"] = dynamic()
        got["again"] = dynamic()
        self.deposit_cash(1)
        got["cash"] = dynamic()
        order = self.submit_order(self.create_order("MSFT", 1, "buy", limit_price=1.0))
        got["open order"] = dynamic()
        self.cancel_order(order)
        got["cancelled"] = dynamic()
        position = self.get_position("AAPL")
        position.avg_fill_price += 0.5
        got["average price"] = dynamic()
        position.quantity += 1
        got["quantity"] = dynamic()


def test_every_input_of_the_snapshot_moves_the_probe_and_future_data_does_not(tmp_path):
    days = pd.bdate_range("2012-03-01", "2012-03-20")

    def frame(base: float, bump_at: int | None = None) -> pd.DataFrame:
        px = [base + i + (5.0 if k == bump_at else 0.0) for k, i in enumerate(range(len(days)))]
        return pd.DataFrame({"open": px, "high": px, "low": px, "close": px, "volume": 1.0}, index=days)

    def probe_inputs(data: PandasData) -> dict[str, bytes]:
        Probed.inputs = {}
        Probed.backtest(data, "2012-03-01", "2012-03-20", show_progress=False, quiet=True, write_outputs=False)
        return dict(Probed.inputs)

    base = probe_inputs(PandasData({"AAPL": frame(100.0), "MSFT": frame(30.0)}))
    steps = ["start", "cash", "open order", "average price", "quantity"]
    assert base["start"] == base["again"]  # packing is deterministic
    assert len({base[s] for s in steps}) == len(steps)  # every change moved the probe
    assert base["cancelled"] == base["cash"]  # a cancelled order is not in the snapshot
    past = probe_inputs(PandasData({"AAPL": frame(100.0), "MSFT": frame(30.0, bump_at=3)}))
    assert past["start"] != base["start"]  # a corrected bar before now: other inputs
    assert past["static"] == base["static"]
    future = probe_inputs(PandasData({"AAPL": frame(100.0), "MSFT": frame(30.0, bump_at=10)}))
    assert future["start"] == base["start"]  # a bar after the simulated time changes nothing
    other = probe_inputs(PandasData({"AAPL": frame(100.0), "IBM": frame(30.0)}))
    assert other["static"] != base["static"]  # another symbol set is another surface


def test_a_strategy_that_overrides_an_account_read_gets_no_probes(tmp_path):
    class Custom(Trader):
        def get_positions(self):
            return [p for p in super().get_positions() if p.symbol != "IBM"]

    _backtest(Custom, tmp_path)
    warm = _backtest(Custom, tmp_path)
    assert warm.agent_summary["replay"]["misses"] == 0  # still served, the long way
    with sqlite3.connect(tmp_path / "cache" / "replay.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM run_probes").fetchone()[0] == 0


def test_a_cache_without_probes_is_found_by_key_and_indexed_for_next_time(tmp_path, monkeypatch):
    _backtest(Trader, tmp_path)
    db = tmp_path / "cache" / "replay.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM run_probes")  # as written before probes existed
    again = _backtest(Trader, tmp_path)
    assert again.agent_summary["replay"]["misses"] == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM run_probes").fetchone()[0] == BARS + (BARS + 3) // 4
    keys = _Calls(monkeypatch, RunKeyer, "key")
    third = _backtest(Trader, tmp_path)
    assert third.agent_summary["replay"]["misses"] == 0 and keys.count == 0


def test_verify_quarantines_a_changed_probe_row_and_the_next_run_reindexes_it(tmp_path):
    _backtest(Trader, tmp_path)
    db = tmp_path / "cache" / "replay.sqlite"
    with sqlite3.connect(db) as conn:
        probes = [row[0] for row in conn.execute("SELECT probe FROM run_probes WHERE agent = 'watch' ORDER BY sim_time LIMIT 3")]
        conn.execute("UPDATE run_probes SET head = replace(head, 'Checked', 'Sold') WHERE probe = ?", (probes[0],))
        conn.execute("UPDATE run_probes SET inputs = x'00' || inputs WHERE probe = ?", (probes[1],))
        conn.execute("UPDATE runs SET result = replace(result, 'Checked', 'Sold') "
                     "WHERE key = (SELECT key FROM run_probes WHERE probe = ?)", (probes[2],))
    with ReplayStore(tmp_path / "cache") as store:
        report = store.verify()
    assert not report.ok and report.checked_probes == BARS + (BARS + 3) // 4
    bad = {(p.table, p.key) for p in report.problems}
    assert ("run_probes", probes[0]) in bad and ("run_probes", probes[1]) in bad
    assert ("run_probes", probes[2]) in bad and any(t == "runs" for t, _ in bad)  # the run and its probe
    assert report.quarantined == len(report.problems)
    with ReplayStore(tmp_path / "cache") as store:
        assert store.verify().ok
    again = _backtest(Trader, tmp_path)
    replay = again.agent_summary["replay"]
    assert replay["misses"] == 1  # the quarantined run is made again; the others are found by key
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM run_probes").fetchone()[0] == BARS + (BARS + 3) // 4


def test_merge_brings_the_probes_and_clear_takes_them_away(tmp_path, monkeypatch):
    _backtest(Trader, tmp_path / "a")
    with ReplayStore(tmp_path / "b" / "cache") as mine:
        report = mine.merge(tmp_path / "a" / "cache")
        assert report.runs_added == BARS + (BARS + 3) // 4 and report.probes_added == report.runs_added
    keys = _Calls(monkeypatch, RunKeyer, "key")
    warm = _backtest(Trader, tmp_path / "b")
    assert warm.agent_summary["replay"]["misses"] == 0 and keys.count == 0
    with ReplayStore(tmp_path / "b" / "cache") as mine:
        mine.clear(agent="buyer")
        assert mine.stats()["runs"]["probes"] == BARS
        mine.clear()
        assert mine.stats()["runs"]["probes"] == 0


class Briefed(Strategy):
    """Runs its agent with a task and a context that change every week."""

    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("watch", model=ScriptedModel(LOOK_SCRIPT), allow_trading=False)

    def on_trading_iteration(self):
        week = self.get_datetime().isocalendar().week
        self.agents["watch"].run(f"Review week {week}.", context={"week": week, "limits": [1, 2.5]})


def test_runs_with_a_task_and_context_are_found_by_probe_too(tmp_path, monkeypatch):
    cold = _backtest(Briefed, tmp_path)
    assert cold.agent_summary["replay"]["misses"] == BARS
    keys = _Calls(monkeypatch, RunKeyer, "key")
    warm = _backtest(Briefed, tmp_path)
    assert warm.agent_summary["replay"]["hits"] == BARS and keys.count == 0


def test_the_loop_unfreezes_the_heap_it_froze_and_leaves_a_callers_freeze_alone(tmp_path):
    import gc

    _backtest(Trader, tmp_path)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        _backtest(Trader, tmp_path)
        # frozen objects that died left the count; nothing was frozen more, and ours was not undone
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


class Spied:
    """Records (probe, key) of every run that goes the long way; a probe standing for two keys fails."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pairs: dict[tuple[str, bytes], str] = {}
        original = agent_module.Agent._run

        def spy(agent, task, context):
            host = agent.manager.host
            keyer = agent._keyer([t.spec for t in agent.tools])
            prober = agent._prober(keyer)
            inputs = prober.inputs() if prober else None
            if inputs is not None:
                key = keyer.key(task=task, context=None if context is None else agent_module._json_context(context),
                                state=snapshot(host), data_json=host._data_fingerprint_json())
                probe = (prober.surface(task, agent_module._json_context(context)), inputs)
                assert self.pairs.setdefault(probe, key) == key, f"probe stands for two keys at {host.get_datetime()}"
            return original(agent, task, context)

        monkeypatch.setattr(agent_module.Agent, "_run", spy)


class Opening(Strategy):
    """Runs its agent in initialize(), before the engine sets the market's clock and sessions."""

    parameters = {"market": "NYSE"}
    seen: list = []

    def initialize(self):
        self.set_market(self.parameters["market"])
        self.sleeptime = "30M"
        self.agents.create("w", model=ScriptedModel(["Nothing to do."]), allow_trading=False)
        self.agents["w"].run()

    def on_trading_iteration(self):
        now = self.get_datetime()
        if now.minute == 30 and now.hour in (9, 14):  # 09:30 New York is 14:30 UTC
            type(self).seen.append(self.agents["w"].run())


def test_a_run_in_initialize_does_not_leave_probes_of_the_provisional_clock(tmp_path, monkeypatch):
    Spied(monkeypatch)
    kw = dict(show_progress=False, quiet=True, tearsheet=False, write_outputs=False, cache_dir=tmp_path / "c")
    Opening.seen = []
    Opening.backtest(SampleData, "2012-03-01", "2012-03-09", parameters={"market": "24/7"}, **kw)
    Opening.seen = []
    nyse = Opening.backtest(SampleData, "2012-03-01", "2012-03-09", parameters={"market": "NYSE"}, **kw)
    assert Opening.seen and not any(r.cache_hit for r in Opening.seen)  # never the 24/7 runs
    assert all(r.sim_time.endswith("-05:00") for r in Opening.seen)
    assert nyse.agent_summary["replay"]["misses"] == len(Opening.seen) + 1 - nyse.agent_summary["replay"]["hits"]


class Hiding(Strategy):
    parameters = {"hide": False}

    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("a", model=ScriptedModel(["Ok."]), include_builtin_tools=False)
        if self.parameters["hide"]:  # the agent is not told about the hedge leg
            real = self.get_positions
            self.get_positions = lambda: [p for p in real() if p.asset.symbol != "IBM"]

    def on_trading_iteration(self):
        if not self.vars.get("done"):
            self.vars.done = True
            self.submit_order(self.create_order("IBM", 10, "buy"))
        self.agents["a"].run()


def test_an_account_read_replaced_on_the_instance_turns_probes_off(tmp_path, monkeypatch):
    Spied(monkeypatch)
    kw = dict(show_progress=False, quiet=True, tearsheet=False, write_outputs=False, cache_dir=tmp_path / "c")
    Hiding.backtest(SampleData, "2012-03-01", "2012-03-09", parameters={"hide": False}, **kw)
    hidden = Hiding.backtest(SampleData, "2012-03-01", "2012-03-09", parameters={"hide": True}, **kw)
    assert hidden.agent_summary["replay"]["hits"] == 1  # only the first bar, before the position exists


def test_refresh_drops_the_probes_of_the_value_it_replaces(tmp_path):
    script = {"text": "Hold."}

    def decide(request):
        return script["text"]

    class Flip(Strategy):
        def initialize(self):
            self.sleeptime = "1D"
            from agentrt import FunctionModel

            self.agents.create("f", model=FunctionModel(decide), include_builtin_tools=False)

        def on_trading_iteration(self):
            type(self).last = self.agents["f"].run()

    kw = dict(show_progress=False, quiet=True, tearsheet=False, write_outputs=False, cache_dir=tmp_path / "c")
    Flip.backtest(SampleData, "2012-03-01", "2012-03-09", **kw)
    script["text"] = "Buy now."
    Flip.backtest(SampleData, "2012-03-01", "2012-03-09", replay="refresh", **kw)
    again = Flip.backtest(SampleData, "2012-03-01", "2012-03-09", **kw)
    assert again.agent_summary["replay"]["misses"] == 0
    assert (Flip.last.summary, Flip.last.text) == ("Buy now.", "Buy now.")
    with ReplayStore(tmp_path / "c") as store:
        assert store.verify().ok


def test_bars_out_of_time_order_are_sorted_so_no_later_bar_is_visible(tmp_path):
    from agentrt.data.base import DataSource

    days = pd.bdate_range("2012-03-01", "2012-03-09")
    px = [100.0 + i for i in range(len(days))]
    frame = pd.DataFrame({"open": px, "high": px, "low": px, "close": px, "volume": 1.0}, index=days)

    class Shuffled(DataSource):
        timestep = "day"

        def symbols(self):
            return ["AAPL"]

        def frame(self, symbol, timestep="day"):
            return frame.iloc[::-1]

        def describe(self):
            return {"name": "shuffled"}

    class Reader(Strategy):
        seen: list = []

        def on_trading_iteration(self):
            type(self).seen.append((self.get_datetime().date(), self.get_last_price("AAPL")))

    Reader.backtest(Shuffled(), "2012-03-01", "2012-03-09", show_progress=False, quiet=True, write_outputs=False)
    assert Reader.seen and all(price <= 100.0 + k for k, (_, price) in enumerate(Reader.seen))
    Reader.seen = []  # a range inside the data is inside it, whatever the order of the rows
    Reader.backtest(Shuffled(), "2012-03-05", "2012-03-08", show_progress=False, quiet=True, write_outputs=False)
    assert [d.isoformat() for d, _ in Reader.seen][:1] == ["2012-03-05"]


class Reading(Strategy):
    """One agent searches the docs every bar; the other never does."""

    def initialize(self):
        self.sleeptime = "1D"
        self.agents.create("reader", model=ScriptedModel([{"tool": "docs_search", "args": {"query": "replay probe"}},
                                                          "Read the docs."]), allow_trading=False)
        self.agents.create("watch", model=ScriptedModel(LOOK_SCRIPT), allow_trading=False)

    def on_trading_iteration(self):
        self.agents["reader"].run()
        self.agents["watch"].run()


def test_editing_the_docs_reruns_only_the_runs_that_searched_them(tmp_path, monkeypatch):
    from agentrt.agents import docs_index
    from agentrt.replay.modes import ReplayMissError

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Replay\n\nA replay probe finds a run by its inputs.\n")
    monkeypatch.setenv("AGENTRT_DOCS_DIR", str(docs))

    def fresh_docs():  # the docs index is loaded once per process
        monkeypatch.setattr(docs_index, "_DEFAULT", None)

    fresh_docs()
    cold = _backtest(Reading, tmp_path)
    assert cold.agent_summary["replay"]["misses"] == 2 * BARS
    assert _backtest(Reading, tmp_path).agent_summary["replay"]["hits"] == 2 * BARS  # by probe
    (docs / "guide.md").write_text("# Replay\n\nA replay probe finds a recorded run by its raw inputs.\n")
    fresh_docs()
    with pytest.raises(Exception) as strict:
        Reading.backtest(SampleData, START, END, show_progress=False, quiet=True, tearsheet=False,
                         output_dir=tmp_path / "out", cache_dir=tmp_path / "cache", replay="strict")
    assert isinstance(strict.value.__cause__ or strict.value, ReplayMissError)
    assert "docs changed" in str(strict.value)
    edited = _backtest(Reading, tmp_path).agent_summary["replay"]
    assert (edited["hits"], edited["misses"]) == (BARS, BARS)  # the watcher's runs are untouched
    assert edited["misses_by_reason"] == {"docs changed (the run searched them)": BARS}
    assert _backtest(Reading, tmp_path).agent_summary["replay"]["hits"] == 2 * BARS


def test_a_hit_refuses_to_read_a_run_recorded_again_after_it_was_served(tmp_path):
    from agentrt import FunctionModel
    from agentrt.replay.store import ReplayStoreError

    answer = {"text": "Hold."}

    class Kept(Strategy):
        kept: list = []

        def initialize(self):
            self.sleeptime = "1D"
            self.agents.create("k", model=FunctionModel(lambda request: answer["text"]), include_builtin_tools=False)

        def on_trading_iteration(self):
            type(self).kept.append(self.agents["k"].run())

    kw = dict(show_progress=False, quiet=True, tearsheet=False, write_outputs=False, cache_dir=tmp_path / "c")
    Kept.backtest(SampleData, "2012-03-01", "2012-03-09", **kw)
    Kept.kept = []
    Kept.backtest(SampleData, "2012-03-01", "2012-03-09", **kw)
    held = list(Kept.kept)
    assert held[0].summary == "Hold." and held[1].text == "Hold."  # one read before the rewrite
    answer["text"] = "Buy."
    Kept.backtest(SampleData, "2012-03-01", "2012-03-09", replay="refresh", **kw)
    with pytest.raises(ReplayStoreError, match="recorded again"):
        held[0].text  # noqa: B018 - never the new run's answer under the old hit's summary
    assert held[1].text == "Hold."  # read before: kept
