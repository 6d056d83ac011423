"""The built-in tools every agent gets: account, market data, DuckDB, orders, docs search.

LumiBot users know them by dotted names; tool names must be identifiers, so the dot
becomes an underscore (``account.positions`` → ``account_positions``,
``market.load_history_table`` → ``market_load_history_table``, ``duckdb.query`` →
``duckdb_query``, ``orders.submit`` → ``orders_submit``, ``docs.search`` → ``docs_search``).
The ``orders_*`` tools are ``mutates_trading`` and withheld when ``allow_trading=False``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from agentrt.agents.state import open_orders, value_of
from agentrt.agents.tool import AgentTool, agent_tool, make_tool
from agentrt.agents.trading import OrderIntent, RunLedger, apply_intent, normalize_submit, order_view
from agentrt.agents.workspace import Workspace

__all__ = ["BUILTIN_TOOL_NAMES", "DOTTED_NAMES", "EVIDENCE_TOOLS", "Toolbox", "builtin_tools"]

DOTTED_NAMES = {
    "account.positions": "account_positions",
    "account.portfolio": "account_portfolio",
    "market.last_price": "market_last_price",
    "market.load_history_table": "market_load_history_table",
    "duckdb.query": "duckdb_query",
    "orders.submit": "orders_submit",
    "orders.cancel": "orders_cancel",
    "orders.modify": "orders_modify",
    "orders.open_orders": "orders_open_orders",
    "docs.search": "docs_search",
}
"""LumiBot's dotted built-in tool names and the agentrt tool name of each."""

BUILTIN_TOOL_NAMES = tuple(DOTTED_NAMES.values())

EVIDENCE_TOOLS = frozenset({
    "account_positions", "account_portfolio", "market_last_price", "market_load_history_table",
    "duckdb_query", "orders_open_orders",
})
"""Built-in tools that read market or account data (evidence for an order)."""


class Toolbox:
    """Built-in tool implementations bound to one agent's host and workspace."""

    def __init__(self, host: Any, workspace: Workspace, *, agent_name: str) -> None:
        self.host = host
        self.workspace = workspace
        self.agent_name = agent_name
        self.ledger = RunLedger()

    # --- account --------------------------------------------------------------------
    @agent_tool(name="account_positions")
    def account_positions(self) -> dict[str, Any]:
        """List the positions held now: symbol, quantity, average fill price, last price, market value."""
        rows = []
        for p in self.host.get_positions():
            qty = float(p.quantity or 0)
            if qty == 0:
                continue
            symbol = str(getattr(p.asset, "symbol", p.asset))
            price = self.host.get_last_price(p.asset)
            rows.append({
                "symbol": symbol,
                "asset_type": str(value_of(getattr(p.asset, "asset_type", "stock"))),
                "quantity": qty,
                "avg_fill_price": float(getattr(p, "avg_fill_price", 0.0) or 0.0),
                "last_price": price,
                "market_value": None if price is None else qty * float(price) * float(getattr(p.asset, "multiplier", 1) or 1),
            })
        return {"datetime": self.host.get_datetime().isoformat(), "positions": rows}

    @agent_tool(name="account_portfolio")
    def account_portfolio(self) -> dict[str, Any]:
        """Show cash, portfolio value, positions value and the number of open orders now."""
        cash = float(self.host.cash)
        value = float(self.host.portfolio_value)
        return {
            "datetime": self.host.get_datetime().isoformat(),
            "cash": cash,
            "portfolio_value": value,
            "positions_value": value - cash,
            "open_orders": len(open_orders(self.host)),
        }

    # --- market data ----------------------------------------------------------------
    @agent_tool(name="market_last_price")
    def market_last_price(self, symbol: str) -> dict[str, Any]:
        """Return the last price of a symbol at the simulated time.

        Args:
            symbol: Ticker such as AAPL.
        """
        price = self.host.get_last_price(symbol.strip().upper())
        if price is None:
            raise ValueError(f"no price for {symbol!r} at {self.host.get_datetime().isoformat()}; check the symbol")
        return {"symbol": symbol.strip().upper(), "price": float(price), "datetime": self.host.get_datetime().isoformat()}

    @agent_tool(name="market_load_history_table")
    def market_load_history_table(
        self,
        symbol: str,
        length: int = 100,
        timestep: Literal["day", "hour", "minute"] = "day",
        table_name: str | None = None,
    ) -> dict[str, Any]:
        """Load the last `length` bars of a symbol into a DuckDB table for duckdb_query.

        The table has columns date (daily bars), datetime, open, high, low, close, volume,
        and holds only bars that closed at or before the simulated time.

        Args:
            symbol: Ticker such as AAPL.
            length: Number of bars to load (most recent last).
            timestep: Bar size.
            table_name: Name for the table; default '<symbol>_<timestep>', e.g. aapl_day.
        """
        return self.workspace.load_history_table(symbol, length, timestep, table_name)

    # --- duckdb -----------------------------------------------------------------------
    @agent_tool(name="duckdb_query")
    def duckdb_query(self, sql: str, max_rows: int = 200) -> dict[str, Any]:
        """Run one read-only SQL query (DuckDB dialect) on the tables you loaded.

        Returns columns, rows (at most max_rows) and whether rows were cut off. Only
        SELECT/WITH/SHOW/DESCRIBE reads; write the simulated date as a literal instead of
        now() or current_date.

        Args:
            sql: One SELECT statement, e.g. SELECT avg(close) FROM (SELECT close FROM aapl_day ORDER BY date DESC LIMIT 20).
            max_rows: Maximum rows to return (at most 1000).
        """
        return self.workspace.query(sql, max_rows)

    # --- orders -----------------------------------------------------------------------
    def _apply(self, intent: OrderIntent) -> Any:
        order = apply_intent(self.host, intent, source=f"agent:{self.agent_name}")
        self.ledger.intents.append(intent)
        view = order_view(order)
        view["action"] = intent.action
        self.ledger.orders.append(view)
        return view

    @agent_tool(name="orders_submit", mutates_trading=True)
    def orders_submit(
        self,
        symbol: str,
        quantity: float,
        side: Literal["buy", "sell", "sell_short", "buy_to_cover"],
        order_type: Literal["market", "limit", "stop", "stop_limit", "trailing_stop"] = "market",
        limit_price: float | None = None,
        stop_price: float | None = None,
        trail_price: float | None = None,
        trail_percent: float | None = None,
        time_in_force: Literal["day", "gtc", "ioc", "fok"] = "day",
    ) -> dict[str, Any]:
        """Place an order. Market orders fill at the next bar's open; others when their price is reached.

        Args:
            symbol: Ticker such as AAPL.
            quantity: Number of shares (positive).
            side: buy or sell (sell_short / buy_to_cover for short positions).
            order_type: market, limit (needs limit_price), stop (needs stop_price), stop_limit (both), trailing_stop (trail_price or trail_percent).
            limit_price: Limit price for limit and stop_limit orders.
            stop_price: Stop price for stop and stop_limit orders.
            trail_price: Trailing amount in price units for trailing_stop orders.
            trail_percent: Trailing amount in percent for trailing_stop orders.
            time_in_force: day or gtc (good till canceled).
        """
        intent = normalize_submit(
            symbol=symbol, quantity=quantity, side=side, order_type=order_type,
            limit_price=limit_price, stop_price=stop_price, trail_price=trail_price,
            trail_percent=trail_percent, time_in_force=time_in_force,
        )
        return self._apply(intent)

    @agent_tool(name="orders_cancel", mutates_trading=True)
    def orders_cancel(self, order_id: str) -> dict[str, Any]:
        """Cancel an open order.

        Args:
            order_id: The order_id shown by orders_open_orders or returned by orders_submit.
        """
        return self._apply(OrderIntent(action="cancel", order_id=str(order_id)))

    @agent_tool(name="orders_modify", mutates_trading=True)
    def orders_modify(self, order_id: str, limit_price: float | None = None, stop_price: float | None = None) -> dict[str, Any]:
        """Change the limit and/or stop price of an open order.

        Args:
            order_id: The order to change.
            limit_price: New limit price (limit and stop_limit orders).
            stop_price: New stop price (stop and stop_limit orders).
        """
        return self._apply(OrderIntent(action="modify", order_id=str(order_id), limit_price=limit_price, stop_price=stop_price))

    @agent_tool(name="orders_open_orders")
    def orders_open_orders(self) -> dict[str, Any]:
        """List the open (not yet filled or canceled) orders."""
        return {"open_orders": [order_view(o) for o in open_orders(self.host)]}

    # --- docs -------------------------------------------------------------------------
    @agent_tool(name="docs_search")
    def docs_search(self, query: str, max_results: int = 5) -> dict[str, Any]:
        """Search agentrt's documentation (API, tools, DuckDB rules) by keywords.

        Args:
            query: Keywords, e.g. 'load_history_table columns'.
            max_results: Number of sections to return.
        """
        from agentrt.agents.docs_index import default_index

        hits = default_index().search(query, max_results=max(1, min(int(max_results), 20)))
        return {"results": hits} if hits else {"results": [], "note": "no documentation section matched; try other keywords"}


