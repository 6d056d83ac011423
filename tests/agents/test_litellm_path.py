"""The LiteLLM path against a local OpenAI-compatible server on 127.0.0.1 (the real litellm client runs)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from .conftest import send_json

from agentrt.agents import agent_tool


class _Scripted(BaseHTTPRequestHandler):
    replies: ClassVar[list[dict]] = []
    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        step = len(type(self).requests) - 1
        message = type(self).replies[min(step, len(type(self).replies) - 1)]
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        payload = {
            "id": f"chatcmpl-{step}", "object": "chat.completion", "created": 1_700_000_000, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", **message}}],
            "usage": {"prompt_tokens": 120 + step, "completion_tokens": 15, "total_tokens": 135 + step},
        }
        send_json(self, payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def openai_server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    _Scripted.requests = []
    _Scripted.replies = [
        {"content": None, "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "market_last_price", "arguments": '{"symbol": "AAPL"}'}},
            {"id": "call_b", "type": "function", "function": {"name": "momentum", "arguments": '{"symbol": "AAPL", "days": "x"}'}},
        ]},
        {"content": None, "tool_calls": [
            {"id": "call_c", "type": "function", "function": {"name": "momentum", "arguments": '{"symbol": "AAPL", "days": 5}'}},
        ]},
        {"content": "AAPL trades at its recent high; momentum positive. No trade."},
    ]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_provider_strings_run_through_the_real_litellm_client(host, openai_server):
    @agent_tool
    def momentum(symbol: str, days: int = 20) -> dict:
        """Price change over `days` bars.

        Args:
            symbol: Ticker.
            days: Look-back in bars.
        """
        close = host.frames[symbol]["close"]
        return {"change": float(close.iloc[host._i] / close.iloc[host._i - days] - 1)}

    host.agents.create("llm", model="openai/test-model", api_base=openai_server, tools=[momentum],
                       system_prompt="Judge AAPL momentum.", temperature=0.2)
    result = host.agents["llm"].run(task="Look at AAPL.")

    requests = _Scripted.requests
    assert [r["path"] for r in requests] == ["/v1/chat/completions"] * 3
    assert requests[0]["auth"] == "Bearer sk-test-dummy"
    first = requests[0]["body"]
    assert first["model"] == "test-model" and first["temperature"] == 0.2
    assert first["messages"][0]["role"] == "system" and "Judge AAPL momentum." in first["messages"][0]["content"]
    assert "Task: Look at AAPL." in first["messages"][-1]["content"]
    tools = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert tools["momentum"]["parameters"]["properties"]["days"] == {"type": "integer", "description": "Look-back in bars.",
                                                                    "default": 20}
    assert "Source code:" in tools["momentum"]["description"]
    tool_messages = [m for m in requests[1]["body"]["messages"] if m["role"] == "tool"]
    assert {m["tool_call_id"] for m in tool_messages} == {"call_a", "call_b"}
    bad = next(json.loads(m["content"]) for m in tool_messages if m["tool_call_id"] == "call_b")
    assert bad == {"error": "argument 'days' must be an integer, got 'x'", "type": "ToolArgumentError"}

    assert result.text == "AAPL trades at its recent high; momentum positive. No trade."
    assert [c["name"] for c in result.tool_calls] == ["market_last_price", "momentum", "momentum"]
    assert [c["id"] for c in result.tool_calls] == ["call_a", "call_b", "call_c"]
    assert result.tool_results[0]["result"]["price"] == host.get_last_price("AAPL")
    assert result.usage == {"input_tokens": 120 + 121 + 122, "output_tokens": 45}
    assert result.model == "openai/test-model" and result.model_calls == 3


def test_a_local_server_needs_no_real_key(host, openai_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    _Scripted.replies = [{"content": "Nothing to do."}]
    host.agents.create("local", model="openai/local-model", api_base=openai_server)
    assert host.agents["local"].run().text == "Nothing to do."
    assert _Scripted.requests[0]["auth"] == "Bearer no-key-required"


def test_a_real_provider_cannot_be_reached_from_the_tests(host, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
    host.agents.create("remote", model="openai/gpt-4.1-mini")
    result = host.agents["remote"].run()
    assert result.error is not None and "model_error" in result.warning_codes
    assert "blocked" in result.error or "network" in result.error.lower() or "connection" in result.error.lower()
