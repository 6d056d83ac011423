"""Registers the command groups beside `backtest` (cache, traces, live) on the typer app."""

from __future__ import annotations

from agentrt.cli import cache_cmd
from agentrt.cli.main import app

cache_cmd.register(app)

from agentrt.cli import traces_cmd  # noqa: E402

traces_cmd.register(app)

from agentrt.cli import live_cmd  # noqa: E402

live_cmd.register(app)
