"""write_trades_html: price charts with fills, indicators and cash events; self-contained and deterministic."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from agentrt.reports.trades_html import write_trades_html


@pytest.fixture(scope="module")
def page(tmp_path_factory, trades, prices, indicators, stats):
    path = tmp_path_factory.mktemp("trades") / "trades.html"
    assert write_trades_html(path, trades=trades, prices=prices, indicators=indicators, stats=stats) == path
    return path.read_text(encoding="utf-8")


def _named(traces: list[dict]) -> dict[str, dict]:
    return {trace.get("name"): trace for trace in traces}


def test_one_price_chart_per_symbol_plus_a_portfolio_panel(page):
    ids = re.findall(r'Plotly\.newPlot\(\s*"([^"]+)"', page)
    assert ids == ["portfolio", "price-aapl", "price-spy"]
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1
    assert '<meta name="agentrt-report" content="trades/1">' in page


def test_buy_and_sell_markers_sit_at_fill_times_and_prices(page, traces_of, trades):
    traces = _named(traces_of(page, "price-aapl"))
    assert traces["AAPL"]["type"] == "candlestick"
    fills = trades[(trades["symbol"] == "AAPL") & trades["status"].isin(["fill", "partial_fill"])]
    buys = fills[fills["side"] == "buy"]
    sells = fills[fills["side"] == "sell"]
    assert traces["Buy"]["marker"]["symbol"] == "triangle-up" and traces["Buy"]["marker"]["color"] == "#16a34a"
    assert traces["Sell"]["marker"]["symbol"] == "triangle-down" and traces["Sell"]["marker"]["color"] == "#dc2626"
    assert traces["Buy"]["y"] == pytest.approx(buys["price"].tolist())
    assert traces["Sell"]["y"] == pytest.approx(sells["price"].tolist())
    expected_x = [t.tz_convert("America/New_York").strftime("%Y-%m-%dT%H:%M:%S") for t in buys["time"]]
    assert traces["Buy"]["x"] == expected_x


def test_fill_hover_shows_quantity_price_fees_status_type_and_reason(page, traces_of):
    buy = _named(traces_of(page, "price-aapl"))["Buy"]["text"][0]
    assert "<b>BUY AAPL</b> · fill" in buy
    assert "qty 100 @ " in buy and "fees 10.41" in buy
    assert "order market" in buy and "reason: agent: momentum breakout" in buy
    short = _named(traces_of(page, "price-spy"))["Sell"]["text"]
    assert any("SELL SHORT SPY" in text and "reason: agent: hedge" in text for text in short)
    partial = _named(traces_of(page, "price-aapl"))["Sell"]["text"]
    assert sum("partial fill" in text for text in partial) == 2


def test_unfilled_orders_are_drawn_hidden_until_toggled(page, traces_of):
    unfilled = _named(traces_of(page, "price-aapl"))["Unfilled orders"]
    assert unfilled["visible"] == "legendonly"
    assert "canceled" in unfilled["text"][0]


def test_indicator_lines_use_their_color_on_their_asset_chart(page, traces_of, indicators):
    aapl = _named(traces_of(page, "price-aapl"))
    spy = _named(traces_of(page, "price-spy"))
    assert aapl["SMA20"]["line"]["color"] == "orange" and "SMA50" not in aapl
    assert spy["SMA50"]["line"]["color"] == "#1f77b4"
    expected = indicators[(indicators["name"] == "SMA20")]["value"].to_numpy()
    assert np.allclose(aapl["SMA20"]["y"], expected)


def test_markers_use_their_shape_color_and_detail_text(page, traces_of):
    signal = _named(traces_of(page, "price-aapl"))["agent signal"]
    assert signal["marker"]["symbol"] == "star" and signal["marker"]["color"] == "gold"
    assert "breakout above 20-day high" in signal["text"][0]


def test_portfolio_panel_has_values_cash_events_and_asset_free_indicators(page, traces_of, stats):
    traces = _named(traces_of(page, "portfolio"))
    assert {
        "Portfolio value",
        "Cash-adjusted value",
        "Cash",
        "Deposit",
        "Withdrawal",
        "Interest",
        "Fee",
        "gross leverage",
        "regime",
    } <= set(traces)
    assert traces["gross leverage"]["line"]["color"] == "purple"
    assert traces["gross leverage"]["yaxis"] == "y2"  # own row below the values
    deposit = traces["Deposit"]
    # the deposit marker sits on the portfolio value of its bar
    assert deposit["y"] == pytest.approx([stats["portfolio_value"].iloc[200]])
    assert "external cash flow" in deposit["text"][0] and "20,000.00" in deposit["text"][0]
    assert "-10,000.00" in traces["Withdrawal"]["text"][0]
    assert traces["regime"]["marker"]["symbol"] == "diamond" and "regime: risk-off" in traces["regime"]["text"][0]


def test_rerun_writes_byte_identical_html(tmp_path, trades, prices, indicators, stats):
    first = write_trades_html(tmp_path / "a.html", trades=trades, prices=prices, indicators=indicators, stats=stats)
    second = write_trades_html(
        tmp_path / "b.html", trades=trades.copy(), prices=dict(prices), indicators=indicators.copy(), stats=stats.copy()
    )
    assert first.read_bytes() == second.read_bytes()


def test_round_trips_table_lists_closed_trades(page):
    table = page[page.index('id="round-trips"') :]
    assert table.count("<tr>") == 1 + 6  # header + 6 round trips
    assert "short" in table


def test_minimal_inputs_without_stats_indicators_or_prices(tmp_path, trades, traces_of):
    option = pd.DataFrame(
        [
            {
                **trades.iloc[0].to_dict(),
                "symbol": "SPY 2024-01-19 480 C",
                "asset_type": "option",
                "price": 2.5,
                "quantity": 1,
                "multiplier": 100.0,
            },
            {
                **trades.iloc[0].to_dict(),
                "symbol": "SPY 2024-01-19 480 C",
                "asset_type": "option",
                "status": "expired",
                "side": "sell",
                "price": 0.0,
                "quantity": 1,
                "multiplier": 100.0,
                "time": trades["time"].iloc[5],
            },
        ]
    )
    cash = trades[trades["event_kind"] == "cash_event"]
    path = write_trades_html(tmp_path / "t.html", trades=pd.concat([option, cash], ignore_index=True), prices={})
    document = path.read_text(encoding="utf-8")
    option_chart = _named(traces_of(document, "price-spy-2024-01-19-480-c"))
    assert option_chart["Buy"]["text"][0].count("multiplier 100") == 1
    assert "Option lifecycle" in option_chart
    deposits = _named(traces_of(document, "portfolio"))["Deposit"]
    assert deposits["y"] == pytest.approx([20_000.0])  # without stats, cash events sit at their amount


def test_unknown_marker_shape_and_color_fall_back_instead_of_failing(tmp_path, trades, prices, traces_of):
    bad = pd.DataFrame(
        [
            {
                "datetime": prices["AAPL"].index[10],
                "kind": "marker",
                "name": "odd",
                "value": np.nan,
                "color": "not-a-color",
                "symbol": "hexagram-wobbly",
                "asset": "AAPL",
                "detail_text": "<script>alert(1)</script>",
            }
        ]
    )
    path = write_trades_html(tmp_path / "t.html", trades=trades, prices=prices, indicators=bad)
    odd = _named(traces_of(path.read_text(encoding="utf-8"), "price-aapl"))["odd"]
    assert odd["marker"]["symbol"] == "circle" and odd["marker"]["color"] == "#334155"
    assert odd["y"] == pytest.approx([prices["AAPL"]["close"].iloc[10]])  # no value: drawn on the close
    assert "&lt;script&gt;" in odd["text"][0]
