"""Pure value types of agentrt: assets, orders, positions, fills, cash events, fees (no I/O)."""

from agentrt.domain.assets import Asset, AssetType, as_asset
from agentrt.domain.events import CashEvent, Fill
from agentrt.domain.fees import TradingFee
from agentrt.domain.orders import Order, OrderClass, OrderSide, OrderStatus, OrderType, TimeInForce
from agentrt.domain.position import Position, Quote

__all__ = [
    "Asset",
    "AssetType",
    "CashEvent",
    "Fill",
    "Order",
    "OrderClass",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "Quote",
    "TimeInForce",
    "TradingFee",
    "as_asset",
]
