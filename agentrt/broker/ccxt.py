"""`CCXTBroker`: a crypto exchange account through ccxt, in sandbox/testnet mode, behind the `Broker` protocol.

Spot market and limit orders, balances, order status by polling (`fetch_order`), cancel. Every
order carries a `clientOrderId`; a retried submission first looks the id up, so a dropped
connection never places an order twice. Cash is the quote currency's balance (USDT by default);
positions are the other non-zero balances. Keys come from `<EXCHANGE>_API_KEY` /
`<EXCHANGE>_API_SECRET` (and `<EXCHANGE>_PASSWORD` where the exchange needs one), in the
environment or a `.env` file; sandbox keys are separate from live keys on every exchange.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
from typing import Any

from agentrt.broker.base import BrokerError, OrderRecords
from agentrt.data.live import CCXTFeed, RetryPolicy, exchange_credentials, make_exchange
from agentrt.domain import Asset, CashEvent, Fill, Order, OrderClass, OrderStatus, OrderType, Position
from agentrt.domain.assets import AssetType
from agentrt.domain.orders import OrderSide

__all__ = ["CCXTBroker"]

log = logging.getLogger("agentrt.live")

_STATUS = {"open": OrderStatus.OPEN, "closed": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
           "cancelled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED, "rejected": OrderStatus.REJECTED}


class CCXTBroker(OrderRecords):
    """`CCXTBroker("binance", sandbox=True)`: spot trading on an exchange's testnet through ccxt.

    `quote` is the account's cash currency and the default quote of bare crypto assets
    (`"BTC"` -> BTC/USDT). Positions are the balances of the currencies this strategy traded
    (remembered across restarts) plus `assets`: a testnet account holds hundreds of coins the
    strategy never touched. `url_override` replaces the API host (a proxy or a local test server).
    """

    is_simulated = False

    def __init__(self, exchange_id: str, *, sandbox: bool = True, quote: str = "USDT", api_key: str | None = None,
                 secret: str | None = None, password: str | None = None, url_override: str | None = None,
                 retry: RetryPolicy | None = None, config: dict | None = None, assets=()) -> None:
        self.exchange_id = exchange_id.strip().lower()
        self.sandbox = sandbox
        if not sandbox:
            log.warning("CCXTBroker(%s, sandbox=False) trades a real exchange account with real funds",
                        self.exchange_id)
        self.quote = quote.upper()
        self.name = f"ccxt:{self.exchange_id}" + (" (sandbox)" if sandbox else "")
        self._creds = {k: v for k, v in (("apiKey", api_key), ("secret", secret), ("password", password)) if v}
        self.url_override = url_override
        self.retry = retry or RetryPolicy()
        self.config = config
        self._feed: CCXTFeed | None = None
        self.listener = None
        self.clock = None
        self.md = None
        self.strategy_name = ""
        self.events: list[tuple] = []
        self.fills: list[Fill] = []
        self.cash_events: list[CashEvent] = []
        self.duplicates = 0
        self._orders: dict[str, Order] = {}
        self._by_cid: dict[str, Order] = {}
        self._fees_seen: dict[str, float] = {}
        self._balances: dict[str, float] = {}
        self._avg: dict[str, float] = {}
        self._assets: set[str] = {str(a).upper() for a in assets}
        self._lock = threading.RLock()

    # -- connection -----------------------------------------------------------------------------
    @property
    def feed(self) -> CCXTFeed:
        """The feed sharing this broker's exchange object (and its lock and retries)."""
        if self._feed is None:
            creds = self._creds if {"apiKey", "secret"} <= set(self._creds) else exchange_credentials(self.exchange_id)
            exchange = make_exchange(self.exchange_id, sandbox=self.sandbox, credentials=creds,
                                     url_override=self.url_override, config=self.config)
            self._feed = CCXTFeed(exchange, sandbox=self.sandbox, default_quote=self.quote, retry=self.retry)
        return self._feed

    @property
    def exchange(self):
        return self.feed.exchange

    def _call(self, fn, what: str):
        return self.feed.call(fn, what)

    def default_feed(self) -> CCXTFeed:
        return self.feed

    def bind(self, *, data, clock, sessions, strategy_name: str) -> None:
        """Attach the run's market data and clock (called by the live engine)."""
        self.md, self.clock, self.sessions, self.strategy_name = data, clock, sessions, strategy_name

    def connect(self) -> None:
        """Load the markets and the balance (this checks the keys)."""
        self.feed.load_markets()
        self._refresh_balance()
        log.info("%s account: %s %.2f", self.name, self.quote, self.cash)

    def describe(self) -> dict:
        return {"name": self.name, "kind": "ccxt", "exchange": self.exchange_id, "sandbox": self.sandbox,
                "quote": self.quote}

    def close(self) -> None:
        session = getattr(self._feed.exchange if self._feed else None, "session", None)
        if session is not None:
            session.close()

    # -- account --------------------------------------------------------------------------------
    def _refresh_balance(self) -> None:
        balance = self._call(lambda: self.exchange.fetch_balance(), "balance")
        totals = balance.get("total") or {}
        self._balances = {str(k).upper(): float(v) for k, v in totals.items() if v not in (None, 0, 0.0)}

    @property
    def cash(self) -> float:
        return self._balances.get(self.quote, 0.0)

    def get_positions(self) -> list[Position]:
        out = []
        for ccy in sorted(self._assets):
            qty = self._balances.get(ccy, 0.0)
            if ccy == self.quote or not qty:
                continue
            asset = Asset(ccy, asset_type=AssetType.CRYPTO, quote=self.quote)
            out.append(Position(asset, qty, self._avg.get(ccy, 0.0)))
        return out

    def get_position(self, asset: Asset) -> Position | None:
        qty = self._balances.get(asset.symbol, 0.0)
        if not qty or asset.symbol == self.quote:
            return None
        return Position(Asset(asset.symbol, asset_type=AssetType.CRYPTO, quote=self.quote), qty,
                        self._avg.get(asset.symbol, 0.0))

    def portfolio_value(self) -> float:
        total = self.cash
        for pos in self.get_positions():
            price = self.md.last_price(pos.asset) if self.md is not None else None
            total += pos.quantity * (price if price is not None else pos.avg_fill_price)
        return total

    def cash_event(self, amount: float, *, cash_event_type: str, reason: str = "",
                   is_external_cash_flow: bool = False) -> CashEvent:
        raise BrokerError(f"{cash_event_type} of {amount:,.2f}: an exchange account's cash moves only on the "
                          "exchange; deposit_cash / withdraw_cash / adjust_cash work in backtests and with "
                          "--broker paper")

    # -- orders ---------------------------------------------------------------------------------
    def _symbol(self, asset: Asset) -> str:
        return f"{asset.symbol}/{asset.quote or self.quote}"

    def _lookup(self, cid: str, symbol: str, *, retry: bool = True) -> dict | None:
        import ccxt

        fetch = lambda: self.exchange.fetch_order(None, symbol, {"clientOrderId": cid})  # noqa: E731
        try:
            return self._call(fetch, f"order {cid}") if retry else fetch()
        except ccxt.OrderNotFound:
            return None

    def submit_order(self, order: Order) -> Order:
        """Send a spot market or limit order; an already-known `client_order_id` returns that order."""
        import ccxt

        with self._lock:
            known = self._begin_submit(order)
            if known is not None:
                return known
            cid = order.client_order_id
            simple = order.order_class is OrderClass.SIMPLE
            if order.order_type not in (OrderType.MARKET, OrderType.LIMIT) or not simple:
                return self._reject(order, f"{self.exchange_id} spot orders through ccxt are market or limit only, got "
                                           f"{order.order_class.value} {order.order_type.value}; stop, trailing, "
                                           "bracket and OCO orders work with --broker paper or alpaca-paper")
            if order.side in (OrderSide.SELL_SHORT, OrderSide.BUY_TO_COVER):
                return self._reject(order, f"{order.side.value}: spot accounts cannot short")
            if not (order.quantity > 0):
                return self._reject(order, f"quantity must be positive, got {order.quantity}")
            symbol = self._symbol(order.asset)
            self._assets.add(order.asset.symbol)
            side = "buy" if order.side.sign > 0 else "sell"
            price = order.limit_price if order.order_type is OrderType.LIMIT else None
            sent = [False]

            def attempt():
                if sent[0]:  # the previous try may have reached the exchange before the connection dropped
                    remote = self._lookup(cid, symbol, retry=False)  # already inside the feed's lock and retries
                    if remote is not None:
                        return remote
                sent[0] = True
                return self.exchange.create_order(symbol, order.order_type.value, side, order.quantity, price,
                                                  {"clientOrderId": cid})

            try:
                remote = self._call(attempt, f"create {side} {order.quantity:g} {symbol}")
            except (ccxt.InvalidOrder, ccxt.InsufficientFunds, ccxt.BadSymbol, ccxt.BadRequest) as exc:
                # an exchange that already has this clientOrderId refuses it: attach to that order
                remote = self._lookup(cid, symbol) if isinstance(exc, (ccxt.DuplicateOrderId, ccxt.InvalidOrder)) \
                    else None
                if remote is None:
                    return self._reject(order, f"{self.exchange_id} rejected the order: {type(exc).__name__}: {exc}")
                self.duplicates += 1
            self._track(order, remote)
            self._update(order, remote)
            return order

    def _track(self, order: Order, remote: dict) -> None:
        order.identifier = str(remote["id"])
        self._orders[order.identifier] = order
        self._by_cid[order.client_order_id] = order

    def cancel_order(self, order: Order) -> Order:
        import ccxt

        with self._lock:
            if not order.status.is_active:
                return order
            symbol = self._symbol(order.asset)
            try:
                self._call(lambda: self.exchange.cancel_order(order.identifier, symbol), f"cancel {order.identifier}")
            except ccxt.OrderNotFound:
                pass  # already done: the fetch below says how
            remote = self._call(lambda: self.exchange.fetch_order(order.identifier, symbol),
                                f"order {order.identifier}")
            self._update(order, remote)
            return order

    def modify_order(self, order: Order, *, limit_price: float | None = None,
                     stop_price: float | None = None) -> Order:
        raise BrokerError(f"{self.exchange_id} orders cannot be modified through agentrt's ccxt broker; cancel the "
                          "order and submit a new one")

    def get_orders(self, *, active_only: bool = True) -> list[Order]:
        orders = list(self._orders.values())
        return [o for o in orders if o.status.is_active] if active_only else orders

    def get_order(self, identifier: str) -> Order | None:
        return self._orders.get(identifier) or self._by_cid.get(identifier)

    def find_order(self, client_order_id: str, *, hint: Order | None = None) -> Order | None:
        """The order with this client id; on a restart it is looked up on the exchange (needs `hint`'s symbol)."""
        with self._lock:
            known = self._by_cid.get(client_order_id)
            if known is not None or hint is None:
                return known
            remote = self._lookup(client_order_id, self._symbol(hint.asset))
            if remote is None:
                return None
            hint.client_order_id = client_order_id
            self._assets.add(hint.asset.symbol)
            hint.strategy = hint.strategy or self.strategy_name
            hint.filled_quantity = 0.0
            self._track(hint, remote)
            self._update(hint, remote, replay_fills=False)
            return hint

    # -- persistence ------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """What the exchange does not remember for us: which coins are this strategy's, at what cost."""
        return {"version": 1, "assets": sorted(self._assets), "avg": dict(self._avg)}

    def restore(self, snap: dict) -> list[Order]:
        if snap.get("version") != 1:
            raise ValueError(f"ccxt broker snapshot version {snap.get('version')!r} is not 1; delete the state file")
        self._assets |= set(snap.get("assets", ()))
        self._avg.update(snap.get("avg", {}))
        return []

    # -- updates --------------------------------------------------------------------------------
    def _stamp(self, ms: Any) -> _dt.datetime:
        now = self.clock.now()
        if not ms:
            return now
        when = _dt.datetime.fromtimestamp(int(ms) / 1000, _dt.timezone.utc).astimezone(now.tzinfo)
        return min(when, now)

    def _update(self, order: Order, remote: dict, *, replay_fills: bool = True) -> None:
        filled = float(remote.get("filled") or 0.0)
        amount = float(remote.get("amount") or order.quantity)
        status = _STATUS.get(str(remote.get("status") or "open"), OrderStatus.OPEN)
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        if status is OrderStatus.FILLED and filled < amount - 1e-12:
            status = OrderStatus.CANCELED if filled == 0 else OrderStatus.PARTIALLY_FILLED
        avg = remote.get("average") or remote.get("price")
        fee = remote.get("fee") or {}
        in_quote = str(fee.get("currency") or self.quote).upper() == self.quote
        fee_cost = float(fee.get("cost") or 0.0) if in_quote else 0.0  # fees in other coins: not booked
        prev = order.filled_quantity
        order.updated_at = self._stamp(remote.get("lastUpdateTimestamp") or remote.get("timestamp"))
        if filled > prev + 1e-12 and avg is not None:
            qty = filled - prev
            avg = float(avg)
            price = avg if not prev else (avg * filled - (order.avg_fill_price or 0.0) * prev) / qty
            fees = fee_cost - self._fees_seen.get(order.identifier, 0.0)
            self._fees_seen[order.identifier] = fee_cost
            order.filled_quantity, order.avg_fill_price = filled, avg
            order._fees_paid = fee_cost
            order.status = status
            base = order.asset.symbol
            if order.side.sign > 0:
                held = self._balances.get(base, 0.0)
                self._avg[base] = (held * self._avg.get(base, 0.0) + qty * price) / (held + qty) if held + qty else 0.0
            if replay_fills:
                complete = status is OrderStatus.FILLED
                fill = Fill(self._stamp(remote.get("lastTradeTimestamp") or remote.get("timestamp")),
                            order.identifier, order.asset, order.side.value, price, qty, fees, 1.0,
                            order.order_type.value, "fill" if complete else "partial_fill")
                self.fills.append(fill)
                self.events.append(("trade", order, fill, fill.status, ""))
                held = self._balances.get(base, 0.0) + (qty if order.side.sign > 0 else -qty)
                self._balances[base] = held
                if self.listener is not None:
                    self.listener.on_fill(order, fill, Position(order.asset, held, self._avg.get(base, 0.0)))
        if status is not order.status:
            was_active = order.status.is_active
            order.status = status
            if was_active and not status.is_active and status is not OrderStatus.FILLED:
                self.events.append(("trade", order, None, status.value, f"{self.exchange_id}: {remote.get('status')}"))
                if status is OrderStatus.CANCELED and self.listener is not None:
                    self.listener.on_cancel(order)

    def process(self, now_ns: int) -> None:
        """Poll every open order (`fetch_order`), then the balance."""
        with self._lock:
            for order in [o for o in self._orders.values() if o.status.is_active]:
                remote = self._call(lambda o=order: self.exchange.fetch_order(o.identifier, self._symbol(o.asset)),
                                    f"order {order.identifier}")
                self._update(order, remote)
            self._refresh_balance()
