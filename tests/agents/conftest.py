"""Shared fixtures of the agent tests: a small fake strategy host and agent services.

`FakeHost` offers exactly the host interface the agent runtime uses (LumiBot names):
simulated time, cash, positions, open orders, last price, point-in-time history, order
creation/submission/cancel/modify and log_message. Market orders fill at the next bar's
open when the test calls `host.advance()`. Buy orders that do not fit the cash are rejected.
The global network latch of tests/conftest.py is active for these tests too.
"""

from __future__ import annotations

import json

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agentrt.domain import Order, OrderSide, OrderStatus, Position
from agentrt.domain.assets import as_asset
from agentrt.domain.orders import OrderType, infer_order_type

NY = "America/New_York"


def price_frame(closes: list[float], start: str = "2020-01-02") -> pd.DataFrame:
    """Daily bars stamped at 16:00 New York on business days, open = previous close."""
    index = pd.bdate_range(start, periods=len(closes)).tz_localize(NY) + pd.Timedelta(hours=16)
    closes_a = np.asarray(closes, dtype=float)
    opens = np.concatenate([[closes_a[0]], closes_a[:-1]])
    return pd.DataFrame(
        {"open": opens, "high": np.maximum(opens, closes_a) + 1, "low": np.minimum(opens, closes_a) - 1,
         "close": closes_a, "volume": np.full(len(closes_a), 1000.0)},
        index=index,
    )


class _Bars:
    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df


class FakeHost:
    """A strategy stand-in for agent unit tests (time moves only through `advance`)."""

    def __init__(self, frames: dict[str, pd.DataFrame], *, cash: float = 100_000.0, at: int = 30) -> None:
        self.frames = frames
        self.cash = float(cash)
        self.is_backtesting = True
        self._i = at
        self._positions: dict[str, Position] = {}
        self._orders: list[Order] = []
        self._ids = itertools.count(1)
        self.logs: list[tuple[str, str | None]] = []
        self._agent_services: Any = None
        self._agents: Any = None
        self.history_calls = 0

    # time
    def get_datetime(self) -> dt.datetime:
        return next(iter(self.frames.values())).index[self._i].to_pydatetime()

    def advance(self, bars: int = 1) -> None:
        for _ in range(bars):
            self._i += 1
            for order in list(self._orders):
                if order.status is OrderStatus.OPEN and order.order_type is OrderType.MARKET:
                    price = float(self.frames[order.asset.symbol]["open"].iloc[self._i])
                    self._fill(order, price)

    def _fill(self, order: Order, price: float) -> None:
        sign = 1 if order.side in (OrderSide.BUY, OrderSide.BUY_TO_COVER) else -1
        pos = self._positions.setdefault(order.asset.symbol, Position(order.asset))
        pos.apply(sign * order.quantity, price)
        self.cash -= sign * order.quantity * price
        order.status = OrderStatus.FILLED
        order.filled_quantity = order.quantity
        order.avg_fill_price = price

    # account
    @property
    def portfolio_value(self) -> float:
        return self.cash + sum(p.quantity * (self.get_last_price(s) or 0.0) for s, p in self._positions.items())

    def get_positions(self) -> list[Position]:
        return [p for p in self._positions.values() if p.quantity]

    def get_orders(self) -> list[Order]:
        return [o for o in self._orders if o.status.is_active]

    def get_order(self, identifier: str) -> Order | None:
        return next((o for o in self._orders if o.identifier == identifier), None)

    # data
    def get_last_price(self, asset: Any) -> float | None:
        frame = self.frames.get(as_asset(asset).symbol)
        return None if frame is None else float(frame["close"].iloc[self._i])

    def get_historical_prices(self, asset: Any, length: int, timestep: str = "day") -> _Bars:
        self.history_calls += 1
        frame = self.frames.get(as_asset(asset).symbol)
        if frame is None:
            raise ValueError(f"unknown symbol {as_asset(asset).symbol!r}")
        lo = max(0, self._i + 1 - int(length))
        return _Bars(frame.iloc[lo: self._i + 1])

    # orders
    def create_order(self, asset: Any, quantity: float, side: str, *, limit_price=None, stop_price=None,
                     trail_price=None, trail_percent=None, order_class=None, take_profit_price=None,
                     stop_loss_price=None, time_in_force="day", **_: Any) -> Order:
        otype = infer_order_type(limit_price=limit_price, stop_price=stop_price, trail_price=trail_price,
                                 trail_percent=trail_percent)
        return Order(as_asset(asset), float(quantity), OrderSide.parse(side, what="side"), order_type=otype,
                     limit_price=limit_price, stop_price=stop_price, trail_price=trail_price,
                     trail_percent=trail_percent)

    def submit_order(self, order: Order) -> Order:
        order.identifier = str(next(self._ids))
        price = self.get_last_price(order.asset) or 0.0
        if order.side is OrderSide.BUY and order.quantity * price > self.cash:
            order.status = OrderStatus.REJECTED
            order.reject_reason = f"insufficient cash: need {order.quantity * price:.2f}, have {self.cash:.2f}"
        else:
            order.status = OrderStatus.OPEN
        self._orders.append(order)
        return order

    def cancel_order(self, order: Order) -> Order:
        order.status = OrderStatus.CANCELED
        return order

    def modify_order(self, order: Order, *, limit_price=None, stop_price=None) -> Order:
        if limit_price is not None:
            order.limit_price = limit_price
        if stop_price is not None:
            order.stop_price = stop_price
        return order

    def log_message(self, message: str, color: str | None = None) -> None:
        self.logs.append((message, color))

    @property
    def agents(self):
        if self._agents is None:
            from agentrt.agents.manager import AgentManager

            self._agents = AgentManager(self)
        return self._agents


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    n = 80
    aapl = [100.0 + i for i in range(n)]
    msft = [200.0 - 0.5 * i for i in range(n)]
    return {"AAPL": price_frame(aapl), "MSFT": price_frame(msft)}


@pytest.fixture
def host(frames) -> FakeHost:
    h = FakeHost(frames)
    yield h
    if h._agents is not None:
        h._agents.close()


@pytest.fixture
def services_factory(tmp_path: Path):
    """Build AgentServices on a fresh cache folder: `services_factory(mode="record")`."""
    from agentrt.agents.services import AgentServices

    made: list[Any] = []

    def make(mode: str = "record", *, lookahead: str = "warn", out: bool = True, cache: Path | None = None,
             budget: Any = None, live: bool = False) -> AgentServices:
        services = AgentServices.for_backtest(
            output_dir=(tmp_path / f"run{len(made)}") if out else None, run_id=f"t{len(made)}", replay=mode,
            cache_dir=cache or (tmp_path / "cache"), lookahead=lookahead, budget=budget, live=live,
        )
        made.append(services)
        return services

    yield make
    for s in made:
        try:
            s.close()
        except Exception:
            pass


def send_json(handler, payload) -> None:
    """Answer an http.server request with a JSON body (the fake model APIs use it)."""
    data = json.dumps(payload).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
