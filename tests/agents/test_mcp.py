"""MCP servers (built with the mcp SDK) reached over stdio and streamable HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentrt.agents import MCPServer, ScriptedModel

from .conftest import FakeHost

SERVER = Path(__file__).with_name("mcp_test_server.py")


@pytest.fixture
def call_log(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "mcp.log"
    monkeypatch.setenv("MCP_TEST_LOG", str(path))
    return path


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def stdio_server() -> MCPServer:
    return MCPServer("macro", command=sys.executable, args=[str(SERVER)], timeout_s=10)


@pytest.fixture
def http_server(call_log):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    proc = subprocess.Popen([sys.executable, str(SERVER), "http", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the MCP test server did not start")
    yield f"http://127.0.0.1:{port}/mcp"
    proc.kill()
    proc.wait(10)


def test_stdio_tools_are_called_with_their_exact_schemas(host, stdio_server, call_log):
    model = ScriptedModel([
        [{"tool": "macro_series", "args": {"series_id": "M2SL", "as_of": "2020-02-13"}},
         {"tool": "add", "args": {"a": 2, "b": 3}}],
        {"tool": "add", "args": {"a": "x", "b": 3}},
        "done",
    ])
    model.keep_requests = True
    host.agents.create("macro", model=model, mcp_servers=[stdio_server], include_builtin_tools=False)
    result = host.agents["macro"].run()
    assert result.tool_results[0]["result"] == {"series_id": "M2SL", "as_of": "2020-02-13", "value": 21.5}
    assert result.tool_results[1]["result"] == 5
    assert result.tool_results[2]["error"] == "argument 'a': 'x' is not of type 'integer'"
    add = next(t for t in model.requests[0].tools if t["name"] == "add")
    assert add["parameters"]["properties"] == {"a": {"title": "A", "type": "integer"},
                                               "b": {"title": "B", "type": "integer"}}
    assert add["parameters"]["required"] == ["a", "b"]
    assert _lines(call_log) == ["start", "call macro_series", "call add"]  # bad arguments never reached it


def test_the_connection_is_opened_once_and_reused_across_bars(host, stdio_server, call_log):
    host.agents.create("macro", model=ScriptedModel([{"tool": "add", "args": {"a": 1, "b": 1}}, "ok"]),
                       mcp_servers=[stdio_server], include_builtin_tools=False)
    for _ in range(3):
        assert host.agents["macro"].run().tool_results[0]["result"] == 2
        host.advance()
    assert _lines(call_log) == ["start", "call add", "call add", "call add"]


def test_allowed_tools_limit_what_the_agent_sees(host, call_log):
    server = MCPServer("macro", command=sys.executable, args=[str(SERVER)], allowed_tools=["add"], timeout_s=10)
    model = ScriptedModel([{"tool": "slow", "args": {"seconds": 0}}, "ok"])
    model.keep_requests = True
    host.agents.create("m", model=model, mcp_servers=[server], include_builtin_tools=False)
    result = host.agents["m"].run()
    assert model.requests[0].tool_names == ["add"]
    assert result.tool_results[0]["error"].startswith("unknown tool 'slow'")


def test_trading_tools_of_a_server_are_withheld_without_allow_trading(host, call_log):
    server = MCPServer("macro", command=sys.executable, args=[str(SERVER)], trading_tools=["add"], timeout_s=10)
    model = ScriptedModel(["look only"])
    model.keep_requests = True
    host.agents.create("viewer", model=model, mcp_servers=[server], include_builtin_tools=False,
                       allow_trading=False)
    host.agents["viewer"].run()
    assert "add" not in model.requests[0].tool_names and "macro_series" in model.requests[0].tool_names
    trader = ScriptedModel(["may trade"])
    trader.keep_requests = True
    host.agents.create("trader", model=trader, mcp_servers=[server], include_builtin_tools=False)
    host.agents["trader"].run()
    assert "add" in trader.requests[0].tool_names


def test_a_server_that_dies_gives_tool_errors_not_a_hang(host, stdio_server, call_log):
    script = [{"tool": "die"}, {"tool": "add", "args": {"a": 1, "b": 2}}, "the server is gone"]
    host.agents.create("m", model=ScriptedModel(script), mcp_servers=[stdio_server], include_builtin_tools=False)
    started = time.time()
    result = host.agents["m"].run()
    assert time.time() - started < 60
    assert result.tool_results[0]["error"].startswith("MCP server 'macro' failed on tool 'die'")
    assert result.tool_results[1]["type"] == "MCPServerUnavailable"
    assert result.text == "the server is gone"
    assert result.warning_codes.count("tool_error") == 2
    host.advance()
    again = host.agents["m"].run()  # later bars keep failing fast with the same clear message
    assert again.tool_results[1]["error"].startswith("MCP server 'macro' is unavailable")


def test_streamable_http_server_on_loopback(host, http_server, call_log):
    server = MCPServer("remote", url=http_server, timeout_s=2)
    script = [{"tool": "add", "args": {"a": 20, "b": 22}}, {"tool": "slow", "args": {"seconds": 10}},
              {"tool": "add", "args": {"a": 1, "b": 1}}, "ok"]
    host.agents.create("h", model=ScriptedModel(script), mcp_servers=[server], include_builtin_tools=False)
    started = time.time()
    result = host.agents["h"].run()
    assert result.tool_results[0]["result"] == 42
    assert result.tool_results[1]["error"].startswith("MCP server 'remote' did not answer tool 'slow' within 2 s")
    assert result.tool_results[2]["type"] == "MCPServerUnavailable"
    assert time.time() - started < 30


def test_an_unreachable_server_fails_with_a_clear_message(host):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there
    server = MCPServer("ghost", url=f"http://127.0.0.1:{port}/mcp", timeout_s=2)
    host.agents.create("g", model=ScriptedModel(["x"]), mcp_servers=[server])
    with pytest.raises(ConnectionError, match="cannot list the tools of MCP server 'ghost'"):
        host.agents["g"].run()


def test_tool_lists_and_calls_are_cached_so_warm_runs_never_connect(frames, services_factory, stdio_server, call_log):
    def agent_host(services) -> FakeHost:
        h = FakeHost(frames)
        h._agent_services = services
        h.agents.create("m", model=ScriptedModel([{"tool": "add", "args": {"a": 3, "b": 4}}, "ok"]),
                        mcp_servers=[stdio_server], include_builtin_tools=False)
        return h

    cold = agent_host(services_factory("record"))
    assert cold.agents["m"].run().tool_results[0]["result"] == 7
    cold.agents.close()
    warm = agent_host(services_factory("record"))
    result = warm.agents["m"].run()
    assert result.cache_hit is True and result.tool_results[0]["result"] == 7
    assert _lines(call_log) == ["start", "call add"]  # the warm run started no server process


def test_server_specs_are_checked():
    with pytest.raises(ValueError, match="exactly one of url="):
        MCPServer("x")
    with pytest.raises(ValueError, match="exactly one of url="):
        MCPServer("x", url="http://127.0.0.1:1/mcp", command="python")
    with pytest.raises(ValueError, match="needs command"):
        MCPServer("x", url="http://127.0.0.1:1/mcp", transport="stdio")
    assert MCPServer("x", command="python").transport == "stdio"
    secret = MCPServer("x", url="http://127.0.0.1:1/mcp", headers={"Authorization": "Bearer abc"})
    assert "abc" not in repr(secret.identity())
