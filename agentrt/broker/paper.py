"""`PaperBroker`: a local paper account filled from live quotes with the simulator's fill and fee rules.

The matching, fee, slippage, buying-power and linked-order (bracket/OCO/OTO) code is
`SimBroker`'s, unchanged. What differs is what it matches against: instead of recorded bars,
a *quote tape*. While the market is open, every poll of the engine takes the live quote of each
asset with an open order and appends it as a one-price bar. So a market order fills at the
first quote taken at or after its submission *during market hours* (an order sent after the
close fills at the next open, as in a backtest); a limit fills when a quote reaches it; a stop
the quotes gapped through fills at that quote; trailing stops follow the quotes.

The account lives in this process, so `snapshot()`/`restore()` carry cash, positions, open
orders and the client order ids already used across restarts (the live engine saves a
snapshot after every iteration). Orders are deduplicated by `client_order_id`.
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import Any

import numpy as np

from agentrt.broker.sim import SimBroker
from agentrt.data.bars import BarSeries
from agentrt.domain import Asset, Order, OrderClass, OrderSide, OrderStatus, OrderType, Position, TimeInForce

__all__ = ["PaperBroker", "asset_from_record", "asset_record", "order_from_record", "order_record"]

log = logging.getLogger("agentrt.live")

SNAPSHOT_VERSION = 1
_KEEP_CLOSED = 2000  # closed orders remembered for deduplication after a restart


# ---- records (JSON-able forms of assets and orders, shared with the live state store) ----------
def asset_record(asset: Asset) -> dict[str, Any]:
    return {"symbol": asset.symbol, "asset_type": asset.asset_type.value,
            "expiration": asset.expiration.isoformat() if asset.expiration else None, "strike": asset.strike,
            "right": asset.right, "multiplier": asset.multiplier, "quote": asset.quote}


def asset_from_record(rec: dict[str, Any]) -> Asset:
    exp = rec.get("expiration")
    return Asset(rec["symbol"], asset_type=rec.get("asset_type", "stock"),
                 expiration=_dt.date.fromisoformat(exp) if exp else None, strike=rec.get("strike"),
                 right=rec.get("right"), multiplier=rec.get("multiplier") or 0.0, quote=rec.get("quote"))


_ORDER_FIELDS = ("identifier", "client_order_id", "quantity", "limit_price", "stop_price", "trail_price",
                 "trail_percent", "take_profit_price", "stop_loss_price", "stop_loss_limit_price", "filled_quantity",
                 "avg_fill_price", "reject_reason", "strategy", "tag", "parent_identifier", "trail_stop_price",
                 "source")


def order_record(order: Order) -> dict[str, Any]:
    """Everything needed to rebuild `order` after a restart (JSON-able)."""
    rec: dict[str, Any] = {name: getattr(order, name) for name in _ORDER_FIELDS}
    rec.update(asset=asset_record(order.asset), side=order.side.value, order_type=order.order_type.value,
               order_class=order.order_class.value, time_in_force=order.time_in_force.value,
               status=order.status.value, fees_paid=order._fees_paid,
               oco_peer=order.oco_peer.identifier if order.oco_peer is not None else None,
               submitted_at=order.submitted_at.isoformat() if order.submitted_at else None,
               updated_at=order.updated_at.isoformat() if order.updated_at else None)
    return rec


def order_from_record(rec: dict[str, Any]) -> Order:
    order = Order(asset_from_record(rec["asset"]), float(rec["quantity"]), OrderSide(rec["side"]),
                  order_type=OrderType(rec["order_type"]), order_class=OrderClass(rec["order_class"]),
                  time_in_force=TimeInForce(rec["time_in_force"]))
    for name in _ORDER_FIELDS:
        if name in rec and name != "quantity":
            setattr(order, name, rec[name])
    order.filled_quantity = float(rec.get("filled_quantity") or 0.0)
    order.status = OrderStatus(rec["status"])
    order._fees_paid = float(rec.get("fees_paid") or 0.0)
    for name in ("submitted_at", "updated_at"):
        if rec.get(name):
            setattr(order, name, _dt.datetime.fromisoformat(rec[name]))
    order.created_at = order.submitted_at
    return order


# ---- the quote tape --------------------------------------------------------------------------
class _QuoteTape:
    """One-price bars made of live quotes, per asset, kept only while the asset has open orders.

    Bar indexes stay stable while an asset has open orders (the tape only grows then), which is
    what SimBroker's per-order cursors need.
    """

    def __init__(self) -> None:
        self.md = None
        self.clock = None
        self.sessions = None
        self._times: dict[Asset, list[int]] = {}
        self._prices: dict[Asset, list[float]] = {}
        self._built: dict[Asset, BarSeries] = {}

    def bind(self, md, clock, sessions) -> None:
        self.md, self.clock, self.sessions = md, clock, sessions

    def knows(self, asset: Asset) -> bool:
        return self.md.knows(asset)

    def last_price(self, asset: Asset) -> float | None:
        return self.md.last_price(asset)

    def record(self, asset: Asset, now_ns: int) -> None:
        times = self._times.setdefault(asset, [])
        if times and times[-1] >= now_ns:
            return
        price = self.md.last_price(asset)
        if price is None:
            return
        times.append(int(now_ns))
        self._prices.setdefault(asset, []).append(float(price))
        self._built.pop(asset, None)

    def retain(self, assets: set[Asset]) -> None:
        for asset in [a for a in self._times if a not in assets]:
            del self._times[asset]
            self._prices.pop(asset, None)
            self._built.pop(asset, None)

    def series(self, asset: Asset, timestep: str = "day") -> BarSeries:
        built = self._built.get(asset)
        if built is None:
            t = np.asarray(self._times.get(asset, ()), dtype=np.int64)
            p = np.asarray(self._prices.get(asset, ()), dtype=np.float64)
            built = BarSeries(asset, "tick", self.sessions.tz, t, t, p, p, p, p, np.zeros(len(p)))
            self._built[asset] = built
        return built


class PaperBroker(SimBroker):
    """A paper account in this process: `PaperBroker(cash=100_000, data="alpaca")`.

    `data` says where live quotes come from: "alpaca", "ccxt:<exchange>", "sample" (replayed
    embedded bars, offline) or a `LiveFeed`. Fees, slippage and short selling work as in
    `Strategy.backtest`. Give each strategy its own `PaperBroker`: each is one account.
    """

    is_simulated = True

    def __init__(self, *, cash: float = 100_000.0, data: Any = None, buy_trading_fees=(), sell_trading_fees=(),
                 slippage_bps: float = 0.0, allow_short: bool = False, name: str = "paper") -> None:
        tape = _QuoteTape()
        super().__init__(tape, cash=cash, buy_fees=buy_trading_fees, sell_fees=sell_trading_fees,
                         slippage_bps=slippage_bps, allow_short=allow_short, name=name)
        self.initial_cash = float(cash)
        self.data_spec = data
        self._tape = tape
        self._by_cid: dict[str, Order] = {}
        self._cid_seq = 0
        self.duplicates = 0

    # -- engine wiring --------------------------------------------------------------------------
    def default_feed(self):
        from agentrt.data.live import feed_from_spec

        if self.data_spec is None:
            raise ValueError("PaperBroker needs live quotes: PaperBroker(data='alpaca') (ALPACA_API_KEY/SECRET), "
                             "data='ccxt:binance' (public crypto data) or data='sample' (embedded bars replayed)")
        return feed_from_spec(self.data_spec)

    def bind(self, *, data, clock, sessions, strategy_name: str) -> None:
        """Attach the run's live market data, clock and calendar (called by the live engine)."""
        self._tape.bind(data, clock, sessions)
        self.clock = clock
        self.sessions = sessions
        self.strategy_name = strategy_name

    def connect(self) -> None:
        """Nothing to connect: the account is local."""

    def describe(self) -> dict:
        return {"name": self.name, "kind": "paper", "initial_cash": self.initial_cash,
                "slippage_bps": self._slip * 10_000, "allow_short": self.allow_short}

    # -- orders ---------------------------------------------------------------------------------
    def submit_order(self, order: Order) -> Order:
        cid = order.client_order_id
        if cid:
            known = self._already_submitted(cid)
            if known is not None:
                log.info("order %s was already submitted (client_order_id %s); not sending it again",
                         known.identifier, cid)
                return known
        else:
            self._cid_seq += 1
            order.client_order_id = cid = f"paper-{self._cid_seq:06d}"
        result = super().submit_order(order)
        self._by_cid[cid] = result
        return result

    def find_order(self, client_order_id: str, *, hint: Order | None = None) -> Order | None:
        """The order with this client order id, if this account has seen it (`hint` is not needed here)."""
        return self._by_cid.get(client_order_id)

    def _market_open(self, now_ns: int) -> bool:
        sessions = self.sessions
        if sessions.market == "24/7":
            return True
        k = int(np.searchsorted(sessions.opens, now_ns, side="right")) - 1
        return k >= 0 and now_ns < int(sessions.closes[k])

    def process(self, now_ns: int) -> None:
        """Take a quote for every asset with an open order (market hours only), then match."""
        if not self._active:
            return
        for order in list(self._active):  # a quote taken after an order expired must not fill it
            expire = self._expire_ns.get(order.identifier)
            if expire is not None and now_ns >= expire and order.status.is_active:
                self._close(order, OrderStatus.EXPIRED, "day order not filled by the session close")
        if self._market_open(now_ns):
            for asset in {o.asset for o in self._active}:
                self._tape.record(asset, now_ns)
        super().process(now_ns)
        self._tape.retain({o.asset for o in self._active})

    # -- persistence ------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The account as JSON-able data: cash, positions, open orders, recent client order ids."""
        active_ids = {o.identifier for o in self._active}
        # everything not being matched: closed orders, and linked parents (an OCO lives through its legs,
        # so it is active without being matched itself) — their client order ids must survive a restart
        closed = [o for o in self._by_cid.values() if o.identifier not in active_ids][-_KEEP_CLOSED:]
        return {
            "version": SNAPSHOT_VERSION,
            "cash": self._cash,
            "total_fees": self.total_fees,
            "seq": self._seq,
            "cid_seq": self._cid_seq,
            "positions": [{"asset": asset_record(p.asset), "quantity": p.quantity,
                           "avg_fill_price": p.avg_fill_price} for p in self._positions.values() if p.quantity],
            "open_orders": [dict(order_record(o), expire_ns=self._expire_ns.get(o.identifier))
                            for o in self._active],
            "closed_orders": [order_record(o) for o in closed if o.identifier not in active_ids],
        }

    def restore(self, snap: dict[str, Any]) -> list[Order]:
        """Load a `snapshot()`; open orders resume matching from now. Returns the open orders."""
        version = snap.get("version")
        if version != SNAPSHOT_VERSION:
            raise ValueError(f"paper account snapshot version {version!r} is not {SNAPSHOT_VERSION}; "
                             "start a fresh state (delete the state file) or use the agentrt version that wrote it")
        self._cash = float(snap["cash"])
        self.total_fees = float(snap.get("total_fees", 0.0))
        self._seq = int(snap.get("seq", 0))
        self._cid_seq = int(snap.get("cid_seq", 0))
        self._positions = {}
        for rec in snap.get("positions", ()):
            asset = asset_from_record(rec["asset"])
            self._positions[asset] = Position(asset, float(rec["quantity"]), float(rec["avg_fill_price"]))
        for rec in snap.get("closed_orders", ()):
            order = order_from_record(rec)
            self._orders[order.identifier] = order
            if order.client_order_id:
                self._by_cid[order.client_order_id] = order
        restored: dict[str, Order] = {}
        for rec in snap.get("open_orders", ()):
            restored[rec["identifier"]] = order_from_record(rec)
        for rec in snap.get("open_orders", ()):
            order = restored[rec["identifier"]]
            peer = rec.get("oco_peer")
            if peer and peer in restored:
                order.oco_peer = restored[peer]
        now = self.clock.now_ns
        for rec in snap.get("open_orders", ()):
            order = restored[rec["identifier"]]
            self._orders[order.identifier] = order
            if order.client_order_id:
                self._by_cid[order.client_order_id] = order
            kept_trail = order.trail_stop_price
            self._activate(order, now)
            if kept_trail is not None:
                order.trail_stop_price = kept_trail
            if rec.get("expire_ns") is not None:
                self._expire_ns[order.identifier] = int(rec["expire_ns"])
        for order in restored.values():  # re-link legs to their parent so canceling the parent cancels them
            parent = self._orders.get(order.parent_identifier) if order.parent_identifier else None
            if parent is not None and order not in parent.child_orders:
                parent.child_orders.append(order)
        return list(restored.values())

    def close(self) -> None:
        """Nothing to release."""
