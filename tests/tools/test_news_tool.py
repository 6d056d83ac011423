"""tools.news: Alpaca news by symbol, filtered by publish time, against a local server replaying recorded answers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from agentrt.agents.tool import ToolRunContext, reset_tool_context, set_tool_context
from agentrt.telemetry.warnings import find_future_data
from tools.news import NewsUnavailableError, fetch_news, news_tools

NY = ZoneInfo("America/New_York")
CLOSE = dt.datetime(2012, 10, 12, 16, 0, tzinfo=NY)  # 20:00 UTC


def test_request_carries_the_keys_and_ends_at_the_simulated_time(alpaca_news_api) -> None:
    fetch_news("aapl", as_of=CLOSE, limit=5, days=3)
    (request,) = alpaca_news_api.requests
    assert request["path"] == "/v1beta1/news"
    assert request["headers"]["APCA-API-KEY-ID"] == "PKTEST0123456789"
    assert request["headers"]["APCA-API-SECRET-KEY"] == "test-secret-abcdefghijklmnop"
    query = request["query"]
    assert query["symbols"] == "AAPL" and query["limit"] == "5" and query["sort"] == "desc"
    assert query["end"] == "2012-10-12T20:00:00Z" and query["start"] == "2012-10-09T20:00:00Z"


def test_article_published_after_the_simulated_time_is_filtered_out(alpaca_news_api) -> None:
    answer = fetch_news("AAPL", as_of=CLOSE, limit=10, days=3)
    ids = [a["id"] for a in answer["articles"]]
    assert 30098760 not in ids  # published 16:30 New York time, after the 16:00 simulated close
    assert ids == [30098215, 30097630]  # newest first, inside the 3-day window
    assert find_future_data(answer, CLOSE) == []


def test_the_same_article_is_visible_once_the_clock_passes_its_publish_time(alpaca_news_api) -> None:
    later = CLOSE + dt.timedelta(minutes=31)
    ids = [a["id"] for a in fetch_news("AAPL", as_of=later, limit=10, days=3)["articles"]]
    assert ids[0] == 30098760


def test_article_edited_after_the_simulated_time_is_dropped(alpaca_news_api) -> None:
    ids = [a["id"] for a in fetch_news("AAPL", as_of=CLOSE, limit=10, days=3)["articles"]]
    assert 30098300 not in ids  # created 2012-10-11, updated 2013-02-20


def test_articles_older_than_the_window_are_dropped(alpaca_news_api) -> None:
    ids = [a["id"] for a in fetch_news("AAPL", as_of=CLOSE, limit=10, days=1)["articles"]]
    assert ids == [30098215]


def test_limit_keeps_the_newest(alpaca_news_api) -> None:
    answer = fetch_news("AAPL", as_of=dt.datetime(2012, 11, 16, 16, tzinfo=NY), limit=1, days=7)
    assert [a["id"] for a in answer["articles"]] == [30111027]


def test_article_fields_are_pinned(alpaca_news_api) -> None:
    answer = fetch_news("AAPL", as_of=CLOSE, limit=1, days=3)
    assert list(answer) == ["symbol", "source", "as_of", "articles"]
    assert list(answer["articles"][0]) == ["id", "headline", "summary", "author", "source", "url", "symbols",
                                           "created_at", "updated_at"]
    assert answer["articles"][0]["created_at"] == "2012-10-11T20:35:02Z"


def test_no_news_in_the_window_says_so(alpaca_news_api) -> None:
    answer = fetch_news("IBM", as_of=CLOSE, limit=5, days=3)
    assert answer["articles"] == [] and "no article" in answer["note"]


def test_without_keys_the_error_names_the_variables_and_no_request_is_made() -> None:
    with pytest.raises(NewsUnavailableError, match="ALPACA_API_KEY and ALPACA_API_SECRET"):
        fetch_news("AAPL", as_of=CLOSE)


def test_only_the_missing_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPACA_API_KEY", "PK123")
    with pytest.raises(NewsUnavailableError, match=r"set ALPACA_API_SECRET \("):
        fetch_news("AAPL", as_of=CLOSE)


def test_rejected_key_gets_a_hint_to_check_the_variables(alpaca_news_api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPACA_API_KEY", "rejected-key")
    with pytest.raises(NewsUnavailableError, match=r"HTTP 403.*forbidden.*check ALPACA_API_KEY"):
        fetch_news("AAPL", as_of=CLOSE)


@pytest.mark.parametrize(("kwargs", "message"), [({"limit": 0}, "limit"), ({"limit": 51}, "limit"),
                                                  ({"days": 0}, "days"), ({"symbol": "AA PL"}, "ticker")])
def test_bad_arguments_are_refused(alpaca_news_api, kwargs: dict, message: str) -> None:
    args = {"symbol": "AAPL", **kwargs}
    symbol = args.pop("symbol")
    with pytest.raises(NewsUnavailableError, match=message):
        fetch_news(symbol, as_of=CLOSE, **args)
    assert alpaca_news_api.requests == []


def test_agent_tool_reads_the_run_time_and_reports_a_missing_key_as_a_tool_error() -> None:
    (tool,) = news_tools()
    token = set_tool_context(ToolRunContext(agent_name="t", sim_time=CLOSE, host=None))
    try:
        outcome = tool.invoke({"symbol": "AAPL"})
    finally:
        reset_tool_context(token)
    assert not outcome.ok and outcome.error_type == "NewsUnavailableError"
    assert "ALPACA_API_KEY" in (outcome.error or "")


def test_agent_tool_returns_point_in_time_news(alpaca_news_api) -> None:
    (tool,) = news_tools()
    token = set_tool_context(ToolRunContext(agent_name="t", sim_time=CLOSE, host=None))
    try:
        outcome = tool.invoke({"symbol": "AAPL", "limit": 10, "days": 3})
    finally:
        reset_tool_context(token)
    assert outcome.ok and [a["id"] for a in outcome.result["articles"]] == [30098215, 30097630]
    assert set(tool.spec.parameters["properties"]) == {"symbol", "limit", "days"}
