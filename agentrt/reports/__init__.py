"""Backtest reports: performance metrics, the tearsheet and trades HTML pages, and a browser check.

Importing this package is cheap: pandas, numpy and plotly load only when one of the
functions below is first used (each name resolves lazily to its module).

- :func:`compute_metrics` / :func:`round_trips` / :func:`infer_periods_per_year`
  (``agentrt.reports.metrics``): numbers computed on the cash-adjusted equity curve.
- :func:`write_tearsheet` (``agentrt.reports.tearsheet``): self-contained ``tearsheet.html``.
- :func:`write_trades_html` (``agentrt.reports.trades_html``): self-contained ``trades.html``.
- :func:`find_chromium` / :func:`screenshot_and_check` (``agentrt.reports.browser``): render a
  page in headless Chromium, screenshot it and report JavaScript errors and drawn charts.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "METRICS_VERSION": "agentrt.reports.metrics",
    "METRIC_KEYS": "agentrt.reports.metrics",
    "ROUND_TRIP_COLUMNS": "agentrt.reports.metrics",
    "compute_metrics": "agentrt.reports.metrics",
    "infer_periods_per_year": "agentrt.reports.metrics",
    "round_trips": "agentrt.reports.metrics",
    "write_tearsheet": "agentrt.reports.tearsheet",
    "write_trades_html": "agentrt.reports.trades_html",
    "find_chromium": "agentrt.reports.browser",
    "screenshot_and_check": "agentrt.reports.browser",
}

__all__ = [
    "METRICS_VERSION",
    "METRIC_KEYS",
    "ROUND_TRIP_COLUMNS",
    "compute_metrics",
    "find_chromium",
    "infer_periods_per_year",
    "round_trips",
    "screenshot_and_check",
    "write_tearsheet",
    "write_trades_html",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'agentrt.reports' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
