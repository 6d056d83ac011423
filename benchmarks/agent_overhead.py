"""Per-run overhead of the agent runtime: a scripted 3-step run with 2 tool calls vs the tools alone.

The agent runs on the real stack (ADK Runner, LlmAgent, session per run, tool adapters,
instrumentation) with an offline ScriptedModel, so the difference to calling the two
tools directly is the framework's own cost per run. Three configurations are timed:

- ``bare``: no replay cache, no trace files (the framework alone);
- ``recorded``: replay mode ``off`` but JSON traces and spans written (what a cold
  backtest with an output folder pays besides the model);
- ``cache hit``: the same run served from the replay cache (no ADK at all).

As a peer, the same script runs on plain Google ADK (a minimal ``BaseLlm``, the two tools
as ``FunctionTool``s, ``Runner`` with default settings, a fresh session per run): the ratio
shows what agentrt adds to, or saves over, using ADK directly. Each figure is the best
median of several rounds (the machine is shared; the best round is the least disturbed).

Run: ``python benchmarks/agent_overhead.py [--runs 200]``. The last line reads
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


def _median_ms(fn: Any, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def _interleaved(configs: dict[str, Any], runs: int, rounds: int) -> dict[str, float]:
    """Best per-round median of each config, the configs taking turns so they share the noise."""
    best = {name: float("inf") for name in configs}
    per_round = max(1, runs // rounds)
    for _ in range(rounds):
        for name, fn in configs.items():
            best[name] = min(best[name], _median_ms(fn, per_round))
    return best


def _raw_adk(host: Strategyish) -> Any:
    """A callable running the same three-step script on plain ADK objects, default settings."""
    import asyncio

    from agentrt._env import ensure_offline_safe_env

    ensure_offline_safe_env()
    from google.adk.agents.llm_agent import LlmAgent
    from google.adk.models.base_llm import BaseLlm
    from google.adk.models.llm_response import LlmResponse
    from google.adk.runners import Runner
    from google.adk.sessions.in_memory_session_service import InMemorySessionService
    from google.adk.tools.function_tool import FunctionTool
    from google.genai import types

    class Scripted(BaseLlm):
        async def generate_content_async(self, llm_request: Any, stream: bool = False) -> Any:
            step = sum(1 for c in llm_request.contents if c.role == "model")
            if step < 2:
                name = ("momentum", "volatility")[step]
                part = types.Part(function_call=types.FunctionCall(name=name, args={"symbol": "AAPL", "days": 20}))
            else:
                part = types.Part(text=SCRIPT[2])
            usage = types.GenerateContentResponseUsageMetadata(prompt_token_count=10, candidates_token_count=5,
                                                                total_token_count=15)
            yield LlmResponse(content=types.Content(role="model", parts=[part]), usage_metadata=usage)

    def momentum(symbol: str, days: int = 20) -> dict:
        """Price change over `days` bars."""
        return host.momentum(symbol, days)

    def volatility(symbol: str, days: int = 20) -> dict:
        """Standard deviation of daily returns over `days` bars."""
        return host.volatility(symbol, days)

    agent = LlmAgent(name="bench", model=Scripted(model="scripted"), instruction="Decide.",
                     tools=[FunctionTool(momentum), FunctionTool(volatility)])
    sessions = InMemorySessionService()
    runner = Runner(agent=agent, app_name="bench", session_service=sessions)
    loop = asyncio.new_event_loop()
    counter = iter(range(10**9))

    async def one() -> None:
        sid = f"s{next(counter)}"
        await sessions.create_session(app_name="bench", user_id="u", session_id=sid)
        message = types.Content(role="user", parts=[types.Part(text="go")])
        async for _ in runner.run_async(user_id="u", session_id=sid, new_message=message):
            pass
        await sessions.delete_session(app_name="bench", user_id="u", session_id=sid)

    def run_once() -> None:
        loop.run_until_complete(one())

    for _ in range(20):
        run_once()
    return run_once


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="agentrt-bench-"))

    direct_host = Strategyish()

    def direct() -> None:
        direct_host.momentum("AAPL", 20)
        direct_host.volatility("AAPL", 20)

    bare = _agent(Strategyish(), AgentServices())
    rec_services = AgentServices(output_dir=tmp / "recorded", setup_tracing=True)
    recorded = _agent(Strategyish(), rec_services)
    hit_services = AgentServices.for_backtest(output_dir=None, run_id="bench", replay="record", cache_dir=tmp / "cache")
    hits = _agent(Strategyish(), hit_services)
    for manager in (bare, recorded, hits):
        for _ in range(20):
            manager["bench"].run()
    plain = _raw_adk(Strategyish())

    t = _interleaved(
        {
            "direct": direct,
            "plain": plain,
            "bare": bare["bench"].run,
            "recorded": recorded["bench"].run,
            "hit": hits["bench"].run,
        },
        args.runs,
        args.rounds,
    )
    bare.close()
    rec_services.close()
    hit_services.close()

    print(f"direct tool calls (2 tools):                  {t['direct']:8.3f} ms")
    print(f"plain ADK run (same script, ADK defaults):    {t['plain']:8.3f} ms")
    print(f"agentrt run, bare (3 model steps, 2 tools):   {t['bare']:8.3f} ms")
    print(f"agentrt run, traces + spans written:          {t['recorded']:8.3f} ms")
    print(f"agentrt run, replay-cache hit:                {t['hit']:8.3f} ms")
    print(f"ratio agentrt/plain ADK: {t['bare'] / t['plain']:.2f}")
    print(f"agent overhead per run: {t['bare'] - t['direct']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
