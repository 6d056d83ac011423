"""Trading fee model: `TradingFee` and the fee of one fill."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TradingFee:
    """One fee rule; a backtest takes separate lists for buys and sells.

    `percent_fee` is a fraction of the fill's notional (0.001 = 0.1 %); `per_share_fee` applies to
    shares/units of non-contract assets; `per_contract_fee` to options and futures; `flat_fee` once
    per fill. `maker`/`taker` say whether the rule applies to resting limit fills (maker) and to
    market/stop fills (taker).
    """

    flat_fee: float = 0.0
    percent_fee: float = 0.0
    per_share_fee: float = 0.0
    per_contract_fee: float = 0.0
    maker: bool = True
    taker: bool = True

    def __post_init__(self) -> None:
        for name in ("flat_fee", "percent_fee", "per_share_fee", "per_contract_fee"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"TradingFee.{name} must be >= 0, got {value}")
        if self.percent_fee >= 1:
            raise ValueError(
                f"TradingFee.percent_fee is a fraction (0.001 = 0.1%), got {self.percent_fee}; "
                "did you mean percent_fee={:g}?".format(self.percent_fee / 100)
            )

    def amount(self, *, price: float, quantity: float, multiplier: float, is_contract: bool, is_maker: bool) -> float:
        if (is_maker and not self.maker) or (not is_maker and not self.taker):
            return 0.0
        qty = abs(quantity)
        fee = self.flat_fee + self.percent_fee * price * qty * multiplier
        fee += self.per_contract_fee * qty if is_contract else self.per_share_fee * qty
        return fee


def total_fee(
    fees: Iterable[TradingFee], *, price: float, quantity: float, multiplier: float, is_contract: bool, is_maker: bool
) -> float:
    total = 0.0
    for fee in fees:
        total += fee.amount(
            price=price, quantity=quantity, multiplier=multiplier, is_contract=is_contract, is_maker=is_maker
        )
    return round(total, 10)
