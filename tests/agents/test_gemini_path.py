"""The native Gemini path (ADK's Gemini model and the google-genai client) against a local fake API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from .conftest import send_json


class _FakeGemini(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []
    replies: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "key": self.headers.get("x-goog-api-key"), "body": body})
        step = len(type(self).requests) - 1
        parts = type(self).replies[min(step, len(type(self).replies) - 1)]
        payload = {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 200, "candidatesTokenCount": 20, "totalTokenCount": 220},
            "modelVersion": "gemini-2.5-flash",
        }
        send_json(self, payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def gemini_api(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "test-gemini-key")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    _FakeGemini.requests = []
    _FakeGemini.replies = [
        [{"functionCall": {"name": "market_last_price", "args": {"symbol": "AAPL"}}}],
        [{"text": "AAPL is steady; holding."}],
    ]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGemini)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_gemini_models_run_natively_in_adk(host, gemini_api):
    host.agents.create("g", model="gemini-2.5-flash", api_base=gemini_api, system_prompt="Watch AAPL.")
    result = host.agents["g"].run()
    first = _FakeGemini.requests[0]
    assert first["path"].endswith("/models/gemini-2.5-flash:generateContent")
    assert first["key"] == "test-gemini-key"
    names = {d["name"] for tool in first["body"]["tools"] for d in tool["functionDeclarations"]}
    assert "market_load_history_table" in names
    assert "Watch AAPL." in json.dumps(first["body"]["systemInstruction"])
    answer = _FakeGemini.requests[1]["body"]["contents"][-1]["parts"][0]["functionResponse"]
    assert answer["name"] == "market_last_price" and answer["response"]["price"] == host.get_last_price("AAPL")
    assert result.text == "AAPL is steady; holding."
    assert result.usage == {"input_tokens": 400, "output_tokens": 40}
    assert "litellm" not in result.model
