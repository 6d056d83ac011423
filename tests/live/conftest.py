"""Shared setup for the live-engine tests: isolated environment, clocks, strategies, fake venues.

The network latch of tests/conftest.py is active here too: every test talks only to servers on
127.0.0.1. This module is registered as `livekit` (`from livekit import AllIn, at, ...`) and
loads the fake Alpaca and Binance servers as `livefakes`.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.modules.setdefault("livekit", sys.modules[__name__])
if "livefakes" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("livefakes", Path(__file__).with_name("fakes.py"))
    _fakes = importlib.util.module_from_spec(_spec)
    sys.modules["livefakes"] = _fakes
    _spec.loader.exec_module(_fakes)

from agentrt import Strategy  # noqa: E402
from agentrt.broker.paper import PaperBroker  # noqa: E402
from agentrt.engine.live import AcceleratedClock, Trader  # noqa: E402

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="session", autouse=True)
def _warm_caches():
    """Parse the embedded bars and the NYSE calendar once, before any accelerated clock starts."""
    from agentrt import SampleData
    from agentrt.calendars import sessions

    sessions("NYSE")
    data = SampleData()
    for symbol in data.symbols():
        data.frame(symbol)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No real keys, no DB_CONNECTION_STR, no .env from the user's folders; run in a temp folder."""
    for name in ("ALPACA_API_KEY", "ALPACA_API_SECRET", "APCA_API_KEY_ID", "APCA_API_SECRET_KEY",
                 "BINANCE_API_KEY", "BINANCE_API_SECRET", "DB_CONNECTION_STR", "AGENTRT_REPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def at(text: str) -> dt.datetime:
    """'2012-03-05 15:59' in New York time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=NY)


class AllIn(Strategy):
    """The FAQ's first strategy: buy everything on the first iteration; counts iterations in self.vars."""

    parameters = {"symbol": "AAPL"}

    def initialize(self):
        self.sleeptime = "1D"
        self.vars.count = 0
        self.vars.fills = []

    def on_trading_iteration(self):
        self.vars.count += 1
        bars = self.get_historical_prices(self.parameters["symbol"], 5)
        self.vars.last_bar = bars.df.index[-1].date().isoformat()
        if self.first_iteration:
            symbol = self.parameters["symbol"]
            price = self.get_last_price(symbol)
            quantity = self.portfolio_value // price
            self.submit_order(self.create_order(symbol, quantity, "buy"))

    def on_filled_order(self, position, order, price, quantity, multiplier):
        self.vars.fills = self.vars.fills + [[order.client_order_id, price, quantity]]


def replay_trader(tmp_path, start: str, *, speed: float = 100_000, max_iterations: int | None = None,
                  until: str | None = None, **kwargs) -> Trader:
    """A Trader on an accelerated clock (its strategies' paper brokers replay SampleData)."""
    kwargs.setdefault("quiet", True)
    kwargs.setdefault("tearsheet", False)
    return Trader(out_dir=tmp_path / "out", clock=AcceleratedClock(at(start), speed), max_iterations=max_iterations,
                  until=at(until) if until else None, handle_signals=False, **kwargs)


def paper(**kwargs) -> PaperBroker:
    """A paper account quoted from the replayed embedded sample bars."""
    return PaperBroker(data="sample", **kwargs)
