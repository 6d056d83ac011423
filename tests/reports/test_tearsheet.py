"""write_tearsheet: self-contained, deterministic page with the expected charts, numbers and sections."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from agentrt.reports.metrics import compute_metrics
from agentrt.reports.tearsheet import monthly_returns, write_tearsheet

TZ = "America/New_York"


@pytest.fixture(scope="module")
def metrics(stats, trades, benchmark):
    return compute_metrics(stats, trades, benchmark=benchmark)


@pytest.fixture(scope="module")
def page(tmp_path_factory, stats, metrics, benchmark, agent_summary):
    path = tmp_path_factory.mktemp("tearsheet") / "out" / "tearsheet.html"
    written = write_tearsheet(
        path,
        stats=stats,
        metrics=metrics,
        benchmark=benchmark,
        agent_summary=agent_summary,
        title="Momentum <agent> & co",
    )
    assert written == path
    return path.read_text(encoding="utf-8")


def _without_plotly_bundle(document: str) -> str:
    start = document.index("/**\n* plotly.js v")
    end = document.index("</script>", start)
    return document[:start] + document[end:]


def test_page_embeds_plotly_js_exactly_once_and_loads_nothing_from_the_network(page):
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1
    assert page.count("Plotly.newPlot(") == 5
    rest = _without_plotly_bundle(page)
    assert re.search(r"https?://", rest) is None
    assert re.search(r"<script[^>]+src=|<link[^>]+href=|@import|@font-face", rest, re.IGNORECASE) is None
    assert '<meta name="agentrt-report" content="tearsheet/1">' in page


def test_page_has_equity_drawdown_monthly_rolling_and_trace_stats_charts(page, traces_of):
    equity = {trace["name"]: trace for trace in traces_of(page, "equity")}
    assert set(equity) == {"Cash-adjusted value", "Portfolio value (raw)", "Benchmark (rebased)"}
    assert [t["name"] for t in traces_of(page, "drawdown")] == ["Drawdown"]
    assert traces_of(page, "monthly-returns")[0]["type"] == "heatmap"
    assert [t["name"] for t in traces_of(page, "rolling-sharpe")] == ["Strategy", "Benchmark"]
    assert [t["name"] for t in traces_of(page, "trace-stats")] == ["agent_confidence"]


def test_benchmark_is_rebased_to_the_strategy_start(page, traces_of, stats, benchmark):
    equity = {trace["name"]: trace for trace in traces_of(page, "equity")}
    rebased = np.asarray(equity["Benchmark (rebased)"]["y"])
    start = stats["cash_adjusted_value"].iloc[0]
    assert rebased[0] == pytest.approx(start)
    assert rebased[-1] == pytest.approx(start * benchmark.iloc[-1] / benchmark.iloc[0])
    # drawn at the strategy's bar times (wall clock, New York), not at midnight
    assert equity["Benchmark (rebased)"]["x"][0] == "2022-01-03T16:00:00"
    assert equity["Cash-adjusted value"]["x"][0] == "2022-01-03T16:00:00"


def test_drawdown_chart_is_fall_from_running_peak(page, traces_of, stats):
    values = stats["cash_adjusted_value"].to_numpy()
    expected = values / np.maximum.accumulate(values) - 1.0
    assert traces_of(page, "drawdown")[0]["y"] == pytest.approx(expected.tolist())


def test_metrics_table_shows_formatted_percentages_and_ratios(page, metrics):
    def cell(key: str) -> str:
        match = re.search(rf'data-metric="{key}">([^<]*)<', page)
        assert match, key
        return match.group(1)

    assert cell("total_return") == f"{metrics['total_return'] * 100:+,.2f}%"
    assert cell("max_drawdown") == f"{metrics['max_drawdown'] * 100:,.2f}%"
    assert cell("sharpe") == f"{metrics['sharpe']:,.2f}"
    assert cell("win_rate") == "50.00%"
    assert cell("num_trades") == "6"
    assert cell("beta") == f"{metrics['beta']:,.2f}"
    assert cell("start") == "2022-01-03 16:00"


def test_agents_section_shows_runs_cache_hits_tokens_cost_and_warnings(page):
    section = page[page.index('id="agents"') :]
    assert 'data-agent="runs">500<' in section
    assert 'data-agent="cache_hits">470<' in section and "94.0% hit rate" in section
    assert 'data-agent="model_calls">61<' in section
    assert 'data-agent="input_tokens">1,234,567<' in section
    assert 'data-agent="output_tokens">45,678<' in section
    assert 'data-agent="cost_usd">$1.2345<' in section
    warnings = section[section.index('id="agent-warnings"') :]
    assert re.search(r"<td>no_tools_called</td><td class=\"num\">5</td>", warnings)
    assert re.search(r"<td>future_data</td><td class=\"num\">2</td>", warnings)
    assert "risk &lt;manager&gt;" in section and "risk <manager>" not in section


def test_user_text_is_escaped(page):
    assert "<title>Momentum &lt;agent&gt; &amp; co</title>" in page
    assert "<agent>" not in _without_plotly_bundle(page)


def test_rerun_writes_byte_identical_html(tmp_path, stats, metrics, benchmark, agent_summary):
    first = write_tearsheet(
        tmp_path / "a.html", stats=stats, metrics=metrics, benchmark=benchmark, agent_summary=agent_summary
    )
    second = write_tearsheet(
        tmp_path / "b.html", stats=stats, metrics=dict(metrics), benchmark=benchmark.copy(), agent_summary=agent_summary
    )
    assert first.read_bytes() == second.read_bytes()


def test_page_without_benchmark_or_agents_omits_those_parts(tmp_path, stats, traces_of):
    path = write_tearsheet(
        tmp_path / "t.html", stats=stats[["datetime", "portfolio_value", "cash_adjusted_value"]], metrics=None
    )
    document = path.read_text(encoding="utf-8")
    assert 'id="agents"' not in document
    assert [t["name"] for t in traces_of(document, "equity")] == ["Cash-adjusted value", "Portfolio value (raw)"]
    assert [t["name"] for t in traces_of(document, "rolling-sharpe")] == ["Strategy"]
    assert 'id="trace-stats"' not in document
    assert 'data-metric="alpha">—<' in document


def test_monthly_returns_chain_month_end_values():
    # Jan 2 100 -> Jan 31 110 (+10%), Feb 29 99 (-10%), Mar 28 108.9 (+10%)
    times = pd.DatetimeIndex(
        pd.to_datetime(["2024-01-02 16:00", "2024-01-31 16:00", "2024-02-29 16:00", "2024-03-28 16:00"])
    ).tz_localize(TZ)
    table = monthly_returns(pd.Series([100.0, 110.0, 99.0, 108.9], index=times), TZ)
    assert list(table.index) == [2024]
    assert table.loc[2024, [1, 2, 3]].tolist() == pytest.approx([0.10, -0.10, 0.10])
    assert table.loc[2024, 4:].isna().all()


def test_monthly_heatmap_has_one_row_per_year_with_the_year_return(page, traces_of):
    heatmap = traces_of(page, "monthly-returns")[0]
    assert [label.split()[0] for label in heatmap["y"]] == ["2022", "2023"]
    assert heatmap["x"][0] == "Jan" and len(heatmap["x"]) == 12
