"""Orders from agents: validated, placed through the strategy's own order path, recorded for replay.

Every order an agent places goes through ``host.create_order`` / ``host.submit_order``
exactly like strategy code. Bad requests (unknown symbol, non-positive quantity, unknown
side or type, missing prices) and broker rejections become :class:`OrderError` whose
message goes back to the model as a tool error. Each accepted action is recorded as an
:class:`OrderIntent` so a replay-cache hit can re-apply it against the current broker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import math
from collections.abc import Iterator
from typing import Any

from agentrt.agents.state import fmt_price, fmt_qty, open_orders, value_of

__all__ = [
    "OrderError", "OrderIntent", "RunLedger", "apply_intent", "describe_intent", "intent_of", "normalize_submit",
    "order_view", "recording_orders",
]

SIDES = ("buy", "sell", "sell_short", "buy_to_cover")
ORDER_TYPES = ("market", "limit", "stop", "stop_limit", "trailing_stop")
TIME_IN_FORCE = ("day", "gtc", "ioc", "fok")


class OrderError(ValueError):
    """An agent's order request that cannot be placed; the message is meant for the model."""


@dataclasses.dataclass(frozen=True)
class OrderIntent:
    """One trading action of an agent run, as recorded in the replay cache."""

    action: str
    """``"submit"``, ``"cancel"`` or ``"modify"``."""
    symbol: str | None = None
    quantity: float | None = None
    side: str | None = None
    order_type: str | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    trail_price: float | None = None
    trail_percent: float | None = None
    time_in_force: str = "day"
    take_profit_price: float | None = None
    stop_loss_price: float | None = None
    stop_loss_limit_price: float | None = None
    order_class: str | None = None
    """simple / bracket / oco / oto; None means bracket when exit prices are given."""
    order_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderIntent:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class RunLedger:
    """What one agent run did to the account: the intents to replay and the orders placed."""

    def __init__(self) -> None:
        self.intents: list[OrderIntent] = []
        self.orders: list[dict[str, Any]] = []


def order_view(order: Any) -> dict[str, Any]:
    """A JSON view of a host order for tool results and run results."""
    asset = getattr(order, "asset", None)
    view = {
        "order_id": str(getattr(order, "identifier", "")),
        "symbol": str(getattr(asset, "symbol", asset)),
        "side": str(value_of(order.side)),
        "quantity": float(order.quantity),
        "order_type": str(value_of(getattr(order, "order_type", "market"))),
        "status": str(value_of(getattr(order, "status", ""))),
    }
    for attr in ("limit_price", "stop_price", "trail_price", "trail_percent", "avg_fill_price", "reject_reason"):
        value = getattr(order, attr, None)
        if value is not None:
            view[attr] = value
    return view


