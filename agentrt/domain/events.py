"""Things that happened to an account: fills and cash events (frozen records)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from agentrt.domain.assets import Asset

CASH_EVENT_TYPES = ("deposit", "withdrawal", "interest", "fee", "dividend", "adjustment")


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order."""

    time: _dt.datetime
    order_id: str
    asset: Asset
    side: str
    price: float
    quantity: float
    fees: float
    multiplier: float
    order_type: str
    status: str  # "fill" or "partial_fill"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CashEvent:
    """Cash moving in or out of the account without a trade."""

    time: _dt.datetime
    cash_event_type: str
    amount: float  # signed: + into the account, - out of it
    reason: str = ""
    is_external_cash_flow: bool = False

    @property
    def direction(self) -> str:
        return "in" if self.amount >= 0 else "out"
