"""`AlpacaBroker`: an Alpaca paper account behind the `Broker` protocol (alpaca-py `TradingClient`).

Orders of every type the strategy API has (market, limit, stop, stop-limit, trailing stop;
bracket, OCO, OTO) are sent with a `client_order_id`; a retried submission first asks Alpaca
whether that id already arrived, and Alpaca itself refuses a second order with the same id, so
no order is ever placed twice. Order updates come by polling (`process`, called by the live
engine every few seconds): fills become `Fill` events and `on_filled_order` calls, exactly as in
a backtest. Cash and positions are Alpaca's. Credentials: `ALPACA_API_KEY` / `ALPACA_API_SECRET`
(or `APCA_API_KEY_ID` / `APCA_API_SECRET_KEY`) from the environment or a `.env` file.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
from typing import Any

from agentrt.broker.base import BrokerError, OrderRecords
from agentrt.data.live import (
    ALPACA_VARIABLES,
    AlpacaFeed,
    CredentialsError,
    RetryPolicy,
    alpaca_credentials,
    call_with_retry,
    credentials_rejected,
)
from agentrt.domain import Asset, CashEvent, Fill, Order, OrderClass, OrderStatus, OrderType, Position
from agentrt.domain.assets import AssetType
from agentrt.domain.orders import OrderSide, TimeInForce

__all__ = ["AlpacaBroker"]

log = logging.getLogger("agentrt.live")

_STATUS = {
    "new": OrderStatus.OPEN, "accepted": OrderStatus.OPEN, "pending_new": OrderStatus.OPEN,
    "accepted_for_bidding": OrderStatus.OPEN, "pending_cancel": OrderStatus.OPEN, "pending_replace": OrderStatus.OPEN,
    "pending_review": OrderStatus.OPEN, "held": OrderStatus.OPEN, "calculated": OrderStatus.OPEN,
    "stopped": OrderStatus.OPEN, "suspended": OrderStatus.OPEN, "done_for_day": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED, "filled": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED, "rejected": OrderStatus.REJECTED, "replaced": OrderStatus.CANCELED,
}
_CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")


def _value(x: Any) -> str:
    return str(getattr(x, "value", x))


def _f(x: Any) -> float | None:
    return None if x in (None, "") else float(x)


class AlpacaBroker(OrderRecords):
    """An Alpaca account: `AlpacaBroker()` reads the keys from the environment; `paper=True` always here.

    `url_override` / `data_url_override` point alpaca-py at another base URL (a proxy, a
    recorder, or a local test server). Its market data (`default_feed`) is Alpaca's too.
    """

    is_simulated = False

    def __init__(self, api_key: str | None = None, secret_key: str | None = None, *, paper: bool = True,
                 url_override: str | None = None, data_url_override: str | None = None, feed: str = "iex",
                 retry: RetryPolicy | None = None, client: Any = None) -> None:
        if not paper:
            raise BrokerError("agentrt trades Alpaca paper accounts only (paper=True); start there and read "
                              "docs/going-live.md")
        self.name = "alpaca-paper"
        self._key, self._secret = api_key, secret_key
        self.url_override = url_override
        self.data_url_override = data_url_override
        self.feed = feed
        self.retry = retry or RetryPolicy()
        self._client = client
        self.listener = None
        self.clock = None
        self.md = None
        self.strategy_name = ""
        self.events: list[tuple] = []
        self.fills: list[Fill] = []
        self.cash_events: list[CashEvent] = []
        self.duplicates = 0
        self._orders: dict[str, Order] = {}  # by Alpaca id (legs too)
        self._by_cid: dict[str, Order] = {}
        self._account: Any = None
        self._positions: dict[Asset, Position] = {}
        self._lock = threading.RLock()

    # -- connection -----------------------------------------------------------------------------
    def _credentials(self) -> tuple[str, str]:
        if self._key and self._secret:
            return self._key, self._secret
        self._key, self._secret = alpaca_credentials()
        return self._key, self._secret

    @property
    def client(self):
        if self._client is None:
            from alpaca.trading.client import TradingClient

            key, secret = self._credentials()
            self._client = TradingClient(key, secret, paper=True, url_override=self.url_override)
        return self._client

    def _call(self, fn, what: str, **kw):
        try:
            return call_with_retry(fn, what=f"Alpaca: {what}", policy=self.retry, **kw)
        except Exception as exc:
            if credentials_rejected(exc):
                raise CredentialsError(
                    f"Alpaca rejected the credentials (HTTP {getattr(exc, 'status_code', '?')}): check "
                    f"{ALPACA_VARIABLES}; paper keys come from the paper dashboard at app.alpaca.markets") from exc
            raise

    def default_feed(self) -> AlpacaFeed:
        key, secret = self._credentials()
        return AlpacaFeed(key, secret, feed=self.feed, url_override=self.data_url_override, retry=self.retry)

    def bind(self, *, data, clock, sessions, strategy_name: str) -> None:
        """Attach the run's market data and clock (called by the live engine)."""
        self.md, self.clock, self.sessions, self.strategy_name = data, clock, sessions, strategy_name

    def connect(self) -> None:
        """Check the keys (GET /v2/account) and log the market clock (GET /v2/clock)."""
        self._refresh_account()
        clock = self._call(self.client.get_clock, "market clock")
        log.info("Alpaca paper account %s: cash %s, market %s (next open %s)", self._account.account_number,
                 self._account.cash, "open" if clock.is_open else "closed", clock.next_open)

    def market_clock(self) -> dict:
        """Alpaca's market clock: {"is_open", "next_open", "next_close", "timestamp"}."""
        clock = self._call(self.client.get_clock, "market clock")
        return {"is_open": clock.is_open, "next_open": clock.next_open, "next_close": clock.next_close,
                "timestamp": clock.timestamp}

    def describe(self) -> dict:
        return {"name": self.name, "kind": "alpaca", "paper": True,
                "url": self.url_override or "paper-api.alpaca.markets"}

    def close(self) -> None:
        session = getattr(self._client, "_session", None)
        if session is not None:
            session.close()

    # -- account --------------------------------------------------------------------------------
    def _refresh_account(self) -> None:
        self._account = self._call(self.client.get_account, "account")

    def _refresh_positions(self) -> None:
        rows = self._call(self.client.get_all_positions, "positions")
        positions = {}
        for p in rows:
            asset = self._asset_of(p.symbol, _value(p.asset_class))
            qty = float(p.qty)
            if _value(p.side) == "short" and qty > 0:
                qty = -qty
            positions[asset] = Position(asset, qty, float(p.avg_entry_price))
        self._positions = positions

    @property
    def cash(self) -> float:
        if self._account is None:
            self._refresh_account()
        return float(self._account.cash)

    def portfolio_value(self) -> float:
        if self._account is None:
            self._refresh_account()
        return float(self._account.portfolio_value or self._account.equity)

    def get_positions(self) -> list[Position]:
        return [p for p in self._positions.values() if p.quantity]

    def get_position(self, asset: Asset) -> Position | None:
        pos = self._positions.get(asset)
        if pos is None and asset.asset_type is AssetType.CRYPTO:
            pos = next((p for a, p in self._positions.items() if a.symbol == asset.symbol), None)
        return pos if pos is not None and pos.quantity else None

    def cash_event(self, amount: float, *, cash_event_type: str, reason: str = "",
                   is_external_cash_flow: bool = False) -> CashEvent:
        raise BrokerError(f"{cash_event_type} of {amount:,.2f}: cash moves in and out of an Alpaca account only "
                          "through Alpaca (the dashboard); deposit_cash / withdraw_cash / adjust_cash work in "
                          "backtests and with --broker paper")

    # -- orders ---------------------------------------------------------------------------------
    @staticmethod
    def _symbol(asset: Asset) -> str:
        if asset.asset_type is AssetType.CRYPTO:
            return f"{asset.symbol}/{asset.quote or 'USD'}"
        return asset.symbol

    @staticmethod
    def _asset_of(symbol: str, asset_class: str) -> Asset:
        if asset_class == "crypto":
            base, _, quote = symbol.partition("/")
            if not quote:
                quote = next((q for q in _CRYPTO_QUOTES if symbol.endswith(q) and len(symbol) > len(q)), "USD")
                base = symbol[: -len(quote)]
            return Asset(base, asset_type=AssetType.CRYPTO, quote=quote)
        return Asset(symbol)

    def _request(self, order: Order):
        from alpaca.trading import enums as e
        from alpaca.trading import requests as r

        side = e.OrderSide.BUY if order.side.sign > 0 else e.OrderSide.SELL
        tif = e.TimeInForce(order.time_in_force.value)
        common: dict[str, Any] = {"symbol": self._symbol(order.asset), "qty": order.quantity, "side": side,
                                  "time_in_force": tif, "client_order_id": order.client_order_id}
        oclass = order.order_class
        if oclass is not OrderClass.SIMPLE:
            common["order_class"] = e.OrderClass(oclass.value)
            if order.take_profit_price is not None:
                common["take_profit"] = r.TakeProfitRequest(limit_price=order.take_profit_price)
            if order.stop_loss_price is not None:
                common["stop_loss"] = r.StopLossRequest(stop_price=order.stop_loss_price,
                                                        limit_price=order.stop_loss_limit_price)
        t = order.order_type
        if oclass is OrderClass.OCO:
            return r.LimitOrderRequest(**common)  # Alpaca's OCO is a limit order carrying both exits
        if t is OrderType.MARKET:
            return r.MarketOrderRequest(**common)
        if t is OrderType.LIMIT:
            return r.LimitOrderRequest(limit_price=order.limit_price, **common)
        if t is OrderType.STOP:
            return r.StopOrderRequest(stop_price=order.stop_price, **common)
        if t is OrderType.STOP_LIMIT:
            return r.StopLimitOrderRequest(stop_price=order.stop_price, limit_price=order.limit_price, **common)
        if order.trail_percent is not None:  # ours is a fraction, Alpaca's a percent
            return r.TrailingStopOrderRequest(trail_percent=order.trail_percent * 100.0, **common)
        return r.TrailingStopOrderRequest(trail_price=order.trail_price, **common)

    def _remote_by_cid(self, cid: str, *, retry: bool = True):
        from alpaca.common.exceptions import APIError

        try:
            if not retry:  # inside a submission's own retry loop
                return self.client.get_order_by_client_id(cid)
            return self._call(lambda: self.client.get_order_by_client_id(cid), f"order {cid}")
        except APIError as exc:
            if exc.status_code == 404:
                return None
            raise

    def submit_order(self, order: Order) -> Order:
        """Send `order` to Alpaca; an already-known `client_order_id` returns that order instead."""
        from alpaca.common.exceptions import APIError

        with self._lock:
            known = self._begin_submit(order)
            if known is not None:
                return known
            cid = order.client_order_id
            if not (order.quantity > 0):
                return self._reject(order, f"quantity must be positive, got {order.quantity}")
            try:
                request = self._request(order)
            except ValueError as exc:  # alpaca-py's request validation
                return self._reject(order, f"Alpaca cannot take this order: {exc}")
            sent = [False]

            def attempt():
                if sent[0]:  # the previous try may have arrived before the connection dropped
                    remote = self._remote_by_cid(cid, retry=False)
                    if remote is not None:
                        return remote
                sent[0] = True
                return self.client.submit_order(request)

            try:
                remote = self._call(attempt, f"submit {order.side.value} {order.quantity:g} {order.asset}")
            except APIError as exc:
                if exc.status_code == 422 and "client_order_id" in str(exc):
                    remote = self._remote_by_cid(cid)  # Alpaca already has it: attach, never resend
                    self.duplicates += 1
                    if remote is None:
                        return self._reject(order, f"Alpaca refused a duplicate client_order_id {cid}")
                else:
                    return self._reject(order, f"Alpaca rejected the order (HTTP {exc.status_code}): "
                                               f"{_api_message(exc)}")
            self._track(order, remote)
            self._update(order, remote)
            return order

    def _track(self, order: Order, remote) -> None:
        order.identifier = str(remote.id)
        self._orders[order.identifier] = order
        self._by_cid[order.client_order_id] = order

    def cancel_order(self, order: Order) -> Order:
        from alpaca.common.exceptions import APIError

        with self._lock:
            if order.order_class is not OrderClass.SIMPLE and order.child_orders and not order.status.is_active:
                for child in order.child_orders:
                    if child.status.is_active:
                        self.cancel_order(child)
                return order
            if not order.status.is_active:
                return order
            try:
                self._call(lambda: self.client.cancel_order_by_id(order.identifier), f"cancel {order.identifier}")
            except APIError as exc:
                if exc.status_code not in (404, 422):
                    raise
            remote = self._call(lambda: self.client.get_order_by_id(order.identifier), f"order {order.identifier}")
            self._update(order, remote)
            return order

    def modify_order(self, order: Order, *, limit_price: float | None = None,
                     stop_price: float | None = None) -> Order:
        """Replace the order's prices at Alpaca (PATCH); the `Order` object follows the new Alpaca id."""
        from alpaca.trading.requests import ReplaceOrderRequest

        with self._lock:
            if not order.status.is_active:
                raise ValueError(f"cannot modify {order.identifier}: it is {order.status.value}")
            request = ReplaceOrderRequest(limit_price=limit_price, stop_price=stop_price)
            remote = self._call(lambda: self.client.replace_order_by_id(order.identifier, request),
                                f"replace {order.identifier}")
            self._orders[str(remote.id)] = order
            order.identifier = str(remote.id)
            if limit_price is not None:
                order.limit_price = float(limit_price)
            if stop_price is not None:
                order.stop_price = float(stop_price)
            self._update(order, remote)
            return order

    def get_orders(self, *, active_only: bool = True) -> list[Order]:
        seen: dict[int, Order] = {id(o): o for o in self._orders.values()}
        orders = list(seen.values())
        return [o for o in orders if o.status.is_active] if active_only else orders

    def get_order(self, identifier: str) -> Order | None:
        return self._orders.get(identifier) or self._by_cid.get(identifier)

    def find_order(self, client_order_id: str, *, hint: Order | None = None) -> Order | None:
        """The order with this client id, asking Alpaca when this process does not know it (restarts)."""
        with self._lock:
            known = self._by_cid.get(client_order_id)
            if known is not None:
                return known
            remote = self._remote_by_cid(client_order_id)
            if remote is None:
                return None
            order = self._from_remote(remote)
            self._track(order, remote)
            self._update(order, remote, replay_fills=False)
            return order

    def _from_remote(self, remote) -> Order:
        asset = self._asset_of(remote.symbol, _value(remote.asset_class))
        otype = OrderType(_value(remote.type or remote.order_type))
        order = Order(asset, float(remote.qty), OrderSide.BUY if _value(remote.side) == "buy" else OrderSide.SELL,
                      order_type=otype, limit_price=_f(remote.limit_price), stop_price=_f(remote.stop_price),
                      trail_price=_f(remote.trail_price),
                      trail_percent=None if remote.trail_percent in (None, "") else float(remote.trail_percent) / 100,
                      order_class=OrderClass(_value(remote.order_class) or "simple"),
                      time_in_force=_tif(_value(remote.time_in_force)),
                      strategy=self.strategy_name, client_order_id=remote.client_order_id)
        order.submitted_at = order.created_at = self._stamp(remote.submitted_at)
        return order

    # -- updates --------------------------------------------------------------------------------
    def _stamp(self, when: _dt.datetime | None) -> _dt.datetime:
        now = self.clock.now()
        if when is None:
            return now
        when = when.astimezone(now.tzinfo)
        return min(when, now)  # never stamped after the clock

    def _update(self, order: Order, remote, *, replay_fills: bool = True) -> None:
        """Bring `order` to `remote`'s state; new filled quantity becomes fill events."""
        status = _STATUS.get(_value(remote.status), OrderStatus.OPEN)
        filled = float(remote.filled_qty or 0.0)
        avg = _f(remote.filled_avg_price)
        prev_filled, prev_avg = order.filled_quantity, order.avg_fill_price
        order.updated_at = self._stamp(remote.updated_at)
        if filled > prev_filled + 1e-12 and avg is not None:
            qty = filled - prev_filled
            price = avg if not prev_filled else (avg * filled - (prev_avg or 0.0) * prev_filled) / qty
            order.filled_quantity, order.avg_fill_price = filled, avg
            order.status = status
            if replay_fills:
                self._record_fill(order, price, qty, complete=status is OrderStatus.FILLED,
                                  when=self._stamp(remote.filled_at or remote.updated_at))
            else:
                order.status = status
        if status is not order.status and not (status is OrderStatus.FILLED and order.status is OrderStatus.FILLED):
            was_active = order.status.is_active
            order.status = status
            if not status.is_active and status is not OrderStatus.FILLED and was_active:
                reason = "replaced" if _value(remote.status) == "replaced" else f"Alpaca: {_value(remote.status)}"
                self.events.append(("trade", order, None, status.value, reason))
                if status is OrderStatus.CANCELED and self.listener is not None:
                    self.listener.on_cancel(order)
        for leg in remote.legs or ():
            child = self._orders.get(str(leg.id))
            if child is None:
                child = self._from_remote(leg)
                child.parent_identifier = order.identifier
                child.client_order_id = None
                child.source = order.source
                child.identifier = str(leg.id)
                self._orders[child.identifier] = child
                order.child_orders.append(child)
            self._update(child, leg, replay_fills=replay_fills)

    def _record_fill(self, order: Order, price: float, qty: float, *, complete: bool, when: _dt.datetime) -> None:
        fill = Fill(when, order.identifier, order.asset, order.side.value, float(price), float(qty), 0.0,
                    order.asset.multiplier, order.order_type.value, "fill" if complete else "partial_fill")
        self.fills.append(fill)
        self.events.append(("trade", order, fill, fill.status, ""))
        pos = self._positions.get(order.asset)
        if pos is None:
            pos = self._positions[order.asset] = Position(order.asset)
        pos.apply(qty if order.side.sign > 0 else -qty, price)  # until the next positions refresh
        if self.listener is not None:
            self.listener.on_fill(order, fill, pos)

    def process(self, now_ns: int) -> None:
        """Poll Alpaca: order updates (fills, cancels), then cash and positions."""
        from alpaca.trading.enums import QueryOrderStatus
        from alpaca.trading.requests import GetOrderByIdRequest, GetOrdersRequest

        with self._lock:
            roots: dict[str, Order] = {}
            for order in self._orders.values():
                if not order.status.is_active:
                    continue
                root = order
                while root.parent_identifier and root.parent_identifier in self._orders:
                    root = self._orders[root.parent_identifier]
                roots[root.identifier] = root
            if roots:
                since = min(o.submitted_at for o in roots.values() if o.submitted_at) - _dt.timedelta(seconds=5)
                request = GetOrdersRequest(status=QueryOrderStatus.ALL, after=since, limit=500, nested=True)
                remote = self._call(lambda: self.client.get_orders(request), "order updates")
                by_id = {str(r.id): r for r in remote}
                for root in roots.values():
                    r = by_id.get(root.identifier)
                    if r is None:
                        r = self._call(lambda o=root: self.client.get_order_by_id(
                            o.identifier, GetOrderByIdRequest(nested=True)), f"order {root.identifier}")
                    self._update(root, r)
            self._refresh_account()
            self._refresh_positions()


def _tif(value: str) -> TimeInForce:
    try:
        return TimeInForce.parse(value, what="time_in_force")
    except ValueError:  # Alpaca's opg / cls: session-bound, like a day order
        return TimeInForce.DAY


def _api_message(exc) -> str:
    try:
        return exc.message
    except Exception:  # noqa: BLE001 - not JSON
        return str(exc)
