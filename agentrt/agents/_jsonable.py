"""Conversion of arbitrary tool results into plain JSON values a model can read."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["to_jsonable"]


def _frame_records(frame: Any) -> list[dict[str, Any]]:
    index = frame.index
    named = index.name is not None or getattr(index, "names", [None])[0] is not None
    is_time = hasattr(index, "tz") or str(getattr(index, "dtype", "")).startswith("datetime")
    if named or is_time:
        if not named:
            frame = frame.rename_axis("datetime")
        frame = frame.reset_index()
    columns = [str(c) for c in frame.columns]
    return [
        {col: to_jsonable(value) for col, value in zip(columns, row)}
        for row in frame.itertuples(index=False, name=None)
    ]


def to_jsonable(value: Any, _depth: int = 0) -> Any:
    """Return ``value`` as JSON-compatible Python data.

    DataFrames become lists of records (a datetime or named index becomes a column),
    Series become ``{index: value}``, numpy scalars and arrays become Python numbers and
    lists, datetimes/dates/Timestamps become ISO strings, NaN and infinities become
    ``None``, enums their value, dataclasses and pydantic models dicts; anything else
    its ``str()``.
    """
    if _depth > 64:
        return str(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _depth + 1)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, Mapping):
        out = {str(to_jsonable(k, _depth + 1)): to_jsonable(v, _depth + 1) for k, v in value.items()}
        if len(out) != len(value):  # e.g. {1: a, "1": b}: JSON keys are strings, one value would vanish
            seen: dict[str, Any] = {}
            for k in value:
                name = str(to_jsonable(k, _depth + 1))
                if name in seen:
                    raise ValueError(f"keys {seen[name]!r} and {k!r} both become the JSON key {name!r}; "
                                     "rename one so no value is lost")
                seen[name] = k
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, _depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_jsonable(v, _depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    module = type(value).__module__
    if module.startswith("pandas"):
        name = type(value).__name__
        if name == "DataFrame":
            return _frame_records(value)
        if name == "Series":
            return {str(to_jsonable(k, _depth + 1)): to_jsonable(v, _depth + 1) for k, v in value.items()}
        if name == "NaTType":
            return None
        if name == "Timestamp":
            return value.isoformat()
        if name == "Timedelta":
            return str(value)
    if module == "numpy" and hasattr(value, "tolist"):
        return to_jsonable(value.tolist(), _depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name), _depth + 1) for f in dataclasses.fields(value)
        }
    dump = getattr(value, "model_dump", None)
    if callable(dump) and hasattr(type(value), "model_fields"):
        return to_jsonable(dump(mode="json"), _depth + 1)
    if hasattr(value, "tolist") and callable(value.tolist):
        try:
            return to_jsonable(value.tolist(), _depth + 1)
        except Exception:
            pass
    return str(value)
