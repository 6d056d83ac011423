"""The `Strategy` base class: LumiBot's lifecycle, state, account, data, order and chart API.

A strategy talks only to a `Broker` and to point-in-time `MarketData`; the engine builder wires
them (simulated or live). The same file therefore runs in a backtest and live unchanged.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from agentrt.domain import Asset, Order, OrderClass, OrderSide, Position, TimeInForce
from agentrt.domain.assets import as_asset
from agentrt.domain.orders import OrderType, infer_order_type
from agentrt.strategy.vars import Vars

_HOOKS = ("before_market_opens", "before_market_closes", "after_market_closes", "on_filled_order",
          "on_canceled_order", "trace_stats", "on_bot_crash", "before_starting_trading")


# What agentrt.agents.state.snapshot and the data fingerprint read from a strategy; a subclass
# overriding any of them gets no replay probes (its snapshot may differ from the engine's state).
_SNAPSHOT_READS = ("get_positions", "get_orders", "cash", "portfolio_value", "get_datetime",
                   "_data_fingerprint_json")
_SNAPSHOT_READS_SET = frozenset(_SNAPSHOT_READS)


_LOG_LEVELS = {"red": "error", "yellow": "warning"}


class StrategyError(RuntimeError):
    """A strategy was defined or used in a way that cannot work; the message says how to fix it."""


class _RunContext:
    """What the engine attaches to a strategy for one run."""

    __slots__ = ("broker", "data", "clock", "recorder", "is_backtesting", "sessions", "session_index",
                 "market_tz", "run_id", "output_dir", "agent_services", "settings")

    def __init__(self, **kw: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, kw.get(name))


class Strategy:
    """Base class of every agentrt strategy. Override `initialize` and `on_trading_iteration`.

    Class attribute `parameters` holds defaults; a run may override them
    (`MyStrategy.backtest(..., parameters={...})`, `--param k=v`, `BACKTESTING_PARAMETERS`).
    """

    parameters: dict = {}
    sleeptime: str | int = "1D"
    minutes_before_closing: float = 5
    minutes_before_opening: float = 60

    def __init__(self, *, broker=None, data=None, parameters: dict | None = None, name: str | None = None,
                 budget: float | None = None, **_: Any) -> None:
        merged = dict(type(self).parameters or {})
        if parameters:
            merged.update(parameters)
        self.parameters = merged
        self._name = name or type(self).__name__
        self._market = "NYSE"
        self._vars = Vars()
        self._first_iteration = True
        self._iteration = 0
        self._agents = None
        self._budget = budget
        self._ctx: _RunContext | None = None
        self._pending_broker = broker
        self._pending_data = data

    # ---- lifecycle hooks (override) -----------------------------------------------------
    def initialize(self) -> None:
        """Called once before the first iteration: set sleeptime, market, vars, create agents."""

    def on_trading_iteration(self) -> None:
        raise NotImplementedError

    def before_market_opens(self) -> None:
        """Called each session `minutes_before_opening` before the open."""

    def before_starting_trading(self) -> None:
        """Called each session at the open, before the first iteration of the day."""

    def before_market_closes(self) -> None:
        """Called each session `minutes_before_closing` before the close."""

    def after_market_closes(self) -> None:
        """Called each session after the close (after the daily iteration)."""

    def on_filled_order(self, position: Position, order: Order, price: float, quantity: float,
                        multiplier: float) -> None:
        """Called when an order (or part of it) fills."""

    def on_canceled_order(self, order: Order) -> None:
        """Called when an order is canceled."""

    def on_bot_crash(self, error: BaseException) -> None:
        """Called when a lifecycle hook raised; the run then stops with the error."""

    def trace_stats(self, context: dict, snapshot_before: dict) -> dict:
        """Return extra values to record in stats.csv for this iteration."""
        return {}

    # ---- state -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def vars(self) -> Vars:
        return self._vars

    @property
    def first_iteration(self) -> bool:
        return self._first_iteration

    @property
    def is_backtesting(self) -> bool:
        return bool(self._ctx and self._ctx.is_backtesting)

    def set_market(self, market: str) -> None:
        """"NYSE" (default; US equities hours and holidays) or "24/7" (crypto)."""
        from agentrt.calendars import normalize_market

        normalize_market(market)  # validates
        self._market = market

    @property
    def market(self) -> str:
        return self._market

    def get_datetime(self) -> _dt.datetime:
        """The current (simulated in a backtest) time, timezone-aware. Never use datetime.now()."""
        return self._require().clock.now()

    def get_timestamp(self) -> float:
        return self._require().clock.now_ns / 1e9

    def get_time_to_close(self) -> float | None:
        """Minutes left until the current session's close (None when the market is closed)."""
        ctx = self._require()
        sessions = ctx.sessions
        now = ctx.clock.now_ns
        import bisect

        k = bisect.bisect_left(sessions.closes, now)
        if k >= len(sessions.closes) or sessions.opens[k] > now:
            return None
        return (int(sessions.closes[k]) - now) / 60e9

    def get_time_to_open(self) -> float | None:
        """Minutes until the next session's open (0 while the market is open)."""
        ctx = self._require()
        sessions = ctx.sessions
        now = ctx.clock.now_ns
        import bisect

        k = bisect.bisect_left(sessions.closes, now)
        if k >= len(sessions.closes):
            return None
        return max(0.0, (int(sessions.opens[k]) - now) / 60e9)

    # ---- account -----------------------------------------------------------------------------
    @property
    def cash(self) -> float:
        return self._require().broker.cash

    def get_cash(self) -> float:
        return self._require().broker.cash

    @property
    def portfolio_value(self) -> float:
        return self._require().broker.portfolio_value()

    def get_portfolio_value(self) -> float:
        return self.portfolio_value

    def get_position(self, asset: Asset | str) -> Position | None:
        ctx = self._require()
        return ctx.broker.get_position(ctx.data.asset(asset))

    def get_positions(self) -> list[Position]:
        return self._require().broker.get_positions()

    def deposit_cash(self, amount: float, reason: str = "deposit") -> None:
        """Add external cash (recorded as a cash event; not counted as performance)."""
        if amount <= 0:
            raise ValueError(f"deposit_cash needs a positive amount, got {amount}")
        self._require().broker.cash_event(amount, cash_event_type="deposit", reason=reason,
                                          is_external_cash_flow=True)

    def withdraw_cash(self, amount: float, reason: str = "withdrawal") -> None:
        """Remove external cash (recorded as a cash event; not counted as performance)."""
        if amount <= 0:
            raise ValueError(f"withdraw_cash needs a positive amount, got {amount}")
        self._require().broker.cash_event(-amount, cash_event_type="withdrawal", reason=reason,
                                          is_external_cash_flow=True)

    def adjust_cash(self, amount: float, reason: str = "", *, cash_event_type: str | None = None) -> None:
        """Book interest, fees, dividends or other adjustments (these *are* performance).

        `cash_event_type` is one of interest, fee, dividend, adjustment (default: interest for a
        positive amount, fee for a negative one).
        """
        from agentrt.domain.events import CASH_EVENT_TYPES

        kind = cash_event_type or ("interest" if amount >= 0 else "fee")
        if kind not in CASH_EVENT_TYPES or kind in ("deposit", "withdrawal"):
            raise ValueError(
                f"cash_event_type {kind!r} is not an adjustment; use interest, fee, dividend or adjustment "
                "(deposit_cash / withdraw_cash for external flows)")
        self._require().broker.cash_event(amount, cash_event_type=kind, reason=reason, is_external_cash_flow=False)

    # ---- data --------------------------------------------------------------------------------
    def get_last_price(self, asset: Asset | str, quote: Any = None, exchange: str | None = None) -> float | None:
        """Last traded price visible now (the last closed bar's close), or None before any bar."""
        return self._require().data.last_price(asset)

    def get_last_prices(self, assets) -> dict:
        data = self._require().data
        return {a: data.last_price(a) for a in assets}

    def get_quote(self, asset: Asset | str, quote: Any = None, exchange: str | None = None):
        """Bid/ask/last (from daily bars bid = ask = last close); `.mid_price`."""
        return self._require().data.quote(asset)

    def get_historical_prices(self, asset: Asset | str, length: int, timestep: str | None = None,
                              quote: Any = None, exchange: str | None = None, **_: Any):
        """The last `length` closed bars of `asset` (a `Bars`: `.df`, `.close`, ...).

        `timestep` ("day", "minute", "hour") defaults to the data source's own bar size.
        """
        return self._require().data.history(asset, length, timestep)

    def get_asset(self, symbol: str) -> Asset:
        return self._require().data.asset(symbol)

    # ---- orders ------------------------------------------------------------------------------
    def create_order(self, asset: Asset | str, quantity: float, side: str | OrderSide, *,
                     limit_price: float | None = None, stop_price: float | None = None,
                     trail_price: float | None = None, trail_percent: float | None = None,
                     order_class: str | OrderClass | None = None, take_profit_price: float | None = None,
                     stop_loss_price: float | None = None, stop_loss_limit_price: float | None = None,
                     time_in_force: str = "day", type: str | None = None,  # noqa: A002 - LumiBot name
                     tag: str = "", client_order_id: str | None = None, **_: Any) -> Order:
        """Build an order (not yet submitted). The type follows from the prices given, LumiBot style."""
        asset_obj = self._require().data.asset(asset) if self._ctx else as_asset(asset)
        try:
            qty = float(quantity)
        except (TypeError, ValueError):
            raise ValueError(f"quantity must be a number, got {quantity!r}") from None
        if math.isnan(qty):
            raise ValueError("quantity is NaN; check the price you sized the order with")
        side_enum = OrderSide.parse(side, what="order side")
        otype = (OrderType.parse(type, what="order type") if type else
                 infer_order_type(limit_price=limit_price, stop_price=stop_price, trail_price=trail_price,
                                  trail_percent=trail_percent))
        oclass = OrderClass.parse(order_class, what="order class") if order_class else OrderClass.SIMPLE
        tif = TimeInForce.parse(time_in_force, what="time_in_force")
        return Order(asset_obj, qty, side_enum, order_type=otype, limit_price=limit_price, stop_price=stop_price,
                     trail_price=trail_price, trail_percent=trail_percent, order_class=oclass,
                     take_profit_price=take_profit_price, stop_loss_price=stop_loss_price,
                     stop_loss_limit_price=stop_loss_limit_price, time_in_force=tif, strategy=self._name,
                     tag=tag, client_order_id=client_order_id)

    def submit_order(self, order: Order | list[Order]) -> Order | list[Order]:
        """Submit an order; a rejected order comes back with status "rejected" and `reject_reason`."""
        ctx = self._require()
        if isinstance(order, list):
            return [self.submit_order(o) for o in order]
        result = ctx.broker.submit_order(order)
        if result.status.value == "rejected":
            ctx.recorder.log(ctx.clock, f"order rejected: {result!r}: {result.reject_reason}", "warning")
        return result

    def submit_orders(self, orders: list[Order]) -> list[Order]:
        return [self.submit_order(o) for o in orders]

    def cancel_order(self, order: Order) -> Order:
        return self._require().broker.cancel_order(order)

    def cancel_open_orders(self) -> None:
        for order in list(self.get_orders()):
            self.cancel_order(order)

    def modify_order(self, order: Order, *, limit_price: float | None = None,
                     stop_price: float | None = None) -> Order:
        return self._require().broker.modify_order(order, limit_price=limit_price, stop_price=stop_price)

    def get_orders(self) -> list[Order]:
        """Open (active) orders."""
        return self._require().broker.get_orders(active_only=True)

    def get_order(self, identifier: str) -> Order | None:
        return self._require().broker.get_order(identifier)

    def close_position(self, asset: Asset | str) -> Order | None:
        """Submit a market order that flattens the position in `asset` (None if flat)."""
        pos = self.get_position(asset)
        if pos is None or pos.quantity == 0:
            return None
        side = "sell" if pos.quantity > 0 else "buy"
        return self.submit_order(self.create_order(pos.asset, abs(pos.quantity), side))

    def sell_all(self, cancel_open_orders: bool = True) -> list[Order]:
        """Cancel open orders and flatten every position."""
        if cancel_open_orders:
            self.cancel_open_orders()
        out = []
        for pos in list(self.get_positions()):
            order = self.close_position(pos.asset)
            if order is not None:
                out.append(order)
        return out

    # ---- charts and logs ---------------------------------------------------------------------
    def add_line(self, name: str, value: float, color: str | None = None, asset: Asset | str | None = None,
                 style: str = "solid", width: float | None = None, detail_text: str | None = None) -> None:
        ctx = self._require()
        ctx.recorder.indicator(ctx.clock, "line", name, value, color, None, _symbol_of(asset), detail_text)

    def add_marker(self, name: str, value: float | None = None, color: str | None = None,
                   symbol: str | None = None, asset: Asset | str | None = None,
                   detail_text: str | None = None, size: float | None = None) -> None:
        ctx = self._require()
        ctx.recorder.indicator(ctx.clock, "marker", name, value, color, symbol or "circle", _symbol_of(asset),
                               detail_text)

    def log_message(self, message: str, color: str | None = None, broadcast: bool = False) -> None:
        ctx = self._ctx
        if ctx is None:
            ctx = self._require()  # raises with the fix
        ctx.recorder.log(ctx.clock, str(message), _LOG_LEVELS.get(color, "info") if color else "info", color=color)

    # ---- agents ------------------------------------------------------------------------------
    @property
    def agents(self):
        """The strategy's agents: `self.agents.create(...)` and `self.agents["name"].run(...)`."""
        if self._agents is None:
            from agentrt.agents.manager import AgentManager

            self._agents = AgentManager(self)
        return self._agents

    def _data_fingerprint_json(self) -> str | None:
        """The visible market data's fingerprint (canonical JSON) for agent cache keys, or None."""
        ctx = self._ctx
        fp = getattr(ctx.data, "fingerprint_json", None) if ctx is not None else None
        return fp() if fp is not None else None

    def _agent_probe_source(self):
        """``(static bytes, dynamic)`` for replay probes (:mod:`agentrt.agents.probe`), or None.

        Only a simulated run whose broker and data can pack the raw inputs of the agent state
        snapshot and data fingerprint qualifies, and only when this strategy reads its account
        and data through the engine: neither its class nor the instance replaces a read the
        snapshot makes (checked again on every pack; then ``dynamic()`` returns None).
        """
        ctx = self._ctx
        if ctx is None or not getattr(ctx.clock, "is_simulated", False):
            return None
        cls = type(self)
        own = self.__dict__
        if any(getattr(cls, name) is not getattr(Strategy, name) for name in _SNAPSHOT_READS) or not (
                _SNAPSHOT_READS_SET.isdisjoint(own)):
            return None
        state = getattr(ctx.broker, "state_probe", None)
        data = ctx.data
        timeline = getattr(data, "probe_timeline", None)
        if state is None or timeline is None:
            return None
        from bisect import bisect_right

        clock = ctx.clock
        ends, sums, sums2, pack = timeline()
        static = f"tz={clock.tz}\n".encode() + data.fingerprint_static()

        def dynamic() -> bytes | None:  # the simulated time and the visible data, then the account
            if not _SNAPSHOT_READS_SET.isdisjoint(own):
                return None  # a read was replaced on the instance since: the snapshot may not be the engine's
            now = clock.now_ns
            i = bisect_right(ends, now)
            return pack(now, i, sums[i], sums2[i]) + state()

        return static, dynamic

    @property
    def _agent_services(self):
        ctx = self._ctx
        return None if ctx is None else ctx.agent_services

    # ---- internals ---------------------------------------------------------------------------
    def _require(self) -> _RunContext:
        ctx = self._ctx
        if ctx is None:
            raise StrategyError(
                f"{self._name} is not running: call {type(self).__name__}.backtest(...) or run it with "
                "`agentrt backtest FILE.py`; account and data methods work only inside a run")
        return ctx

    def _overrides(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Strategy, hook)

    @classmethod
    def backtest(cls, datasource=None, backtesting_start=None, backtesting_end=None, *args: Any, **kwargs: Any):
        """Run a backtest; returns a `BacktestResult` (`.stats`, `.trades`, `.equity`, `.output_dir`).

        `MyStrategy.backtest(SampleData, "2010-01-01", "2012-12-31", budget=100_000,
        benchmark_asset="SPX", buy_trading_fees=[fee], sell_trading_fees=[fee], parameters={...})`.
        `BACKTESTING_START`, `BACKTESTING_END`, `BACKTESTING_BUDGET`, `BACKTESTING_DATA_SOURCE`
        and `BACKTESTING_PARAMETERS` (JSON) override the arguments when set.
        """
        from agentrt.engine.backtest import run_backtest

        return run_backtest(cls, datasource, backtesting_start, backtesting_end, *args, **kwargs)

    run_backtest = backtest


def _symbol_of(asset: Asset | str | None) -> str | None:
    if asset is None:
        return None
    return asset.symbol if isinstance(asset, Asset) else str(asset).upper()
