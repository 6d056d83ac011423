"""Run artifacts: the trades/cash event stream, stats, indicators, logs and settings files.

Column lists are versioned and pinned by tests (tests/reports/test_artifacts.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

ARTIFACTS_VERSION = 1

TRADE_COLUMNS = (
    "event_kind", "time", "strategy", "identifier", "symbol", "asset_type", "side", "type", "status", "price",
    "quantity", "multiplier", "fees", "reason", "expiration", "strike", "right", "order_class", "parent_identifier", "source",
    "cash_event_type", "cash_event_amount", "cash_event_reason", "cash_event_direction", "is_external_cash_flow",
)
STATS_COLUMNS = ("datetime", "portfolio_value", "cash_adjusted_value", "cash", "positions_value", "return")
INDICATOR_COLUMNS = ("datetime", "kind", "name", "value", "color", "symbol", "asset", "detail_text")
LOG_COLUMNS = ("datetime", "wall_time", "level", "message")


def trade_rows(events: list[tuple], *, strategy: str) -> list[dict[str, Any]]:
    """Flatten broker events into rows of `TRADE_COLUMNS`."""
    rows = []
    for ev in events:
        if ev[0] == "cash":
            ce = ev[1]
            rows.append({
                "event_kind": "cash_event", "time": ce.time, "strategy": strategy,
                "cash_event_type": ce.cash_event_type, "cash_event_amount": ce.amount,
                "cash_event_reason": ce.reason, "cash_event_direction": ce.direction,
                "is_external_cash_flow": ce.is_external_cash_flow,
            })
            continue
        _, order, fill, status, reason = ev
        when = fill.time if fill is not None else order.updated_at
        rows.append({
            "event_kind": "trade",
            "time": when,
            "strategy": order.strategy or strategy,
            "identifier": order.identifier,
            "symbol": order.asset.symbol,
            "asset_type": order.asset.asset_type.value,
            "side": order.side.value,
            "type": fill.order_type if fill is not None else order.order_type.value,
            "status": status,
            "price": fill.price if fill is not None else (order.limit_price or order.stop_price),
            "quantity": fill.quantity if fill is not None else order.quantity,
            "multiplier": order.asset.multiplier,
            "fees": fill.fees if fill is not None else 0.0,
            "reason": reason or order.reject_reason or "",
            "expiration": order.asset.expiration.isoformat() if order.asset.expiration else None,
            "strike": order.asset.strike,
            "right": order.asset.right,
            "order_class": order.order_class.value,
            "parent_identifier": order.parent_identifier,
            "source": order.source,
        })
    return rows


def trades_frame(rows: list[dict[str, Any]], *, tz: str = "UTC"):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(tz)
    for col in ("price", "quantity", "multiplier", "fees", "strike", "cash_event_amount"):
        frame[col] = frame[col].astype("float64")
    frame["is_external_cash_flow"] = frame["is_external_cash_flow"].astype("boolean")
    return frame


def write_frame_csv(frame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", float_format=None)


def write_parquet(frame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def write_settings(settings: dict, path: Path) -> None:
    path.write_text(json.dumps(settings, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
