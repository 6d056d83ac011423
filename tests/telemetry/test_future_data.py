"""The look-ahead walker: future-dated values in tool results, and the blocked replacement result."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from agentrt.telemetry.lookahead import block_future_data, find_future_data
from agentrt.telemetry.warnings import AgentWarning

NY = ZoneInfo("America/New_York")
T = dt.datetime(2021, 3, 5, 16, 0, tzinfo=NY)


def paths(warnings: list[AgentWarning]) -> list[str]:
    return [w.details["path"] for w in warnings if "path" in w.details]


def test_clean_point_in_time_result_gives_no_warning() -> None:
    result = {
        "symbol": "SPY",
        "rows": [
            {"date": "2021-03-04", "open": 381.2, "close": 381.42, "volume": 20210305},
            {"date": "2021-03-05", "open": 380.0, "close": 383.6, "volume": 21000000},
        ],
        "as_of": "2021-03-05T16:00:00-05:00",
        "note": "data as of 2021-03-05",
    }
    assert find_future_data(result, T) == []


def test_nested_future_date_is_reported_with_its_json_path() -> None:
    result = {"data": {"rows": [{"date": "2021-03-04"}, {"date": "2021-03-05"}, {"date": "2021-03-08"}]}}
    (warning,) = find_future_data(result, T)
    assert warning.code == "future_data"
    assert warning.details["path"] == "$.data.rows[2].date"
    assert warning.details["value"] == "2021-03-08"
    assert warning.details["sim_time"] == "2021-03-05T16:00:00-05:00"
    assert "2021-03-08" in warning.message


def test_date_embedded_in_longer_text_is_found() -> None:
    (warning,) = find_future_data({"headline": "Stocks rally; data as of 2021-03-09 shows gains"}, T)
    assert warning.details["path"] == "$.headline"
    assert warning.details["kind"] == "embedded"
    assert warning.details["date"] == "2021-03-09"


def test_datetime_later_on_the_same_day_is_future_but_plain_date_of_today_is_not() -> None:
    assert find_future_data({"ts_text": "2021-03-05T17:30:00-05:00"}, T) != []
    assert find_future_data({"ts_text": "2021-03-05T21:30:00Z"}, T) != []  # 16:30 in New York
    assert find_future_data({"ts_text": "2021-03-05T20:30:00Z"}, T) == []  # 15:30 in New York
    assert find_future_data({"d": dt.date(2021, 3, 5)}, T) == []
    assert find_future_data({"d": dt.date(2021, 3, 6)}, T) != []


def test_naive_datetimes_are_read_in_the_simulated_time_zone() -> None:
    assert find_future_data({"when": dt.datetime(2021, 3, 5, 15, 59)}, T) == []
    (warning,) = find_future_data({"when": dt.datetime(2021, 3, 5, 16, 1)}, T)
    assert warning.details["path"] == "$.when"
    assert find_future_data({"text": "2021-03-05 16:01:00"}, T) != []


def test_datetime_objects_pandas_and_numpy_values_are_checked() -> None:
    result = [
        dt.datetime(2021, 3, 4, tzinfo=NY),
        pd.Timestamp("2021-03-10", tz="UTC"),
        np.datetime64("2021-03-11T00:00:00"),
        pd.NaT,
    ]
    assert paths(find_future_data(result, T)) == ["$[1]", "$[2]"]


def test_epoch_seconds_and_milliseconds_under_date_like_keys_are_dates() -> None:
    future = dt.datetime(2021, 3, 8, 14, 30, tzinfo=NY).timestamp()
    past = dt.datetime(2021, 3, 4, 14, 30, tzinfo=NY).timestamp()
    result = {
        "bars": [{"t": int(past * 1000), "c": 1.0}, {"t": int(future * 1000), "c": 2.0}],
        "published_ts": int(future),
        "chart": {"timestamp": [int(past), int(future)]},
    }
    warnings = find_future_data(result, T)
    assert paths(warnings) == ["$.bars[1].t", "$.published_ts", "$.chart.timestamp[1]"]
    assert {w.details["kind"] for w in warnings} == {"epoch"}


def test_numbers_that_only_look_like_dates_are_not_flagged() -> None:
    result = {
        "price": 2021.5,
        "volume": 20210399,
        "shares": 20210305,
        "market_cap": 1_700_000_000,  # looks like an epoch in seconds, but is not under a date key
        "id": "1715000000",
        "elapsed_time": 3600,
        "rows": [{"close": 20220101.0, "count": 1_650_000_000_000}],
    }
    assert find_future_data(result, T) == []


def test_yyyymmdd_integers_under_date_keys_are_dates() -> None:
    assert paths(find_future_data({"date": 20210308}, T)) == ["$.date"]
    assert find_future_data({"date": 20210305}, T) == []


def test_observation_before_sim_time_released_after_it_is_a_leak() -> None:
    result = {
        "observations": [
            {"date": "2021-01-01", "value": "1.2", "realtime_start": "2021-02-26", "realtime_end": "9999-12-31"},
            {"date": "2021-02-01", "value": "1.3", "realtime_start": "2021-03-26", "realtime_end": "9999-12-31"},
        ]
    }
    (warning,) = find_future_data(result, T)
    assert warning.details["path"] == "$.observations[1].realtime_start"
    assert warning.details["kind"] == "release"
    assert "released" in warning.message


def test_released_record_is_judged_by_release_date_not_by_dates_in_its_text() -> None:
    news = {"published_at": "2021-03-04T09:00:00-05:00", "headline": "Fed to meet on 2021-03-17"}
    assert find_future_data([news], T) == []


def test_observation_after_sim_time_is_a_leak_even_when_released_before() -> None:
    record = {"release_date": "2021-03-01", "date": "2021-03-31", "value": 5}
    assert paths(find_future_data({"items": [record]}, T)) == ["$.items[0].date"]


def test_one_warning_per_released_record_even_when_several_fields_leak() -> None:
    record = {"release_date": "2021-04-01", "date": "2021-03-31", "period_end_date": "2021-03-31"}
    assert paths(find_future_data([record], T)) == ["$[0].release_date"]


def test_camel_case_and_custom_release_keys_are_recognised() -> None:
    assert paths(find_future_data([{"publishedAt": "2021-03-06", "title": "x"}], T)) == ["$[0].publishedAt"]
    custom = find_future_data([{"vintage": "2021-03-09", "date": "2021-01-01"}], T, release_keys=("vintage",))
    assert paths(custom) == ["$[0].vintage"]


def test_forward_looking_dates_like_option_expiries_are_not_look_ahead() -> None:
    chain = {
        "options": [{"strike": 380, "expiration_date": "2021-06-18"}, {"strike": 385, "expiry": "2021-09-17"}],
        "next_earnings_date": "2021-04-20",
        "observation_end": "9999-12-31",
    }
    assert find_future_data(chain, T) == []


def test_open_ended_sentinel_dates_are_ignored() -> None:
    assert find_future_data({"valid": "9999-12-31", "text": "until 9999-12-31"}, T) == []


def test_invalid_calendar_dates_are_ignored() -> None:
    assert find_future_data({"code": "ORDER-2021-13-45", "x": "2021-02-30"}, T) == []


def test_warnings_are_capped_with_a_count_of_the_rest() -> None:
    rows = [{"date": f"2021-04-{day:02d}"} for day in range(1, 21)]
    warnings = find_future_data({"rows": rows}, T, max_warnings=5)
    assert len(warnings) == 6
    assert paths(warnings) == [f"$.rows[{i}].date" for i in range(5)]
    assert warnings[-1].details == {"omitted": 15, "total": 20, "sim_time": T.isoformat()}
    assert all(w.details["total"] == 20 for w in warnings[:5])


def test_keys_that_are_not_identifiers_are_quoted_in_the_path() -> None:
    assert paths(find_future_data({"as of": {"2021 Q2": "2021-06-30"}}, T)) == ['$["as of"]["2021 Q2"]']


def test_dataframe_results_are_walked_with_their_index() -> None:
    frame = pd.DataFrame(
        {"close": [1.0, 2.0]},
        index=pd.DatetimeIndex(["2021-03-04", "2021-03-08"], name="date", tz=NY),
    )
    assert paths(find_future_data({"bars": frame}, T)) == ["$.bars[1].date"]


def test_tool_name_appears_in_message_and_details() -> None:
    (warning,) = find_future_data({"date": "2021-03-08"}, T, tool_name="fred_series")
    assert warning.details["tool"] == "fred_series"
    assert "'fred_series'" in warning.message


def test_block_replacement_names_sim_time_and_an_offending_value() -> None:
    result = {"rows": [{"date": "2021-03-04"}, {"date": "2021-03-08"}]}
    blocked = block_future_data(result, find_future_data(result, T))
    assert blocked == {
        "error": "blocked: this tool result contains data from after the simulated time 2021-03-05T16:00:00-05:00 "
        "(e.g. $.rows[1].date=2021-03-08); request data up to 2021-03-05T16:00:00-05:00 only"
    }


def test_block_without_future_data_warning_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="find_future_data"):
        block_future_data({"x": 1}, [])


def test_naive_sim_time_is_read_as_utc() -> None:
    naive = dt.datetime(2021, 3, 5, 21, 0)
    assert find_future_data({"ts": "2021-03-05T20:59:00Z"}, naive) == []
    assert find_future_data({"ts": "2021-03-05T21:01:00Z"}, naive) != []


def test_json_text_returned_by_mcp_tools_is_walked_as_data() -> None:
    import json

    payload = {
        "observations": [
            {"date": "2021-01-01", "realtime_start": "2021-03-26", "value": "1.3"},
            {"date": "2021-02-01", "published_at": "2021-03-01", "note": "next release 2021-04-13"},
        ],
        "updated": 1617235200,
    }
    result = {"content": [{"type": "text", "text": json.dumps(payload)}]}
    assert paths(find_future_data(result, T)) == [
        "$.content[0].text.observations[0].realtime_start",
        "$.content[0].text.updated",
    ]


def test_text_that_only_looks_like_json_is_scanned_as_text() -> None:
    assert paths(find_future_data({"note": "[draft] revised on 2021-03-09 [final]"}, T)) == ["$.note"]
