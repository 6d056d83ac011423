"""Ready-made, point-in-time agent tool packs and MCP servers for agentrt strategies.

Every tool here answers "as of" the simulated time of the agent run that calls it and never
returns a value that was published after that time:

- :mod:`tools.macro` — economic series with release dates (vintages): FRED/ALFRED online
  (``FRED_API_KEY``), real embedded series offline. ``get_macro_series``, ``list_macro_series``,
  and ``macro_tools()`` to hand both to an agent.
- :mod:`tools.news` — news by symbol through the Alpaca news API (``ALPACA_API_KEY`` /
  ``ALPACA_API_SECRET``), filtered by publish time. ``get_news`` and ``news_tools()``.
- :mod:`tools.market_mcp` — an MCP server (``python -m tools.market_mcp``) with macro series,
  the Treasury curve and daily price history, each clipped at the ``as_of`` time it is given.

Use them in a strategy::

    from tools.macro import macro_tools

    self.agents.create("macro", model=..., system_prompt=..., tools=macro_tools())

The package is plain Python (imports of pandas and httpx happen inside the functions that need
them), so importing a tool pack is cheap.
"""

from __future__ import annotations

__all__ = ["macro", "market_mcp", "news"]
