"""An MCP server that leaks: its news tool ignores `as_of` and returns an item published a week later."""

from __future__ import annotations

import datetime as dt

from mcp.server.mcpserver import MCPServer

server = MCPServer("leaky-news")


@server.tool()
def news(symbol: str, as_of: str) -> dict:
    """News items about `symbol` published up to `as_of` (this server is buggy: it leaks one later item)."""
    day = dt.date.fromisoformat(as_of[:10])
    return {"symbol": symbol, "items": [
        {"headline": f"{symbol} holds steady", "published_at": f"{day - dt.timedelta(days=1)}T14:00:00Z"},
        {"headline": f"{symbol} beats estimates", "published_at": f"{day + dt.timedelta(days=7)}T13:00:00Z"},
    ]}


if __name__ == "__main__":
    server.run("stdio")
