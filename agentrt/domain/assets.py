"""Tradable instruments: the `Asset` value type and its asset types."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import Enum


class AssetType(str, Enum):
    """Kinds of instrument; the string values are what files and tools show."""

    STOCK = "stock"
    OPTION = "option"
    FUTURE = "future"
    CONT_FUTURE = "cont_future"
    CRYPTO = "crypto"
    FOREX = "forex"
    INDEX = "index"

    def __str__(self) -> str:  # "stock", not "AssetType.STOCK"
        return self.value

    @property
    def default_multiplier(self) -> float:
        return 100.0 if self is AssetType.OPTION else 1.0

    @property
    def is_contract(self) -> bool:
        """Options and futures are charged per contract, everything else per share/unit."""
        return self in (AssetType.OPTION, AssetType.FUTURE, AssetType.CONT_FUTURE)


_TYPE_ALIASES = {t.value: t for t in AssetType} | {"equity": AssetType.STOCK, "etf": AssetType.STOCK}


def _parse_type(value: AssetType | str) -> AssetType:
    if isinstance(value, AssetType):
        return value
    key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return _TYPE_ALIASES[key]
    except KeyError:
        valid = ", ".join(t.value for t in AssetType)
        raise ValueError(f"unknown asset_type {value!r}; expected one of: {valid}") from None


@dataclass(frozen=True, slots=True)
class Asset:
    """An instrument. `Asset("AAPL")` is a stock; a plain string works wherever an Asset does.

    Options carry `expiration`, `strike` and `right` ("call"/"put") and a default multiplier of
    100; `quote` names the quote currency of a crypto or forex pair (``Asset("BTC",
    asset_type="crypto", quote="USD")``).
    """

    symbol: str
    asset_type: AssetType = AssetType.STOCK
    expiration: _dt.date | None = None
    strike: float | None = None
    right: str | None = None
    multiplier: float = 0.0
    quote: str | None = None
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    AssetType = AssetType  # LumiBot habit: Asset.AssetType.OPTION

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol.strip():
            raise ValueError(f"Asset symbol must be a non-empty string, got {self.symbol!r}")
        object.__setattr__(self, "symbol", self.symbol.strip().upper())
        kind = _parse_type(self.asset_type)
        object.__setattr__(self, "asset_type", kind)
        if not self.multiplier:
            object.__setattr__(self, "multiplier", kind.default_multiplier)
        if self.right is not None:
            right = str(self.right).strip().lower()
            if right not in ("call", "put"):
                raise ValueError(f"option right must be 'call' or 'put', got {self.right!r}")
            object.__setattr__(self, "right", right)
        object.__setattr__(self, "_hash", hash((self.symbol, kind, self.expiration, self.strike, self.right,
                                                self.quote)))
        if kind is AssetType.OPTION and (self.expiration is None or self.strike is None or self.right is None):
            raise ValueError(
                f"option {self.symbol!r} needs expiration, strike and right, e.g. "
                "Asset('SPY', asset_type='option', expiration=date(2025, 1, 17), strike=450, right='call')"
            )

    def __hash__(self) -> int:  # cached: assets key every per-bar lookup
        return self._hash

    def __str__(self) -> str:
        if self.asset_type is AssetType.OPTION:
            return f"{self.symbol} {self.expiration} {self.strike:g} {self.right}"
        if self.quote:
            return f"{self.symbol}/{self.quote}"
        return self.symbol

    @property
    def key(self) -> str:
        """Stable identifier used in files and caches."""
        return str(self)


_CACHE: dict[str, Asset] = {}


def as_asset(value: Asset | str) -> Asset:
    """Accept an `Asset` or a plain symbol string ("AAPL", "BTC/USD")."""
    if type(value) is Asset:
        return value
    if isinstance(value, str):
        cached = _CACHE.get(value)
        if cached is None:
            if "/" in value:
                base, quote = value.split("/", 1)
                cached = Asset(base, asset_type=AssetType.CRYPTO, quote=quote.strip().upper())
            else:
                cached = Asset(value)
            _CACHE[value] = cached
        return cached
    if isinstance(value, Asset):
        return value
    raise TypeError(f"expected an Asset or a symbol string, got {type(value).__name__}: {value!r}")
