"""The base system prompt every agent gets, and the per-run prompt with the point-in-time state.

The base prompt is versioned (:data:`BASE_PROMPT_VERSION` is part of every replay-cache
key): change its text, bump the version. Users add 2–3 sentences of strategy intent; the
effective system prompt is the base prompt followed by theirs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["BASE_PROMPT", "BASE_PROMPT_VERSION", "effective_system_prompt", "run_prompt"]

BASE_PROMPT_VERSION = "2026-11.1"
"""Version of :data:`BASE_PROMPT`; part of every run key."""

BASE_PROMPT = """\
You are a trading agent running inside agentrt, at one simulated moment in time.

Time: the current date and time is the simulated datetime given in each task, not today's \
date. Treat it as the present. Never use knowledge of prices, news or events after it; \
if you are unsure whether you know something only from later, do not use it.

Tools: read before you act. Check positions and cash with the account tools and prices \
with the market tools. For any analysis of price history (averages, returns, volatility), \
first call market_load_history_table to load bars into a DuckDB table, then compute with \
duckdb_query (read-only SQL; the table name is returned by the load). Tool errors tell you \
what was wrong: fix the arguments and try again, at most twice.

Trading: place orders only with the orders tools and only when the evidence supports it. \
Size every order from the cash and portfolio value you were given: never spend more cash \
than is available, keep a reserve for price moves, prefer whole shares, and do not repeat \
an order that is already open. If nothing should change, do not trade.

Answer: end with a short summary (one to three sentences) of what you saw, what you did, \
and why."""


def effective_system_prompt(user_prompt: str | None) -> str:
    """The base prompt followed by the user's strategy prompt."""
    user = (user_prompt or "").strip()
    if not user:
        return BASE_PROMPT
    return f"{BASE_PROMPT}\n\nStrategy instructions:\n{user}"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False, default=str)


def run_prompt(state: Mapping[str, Any], *, task: str | None, context: Any) -> str:
    """The user message of one run: simulated time, account state, open orders, context, task.

    ``state`` is the run's point-in-time snapshot (``sim_time``, ``cash``,
    ``portfolio_value``, ``positions``, ``open_orders``) as put in the replay key.
    """
    lines = [f"Simulated datetime: {state['sim_time']}"]
    lines.append(f"Cash: {state['cash']}")
    lines.append(f"Portfolio value: {state['portfolio_value']}")
    positions = state.get("positions") or []
    if positions:
        lines.append("Positions:")
        for p in positions:
            lines.append(
                f"- {p['symbol']} ({p['asset_type']}): quantity {p['quantity']}, average fill price {p['avg_fill_price']}"
            )
    else:
        lines.append("Positions: none")
    orders = state.get("open_orders") or []
    if orders:
        lines.append("Open orders:")
        for o in orders:
            prices = "".join(
                f", {k} {o[k]}" for k in ("limit_price", "stop_price") if o.get(k) is not None
            )
            lines.append(f"- {o['id']}: {o['side']} {o['quantity']} {o['symbol']} {o['order_type']} ({o['status']}{prices})")
    else:
        lines.append("Open orders: none")
    if context is not None and context != {}:
        lines.append(f"Context (JSON): {_dumps(context)}")
    lines.append("")
    lines.append(f"Task: {task.strip()}" if task and task.strip() else "Task: decide what to do now, following your instructions.")
    return "\n".join(lines)