def _positive(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OrderError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise OrderError(f"{name} must be a positive number, got {value!r}")
    return v


def _choice(name: str, value: Any, valid: tuple[str, ...]) -> str:
    key = str(value_of(value)).strip().lower().replace("-", "_").replace(" ", "_")
    if key in valid:
        return key
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise OrderError(f"{name} must be one of {', '.join(valid)}; got {value!r}.{hint}")


def normalize_submit(
    *,
    symbol: str,
    quantity: Any,
    side: str,
    order_type: str = "market",
    limit_price: Any = None,
    stop_price: Any = None,
    trail_price: Any = None,
    trail_percent: Any = None,
    time_in_force: str = "day",
    take_profit_price: Any = None,
    stop_loss_price: Any = None,
) -> OrderIntent:
    """Check an order request's shape (not the market) and return its intent."""
    if not isinstance(symbol, str) or not symbol.strip():
        raise OrderError(f"symbol must be a non-empty string such as 'AAPL', got {symbol!r}")
    qty = _positive("quantity", quantity)
    if qty is None:
        raise OrderError("quantity is required and must be positive")
    side_v = _choice("side", side, SIDES)
    type_v = _choice("order_type", order_type, ORDER_TYPES)
    tif = _choice("time_in_force", time_in_force, TIME_IN_FORCE)
    limit_v = _positive("limit_price", limit_price)
    stop_v = _positive("stop_price", stop_price)
    trail_v = _positive("trail_price", trail_price)
    trail_pct = _positive("trail_percent", trail_percent)
    needs = {
        "market": (),
        "limit": ("limit_price",),
        "stop": ("stop_price",),
        "stop_limit": ("limit_price", "stop_price"),
        "trailing_stop": (),
    }[type_v]
    given = {"limit_price": limit_v, "stop_price": stop_v}
    for name in needs:
        if given[name] is None:
            raise OrderError(f"a {type_v} order needs {name}")
    allowed = set(needs) | ({"trail_price", "trail_percent"} if type_v == "trailing_stop" else set())
    for name, value in (("limit_price", limit_v), ("stop_price", stop_v), ("trail_price", trail_v), ("trail_percent", trail_pct)):
        if value is not None and name not in allowed:
            raise OrderError(f"a {type_v} order takes no {name}; use order_type='limit'/'stop'/... to match the prices you give")
    if type_v == "trailing_stop" and (trail_v is None) == (trail_pct is None):
        raise OrderError("a trailing_stop order needs exactly one of trail_price or trail_percent")
    return OrderIntent(
        action="submit",
        symbol=symbol.strip().upper(),
        quantity=qty,
        side=side_v,
        order_type=type_v,
        limit_price=limit_v,
        stop_price=stop_v,
        trail_price=trail_v,
        trail_percent=trail_pct,
        time_in_force=tif,
        take_profit_price=_positive("take_profit_price", take_profit_price),
        stop_loss_price=_positive("stop_loss_price", stop_loss_price),
    )


def _check_known_symbol(host: Any, symbol: str) -> None:
    try:
        price = host.get_last_price(symbol)
    except Exception as exc:
        raise OrderError(f"unknown symbol {symbol!r}: the data source has no prices for it ({exc})") from None
    if price is None or (isinstance(price, float) and not math.isfinite(price)):
        raise OrderError(
            f"unknown symbol {symbol!r}: the data source has no price for it at {host.get_datetime().isoformat()}"
        )


def _find_order(host: Any, order_id: Any) -> Any:
    if order_id is None or not str(order_id).strip():
        raise OrderError("order_id is required; list open orders with orders_open_orders")
    oid = str(order_id).strip()
    getter = getattr(host, "get_order", None)
    order = getter(oid) if callable(getter) else None
    if order is None:
        order = next((o for o in host.get_orders() if str(getattr(o, "identifier", "")) == oid), None)
    if order is None:
        known = [str(getattr(o, "identifier", "")) for o in open_orders(host)]
        raise OrderError(f"no order with id {oid!r}; open orders: {known or 'none'}")
    if order not in open_orders(host):
        raise OrderError(f"order {oid!r} is {value_of(order.status)}, not open; only open orders can be changed")
    return order


def _submit(host: Any, intent: OrderIntent, *, source: str) -> Any:
    _check_known_symbol(host, intent.symbol or "")
    kwargs: dict[str, Any] = {
        "limit_price": intent.limit_price,
        "stop_price": intent.stop_price,
        "trail_price": intent.trail_price,
        "trail_percent": intent.trail_percent,
        "time_in_force": intent.time_in_force,
    }
    if intent.take_profit_price is not None or intent.stop_loss_price is not None:
        kwargs["order_class"] = intent.order_class if intent.order_class not in (None, "simple") else "bracket"
        kwargs["take_profit_price"] = intent.take_profit_price
        kwargs["stop_loss_price"] = intent.stop_loss_price
        if intent.stop_loss_limit_price is not None:
            kwargs["stop_loss_limit_price"] = intent.stop_loss_limit_price
    try:
        order = host.create_order(intent.symbol, intent.quantity, intent.side, **kwargs)
    except (ValueError, TypeError, KeyError) as exc:
        raise OrderError(f"order not accepted: {exc}") from None
    if hasattr(order, "source"):
        try:
            order.source = source
        except AttributeError:
            pass
    submitted = host.submit_order(order)
    order = submitted if submitted is not None else order
    if str(value_of(getattr(order, "status", ""))).lower() == "rejected":
        reason = getattr(order, "reject_reason", None) or "no reason given"
        raise OrderError(f"order rejected: {reason}")
    return order


def _modify(host: Any, intent: OrderIntent, *, source: str) -> Any:
    order = _find_order(host, intent.order_id)
    order_type = str(value_of(order.order_type))
    limit_v = _positive("limit_price", intent.limit_price) if intent.limit_price is not None else None
    stop_v = _positive("stop_price", intent.stop_price) if intent.stop_price is not None else None
    if limit_v is None and stop_v is None:
        raise OrderError("give a new limit_price and/or stop_price to modify an order")
    if limit_v is not None and order_type not in ("limit", "stop_limit"):
        raise OrderError(f"order {intent.order_id!r} is a {order_type} order; it has no limit_price to change")
    if stop_v is not None and order_type not in ("stop", "stop_limit"):
        raise OrderError(f"order {intent.order_id!r} is a {order_type} order; it has no stop_price to change")
    modify = getattr(host, "modify_order", None)
    if callable(modify):
        result = modify(order, limit_price=limit_v, stop_price=stop_v)
        return result if result is not None else order
    # no native modify: cancel and resubmit the same order with the new prices
    host.cancel_order(order)
    replacement = OrderIntent(
        action="submit",
        symbol=str(order.asset.symbol),
        quantity=float(order.quantity) - float(getattr(order, "filled_quantity", 0) or 0),
        side=str(value_of(order.side)),
        order_type=order_type,
        limit_price=limit_v if limit_v is not None else getattr(order, "limit_price", None),
        stop_price=stop_v if stop_v is not None else getattr(order, "stop_price", None),
        time_in_force=str(value_of(getattr(order, "time_in_force", "day"))),
    )
    return _submit(host, replacement, source=source)


def apply_intent(host: Any, intent: OrderIntent, *, source: str = "agent") -> Any:
    """Carry out ``intent`` on ``host``; return the resulting order or raise :class:`OrderError`."""
    if intent.action == "submit":
        return _submit(host, intent, source=source)
    if intent.action == "cancel":
        order = _find_order(host, intent.order_id)
        host.cancel_order(order)
        return order
    if intent.action == "modify":
        return _modify(host, intent, source=source)
    raise OrderError(f"unknown order action {intent.action!r}")


def intent_of(order: Any) -> OrderIntent:
    """The submit intent that re-creates ``order`` (for orders a custom tool placed itself)."""
    asset = getattr(order, "asset", None)
    return OrderIntent(
        action="submit",
        symbol=str(getattr(asset, "symbol", asset)),
        quantity=float(order.quantity),
        side=str(value_of(order.side)),
        order_type=str(value_of(getattr(order, "order_type", "market"))),
        limit_price=getattr(order, "limit_price", None),
        stop_price=getattr(order, "stop_price", None),
        trail_price=getattr(order, "trail_price", None),
        trail_percent=getattr(order, "trail_percent", None),
        time_in_force=str(value_of(getattr(order, "time_in_force", "day"))),
        take_profit_price=getattr(order, "take_profit_price", None),
        stop_loss_price=getattr(order, "stop_loss_price", None),
        stop_loss_limit_price=getattr(order, "stop_loss_limit_price", None),
        order_class=str(value_of(getattr(order, "order_class", "simple"))),
    )


@contextlib.contextmanager
def recording_orders(host: Any, ledger: RunLedger, *, allow_trading: bool = True,
                     source: str = "agent") -> Iterator[None]:
    """Record the orders code calls ``host.submit_order/cancel_order/modify_order`` for, meanwhile.

    A custom tool may trade through the strategy directly (LumiBot habit); recording
    those actions as intents lets a replay-cache hit re-apply them like the built-in
    order tools' actions. The host's methods are shadowed on the instance only while the
    tool runs (the strategy is waiting for the agent then) and restored afterwards. An agent
    created with ``allow_trading=False`` cannot trade this way either: the call raises, and the
    tool error goes back to the model. Orders placed here carry the agent as their ``source``,
    exactly as a replay of them will.
    """
    names = ("submit_order", "cancel_order", "modify_order")

    def refuse() -> None:
        raise OrderError("this agent was created with allow_trading=False: it cannot place, cancel or modify "
                         "orders, not even through a tool (create it with allow_trading=True)")
    originals = {name: getattr(host, name, None) for name in names}
    own = {name: name in getattr(host, "__dict__", {}) for name in names}

    def submit(order: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(order, list):
            return [submit(o, *args, **kwargs) for o in order]
        if not allow_trading:
            refuse()
        if getattr(order, "source", None) == "strategy":
            order.source = source
        result = originals["submit_order"](order, *args, **kwargs)
        placed = result if result is not None else order
        if str(value_of(getattr(placed, "status", ""))).lower() != "rejected":
            ledger.intents.append(intent_of(placed))
            ledger.orders.append({**order_view(placed), "action": "submit"})
        return result

    def cancel(order: Any, *args: Any, **kwargs: Any) -> Any:
        if not allow_trading:
            refuse()
        result = originals["cancel_order"](order, *args, **kwargs)
        ledger.intents.append(OrderIntent(action="cancel", order_id=str(order.identifier)))
        ledger.orders.append({**order_view(order), "action": "cancel"})
        return result

    def modify(order: Any, *args: Any, limit_price: Any = None, stop_price: Any = None, **kwargs: Any) -> Any:
        if not allow_trading:
            refuse()
        result = originals["modify_order"](order, *args, limit_price=limit_price, stop_price=stop_price, **kwargs)
        ledger.intents.append(OrderIntent(action="modify", order_id=str(order.identifier), limit_price=limit_price,
                                          stop_price=stop_price))
        ledger.orders.append({**order_view(result if result is not None else order), "action": "modify"})
        return result

    wrappers = {"submit_order": submit, "cancel_order": cancel, "modify_order": modify}
    try:
        for name in names:
            if callable(originals[name]):
                setattr(host, name, wrappers[name])
        yield
    finally:
        for name in names:
            if not callable(originals[name]):
                continue
            if own[name]:
                setattr(host, name, originals[name])
            else:
                try:
                    delattr(host, name)
                except AttributeError:
                    pass


def describe_intent(intent: OrderIntent) -> str:
    if intent.action == "submit":
        prices = "".join(
            f" {n}={fmt_price(getattr(intent, n))}"
            for n in ("limit_price", "stop_price", "trail_price", "trail_percent")
            if getattr(intent, n) is not None
        )
        return f"{intent.side} {fmt_qty(intent.quantity or 0)} {intent.symbol} {intent.order_type}{prices}"
    return f"{intent.action} order {intent.order_id}"
