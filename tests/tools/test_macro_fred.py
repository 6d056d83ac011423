"""tools.macro online: FRED/ALFRED vintages, exercised against a local FRED replaying recorded answers."""

from __future__ import annotations

import datetime as dt
import socket
from zoneinfo import ZoneInfo

import pytest

from agentrt.agents.tool import ToolRunContext, make_tool, reset_tool_context, set_tool_context
from agentrt.telemetry.warnings import find_future_data
from tools.macro import MacroDataError, fetch_macro_catalog, fetch_macro_series, macro_source, macro_tools

NY = ZoneInfo("America/New_York")
SIM = dt.datetime(2020, 6, 15, 16, 0, tzinfo=NY)


def test_request_asks_fred_for_the_vintage_of_the_simulated_date(fred_api) -> None:
    fetch_macro_series("M2SL", as_of=SIM, lookback=12)
    (request,) = fred_api.requests
    assert request["path"] == "/fred/series/observations"
    query = request["query"]
    assert query["series_id"] == "M2SL"
    assert query["realtime_start"] == query["realtime_end"] == query["observation_end"] == "2020-06-15"
    assert query["file_type"] == "json" and query["sort_order"] == "desc"
    assert query["api_key"] == "test-fred-key-0123456789abcdef"


def test_fred_answer_becomes_observations_with_release_dates_oldest_first(fred_api) -> None:
    answer = fetch_macro_series("M2SL", as_of=SIM, lookback=3)
    assert answer["source"] == "fred" and answer["series_id"] == "M2SL"
    assert answer["observations"] == [
        {"date": "2020-02-01", "value": 15498.1, "release_date": "2020-06-15"},
        {"date": "2020-03-01", "value": 16025.6, "release_date": "2020-06-15"},
        {"date": "2020-04-01", "value": 17001.4, "release_date": "2020-06-15"},
    ]
    assert answer["frequency"] == "monthly" and answer["units"].startswith("billions")
    assert find_future_data(answer, SIM) == []


def test_rows_released_or_dated_after_the_simulated_date_are_dropped_whatever_the_server_sends(fred_api) -> None:
    answer = fetch_macro_series("CPI", as_of=SIM, lookback=12)  # the fixture holds two rows from after 2020-06-15
    dates = [o["date"] for o in answer["observations"]]
    assert dates == ["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01", "2020-05-01"]
    assert find_future_data(answer, SIM) == []


def test_missing_values_are_skipped(fred_api) -> None:
    answer = fetch_macro_series("DGS10", as_of=SIM, lookback=20)
    dates = [o["date"] for o in answer["observations"]]
    assert "2020-05-25" not in dates  # Memorial Day: "." in FRED's answer
    assert dates[-1] == "2020-06-12" and len(dates) == 15


def test_fred_error_is_reported_with_its_message_and_never_the_key(fred_api) -> None:
    with pytest.raises(MacroDataError) as caught:
        fetch_macro_series("NOSUCHSERIES", as_of=SIM, lookback=1)
    message = str(caught.value)
    assert "HTTP 400" in message and "The series does not exist" in message
    assert "test-fred-key" not in message


def test_unreachable_fred_names_the_server_not_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("FRED_API_KEY", "secret-key-xyz")
    monkeypatch.setenv("FRED_API_BASE", f"http://127.0.0.1:{port}/fred")
    with pytest.raises(MacroDataError) as caught:
        fetch_macro_series("M2SL", as_of=SIM, lookback=1)
    assert f"127.0.0.1:{port}" in str(caught.value) and "secret-key-xyz" not in str(caught.value)


def test_source_is_fred_with_a_key_and_embedded_without(monkeypatch: pytest.MonkeyPatch) -> None:
    assert macro_source() == "embedded"
    monkeypatch.setenv("FRED_API_KEY", "k")
    assert macro_source() == "fred"
    monkeypatch.setenv("AGENTRT_MACRO_SOURCE", "embedded")
    assert macro_source() == "embedded"


def test_fred_source_without_key_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTRT_MACRO_SOURCE", "fred")
    with pytest.raises(MacroDataError, match="FRED_API_KEY"):
        fetch_macro_series("M2SL", as_of=SIM, lookback=1)


def test_unknown_source_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTRT_MACRO_SOURCE", "bloomberg")
    with pytest.raises(MacroDataError, match="auto, fred or embedded"):
        macro_source()


def test_catalog_online_offers_m2(fred_api) -> None:
    catalog = fetch_macro_catalog(as_of=SIM)
    assert catalog["source"] == "fred"
    assert "M2SL" in [s["series_id"] for s in catalog["series"]]
    assert fred_api.requests == []  # the catalog needs no request


def test_agent_tool_queries_fred_at_the_run_date(fred_api) -> None:
    tool = next(t for t in macro_tools() if t.spec.name == "get_macro_series")
    token = set_tool_context(ToolRunContext(agent_name="t", sim_time=SIM, host=None))
    try:
        outcome = tool.invoke({"series_id": "M2SL", "lookback": 13})
    finally:
        reset_tool_context(token)
    assert outcome.ok and len(outcome.result["observations"]) == 13
    assert fred_api.requests[-1]["query"]["realtime_start"] == "2020-06-15"


def test_tool_identity_is_the_same_for_the_bare_function_and_differs_for_fred(fred_api) -> None:
    online = next(t for t in macro_tools() if t.spec.name == "get_macro_series")
    from tools.macro import get_macro_series

    assert online.spec.source_hash != make_tool(get_macro_series).spec.source_hash
