"""Data-source routing by asset type (`{"default": "sample", "crypto": "ccxt"}`) and source lookup by name."""

from __future__ import annotations

import json
import os
import re

from agentrt.data.base import DataError, DataSource

_KNOWN = ("sample", "yahoo", "csv:<path>", "parquet:<path>", "pandas")
_TYPE_KEYS = ("default", "stock", "option", "future", "cont_future", "crypto", "forex", "index")


def _norm_key(key: str) -> str:
    return re.sub(r"[\s_\-]", "", str(key).lower())


def source_from_name(name: str | DataSource | type) -> DataSource:
    """`"sample"`, `"yahoo"`, `"csv:PATH"`, `"parquet:PATH"`, a DataSource instance or class."""
    if isinstance(name, DataSource):
        return name
    if isinstance(name, type) and issubclass(name, DataSource):
        return name()
    text = str(name).strip()
    kind, _, arg = text.partition(":")
    key = _norm_key(kind)
    if key in ("sample", "sampledata", "embedded"):
        from agentrt.data.sources import SampleData

        return SampleData()
    if key in ("yahoo", "yahoodata", "yfinance", "yahoodatabacktesting"):
        from agentrt.data.yahoo import YahooData

        return YahooData()
    if key in ("csv", "csvdata") and arg:
        from agentrt.data.sources import CsvData

        return CsvData(arg)
    if key in ("parquet", "parquetdata") and arg:
        from agentrt.data.sources import ParquetData

        return ParquetData(arg)
    raise DataError(f"unknown data source {name!r}; use one of {', '.join(_KNOWN)} or a JSON routing map")


class RoutedData(DataSource):
    """Several sources chosen by asset type; keys are case/space/_/- insensitive."""

    name = "routed"

    def __init__(self, routes: dict) -> None:
        norm = {}
        valid = {_norm_key(k): k for k in _TYPE_KEYS}
        for key, value in routes.items():
            nk = _norm_key(key)
            if nk not in valid:
                raise DataError(f"unknown asset type {key!r} in data routing; use keys from {list(_TYPE_KEYS)}")
            norm[valid[nk]] = source_from_name(value)
        if "default" not in norm:
            norm["default"] = norm.get("stock") or next(iter(norm.values()))
        self.routes = norm

    def source_for(self, asset_type: str) -> DataSource:
        return self.routes.get(asset_type) or self.routes["default"]

    def symbols(self) -> list[str]:
        out: set[str] = set()
        for src in self.routes.values():
            out.update(src.symbols())
        return sorted(out)

    def frame(self, symbol: str, *, timestep: str = "day"):
        return self.routes["default"].frame(symbol, timestep=timestep)

    def describe(self) -> dict:
        return {"name": self.name, "routes": {k: v.describe() for k, v in self.routes.items()}}


def resolve_data_source(value=None) -> DataSource:
    """A source from an argument, else from `BACKTESTING_DATA_SOURCE` (name or JSON map), else SampleData."""
    if value is None:
        value = os.environ.get("BACKTESTING_DATA_SOURCE") or "sample"
    if isinstance(value, dict):
        return RoutedData(value)
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            routes = json.loads(value)
        except json.JSONDecodeError as exc:
            raise DataError(f"BACKTESTING_DATA_SOURCE is not valid JSON ({exc}); e.g. '{{\"default\": \"sample\"}}'") from None
        return RoutedData(routes)
    return source_from_name(value)
