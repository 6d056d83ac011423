"""tools.macro offline: embedded series under FRED ids, clipped at their release instants."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentrt.agents.tool import ToolRunContext, make_tool, reset_tool_context, set_tool_context
from agentrt.telemetry.warnings import find_future_data
from tools import macro
from tools.macro import EMBEDDED_SERIES, MacroDataError, fetch_macro_catalog, fetch_macro_series

NY = ZoneInfo("America/New_York")

# series id -> (loader, column, release hour, scale): an independent oracle of what is visible when
_ORACLE = {
    "M1SL": ("macro", "m1", (8, 30), 1.0), "TB3MS": ("macro", "tbilrate", (8, 30), 1.0),
    "CPIAUCSL": ("macro", "cpi", (8, 30), 1.0), "UNRATE": ("macro", "unemp", (8, 30), 1.0),
    "GDPC1": ("macro", "realgdp", (8, 30), 1.0), "PCECC96": ("macro", "realcons", (8, 30), 1.0),
    "GPDIC1": ("macro", "realinv", (8, 30), 1.0), "DSPIC96": ("macro", "realdpi", (8, 30), 1.0),
    "CPILFESL": ("core_cpi", "cpilfesl", (8, 30), 1.0),
    **{sid: ("treasury", col, (16, 0), 100.0) for sid, col in (
        ("DGS1MO", "1month"), ("DGS3MO", "3month"), ("DGS6MO", "6month"), ("DGS1", "1year"), ("DGS2", "2year"),
        ("DGS3", "3year"), ("DGS5", "5year"), ("DGS7", "7year"), ("DGS10", "10year"), ("DGS20", "20year"),
        ("DGS30", "30year"))},
}


def _expected(series_id: str, as_of: dt.datetime, lookback: int) -> list[dict]:
    import pandas as pd

    from agentrt.data import embedded

    table, column, (hour, minute), scale = _ORACLE[series_id]
    frame = {"macro": embedded.load_macro_quarterly, "core_cpi": embedded.load_core_cpi,
             "treasury": embedded.load_treasury_curves}[table]()
    frame = frame[frame[column].notna()]
    released = pd.DatetimeIndex(frame["release_date"]) + pd.Timedelta(hours=hour, minutes=minute)
    visible = frame[list(released.tz_localize(NY) <= pd.Timestamp(as_of))].tail(lookback)
    starts = visible.index.to_period("Q").start_time if table == "macro" else visible.index
    return [{"date": s.strftime("%Y-%m-%d"), "value": round(float(v) * scale, 4),
             "release_date": r.strftime("%Y-%m-%d")}
            for s, v, r in zip(starts, visible[column], visible["release_date"], strict=True)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series_id=st.sampled_from(sorted(_ORACLE)),
    moment=st.datetimes(min_value=dt.datetime(1958, 6, 1), max_value=dt.datetime(2019, 6, 30)),
    lookback=st.integers(min_value=1, max_value=40),
)
def test_series_holds_exactly_the_values_released_by_as_of(series_id: str, moment: dt.datetime, lookback: int) -> None:
    as_of = moment.replace(tzinfo=NY)
    answer = fetch_macro_series(series_id, as_of=as_of, lookback=lookback)
    assert answer["observations"] == _expected(series_id, as_of, lookback)
    for obs in answer["observations"]:
        assert obs["release_date"] <= as_of.date().isoformat()
        assert obs["date"] <= obs["release_date"]
    assert find_future_data(answer, as_of) == []


@pytest.mark.parametrize(("as_of", "visible"), [
    ("2005-05-31T08:29:59-04:00", "2004-10-01"),  # Q1 2005 counts as released 2005-05-31 08:30 New York
    ("2005-05-31T08:30:00-04:00", "2005-01-01"),
])
def test_quarterly_value_appears_at_its_release_instant(as_of: str, visible: str) -> None:
    answer = fetch_macro_series("M1SL", as_of=as_of, lookback=1)
    assert answer["observations"][-1]["date"] == visible


@pytest.mark.parametrize(("as_of", "last_date"), [
    ("2008-03-14T15:59:59-04:00", "2008-03-13"),  # a day's yields count as published at 16:00 that day
    ("2008-03-14T16:00:00-04:00", "2008-03-14"),
])
def test_treasury_yield_appears_at_the_close_of_its_day(as_of: str, last_date: str) -> None:
    answer = fetch_macro_series("DGS10", as_of=as_of, lookback=2)
    assert answer["observations"][-1]["date"] == last_date
    assert answer["units"] == "percent"
    assert answer["observations"][-1]["value"] == pytest.approx(3.44 if last_date == "2008-03-14" else 3.56)


def test_core_cpi_of_a_month_is_hidden_until_the_end_of_the_next() -> None:
    before = fetch_macro_series("CPILFESL", as_of="2008-03-31T08:29:59-04:00", lookback=1)
    after = fetch_macro_series("CPILFESL", as_of="2008-03-31T09:00:00-04:00", lookback=1)
    assert before["observations"][-1]["date"] == "2008-01-01"
    assert after["observations"][-1]["date"] == "2008-02-01"


def test_date_only_as_of_is_read_as_the_start_of_that_day() -> None:
    answer = fetch_macro_series("DGS10", as_of="2008-03-14", lookback=1)
    assert answer["observations"][-1]["date"] == "2008-03-13"
    assert answer["as_of"] == "2008-03-14T00:00:00-04:00"


def test_answer_keys_are_pinned_and_json_serialisable() -> None:
    answer = fetch_macro_series("UNRATE", as_of="2001-06-01T12:00:00-04:00", lookback=3)
    assert list(answer) == ["series_id", "source", "as_of", "title", "units", "frequency", "observations"]
    assert answer["series_id"] == "UNRATE" and answer["source"] == "embedded"
    assert all(list(o) == ["date", "value", "release_date"] for o in answer["observations"])
    assert json.loads(json.dumps(answer)) == answer


@pytest.mark.parametrize(("alias", "series_id"), [("M1", "M1SL"), ("cpi", "CPIAUCSL"), (" tbill ", "TB3MS"),
                                                  ("GDP", "GDPC1"), ("core_cpi", "CPILFESL")])
def test_common_names_resolve_to_fred_ids(alias: str, series_id: str) -> None:
    assert fetch_macro_series(alias, as_of="2005-06-30", lookback=1)["series_id"] == series_id


def test_m2_offline_points_to_m1_and_to_the_fred_key() -> None:
    with pytest.raises(MacroDataError, match=r"M1SL.*FRED_API_KEY"):
        fetch_macro_series("M2SL", as_of="2005-06-30", lookback=1)


def test_unknown_series_offline_lists_what_exists() -> None:
    with pytest.raises(MacroDataError, match=r"'NOPE'.*offline series: M1SL"):
        fetch_macro_series("NOPE", as_of="2005-06-30", lookback=1)


def test_before_the_first_release_the_answer_is_empty_with_a_note_and_no_future_date() -> None:
    answer = fetch_macro_series("DGS1MO", as_of="2000-03-14T16:00:00-05:00", lookback=5)
    assert answer["observations"] == []
    assert "no value" in answer["note"]
    assert find_future_data(answer, dt.datetime(2000, 3, 14, 16, tzinfo=NY)) == []


def test_after_the_embedded_data_ends_the_answer_says_so() -> None:
    answer = fetch_macro_series("DGS10", as_of="2020-03-13T16:00:00-04:00", lookback=1)
    assert answer["observations"][-1]["date"] == "2017-03-29"
    assert "FRED_API_KEY" in answer["note"]


@pytest.mark.parametrize("lookback", [0, -1, 1001, 2.5, True, "12"])
def test_bad_lookback_is_refused_with_the_range(lookback: object) -> None:
    with pytest.raises(MacroDataError, match="lookback must be a whole number"):
        fetch_macro_series("M1SL", as_of="2005-06-30", lookback=lookback)  # type: ignore[arg-type]


def test_bad_as_of_says_what_to_give() -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        fetch_macro_series("M1SL", as_of="last tuesday", lookback=1)


def test_catalog_offline_lists_only_embedded_series_without_dates() -> None:
    catalog = fetch_macro_catalog(as_of="1995-01-03")
    assert [s["series_id"] for s in catalog["series"]] == list(EMBEDDED_SERIES)
    assert catalog["source"] == "embedded"
    m1 = catalog["series"][0]
    assert m1["frequency"] == "quarterly" and "approximation" in m1
    assert find_future_data(catalog, dt.datetime(1995, 1, 3, tzinfo=NY)) == []


# ---------------------------------------------------------------------------------- agent tools


def _in_run(sim_time: dt.datetime):
    return set_tool_context(ToolRunContext(agent_name="test", sim_time=sim_time, host=None))


def test_agent_tool_answers_at_the_simulated_time_of_the_run() -> None:
    tool = make_tool(macro.get_macro_series)
    token = _in_run(dt.datetime(2005, 4, 30, 8, 29, tzinfo=NY))
    try:
        outcome = tool.invoke({"series_id": "M1SL", "lookback": 2})
    finally:
        reset_tool_context(token)
    assert outcome.ok
    assert outcome.result["as_of"] == "2005-04-30T08:29:00-04:00"
    assert outcome.result["observations"][-1]["date"] == "2004-10-01"


def test_the_model_cannot_move_the_clock_through_arguments() -> None:
    tool = make_tool(macro.get_macro_series)
    assert set(tool.spec.parameters["properties"]) == {"series_id", "lookback"}
    token = _in_run(dt.datetime(2005, 4, 30, 8, 29, tzinfo=NY))
    try:
        outcome = tool.invoke({"series_id": "M1SL", "as_of": "2009-12-31"})
    finally:
        reset_tool_context(token)
    assert outcome.error_type == "ToolArgumentError"


def test_agent_tool_error_reaches_the_model_not_the_backtest() -> None:
    tool = make_tool(macro.get_macro_series)
    token = _in_run(dt.datetime(2005, 6, 30, 16, tzinfo=NY))
    try:
        outcome = tool.invoke({"series_id": "M2SL"})
    finally:
        reset_tool_context(token)
    assert outcome.error_type == "MacroDataError" and "FRED_API_KEY" in (outcome.error or "")


def test_agent_tool_called_outside_a_run_says_to_use_fetch() -> None:
    with pytest.raises(RuntimeError, match="fetch_"):
        macro.get_macro_series("M1SL")


def test_macro_tools_identity_follows_the_data_source(monkeypatch: pytest.MonkeyPatch) -> None:
    offline = {t.spec.name: t.spec.source_hash for t in macro.macro_tools()}
    monkeypatch.setenv("FRED_API_KEY", "k")
    online = {t.spec.name: t.spec.source_hash for t in macro.macro_tools()}
    assert set(offline) == {"get_macro_series", "list_macro_series"}
    assert all(offline[name] != online[name] for name in offline)


def test_tool_description_shows_the_model_the_source_code() -> None:
    spec = make_tool(macro.get_macro_series).spec
    assert "def get_macro_series" in spec.description and "release" in spec.description
