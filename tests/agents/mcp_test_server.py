"""A small MCP server (mcp SDK's MCPServer, formerly FastMCP) for the agent tests.

Run over stdio: ``python mcp_test_server.py``; over streamable HTTP on 127.0.0.1:
``python mcp_test_server.py http PORT``. When ``MCP_TEST_LOG`` names a file, the server
appends ``start`` when the process starts and ``call <tool>`` for each tool call, so
tests can count connections and calls.
"""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("agentrt-test")


def _log(line: str) -> None:
    path = os.environ.get("MCP_TEST_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


@server.tool()
def macro_series(series_id: str, as_of: str) -> dict:
    """Latest value of an economic series released on or before `as_of` (YYYY-MM-DD)."""
    _log("call macro_series")
    return {"series_id": series_id, "as_of": as_of, "value": 21.5}


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    _log("call add")
    return a + b


@server.tool()
def slow(seconds: float) -> str:
    """Answer after `seconds` seconds."""
    _log("call slow")
    time.sleep(seconds)
    return "late"


@server.tool()
def die() -> str:
    """Stop the server process at once (simulates a crash)."""
    _log("call die")
    os._exit(3)


if __name__ == "__main__":
    _log("start")
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
