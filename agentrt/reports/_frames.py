"""Normalise the trades, cash-event, indicator and price frames into the shapes the trades page draws.

Every time becomes a naive wall-clock time in the display time zone (plotly.js ignores UTC
offsets); missing text becomes ``""``; missing optional columns are tolerated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from agentrt.reports import _html
from agentrt.reports._html import is_missing

FILL_STATUSES = frozenset({"fill", "filled", "partial_fill", "partially_filled"})
LIFECYCLE_STATUSES = frozenset({"cash_settled", "assigned", "exercised"})
INDICATOR_COLUMNS = ("datetime", "kind", "name", "value", "color", "symbol", "asset", "detail_text")


def column(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def text(series: pd.Series) -> pd.Series:
    # built as object dtype: .map() on an empty series keeps its float dtype, and .str then fails
    return pd.Series(["" if is_missing(v) else str(v).strip() for v in series], index=series.index, dtype=object)


def trade_events(trades: pd.DataFrame | None, tz: str) -> pd.DataFrame:
    columns = [
        "time",
        "symbol",
        "asset_type",
        "side",
        "type",
        "status",
        "price",
        "quantity",
        "multiplier",
        "fees",
        "reason",
        "identifier",
    ]
    if trades is None or len(trades) == 0 or "symbol" not in trades.columns:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).assign(time=pd.DatetimeIndex([]))
    frame = trades
    if "event_kind" in frame.columns:
        frame = frame[text(frame["event_kind"]).str.lower() == "trade"]
    out = pd.DataFrame(
        {
            "time": _html.local_times(column(frame, "time"), tz),
            "symbol": text(column(frame, "symbol")),
            "asset_type": text(column(frame, "asset_type")).str.lower(),
            "side": text(column(frame, "side")).str.lower(),
            "type": text(column(frame, "type")).str.lower(),
            "status": text(column(frame, "status")).str.lower(),
            "price": pd.to_numeric(column(frame, "price"), errors="coerce"),
            "quantity": pd.to_numeric(column(frame, "quantity"), errors="coerce"),
            "multiplier": pd.to_numeric(column(frame, "multiplier"), errors="coerce"),
            "fees": pd.to_numeric(column(frame, "fees"), errors="coerce"),
            "reason": text(column(frame, "reason")),
            "identifier": text(column(frame, "identifier")),
        }
    )
    out = out[out["symbol"] != ""]
    return out.sort_values("time", kind="mergesort").reset_index(drop=True)


def cash_events(trades: pd.DataFrame | None, tz: str) -> pd.DataFrame:
    columns = ["time", "kind", "amount", "direction", "reason", "external"]
    if trades is None or len(trades) == 0 or "event_kind" not in trades.columns:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).assign(time=pd.DatetimeIndex([]))
    frame = trades[text(trades["event_kind"]).str.lower() == "cash_event"]
    amount = pd.to_numeric(column(frame, "cash_event_amount"), errors="coerce")
    direction = text(column(frame, "cash_event_direction")).str.lower()
    signed = np.where(direction == "out", -amount.abs(), np.where(direction == "in", amount.abs(), amount))
    out = pd.DataFrame(
        {
            "time": _html.local_times(column(frame, "time"), tz),
            "kind": text(column(frame, "cash_event_type")).str.lower(),
            "amount": signed,
            "direction": direction,
            "reason": text(column(frame, "cash_event_reason")),
            "external": column(frame, "is_external_cash_flow").map(
                lambda v: (not is_missing(v)) and str(v).lower() in ("true", "1", "yes")
            ),
        }
    )
    return out.sort_values("time", kind="mergesort").reset_index(drop=True)


def indicator_rows(indicators: pd.DataFrame | None, tz: str) -> pd.DataFrame:
    if indicators is None or len(indicators) == 0:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in INDICATOR_COLUMNS})
        frame["datetime"] = pd.DatetimeIndex([])
        frame["value"] = pd.Series(dtype=float)
        return frame
    asset = column(indicators, "asset").map(
        lambda v: None if is_missing(v) or str(v).strip() == "" else str(v).strip()
    )
    out = pd.DataFrame(
        {
            "datetime": _html.local_times(column(indicators, "datetime"), tz),
            "kind": text(column(indicators, "kind")).str.lower(),
            "name": text(column(indicators, "name")).replace("", "unnamed"),
            "value": pd.to_numeric(column(indicators, "value"), errors="coerce"),
            "color": text(column(indicators, "color")),
            "symbol": text(column(indicators, "symbol")),
            "asset": asset.astype(object),
            "detail_text": text(column(indicators, "detail_text")),
            "size": pd.to_numeric(column(indicators, "size", np.nan), errors="coerce"),
        }
    )
    return out.sort_values("datetime", kind="mergesort").reset_index(drop=True)


def ohlc(frame: pd.DataFrame | None, tz: str) -> pd.DataFrame | None:
    if frame is None or len(frame) == 0:
        return None
    data = frame.rename(columns={c: str(c).lower() for c in frame.columns})
    if "datetime" in data.columns and not isinstance(data.index, pd.DatetimeIndex):
        data = data.set_index("datetime")
    keep = [c for c in ("open", "high", "low", "close", "volume") if c in data.columns]
    if "close" not in keep:
        return None
    data = data[keep].apply(pd.to_numeric, errors="coerce")
    data.index = _html.local_times(data.index, tz)
    return data.sort_index(kind="mergesort")
