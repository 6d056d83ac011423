"""Orders: the `Order` record, its side/type/status/class enums and input validation."""

from __future__ import annotations

import datetime as _dt
import difflib
from enum import Enum

from agentrt.domain.assets import Asset


class _StrEnum(str, Enum):
    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: object, *, what: str) -> "_StrEnum":
        if isinstance(value, cls):
            return value
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        for member in cls:
            if member.value == key:
                return member
        aliases = _ALIASES.get(cls.__name__, {})
        if key in aliases:
            return cls(aliases[key])
        valid = [m.value for m in cls]
        hint = difflib.get_close_matches(key, valid + list(aliases), n=1)
        extra = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(f"unknown {what} {value!r}; expected one of {valid}.{extra}")


_ALIASES = {
    "OrderStatus": {"fill": "filled", "cancelled": "canceled", "partial_fill": "partially_filled"},
    "OrderSide": {"long": "buy", "short": "sell_short"},
    "OrderType": {"stop_market": "stop", "stoplimit": "stop_limit", "trail": "trailing_stop", "trailing": "trailing_stop"},
}


class OrderSide(_StrEnum):
    BUY = "buy"
    SELL = "sell"
    BUY_TO_COVER = "buy_to_cover"
    SELL_SHORT = "sell_short"

    @property
    def sign(self) -> int:
        return 1 if self in (OrderSide.BUY, OrderSide.BUY_TO_COVER) else -1


class OrderType(_StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class OrderClass(_StrEnum):
    SIMPLE = "simple"
    BRACKET = "bracket"
    OCO = "oco"
    OTO = "oto"


class TimeInForce(_StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(_StrEnum):
    NEW = "new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_active(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class Order:
    """An order and its lifecycle. Created by `Strategy.create_order`, changed only by a broker.

    LumiBot names are kept: `order.side`, `order.quantity`, `order.status`, `order.identifier`,
    `order.avg_fill_price`, `Order.OrderSide.BUY` ...
    """

    OrderSide = OrderSide
    OrderType = OrderType
    OrderStatus = OrderStatus
    OrderClass = OrderClass

    __slots__ = (
        "identifier", "asset", "quantity", "side", "order_type", "limit_price", "stop_price",
        "trail_price", "trail_percent", "order_class", "take_profit_price", "stop_loss_price",
        "stop_loss_limit_price", "time_in_force", "status", "filled_quantity", "avg_fill_price",
        "reject_reason", "created_at", "submitted_at", "updated_at", "strategy", "tag",
        "parent_identifier", "child_orders", "oco_peer", "client_order_id", "trail_stop_price",
        "active_from_ns", "_fees_paid", "source",
    )

    def __init__(
        self,
        asset: Asset,
        quantity: float,
        side: OrderSide,
        *,
        order_type: OrderType = OrderType.MARKET,
        limit_price: float | None = None,
        stop_price: float | None = None,
        trail_price: float | None = None,
        trail_percent: float | None = None,
        order_class: OrderClass = OrderClass.SIMPLE,
        take_profit_price: float | None = None,
        stop_loss_price: float | None = None,
        stop_loss_limit_price: float | None = None,
        time_in_force: TimeInForce = TimeInForce.DAY,
        strategy: str = "",
        tag: str = "",
        identifier: str = "",
        client_order_id: str | None = None,
    ) -> None:
        self.identifier = identifier
        self.asset = asset
        self.quantity = quantity
        self.side = side
        self.order_type = order_type
        self.limit_price = limit_price
        self.stop_price = stop_price
        self.trail_price = trail_price
        self.trail_percent = trail_percent
        self.order_class = order_class
        self.take_profit_price = take_profit_price
        self.stop_loss_price = stop_loss_price
        self.stop_loss_limit_price = stop_loss_limit_price
        self.time_in_force = time_in_force
        self.status = OrderStatus.NEW
        self.filled_quantity = 0.0
        self.avg_fill_price: float | None = None
        self.reject_reason: str | None = None
        self.created_at: _dt.datetime | None = None
        self.submitted_at: _dt.datetime | None = None
        self.updated_at: _dt.datetime | None = None
        self.strategy = strategy
        self.tag = tag
        self.parent_identifier: str | None = None
        self.child_orders: list[Order] = []
        self.oco_peer: Order | None = None
        self.client_order_id = client_order_id
        self.trail_stop_price: float | None = None
        self.active_from_ns = 0
        self._fees_paid = 0.0
        self.source = "strategy"

    # LumiBot-compatible conveniences -------------------------------------------------------
    @property
    def type(self) -> OrderType:
        return self.order_type

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    def is_filled(self) -> bool:
        return self.status is OrderStatus.FILLED

    def is_canceled(self) -> bool:
        return self.status is OrderStatus.CANCELED

    @property
    def remaining_quantity(self) -> float:
        return self.quantity - self.filled_quantity

    @property
    def signed_quantity(self) -> float:
        return self.side.sign * self.quantity

    def to_dict(self) -> dict:
        return {
            "identifier": self.identifier,
            "symbol": self.asset.symbol,
            "asset_type": self.asset.asset_type.value,
            "side": self.side.value,
            "quantity": self.quantity,
            "order_type": self.order_type.value,
            "order_class": self.order_class.value,
            "limit_price": self.limit_price,
            "stop_price": self.stop_price,
            "trail_price": self.trail_price,
            "trail_percent": self.trail_percent,
            "take_profit_price": self.take_profit_price,
            "stop_loss_price": self.stop_loss_price,
            "time_in_force": self.time_in_force.value,
            "status": self.status.value,
            "filled_quantity": self.filled_quantity,
            "avg_fill_price": self.avg_fill_price,
            "reject_reason": self.reject_reason,
        }

    def __repr__(self) -> str:
        price = ""
        if self.limit_price is not None:
            price += f" limit={self.limit_price:g}"
        if self.stop_price is not None:
            price += f" stop={self.stop_price:g}"
        return (
            f"Order({self.identifier or '-'} {self.side.value} {self.quantity:g} {self.asset} "
            f"{self.order_type.value}{price} {self.status.value})"
        )


def infer_order_type(
    *,
    limit_price: float | None,
    stop_price: float | None,
    trail_price: float | None,
    trail_percent: float | None,
) -> OrderType:
    """LumiBot infers the type from the prices given."""
    if trail_price is not None or trail_percent is not None:
        return OrderType.TRAILING_STOP
    if limit_price is not None and stop_price is not None:
        return OrderType.STOP_LIMIT
    if limit_price is not None:
        return OrderType.LIMIT
    if stop_price is not None:
        return OrderType.STOP
    return OrderType.MARKET
