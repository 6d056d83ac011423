"""Per-run overhead of the agent runtime: a scripted 3-step run with 2 tool calls vs the tools alone.

The agent runs on the real stack (ADK Runner, LlmAgent, session per run, tool adapters,
instrumentation) with an offline ScriptedModel, so the difference to calling the two
tools directly is the framework's own cost per run. Three configurations are timed:

- ``bare``: no replay cache, no trace files (the framework alone);
- ``recorded``: replay mode ``off`` but JSON traces and spans written (what a cold
  backtest with an output folder pays besides the model);
- ``cache hit``: the same run served from the replay cache (no ADK at all).

Run: ``python benchmarks/agent_overhead.py [--runs 300]``. The last line reads
``agent overhead per run: X.XX ms``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agentrt.agents import ScriptedModel, agent_tool
from agentrt.agents.services import AgentServices
from agentrt.domain import Order, OrderSide, OrderStatus
from agentrt.domain.assets import as_asset

NY = "America/New_York"


class _Bars:
    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df


class BenchHost:
    """The smallest host the agent runtime accepts: one symbol, fixed time, an order book."""

    def __init__(self) -> None:
        index = pd.bdate_range("2020-01-02", periods=300).tz_localize(NY) + pd.Timedelta(hours=16)
        close = 100 + np.cumsum(np.sin(np.arange(300)))
        self.df = pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close,
                                "volume": 1e6}, index=index)
        self.i = 250
        self.cash = 100_000.0
        self.portfolio_value = 100_000.0
        self.is_backtesting = True
        self._agent_services: Any = None
        self._orders: list[Order] = []
        self._ids = itertools.count(1)

    def get_datetime(self) -> dt.datetime:
        return self.df.index[self.i].to_pydatetime()

    def get_positions(self) -> list[Any]:
        return []

    def get_orders(self) -> list[Order]:
        return [o for o in self._orders if o.status.is_active]

    def get_order(self, identifier: str) -> Order | None:
        return None

    def get_last_price(self, asset: Any) -> float:
        return float(self.df["close"].iloc[self.i])

    def get_historical_prices(self, asset: Any, length: int, timestep: str = "day") -> _Bars:
        return _Bars(self.df.iloc[self.i + 1 - length: self.i + 1])

    def create_order(self, asset: Any, quantity: float, side: str, **_: Any) -> Order:
        return Order(as_asset(asset), quantity, OrderSide.parse(side, what="side"))

    def submit_order(self, order: Order) -> Order:
        order.identifier = str(next(self._ids))
        order.status = OrderStatus.OPEN
        return order

    def cancel_order(self, order: Order) -> Order:
        order.status = OrderStatus.CANCELED
        return order

    def log_message(self, message: str, color: str | None = None) -> None:
        pass


class Strategyish(BenchHost):
    @agent_tool
    def momentum(self, symbol: str, days: int = 20) -> dict:
        """Price change over `days` bars.

        Args:
            symbol: Ticker.
            days: Look-back in bars.
        """
        close = self.df["close"].to_numpy()
        return {"symbol": symbol, "change": float(close[self.i] / close[self.i - days] - 1)}

    @agent_tool
    def volatility(self, symbol: str, days: int = 20) -> dict:
        """Standard deviation of daily returns over `days` bars.

        Args:
            symbol: Ticker.
            days: Look-back in bars.
        """
        close = self.df["close"].to_numpy()[self.i - days: self.i + 1]
        return {"symbol": symbol, "vol": float(np.std(np.diff(close) / close[:-1]))}


SCRIPT = [
    {"tool": "momentum", "args": {"symbol": "AAPL", "days": 20}},
    {"tool": "volatility", "args": {"symbol": "AAPL", "days": 20}},
    "Momentum is positive and volatility moderate: hold.",
]


def _agent(host: Strategyish, services: AgentServices) -> Any:
    host._agent_services = services
    from agentrt.agents.manager import AgentManager

    manager = AgentManager(host)
    manager.create("bench", model=ScriptedModel(SCRIPT), system_prompt="Decide.",
                   tools=[host.momentum, host.volatility], include_builtin_tools=False)
    return manager


def _time_runs(manager: Any, runs: int, warmup: int = 20) -> list[float]:
    agent = manager["bench"]
    for _ in range(warmup):
        agent.run()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        agent.run()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def _direct(host: Strategyish, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        host.momentum("AAPL", 20)
        host.volatility("AAPL", 20)
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="agentrt-bench-"))

    host = Strategyish()
    direct = statistics.median(_direct(host, args.runs))

    bare = _agent(host, AgentServices())
    t_bare = statistics.median(_time_runs(bare, args.runs))
    bare.close()

    host = Strategyish()
    rec_services = AgentServices(output_dir=tmp / "recorded", setup_tracing=True)
    recorded = _agent(host, rec_services)
    t_rec = statistics.median(_time_runs(recorded, args.runs))
    rec_services.close()

    host = Strategyish()
    hit_services = AgentServices.for_backtest(output_dir=None, run_id="bench", replay="record", cache_dir=tmp / "cache")
    hits = _agent(host, hit_services)
    t_hit = statistics.median(_time_runs(hits, args.runs, warmup=5))
    hit_services.close()

    print(f"direct tool calls (2 tools):            {direct:8.3f} ms")
    print(f"agent run, bare (3 model steps, 2 tools): {t_bare:8.3f} ms")
    print(f"agent run, traces + spans written:       {t_rec:8.3f} ms")
    print(f"agent run, replay-cache hit:             {t_hit:8.3f} ms")
    print(f"agent overhead per run: {t_bare - direct:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
