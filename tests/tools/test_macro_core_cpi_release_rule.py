"""Embedded core CPI is never visible before its publication (Sept 2013 CPI came out on 2013-10-30)."""
from tools.macro import fetch_macro_series


def test_september_2013_core_cpi_is_not_visible_before_its_release_on_2013_10_30():
    answer = fetch_macro_series("CPILFESL", as_of="2013-10-20T12:00:00-04:00", lookback=3, source="embedded")
    dates = [o["date"] for o in answer["observations"]]
    assert "2013-09-01" not in dates, f"Sept 2013 CPI (published 2013-10-30) visible on 2013-10-20: {answer['observations']}"
