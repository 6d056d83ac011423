"""Local stand-ins for FRED and the Alpaca news API: HTTP servers on 127.0.0.1 replaying recorded JSON.

`RecordedApi(handler)` serves `handler(path, query, headers) -> (status, json_body)` in a thread and
keeps every request in `.requests` (path, query dict, headers, and the JSON body of a POST) for
assertions; POSTs go to `handler(path, query, headers, body)` with the decoded JSON body.
`fred_handler` and `alpaca_news_handler` replay the files in `tests/tools/fixtures/` (see the README
there); `openai_chat_handler` plays an OpenAI-compatible chat endpoint for the real-model path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures"

Handler = Callable[[str, Mapping[str, str], Mapping[str, str]], tuple[int, Any]]


class RecordedApi:
    """An HTTP server on 127.0.0.1 (free port) answering GETs with `handler`; a context manager."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[dict[str, Any]] = []
        api = self

        class _Request(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                headers = {k: v for k, v in self.headers.items()}
                api.requests.append({"path": parts.path, "query": query, "headers": headers})
                status, body = api.handler(parts.path, query, headers)
                self._answer(status, body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                headers = {k: v for k, v in self.headers.items()}
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.loads(raw or b"null")
                api.requests.append({"path": parts.path, "query": query, "headers": headers, "body": payload})
                status, body = api.handler(parts.path, query, headers, payload)  # type: ignore[call-arg]
                self._answer(status, body)

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Request)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RecordedApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def fred_handler(path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, Any]:
    """`/fred/series/observations`: replays `fred_observations_<SERIES>_<realtime_start>.json`."""
    if path != "/fred/series/observations":
        return 404, {"error_code": 404, "error_message": "Not Found."}
    if not query.get("api_key"):
        return 400, {"error_code": 400, "error_message": (
            "Bad Request.  Variable api_key is not set.  "
            "Read https://fred.stlouisfed.org/docs/api/api_key.html for more information.")}
    name = f"fred_observations_{query.get('series_id')}_{query.get('realtime_start')}.json"
    file = FIXTURES / name
    if not file.exists():
        return 400, {"error_code": 400, "error_message": "Bad Request.  The series does not exist."}
    return 200, json.loads(file.read_text())


def alpaca_news_handler(path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, Any]:
    """`/v1beta1/news`: checks the key headers, replays `alpaca_news_<SYMBOL>.json` as recorded."""
    if path != "/v1beta1/news":
        return 404, {"message": "Not Found"}
    if not headers.get("APCA-API-KEY-ID") or not headers.get("APCA-API-SECRET-KEY"):
        return 401, {"message": "unauthorized."}
    if headers.get("APCA-API-KEY-ID") == "rejected-key":
        return 403, {"message": "forbidden."}
    file = FIXTURES / f"alpaca_news_{query.get('symbols', '').upper()}.json"
    if not file.exists():
        return 200, {"news": [], "next_page_token": None}
    return 200, json.loads(file.read_text())


def openai_chat_handler(path: str, query: Mapping[str, str], headers: Mapping[str, str],
                        body: Any = None) -> tuple[int, Any]:
    """`/v1/chat/completions`: first asks for `account_portfolio`, answers in text once a tool result is in."""
    if path != "/v1/chat/completions" or body is None:
        return 404, {"error": {"message": "not found", "type": "invalid_request_error"}}
    messages = body.get("messages") or []
    usage = {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132}
    base = {"id": f"chatcmpl-{len(messages)}", "object": "chat.completion", "created": 1700000000,
            "model": body.get("model", "gpt-test"), "usage": usage}
    if messages and messages[-1].get("role") == "tool":
        message = {"role": "assistant", "content": "Checked the portfolio; no trade needed today."}
        return 200, {**base, "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    call = {"id": "call_1", "type": "function", "function": {"name": "account_portfolio", "arguments": "{}"}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return 200, {**base, "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
