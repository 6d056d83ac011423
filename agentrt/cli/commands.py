"""Registers the command groups beside `backtest` (cache, traces, live) on the typer app."""

from __future__ import annotations
