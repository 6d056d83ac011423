"""Holdings and quotes: `Position` (an account's holding of one asset) and `Quote`."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from agentrt.domain.assets import Asset


class Position:
    """Quantity held of one asset and its average fill price (negative quantity = short)."""

    __slots__ = ("asset", "quantity", "avg_fill_price")

    def __init__(self, asset: Asset, quantity: float = 0.0, avg_fill_price: float = 0.0) -> None:
        self.asset = asset
        self.quantity = quantity
        self.avg_fill_price = avg_fill_price

    @property
    def symbol(self) -> str:
        return self.asset.symbol

    @property
    def qty(self) -> float:
        return self.quantity

    def apply(self, signed_qty: float, price: float) -> float:
        """Apply a fill; return the realised P&L (before fees, per unit multiplier 1)."""
        old = self.quantity
        new = old + signed_qty
        realised = 0.0
        if old == 0 or (old > 0) == (signed_qty > 0):
            total = abs(old) + abs(signed_qty)
            self.avg_fill_price = (abs(old) * self.avg_fill_price + abs(signed_qty) * price) / total
        else:
            closed = min(abs(old), abs(signed_qty))
            realised = closed * (price - self.avg_fill_price) * (1 if old > 0 else -1)
            if new == 0:
                self.avg_fill_price = 0.0
            elif (new > 0) != (old > 0):  # flipped through zero
                self.avg_fill_price = price
        self.quantity = 0.0 if abs(new) < 1e-12 else new
        return realised

    def to_dict(self) -> dict:
        return {
            "symbol": self.asset.symbol,
            "asset_type": self.asset.asset_type.value,
            "quantity": self.quantity,
            "avg_fill_price": round(self.avg_fill_price, 6),
        }

    def __repr__(self) -> str:
        return f"Position({self.asset}, quantity={self.quantity:g}, avg_fill_price={self.avg_fill_price:.4f})"


@dataclass(frozen=True, slots=True)
class Quote:
    """Bid/ask/last at a moment. From daily bars, bid = ask = last = the last visible close."""

    asset: Asset
    bid: float | None
    ask: float | None
    last: float | None
    time: _dt.datetime | None = None

    @property
    def mid_price(self) -> float | None:
        if self.bid is None or self.ask is None:
            return self.last
        return (self.bid + self.ask) / 2
