"""Point-in-time news by symbol for agents, through the Alpaca market-data news API.

Agent tool: ``get_news(symbol, limit=10, days=7)`` — the most recent articles about ``symbol``
published at or before the simulated time (and at most ``days`` before it). Hand it to an
agent with ``tools=news_tools()`` (or ``[get_news]``). Strategy code can call
:func:`fetch_news` with an explicit ``as_of``.

Request: ``GET {ALPACA_DATA_URL}/v1beta1/news?symbols=AAPL&start=...&end=<simulated time>&limit=...
&sort=desc`` with the headers ``APCA-API-KEY-ID`` / ``APCA-API-SECRET-KEY`` taken from
``ALPACA_API_KEY`` / ``ALPACA_API_SECRET`` (default base ``https://data.alpaca.markets``;
``ALPACA_DATA_URL`` overrides it, e.g. for a local test server). The answer is filtered again on
the client: an article whose ``created_at`` (publish time) or ``updated_at`` (its text may have
changed since) is after the simulated time is dropped, whatever the server sent, and so is one
older than the ``days`` window.

No news is invented offline: without the two variables the tool raises an error that names
them, which the agent sees as a tool error (and which the replay cache does not record, so
setting the key later takes effect).

Answer::

    {"symbol": "AAPL", "source": "alpaca", "as_of": "2021-12-31T16:00:00-05:00",
     "articles": [{"id", "headline", "summary", "author", "source", "url", "symbols",
                   "created_at", "updated_at"}, ...]}   # newest first
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any, Final

from agentrt.agents.tool import agent_tool
from tools._clock import parse_as_of, tool_now

__all__ = ["ALPACA_DATA_DEFAULT_URL", "NewsUnavailableError", "fetch_news", "get_news", "news_tools"]

ALPACA_DATA_DEFAULT_URL: Final = "https://data.alpaca.markets"
MAX_LIMIT: Final = 50  # Alpaca's page size limit
_HTTP_TIMEOUT_S: Final = 20.0
_SUMMARY_CHARS: Final = 600


class NewsUnavailableError(RuntimeError):
    """News cannot be fetched (no API key, Alpaca error, unreachable); the message says how to fix it."""


def fetch_news(
    symbol: str,
    *,
    as_of: str | _dt.datetime | _dt.date,
    limit: int = 10,
    days: int = 7,
) -> dict[str, Any]:
    """Articles about ``symbol`` published in the ``days`` before ``as_of`` (newest first, at most ``limit``)."""
    import httpx

    now = parse_as_of(as_of)
    ticker = _check_symbol(symbol)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise NewsUnavailableError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        raise NewsUnavailableError(f"days must be a whole number from 1 to 365, got {days!r}")
    key = os.environ.get("ALPACA_API_KEY", "").strip()
    secret = os.environ.get("ALPACA_API_SECRET", "").strip()
    if not key or not secret:
        missing = " and ".join(n for n, v in (("ALPACA_API_KEY", key), ("ALPACA_API_SECRET", secret)) if not v)
        raise NewsUnavailableError(
            f"news needs an Alpaca API key: set {missing} (a free paper-trading account at "
            "https://alpaca.markets gives one). agentrt ships no offline news, so none is made up"
        )
    end_utc = now.astimezone(_dt.timezone.utc)
    start_utc = end_utc - _dt.timedelta(days=days)
    base = (os.environ.get("ALPACA_DATA_URL") or ALPACA_DATA_DEFAULT_URL).rstrip("/")
    params = {
        "symbols": ticker,
        "start": _rfc3339(start_utc),
        "end": _rfc3339(end_utc),
        "limit": str(limit),
        "sort": "desc",
        "include_content": "false",
    }
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret, "Accept": "application/json"}
    try:
        with httpx.Client(timeout=_HTTP_TIMEOUT_S, transport=httpx.HTTPTransport(retries=2)) as client:
            response = client.get(f"{base}/v1beta1/news", params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise NewsUnavailableError(f"could not reach the Alpaca news API at {base}: {type(exc).__name__}") from None
    payload = _json_or_none(response)
    if response.status_code != 200:
        message = payload.get("message") if isinstance(payload, dict) else None
        hint = " (check ALPACA_API_KEY and ALPACA_API_SECRET)" if response.status_code in (401, 403) else ""
        raise NewsUnavailableError(
            f"the Alpaca news API answered HTTP {response.status_code} for {ticker}: "
            f"{(message or response.reason_phrase or 'no message').strip()}{hint}"
        )
    if not isinstance(payload, dict) or not isinstance(payload.get("news"), list):
        raise NewsUnavailableError(f"the Alpaca news API sent an unexpected answer for {ticker} (no 'news' list)")
    articles = []
    for item in payload["news"]:
        article = _article(item, now, since=start_utc)
        if article is not None:
            articles.append(article)
    articles.sort(key=lambda a: (a["created_at"], str(a["id"])), reverse=True)
    result: dict[str, Any] = {"symbol": ticker, "source": "alpaca", "as_of": now.isoformat(),
                              "articles": articles[:limit]}
    if not articles:
        result["note"] = f"no article about {ticker} was published in the {days} days before the simulated time"
    return result


@agent_tool(name="get_news")
def get_news(symbol: str, limit: int = 10, days: int = 7) -> dict[str, Any]:
    """Recent news headlines about a stock, as published by the simulated time.

    Returns {"symbol", "source", "as_of", "articles": [{"id", "headline", "summary",
    "author", "source", "url", "symbols", "created_at", "updated_at"}, ...]}, newest
    first. Articles published after the simulated time are never returned.

    Args:
        symbol: Ticker such as AAPL.
        limit: Maximum number of articles (1-50).
        days: How many days back from the simulated time to look (1-365).
    """
    return fetch_news(symbol, as_of=tool_now(), limit=limit, days=days)


def news_tools() -> list[Any]:
    """``[get_news]`` as an agent tool (same surface as passing the function itself)."""
    from agentrt.agents.tool import make_tool

    return [make_tool(get_news)]


# --------------------------------------------------------------------------- helpers


def _check_symbol(symbol: Any) -> str:
    if not isinstance(symbol, str) or not symbol.strip():
        raise NewsUnavailableError("symbol must be a ticker such as 'AAPL'")
    ticker = symbol.strip().upper()
    if not all(ch.isalnum() or ch in "./-" for ch in ticker) or len(ticker) > 15:
        raise NewsUnavailableError(f"symbol {symbol!r} is not a ticker such as 'AAPL' or 'BRK.B'")
    return ticker


def _rfc3339(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> _dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)  # Alpaca times are UTC
    return moment


def _article(item: Any, now: _dt.datetime, *, since: _dt.datetime) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    created = _parse_time(item.get("created_at"))
    if created is None or created > now:
        return None  # undated or published after the simulated time
    if created < since:
        return None  # older than the window asked for
    updated = _parse_time(item.get("updated_at"))
    if updated is not None and updated > now:
        return None  # its text may have been edited after the simulated time
    summary = str(item.get("summary") or "").strip()
    if len(summary) > _SUMMARY_CHARS:
        summary = summary[: _SUMMARY_CHARS - 1].rstrip() + "…"
    return {
        "id": item.get("id"),
        "headline": str(item.get("headline") or "").strip(),
        "summary": summary,
        "author": str(item.get("author") or ""),
        "source": str(item.get("source") or ""),
        "url": str(item.get("url") or ""),
        "symbols": [str(s) for s in item.get("symbols") or [] if isinstance(s, str)],
        "created_at": created.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "updated_at": (updated or created).astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z"),
    }


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
