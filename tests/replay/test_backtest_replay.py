"""The replay cache on whole backtests: what a change recomputes, why, and resuming after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from agentrt.cli.loader import load_strategy_class

STRATEGY = textwrap.dedent('''
    import time

    from agentrt import FunctionModel, Strategy, agent_tool


    @agent_tool
    def signal(symbol: str) -> dict:
        """Momentum signal for a symbol."""
        return {"symbol": symbol, "score": SCORE}


    def with_tool(request):
        time.sleep(PAUSE)
        if request.step == 0:
            return {"tool": "signal", "args": {"symbol": "AAPL"}}
        return "noted the signal"


    def plain(request):
        if request.step == 0:
            return {"tool": "market_last_price", "args": {"symbol": "AAPL"}}
        return "noted the price"


    class Two(Strategy):
        parameters = {"deposit_at": -1}

        def initialize(self):
            self.sleeptime = "1D"
            self.agents.create("tooled", model=FunctionModel(with_tool), system_prompt="Use the signal.",
                               tools=[signal], allow_trading=False)
            self.agents.create("plain", model=FunctionModel(plain), system_prompt="Look at the price.",
                               allow_trading=False)

        def on_trading_iteration(self):
            i = self.vars.get("i", 0)
            if i == self.parameters["deposit_at"]:
                self.deposit_cash(1_000)
            self.vars.i = i + 1
            self.agents["tooled"].run()
            self.agents["plain"].run()


    if __name__ == "__main__":
        import sys

        from agentrt import SampleData

        Two.backtest(SampleData, "2012-03-01", "2012-03-30", show_progress=False, quiet=True,
                     output_dir=sys.argv[1], cache_dir=sys.argv[2], tearsheet=False)
''')
BARS = 22  # NYSE sessions 2012-03-01..2012-03-30


def _write(tmp_path: Path, name: str, *, score: int = 1, pause: float = 0.0) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(STRATEGY.replace("SCORE", str(score)).replace("PAUSE", str(pause)))
    return path


def _run(path: Path, tmp_path: Path, **params):
    from agentrt import SampleData

    cls = load_strategy_class(path)
    result = cls.backtest(SampleData, "2012-03-01", "2012-03-30", show_progress=False, quiet=True, tearsheet=False,
                          output_dir=tmp_path / "out", cache_dir=tmp_path / "cache", parameters=params or None)
    return result, result.agent_summary["replay"]


def test_editing_a_tool_body_reruns_only_the_agent_that_has_that_tool(tmp_path):
    _, cold = _run(_write(tmp_path, "v1"), tmp_path)
    assert (cold["runs"], cold["misses"]) == (2 * BARS, 2 * BARS)
    result, warm = _run(_write(tmp_path, "v2", score=2), tmp_path)
    assert warm["hits"] == BARS  # every run of "plain"
    assert warm["misses"] == BARS  # every run of "tooled"
    assert warm["misses_by_reason"] == {"tool signal source changed": BARS}
    rows = result.agent_summary
    assert rows["warnings"].get("future_data", 0) == 0


def test_a_parameter_that_changes_the_state_at_bar_k_hits_before_k(tmp_path):
    path = _write(tmp_path, "v1")
    _run(path, tmp_path)
    k = 8
    _, warm = _run(path, tmp_path, deposit_at=k)
    assert warm["hits"] == 2 * k  # both agents, bars 0..k-1
    assert warm["misses"] == 2 * (BARS - k)
    assert set(warm["misses_by_reason"]) <= {"state changed: cash", "state changed: portfolio_value"}
    assert "state changed: cash" in warm["misses_by_reason"]


def _runs_in_cache(cache: Path) -> int:
    try:
        with sqlite3.connect(cache / "replay.sqlite", timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_backtest_killed_with_sigkill_resumes_from_the_cache(tmp_path):
    script = _write(tmp_path, "slow", pause=0.15)
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "killed"), str(cache)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _runs_in_cache(cache) < 10 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    committed = _runs_in_cache(cache)
    assert 10 <= committed < 2 * BARS

    from agentrt import SampleData

    cls = load_strategy_class(script)
    result = cls.backtest(SampleData, "2012-03-01", "2012-03-30", show_progress=False, quiet=True, tearsheet=False,
                          output_dir=tmp_path / "resumed", cache_dir=cache)
    replay = result.agent_summary["replay"]
    assert replay["hits"] == committed  # every run finished before the kill is replayed
    assert replay["misses"] == 2 * BARS - committed
    assert _runs_in_cache(cache) == 2 * BARS
    again = cls.backtest(SampleData, "2012-03-01", "2012-03-30", show_progress=False, quiet=True, tearsheet=False,
                         output_dir=tmp_path / "again", cache_dir=cache)
    assert again.agent_summary["replay"]["hits"] == 2 * BARS
    resumed_csv = next((tmp_path / "resumed").glob("*/stats.csv")).read_bytes()
    again_csv = next((tmp_path / "again").glob("*/stats.csv")).read_bytes()
    assert resumed_csv == again_csv
    json.loads(next((tmp_path / "again").glob("*/settings.json")).read_text())  # artifacts intact


def test_other_market_data_is_a_miss_that_names_the_symbol(tmp_path):
    import pandas as pd

    from agentrt import PandasData, ScriptedModel, Strategy

    days = pd.bdate_range("2012-03-01", "2012-03-09")

    def frame(base):
        px = [base + i for i in range(len(days))]
        return pd.DataFrame({"open": px, "high": px, "low": px, "close": px, "volume": 1.0}, index=days)

    class Analyst(Strategy):
        def initialize(self):
            script = [{"tool": "market_last_price", "args": {"symbol": "AAPL"}}, "looked"]
            self.agents.create("analyst", model=ScriptedModel(script), allow_trading=False)

        def on_trading_iteration(self):
            self.vars.seen = self.agents["analyst"].run().tool_results[0]["result"]["price"]

    def run(data):
        return Analyst.backtest(data, "2012-03-01", "2012-03-09", show_progress=False, quiet=True, tearsheet=False,
                                output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")

    run(PandasData({"AAPL": frame(100.0), "MSFT": frame(30.0)}))
    again = run(PandasData({"AAPL": frame(100.0), "MSFT": frame(30.0)}))
    assert again.agent_summary["replay"]["misses"] == 0
    corrected = run(PandasData({"AAPL": frame(50.0), "MSFT": frame(30.0)}))  # a corrected vendor file
    replay = corrected.agent_summary["replay"]
    assert replay["hits"] == 0
    assert replay["misses_by_reason"] == {"data changed: AAPL": len(days)}