_TOOL_METHODS = (
    "account_positions", "account_portfolio", "market_last_price", "market_load_history_table",
    "duckdb_query", "orders_submit", "orders_cancel", "orders_modify", "orders_open_orders", "docs_search",
)

def docs_digest() -> str:
    """A hash of the documentation ``docs_search`` searches (its loaded index): its answers
    change when the docs do.

    Not part of any key: a recorded run that called ``docs_search`` stores the digest it
    read (``depends``), and a hit whose digest differs from today's is a miss ("docs changed")."""
    from agentrt.agents.docs_index import default_index

    return default_index().digest


def builtin_tools(toolbox: Toolbox) -> list[AgentTool]:
    """The built-in :class:`AgentTool` list bound to ``toolbox``.

    Their source hashes include the runtime version (a built-in's behaviour is the
    runtime's). The documentation ``docs_search`` reads is a dependency of the runs that
    call it, not of the tool surface (see :func:`docs_digest`): editing the docs does not
    touch runs that never searched them.
    """
    from agentrt.agents._version import RUNTIME_VERSION

    return [make_tool(getattr(toolbox, name), kind="builtin", include_source=False, extra_hash=RUNTIME_VERSION)
            for name in _TOOL_METHODS]


def run_depends(events: list[dict[str, Any]]) -> dict[str, str] | None:
    """What a recorded run read besides its key's inputs: ``{"docs": digest}`` when it called
    ``docs_search``, else None."""
    if any(e.get("type") == "tool_call" and e.get("name") == "docs_search" and e.get("kind") == "builtin"
           for e in events):
        return {"docs": docs_digest()}
    return None


def stale_reason(recorded: Mapping[str, Any]) -> str | None:
    """Why a recorded run can no longer be served although its key matches (its ``depends``
    changed), or None."""
    depends = recorded.get("depends")
    if isinstance(depends, Mapping) and "docs" in depends and depends["docs"] != docs_digest():
        return "docs changed (the run searched them)"
    return None
