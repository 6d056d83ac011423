"""The point-in-time state snapshot of a run: what the agent is told, and what its cache key holds.

Money and quantities are written as strings with fixed formatting (cash and portfolio value
to the cent, prices to 1e-6, quantities without float noise) so the same state always
gives the same key, whatever float arithmetic led to it.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["fmt_money", "fmt_price", "fmt_qty", "order_snapshot", "position_snapshot", "snapshot", "value_of"]


def value_of(x: Any) -> Any:
    """The ``.value`` of an enum (``OrderSide.BUY`` → ``"buy"``), else ``x``."""
    return getattr(x, "value", x)


def fmt_money(x: Any) -> str:
    if x is None:
        return "null"
    v = float(x)
    if not math.isfinite(v):
        return str(v)
    out = f"{v:.2f}"
    return "0.00" if out == "-0.00" else out


def fmt_price(x: Any) -> str | None:
    if x is None:
        return None
    v = float(x)
    if not math.isfinite(v):
        return str(v)
    out = f"{v:.6f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def fmt_qty(x: Any) -> str:
    v = float(x)
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.8f}".rstrip("0").rstrip(".")


def _asset_of(obj: Any) -> tuple[str, str]:
    asset = getattr(obj, "asset", None)
    if asset is None:
        return str(getattr(obj, "symbol", "?")), "stock"
    if isinstance(asset, str):
        return asset, "stock"
    return str(getattr(asset, "symbol", asset)), str(value_of(getattr(asset, "asset_type", "stock")))


def position_snapshot(position: Any) -> dict[str, Any]:
    symbol, asset_type = _asset_of(position)
    return {
        "symbol": symbol,
        "asset_type": asset_type,
        "quantity": fmt_qty(position.quantity),
        "avg_fill_price": fmt_price(getattr(position, "avg_fill_price", None) or 0.0),
    }


def order_snapshot(order: Any) -> dict[str, Any]:
    symbol, asset_type = _asset_of(order)
    return {
        "id": str(getattr(order, "identifier", "")),
        "symbol": symbol,
        "asset_type": asset_type,
        "side": str(value_of(order.side)),
        "quantity": fmt_qty(order.quantity),
        "order_type": str(value_of(getattr(order, "order_type", "market"))),
        "status": str(value_of(getattr(order, "status", "open"))),
        "limit_price": fmt_price(getattr(order, "limit_price", None)),
        "stop_price": fmt_price(getattr(order, "stop_price", None)),
    }


def _is_open(order: Any) -> bool:
    status = str(value_of(getattr(order, "status", "open"))).lower()
    return status in ("new", "open", "partially_filled", "submitted", "unprocessed", "pending_new")


def open_orders(host: Any) -> list[Any]:
    """The host's open orders (``get_orders()`` filtered to active statuses)."""
    return [o for o in host.get_orders() if _is_open(o)]


class Snapshot(dict):
    """A state snapshot: a plain dict whose keys (at every depth) are strings by construction,
    so cache keys can encode it without re-checking every key."""

    __slots__ = ()


def snapshot(host: Any) -> dict[str, Any]:
    """``{"sim_time", "cash", "portfolio_value", "positions", "open_orders"}`` of ``host`` now."""
    positions = [
        position_snapshot(p)
        for p in host.get_positions()
        if float(getattr(p, "quantity", 0) or 0) != 0
    ]
    positions.sort(key=lambda p: (p["symbol"], p["asset_type"]))
    orders = [order_snapshot(o) for o in open_orders(host)]
    orders.sort(key=lambda o: o["id"])
    return Snapshot(
        sim_time=host.get_datetime().isoformat(),
        cash=fmt_money(host.cash),
        portfolio_value=fmt_money(host.portfolio_value),
        positions=positions,
        open_orders=orders,
    )
