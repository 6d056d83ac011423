"""The simulated broker: order matching against bars, fees, slippage, cash and positions.

Matching rules (documented in README "Fills"):
- An order becomes active with the first bar that *starts* at or after its submission.
- At a bar's open: market orders fill at the open; a limit that the open already satisfies fills
  at the open; a stop the open gapped through fills at the open.
- When the bar has closed: limits fill at their limit price if the bar traded through it, stops
  at their stop price; trailing stops move with the bar's extreme *after* the bar is checked
  (conservative: the bar's own high cannot lift the stop that its low then hits).
- `fill_at="close"` fills market orders at the last visible close at submission instead.
- Buying power is checked at submission against the price the strategy could see; a gap at the
  next open may leave a small negative cash balance, which the engine logs.
- Day orders expire at the close of the first session in which they were active.
- When one bar ends exactly where the next begins (minute bars, 24/7 daily bars), everything that
  happened inside bar k is settled before bar k+1's open is matched.
- Short sales (only with `allow_short=True`) need margin: equity must cover `short_margin`
  (default 50%, Reg T's initial requirement) of the total short exposure.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import struct
from collections.abc import Sequence

from agentrt.agents.probe import pack_text
from agentrt.broker.base import BrokerListener, OrderRecords
from agentrt.calendars import Sessions
from agentrt.data.feed import MarketData
from agentrt.domain import (
    CashEvent,
    Fill,
    Order,
    OrderClass,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
    TradingFee,
)
from agentrt.domain.assets import Asset, AssetType
from agentrt.domain.fees import total_fee

_EPS = 1e-9
_PROBE_HEAD = struct.Struct("<dd?I").pack
_PROBE_POSITION = struct.Struct("<dd").pack
_PROBE_NO_ORDERS = pack_text("[]")
_CASH_SETTLED = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX"})


class SimBroker(OrderRecords):
    """A deterministic simulated venue for backtests (and, fed live quotes, for paper trading)."""

    is_simulated = True

    def __init__(
        self,
        market_data: MarketData,
        *,
        cash: float,
        buy_fees: Sequence[TradingFee] = (),
        sell_fees: Sequence[TradingFee] = (),
        slippage_bps: float = 0.0,
        allow_short: bool = False,
        short_margin: float = 0.5,
        fill_at: str = "next_open",
        strategy_name: str = "",
        name: str = "sim",
    ) -> None:
        if fill_at not in ("next_open", "close"):
            raise ValueError(f"fill_at must be 'next_open' or 'close', got {fill_at!r}")
        if slippage_bps < 0:
            raise ValueError(f"slippage_bps must be >= 0, got {slippage_bps}")
        self.name = name
        self.md = market_data
        self.clock = market_data.clock
        self.sessions: Sessions = market_data.sessions
        self._cash = float(cash)
        self.buy_fees = tuple(buy_fees)
        self.sell_fees = tuple(sell_fees)
        self._slip = slippage_bps / 10_000.0
        self.allow_short = allow_short
        if not 0 < short_margin <= 10:
            raise ValueError(f"short_margin is a fraction of the short exposure (0.5 = 50%), got {short_margin}")
        self.short_margin = float(short_margin)
        self.fill_at = fill_at
        self.strategy_name = strategy_name
        self.listener: BrokerListener | None = None
        self._positions: dict[Asset, Position] = {}
        self._orders: dict[str, Order] = {}
        self._active: list[Order] = []
        self._cursor: dict[str, list[int]] = {}  # order id -> [bar index, phase]
        self._expire_ns: dict[str, int] = {}
        self._seq = 0
        self.events: list[tuple] = []  # ("trade", order, fill|None, status, reason) / ("cash", CashEvent)
        self.fills: list[Fill] = []
        self.cash_events: list[CashEvent] = []
        self.total_fees = 0.0
        self.holds_options = False  # set on the first option fill; lets the engine skip expiry checks
        self._probe_tokens: dict[Asset, bytes] = {}

    # -- account ---------------------------------------------------------------------------
    @property
    def cash(self) -> float:
        return self._cash

    def get_positions(self) -> list[Position]:
        return [p for p in self._positions.values() if p.quantity != 0]

    def get_position(self, asset: Asset) -> Position | None:
        pos = self._positions.get(asset)
        return pos if pos is not None and pos.quantity != 0 else None

    def positions_value(self) -> float:
        total = 0.0
        md = self.md
        for asset, pos in self._positions.items():
            if pos.quantity:
                price = md.last_price(asset)
                if price is None:
                    price = pos.avg_fill_price
                total += pos.quantity * price * asset.multiplier
        return total

    def portfolio_value(self) -> float:
        return self._cash + self.positions_value()

    def state_probe(self) -> bytes:
        """The raw account state an agent's snapshot (:func:`agentrt.agents.state.snapshot`) is
        rendered from, packed for replay probes (:mod:`agentrt.agents.probe`): cash, every
        non-zero position (asset, quantity, average price) in book order, every active order
        with the fields the snapshot shows, and the portfolio value. The value is left out
        when every position is priced from fingerprinted market data (then the probe's data
        part fixes the prices, and with them the value). Keep it in step with the snapshot."""
        pack = _PROBE_POSITION
        tokens = self._probe_tokens
        covers = getattr(self.md, "probe_covers", None)
        priced = covers is not None
        chunks = []
        for asset, pos in self._positions.items():
            quantity = pos.quantity
            if quantity:
                token = tokens.get(asset)
                if token is None:  # 128 bits of the asset's full description
                    token = tokens[asset] = hashlib.sha256(repr(asset).encode()).digest()[:16]
                chunks.append(token + pack(quantity, pos.avg_fill_price or 0.0))
                if priced and not covers(asset):
                    priced = False
        head = _PROBE_HEAD(self._cash, 0.0 if priced else self.portfolio_value(), priced, len(chunks))
        if not self._active:
            return head + b"".join(chunks) + _PROBE_NO_ORDERS
        orders = repr([(o.identifier, repr(o.asset), str(getattr(o.side, "value", o.side)), o.quantity,
                        str(getattr(o.order_type, "value", o.order_type)), str(getattr(o.status, "value", o.status)),
                        o.limit_price, o.stop_price) for o in self._active])
        return head + b"".join(chunks) + pack_text(orders)

    def cash_event(self, amount: float, *, cash_event_type: str, reason: str = "",
                   is_external_cash_flow: bool = False) -> CashEvent:
        event = CashEvent(self.clock.now(), cash_event_type, float(amount), reason, is_external_cash_flow)
        self._cash += event.amount
        self.cash_events.append(event)
        self.events.append(("cash", event))
        return event

    # -- orders ----------------------------------------------------------------------------
    def get_orders(self, *, active_only: bool = True) -> list[Order]:
        if active_only:
            return list(self._active)
        return list(self._orders.values())

    def get_order(self, identifier: str) -> Order | None:
        return self._orders.get(identifier)

    def _next_id(self) -> str:
        self._seq += 1
        return f"o{self._seq:06d}"

    def submit_order(self, order: Order) -> Order:
        now = self.clock.now()
        if not order.identifier:
            order.identifier = self._next_id()
        if order.identifier in self._orders:
            raise ValueError(f"order {order.identifier} was already submitted; create a new order instead")
        self._orders[order.identifier] = order
        order.submitted_at = order.created_at = order.updated_at = now
        order.strategy = order.strategy or self.strategy_name
        reason = self._validate(order)
        if reason:
            return self._reject(order, reason)
        if order.order_class is OrderClass.OCO:
            return self._submit_oco(order)
        self._activate(order, self.clock.now_ns)
        if self.fill_at == "close" and order.order_type is OrderType.MARKET:
            price = self.md.last_price(order.asset)
            self._fill(order, price, self.clock.now_ns, maker=False, phase_bar=None)
        return order

    def _validate(self, order: Order) -> str | None:
        if not (order.quantity > 0):
            return f"quantity must be positive, got {order.quantity}"
        if not self.md.knows(order.asset):
            return f"unknown asset {order.asset} in the data source"
        price = self.md.last_price(order.asset)
        if price is None:
            return f"no price for {order.asset} visible at {self.clock.now().isoformat()} (no bar has closed yet)"
        t = order.order_type
        if t in (OrderType.LIMIT, OrderType.STOP_LIMIT) and not (order.limit_price and order.limit_price > 0):
            return f"{t.value} order needs a positive limit_price"
        if t in (OrderType.STOP, OrderType.STOP_LIMIT) and not (order.stop_price and order.stop_price > 0):
            return f"{t.value} order needs a positive stop_price"
        if t is OrderType.TRAILING_STOP:
            if order.trail_price is None and order.trail_percent is None:
                return "trailing_stop order needs trail_price or trail_percent"
            if order.trail_percent is not None and not (0 < order.trail_percent < 1):
                return f"trail_percent is a fraction (0.05 = 5%), got {order.trail_percent}"
        if order.order_class is OrderClass.BRACKET and (order.take_profit_price is None or order.stop_loss_price is None):
            return "bracket order needs take_profit_price and stop_loss_price"
        if order.order_class is OrderClass.OCO and (order.take_profit_price is None or order.stop_loss_price is None):
            return "oco order needs take_profit_price and stop_loss_price"
        if order.order_class is OrderClass.OTO and order.take_profit_price is None and order.stop_loss_price is None:
            return "oto order needs take_profit_price or stop_loss_price"
        mult = order.asset.multiplier
        if order.side.sign > 0:
            ref = order.limit_price if t is OrderType.LIMIT and order.limit_price else price
            if t in (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP):
                ref = max(price, order.stop_price or 0.0, order.limit_price or 0.0)
            held = self._positions.get(order.asset)
            short_cover = min(order.quantity, -held.quantity) if held is not None and held.quantity < 0 else 0.0
            cost = (order.quantity - short_cover) * ref * mult
            cost += total_fee(self.buy_fees, price=ref, quantity=order.quantity, multiplier=mult,
                              is_contract=order.asset.asset_type.is_contract, is_maker=t is OrderType.LIMIT)
            available = self._cash - self._reserved_cash(exclude=order)
            if cost > available + _EPS and short_cover < order.quantity:
                return (f"insufficient buying power: {order.quantity:g} {order.asset} at ~{ref:.2f} costs "
                        f"{cost:,.2f} but only {available:,.2f} cash is available")
        elif self.allow_short and order.order_class is not OrderClass.OCO:
            # Reg T style initial margin: equity must cover `short_margin` of all short exposure
            held = self._positions.get(order.asset)
            qty = held.quantity if held is not None else 0.0
            new_short = max(0.0, order.quantity - max(qty, 0.0))
            if new_short > 0:
                exposure = sum(-p.quantity * (self.md.last_price(a) or p.avg_fill_price) * a.multiplier
                               for a, p in self._positions.items() if p.quantity < 0)
                need = (exposure + new_short * price * mult) * self.short_margin
                equity = self.portfolio_value() - self._reserved_cash(exclude=order)
                if need > equity + _EPS:
                    return (f"insufficient margin to short {new_short:g} {order.asset} at ~{price:.2f}: short "
                            f"exposure would need {need:,.2f} of equity ({self.short_margin:.0%} margin) but the "
                            f"account has {equity:,.2f}")
        elif not self.allow_short and order.order_class is not OrderClass.OCO:
            held = self._positions.get(order.asset)
            qty = held.quantity if held is not None else 0.0
            pending = sum(o.remaining_quantity for o in self._active
                          if o.asset == order.asset and o.side.sign < 0 and o.oco_peer is None
                          and not o.parent_identifier)
            if order.quantity > qty - pending + _EPS:
                return (f"cannot sell {order.quantity:g} {order.asset}: holding {qty:g}"
                        + (f" with {pending:g} already in open sell orders" if pending else "")
                        + " and short selling is off (backtest(..., allow_short=True) to allow it)")
        return None

    def _reserved_cash(self, *, exclude: Order) -> float:
        total = 0.0
        for o in self._active:
            if o is exclude or o.side.sign < 0 or o.parent_identifier:
                continue
            price = max(o.limit_price or 0.0, o.stop_price or 0.0) or self.md.last_price(o.asset) or 0.0
            total += o.remaining_quantity * price * o.asset.multiplier
        return total

    def _submit_oco(self, order: Order) -> Order:
        """An OCO order is carried by two linked exits: a limit (take profit) and a stop (stop loss)."""
        order.status = OrderStatus.OPEN
        tp, sl = self._exit_pair(order)
        order.child_orders = [tp, sl]
        for child in (sl, tp):  # stop first: when one bar reaches both exits, assume the worse one came first
            self._orders[child.identifier] = child
            self._activate(child, self.clock.now_ns)
        return order

    def _exit_pair(self, parent: Order) -> tuple[Order, Order]:
        now = self.clock.now()
        side = parent.side if parent.order_class is OrderClass.OCO else (
            OrderSide.SELL if parent.side.sign > 0 else OrderSide.BUY)
        tp = Order(parent.asset, parent.quantity, side, order_type=OrderType.LIMIT,
                   limit_price=parent.take_profit_price, time_in_force=TimeInForce.GTC,
                   strategy=parent.strategy, identifier=f"{parent.identifier}-tp")
        sl_type = OrderType.STOP_LIMIT if parent.stop_loss_limit_price else OrderType.STOP
        sl = Order(parent.asset, parent.quantity, side, order_type=sl_type, stop_price=parent.stop_loss_price,
                   limit_price=parent.stop_loss_limit_price, time_in_force=TimeInForce.GTC,
                   strategy=parent.strategy, identifier=f"{parent.identifier}-sl")
        for child in (tp, sl):
            child.parent_identifier = parent.identifier
            child.submitted_at = child.created_at = child.updated_at = now
            child.source = parent.source
        tp.oco_peer, sl.oco_peer = sl, tp
        return tp, sl

    def _activate(self, order: Order, from_ns: int, *, bar: int | None = None, phase: int = 0) -> None:
        order.status = OrderStatus.OPEN
        order.active_from_ns = from_ns
        series = self.md.series(order.asset)
        if bar is None:
            bar = series.first_start_at_or_after(from_ns)
        self._cursor[order.identifier] = [bar, phase]
        if order.time_in_force is TimeInForce.DAY:
            self._expire_ns[order.identifier] = self._day_expiry(series, bar, from_ns)
        if order.order_type is OrderType.TRAILING_STOP:
            ref = self.md.last_price(order.asset) or 0.0
            order.trail_stop_price = self._trail_level(order, ref)
        self._active.append(order)

    def _day_expiry(self, series, bar: int, from_ns: int) -> int:
        """The close of the first session in which an order active from bar ``bar`` trades."""
        closes = self.sessions.closes
        if bar < len(series):
            k = bisect.bisect_left(closes, int(series.start_ns[bar]) + 1)
        else:
            k = bisect.bisect_right(closes, from_ns)
        return int(closes[k]) if k < len(closes) else 2**62

    def rebind(self, sessions: Sessions) -> None:
        """Use ``sessions`` (the market's, set after ``initialize()``): orders already active
        find their bar again in the rebuilt series, and day orders their session's close."""
        self.sessions = sessions
        for order in self._active:
            cursor = self._cursor.get(order.identifier)
            from_ns = getattr(order, "active_from_ns", None)
            if cursor is None or from_ns is None:
                continue
            series = self.md.series(order.asset)
            cursor[0] = series.first_start_at_or_after(from_ns)
            if order.identifier in self._expire_ns:
                self._expire_ns[order.identifier] = self._day_expiry(series, cursor[0], from_ns)

    def _trail_level(self, order: Order, extreme: float) -> float:
        if order.trail_percent is not None:
            offset = extreme * order.trail_percent
        else:
            offset = order.trail_price or 0.0
        return extreme - offset if order.side.sign < 0 else extreme + offset

    def cancel_order(self, order: Order) -> Order:
        if order.order_class is OrderClass.OCO and order.child_orders:
            for child in order.child_orders:
                self.cancel_order(child)
        parent = self._orders.get(order.parent_identifier) if order.parent_identifier else None
        if parent is not None and parent.order_class is OrderClass.OCO and parent.status.is_active:
            # one leg of an OCO canceled by hand: the pair is canceled as a whole
            self._close(parent, OrderStatus.CANCELED, "canceled by strategy (one OCO leg canceled)")
            for child in parent.child_orders:
                if child.status.is_active:
                    self._close(child, OrderStatus.CANCELED, "canceled by strategy (OCO)")
            return order
        if not order.status.is_active:
            return order
        self._close(order, OrderStatus.CANCELED, "canceled by strategy")
        return order

    def modify_order(self, order: Order, *, limit_price: float | None = None,
                     stop_price: float | None = None) -> Order:
        if not order.status.is_active:
            raise ValueError(f"cannot modify {order.identifier}: it is {order.status.value}")
        for name, value in (("limit_price", limit_price), ("stop_price", stop_price)):
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if limit_price is not None:
            if order.order_type not in (OrderType.LIMIT, OrderType.STOP_LIMIT):
                raise ValueError(f"{order.identifier} is a {order.order_type.value} order; it has no limit price")
            order.limit_price = float(limit_price)
        if stop_price is not None:
            if order.order_type not in (OrderType.STOP, OrderType.STOP_LIMIT):
                raise ValueError(f"{order.identifier} is a {order.order_type.value} order; it has no stop price")
            order.stop_price = float(stop_price)
        order.updated_at = self.clock.now()
        return order

    def _close(self, order: Order, status: OrderStatus, reason: str) -> None:
        order.status = status
        order.updated_at = self.clock.now()
        if order in self._active:
            self._active.remove(order)
        self._cursor.pop(order.identifier, None)
        self.events.append(("trade", order, None, status.value, reason))
        if self.listener is not None and status is OrderStatus.CANCELED:
            self.listener.on_cancel(order)

    # -- option lifecycle ------------------------------------------------------------------
    def settle_expired_options(self, session_date, now_ns: int) -> None:
        """At the close of an option's expiration date: cash-settle, exercise, assign or expire it.

        Index options (underlying asset_type index, or a cash-settled symbol such as SPX) settle in
        cash at intrinsic value (`cash_settled`); physically settled options in the money are
        `exercised` (long) or `assigned` (short) and deliver the underlying at the strike as a
        separate fill row whose type names the lifecycle event; out of the money they `expire`.
        """
        for asset, pos in list(self._positions.items()):
            if asset.asset_type is not AssetType.OPTION or not pos.quantity or asset.expiration > session_date:
                continue
            underlying = Asset(asset.symbol, asset_type=AssetType.INDEX if asset.symbol in _CASH_SETTLED
                               else AssetType.STOCK)
            spot = self.md.last_price(underlying) if self.md.knows(underlying) else None
            if spot is None:
                spot = self.md.last_price(asset.symbol) if self.md.knows(asset.symbol) else None
            intrinsic = 0.0
            if spot is not None:
                intrinsic = max(0.0, spot - asset.strike) if asset.right == "call" else max(0.0, asset.strike - spot)
            qty = pos.quantity
            mult = asset.multiplier
            long = qty > 0
            close_side = OrderSide.SELL if long else OrderSide.BUY
            order = Order(asset, abs(qty), close_side, strategy=self.strategy_name, identifier=self._next_id())
            order.order_type = OrderType.MARKET
            order.status = OrderStatus.FILLED
            order.filled_quantity = abs(qty)
            order.source = "expiration"
            self._orders[order.identifier] = order
            when = self.clock.now()
            if intrinsic <= 0 or spot is None:
                status, price = "expired", 0.0
            elif underlying.asset_type is AssetType.INDEX:
                status, price = "cash_settled", intrinsic
            else:
                status, price = ("exercised" if long else "assigned"), intrinsic
            cash_delta = qty * price * mult
            if status in ("exercised", "assigned"):
                cash_delta = 0.0  # value moves through the delivered shares, bought/sold at the strike
            self._cash = round(self._cash + cash_delta, 8)
            pos.apply(-qty, price)
            order.avg_fill_price = price
            order.updated_at = when
            fill = Fill(when, order.identifier, asset, close_side.value, price, abs(qty), 0.0, mult, status, status,
                        reason=f"expiration: underlying {spot if spot is not None else 'unknown'}")
            self.fills.append(fill)
            self.events.append(("trade", order, fill, status, fill.reason))
            if status in ("exercised", "assigned"):
                # call: long buys / short sells the underlying at the strike; put: the opposite
                buys = (asset.right == "call") == long
                shares = abs(qty) * mult
                side = OrderSide.BUY if buys else OrderSide.SELL
                delivery = Order(underlying, shares, side, strategy=self.strategy_name, identifier=self._next_id())
                delivery.order_type = OrderType.MARKET
                delivery.source = "expiration"
                delivery.parent_identifier = order.identifier
                self._orders[delivery.identifier] = delivery
                upos = self._positions.setdefault(underlying, Position(underlying))
                self._cash = round(self._cash + (-shares if buys else shares) * asset.strike, 8)
                upos.apply(shares if buys else -shares, asset.strike)
                delivery.status = OrderStatus.FILLED
                delivery.filled_quantity = shares
                delivery.avg_fill_price = asset.strike
                delivery.updated_at = when
                dfill = Fill(when, delivery.identifier, underlying, side.value, asset.strike, shares, 0.0, 1.0,
                             status, "fill", reason=f"{status} {asset}")
                self.fills.append(dfill)
                self.events.append(("trade", delivery, dfill, "fill", dfill.reason))

    # -- matching --------------------------------------------------------------------------
    def process(self, now_ns: int) -> None:
        """Match active orders against every bar phase reached by `now_ns`.

        With several active orders, they advance together one bar boundary at a time, so that when
        one call covers many bars (minute bars, 30-minute sleeptime) linked orders (OCO legs, bracket
        exits) still see the bars in time order: the leg whose price came first wins.
        """
        if not self._active:
            return
        if len(self._active) > 1:
            for t in self._boundaries(now_ns):
                self._process_all(t)
        self._process_all(now_ns)

    def _boundaries(self, now_ns: int) -> list[int]:
        times: set[int] = set()
        for order in self._active:
            cursor = self._cursor.get(order.identifier)
            if cursor is None:
                continue
            series = self.md.series(order.asset)
            bar = cursor[0]
            hi = min(series.visible_count(now_ns) + 1, len(series))
            times.update(series.start_ns[bar:hi].tolist())
            times.update(series.end_ns[bar:hi].tolist())
        return sorted(t for t in times if t < now_ns)

    def _process_all(self, now_ns: int) -> None:
        # Two passes per instant: first finish every bar that has closed by `now_ns` (and expire day
        # orders), only then match the opens of bars starting exactly at `now_ns`. When one bar ends
        # where the next begins (minute bars, 24/7 daily bars), a leg hit inside bar k must win over
        # a gap at bar k+1's open, and a day order must expire before the next session can fill it.
        for opens_at_now in (False, True):
            i = 0
            while i < len(self._active):
                order = self._active[i]
                self._process_order(order, now_ns, opens_at_now=opens_at_now)
                if order.status.is_active:
                    exp = self._expire_ns.get(order.identifier)
                    if exp is not None and now_ns >= exp:
                        self._close(order, OrderStatus.EXPIRED, "day order not filled by the session close")
                        continue
                    i += 1
                # a closed order was removed from _active; the same index now holds the next one

    def _process_order(self, order: Order, now_ns: int, *, opens_at_now: bool = True) -> None:
        cursor = self._cursor.get(order.identifier)
        if cursor is None:
            return
        series = self.md.series(order.asset)
        bar, phase = cursor
        n = len(series)
        start, end = series.start_ns, series.end_ns
        while bar < n and order.status.is_active:
            if phase == 0:
                if start[bar] > now_ns or (start[bar] == now_ns and not opens_at_now):
                    break
                self._at_open(order, series, bar)
                phase = 1
                if not order.status.is_active:
                    break
            if end[bar] > now_ns:
                break
            self._intrabar(order, series, bar)
            bar += 1
            phase = 0
        cursor[0], cursor[1] = bar, phase

    def _at_open(self, order: Order, s, bar: int) -> None:
        o = float(s.open[bar])
        t = order.order_type
        buy = order.side.sign > 0
        ts = int(s.start_ns[bar])
        if t is OrderType.MARKET:
            self._fill(order, o, ts, maker=False, phase_bar=(bar, 0))
        elif t is OrderType.LIMIT:
            if (buy and o <= order.limit_price) or (not buy and o >= order.limit_price):
                self._fill(order, o, ts, maker=False, phase_bar=(bar, 0), slip=False)
        elif t is OrderType.STOP:
            if (buy and o >= order.stop_price) or (not buy and o <= order.stop_price):
                self._fill(order, o, ts, maker=False, phase_bar=(bar, 0))
        elif t is OrderType.STOP_LIMIT:
            if order.trail_stop_price is None and ((buy and o >= order.stop_price) or (not buy and o <= order.stop_price)):
                order.trail_stop_price = order.stop_price  # marks "triggered"
            if order.trail_stop_price is not None and ((buy and o <= order.limit_price) or (not buy and o >= order.limit_price)):
                self._fill(order, o, ts, maker=False, phase_bar=(bar, 0), slip=False)
        elif t is OrderType.TRAILING_STOP:
            stop = order.trail_stop_price
            if (buy and o >= stop) or (not buy and o <= stop):
                self._fill(order, o, ts, maker=False, phase_bar=(bar, 0))

    def _intrabar(self, order: Order, s, bar: int) -> None:
        h, lo = float(s.high[bar]), float(s.low[bar])
        t = order.order_type
        buy = order.side.sign > 0
        ts = int(s.end_ns[bar])
        if t is OrderType.LIMIT:
            lim = order.limit_price
            if (buy and lo <= lim) or (not buy and h >= lim):
                self._fill(order, lim, ts, maker=True, phase_bar=(bar, 1), slip=False)
        elif t is OrderType.STOP:
            stop = order.stop_price
            if (buy and h >= stop) or (not buy and lo <= stop):
                self._fill(order, stop, ts, maker=False, phase_bar=(bar, 1))
        elif t is OrderType.STOP_LIMIT:
            stop, lim = order.stop_price, order.limit_price
            if order.trail_stop_price is None:
                if (buy and h >= stop) or (not buy and lo <= stop):
                    order.trail_stop_price = stop
                    # triggered inside the bar at the stop; fill there only if the stop is within the limit
                    if (buy and stop <= lim) or (not buy and stop >= lim):
                        self._fill(order, stop, ts, maker=False, phase_bar=(bar, 1), slip=False)
            elif (buy and lo <= lim) or (not buy and h >= lim):
                self._fill(order, lim, ts, maker=True, phase_bar=(bar, 1), slip=False)
        elif t is OrderType.TRAILING_STOP:
            stop = order.trail_stop_price
            if (buy and h >= stop) or (not buy and lo <= stop):
                self._fill(order, stop, ts, maker=False, phase_bar=(bar, 1))
            else:
                new = self._trail_level(order, lo if buy else h)
                order.trail_stop_price = min(stop, new) if buy else max(stop, new)

    def _fill(self, order: Order, price: float, ts_ns: int, *, maker: bool,
              phase_bar: tuple[int, int] | None, slip: bool = True) -> None:
        buy = order.side.sign > 0
        if slip and self._slip:
            price = price * (1 + self._slip) if buy else price * (1 - self._slip)
        price = round(price, 10)
        asset = order.asset
        pos = self._positions.get(asset)
        if pos is None:
            pos = self._positions[asset] = Position(asset)
        qty = order.remaining_quantity
        if not buy and not self.allow_short and qty > pos.quantity + _EPS:
            if pos.quantity <= _EPS:
                self._close(order, OrderStatus.CANCELED, f"nothing left to sell: position in {asset} is closed")
                return
            qty = pos.quantity  # sell what is held; the rest of the order is canceled below
        mult = asset.multiplier
        fees = total_fee(self.buy_fees if buy else self.sell_fees, price=price, quantity=qty, multiplier=mult,
                         is_contract=asset.asset_type.is_contract, is_maker=maker)
        notional = price * qty * mult
        self._cash += -notional - fees if buy else notional - fees
        self._cash = round(self._cash, 8)
        self.total_fees += fees
        pos.apply(qty if buy else -qty, price)
        if asset.asset_type is AssetType.OPTION:
            self.holds_options = True
        prev_filled = order.filled_quantity
        order.filled_quantity = prev_filled + qty
        order.avg_fill_price = price if not prev_filled else (
            (order.avg_fill_price * prev_filled + price * qty) / order.filled_quantity)
        order._fees_paid += fees
        complete = order.filled_quantity >= order.quantity - _EPS
        order.status = OrderStatus.FILLED if complete else OrderStatus.PARTIALLY_FILLED
        from agentrt.clock import ns_to_datetime

        when = ns_to_datetime(ts_ns, self.clock.tz)
        order.updated_at = when
        fill = Fill(when, order.identifier, asset, order.side.value, price, qty, fees, mult,
                    order.order_type.value, "fill" if complete else "partial_fill")
        self.fills.append(fill)
        self.events.append(("trade", order, fill, fill.status, ""))
        if complete and order in self._active:
            self._active.remove(order)
            self._cursor.pop(order.identifier, None)
        if self.listener is not None:
            self.listener.on_fill(order, fill, pos)
        if not complete:  # partial because the position ran out: cancel the rest
            self._close(order, OrderStatus.CANCELED, "remainder canceled: position fully sold")
        # linked orders
        if order.oco_peer is not None and order.oco_peer.status.is_active:
            self._close(order.oco_peer, OrderStatus.CANCELED, f"OCO: {order.identifier} filled")
        if order.parent_identifier:  # an OCO parent lives only through its two legs: it is done when one fills
            parent = self._orders.get(order.parent_identifier)
            if parent is not None and parent.order_class is OrderClass.OCO and parent.status.is_active:
                parent.filled_quantity = order.filled_quantity
                parent.avg_fill_price = order.avg_fill_price
                parent.status = OrderStatus.FILLED if complete else OrderStatus.CANCELED
                parent.updated_at = when
        if order.order_class in (OrderClass.BRACKET, OrderClass.OTO) and complete:
            self._spawn_children(order, ts_ns, phase_bar)

    def _spawn_children(self, parent: Order, ts_ns: int, phase_bar: tuple[int, int] | None) -> None:
        if parent.order_class is OrderClass.BRACKET:
            children = list(self._exit_pair(parent))
        else:
            tp, sl = self._exit_pair(parent)
            children = [tp] if parent.take_profit_price is not None else [sl]
            children[0].oco_peer = None
        parent.child_orders = children
        for child in reversed(children):  # stop loss before take profit: a bar reaching both counts as a loss
            self._orders[child.identifier] = child
            if phase_bar is None:
                self._activate(child, ts_ns)
            else:
                bar, phase = phase_bar
                # filled at the open: the children watch the rest of that bar; filled at the bar's
                # end: they start with the next bar
                self._activate(child, ts_ns, bar=bar if phase == 0 else bar + 1, phase=1 if phase == 0 else 0)
