"""The `Broker` protocol every venue implements (simulated, paper, Alpaca, CCXT) and shared errors."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agentrt.domain import Asset, CashEvent, Fill, Order, OrderStatus, Position


class BrokerError(RuntimeError):
    """A broker refused or failed an operation; the message says why and what to do."""


class BrokerListener(Protocol):
    def on_fill(self, order: Order, fill: Fill, position: Position) -> None: ...

    def on_cancel(self, order: Order) -> None: ...


@runtime_checkable
class Broker(Protocol):
    """What a strategy may do with an account. The strategy layer talks only to this."""

    name: str
    is_simulated: bool

    @property
    def cash(self) -> float: ...

    def portfolio_value(self) -> float: ...

    def get_positions(self) -> list[Position]: ...

    def get_position(self, asset: Asset) -> Position | None: ...

    def submit_order(self, order: Order) -> Order: ...

    def cancel_order(self, order: Order) -> Order: ...

    def modify_order(self, order: Order, *, limit_price: float | None = None,
                     stop_price: float | None = None) -> Order: ...

    def get_orders(self, *, active_only: bool = True) -> list[Order]: ...

    def get_order(self, identifier: str) -> Order | None: ...

    def cash_event(self, amount: float, *, cash_event_type: str, reason: str = "",
                   is_external_cash_flow: bool = False) -> CashEvent: ...


class OrderRecords:
    """Shared bookkeeping of the brokers: rejecting with a reason, and client-order-id de-duplication.

    Expects `clock`, `events` (the trades event list) and, for de-duplication, `_by_cid` and
    `duplicates` on the broker.
    """

    def _reject(self, order: Order, reason: str) -> Order:
        order.status = OrderStatus.REJECTED
        order.reject_reason = reason
        order.updated_at = self.clock.now()
        self.events.append(("trade", order, None, "rejected", reason))
        return order

    def _begin_submit(self, order: Order) -> Order | None:
        """Give `order` a client order id if it has none; return the order already sent under that id
        (nothing is sent twice), or None after stamping `order` as submitted now."""
        if not order.client_order_id:
            import uuid

            order.client_order_id = f"agentrt-{uuid.uuid4().hex[:20]}"
        known = self._already_submitted(order.client_order_id)
        if known is not None:
            return known
        order.submitted_at = order.created_at = order.updated_at = self.clock.now()
        order.strategy = order.strategy or self.strategy_name
        return None

    def _already_submitted(self, client_order_id: str) -> Order | None:
        """The order this client order id was already sent as (counted as a duplicate), or None."""
        known = self._by_cid.get(client_order_id)
        if known is not None:
            self.duplicates += 1
        return known
