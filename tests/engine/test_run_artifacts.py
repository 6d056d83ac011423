"""The output folder of a backtest: its name, and the pinned columns/keys of every file in it."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from testkit import run_to

from agentrt import SampleData, Strategy
from agentrt.reports import artifacts

TRADE_COLUMNS = [
    "event_kind", "time", "strategy", "identifier", "symbol", "asset_type", "side", "type", "status", "price",
    "quantity", "multiplier", "fees", "reason", "expiration", "strike", "right", "order_class", "parent_identifier",
    "source",
    "cash_event_type", "cash_event_amount", "cash_event_reason", "cash_event_direction", "is_external_cash_flow",
]
STATS_COLUMNS = ["datetime", "portfolio_value", "cash_adjusted_value", "cash", "positions_value", "return"]
INDICATOR_COLUMNS = ["datetime", "kind", "name", "value", "color", "symbol", "asset", "detail_text"]
LOG_COLUMNS = ["datetime", "wall_time", "level", "message"]
SETTINGS_KEYS = {
    "schema_version", "artifacts_version", "strategy", "strategy_class", "parameters", "data_source", "start",
    "end", "budget",
    "benchmark_asset", "market", "sleeptime", "buy_trading_fees", "sell_trading_fees", "slippage_bps", "fill_at",
    "allow_short", "replay", "lookahead", "run_id", "versions", "iterations", "crashed", "metrics",
}


class Artifacts(Strategy):
    parameters = {"symbol": "AAPL"}  # noqa: RUF012 - LumiBot's class-level dict

    def initialize(self):
        self.vars.day = 0

    def on_trading_iteration(self):
        symbol = self.parameters["symbol"]
        day = self.vars.day
        self.vars.day += 1
        price = self.get_last_price(symbol)
        self.add_line("price", price, color="blue", asset=symbol)
        if day == 0:
            self.submit_order(self.create_order(symbol, 10, "buy"))
            self.add_marker("entry", price, color="green", symbol="triangle-up", asset=symbol, detail_text="go long")
            self.log_message("bought 10", color="green")
        elif day == 1:
            self.deposit_cash(1_000, "monthly savings")
        elif day == 2:
            self.submit_order(self.create_order(symbol, 10, "sell"))
            self.log_message("careful", color="yellow")

    def trace_stats(self, context, snapshot_before):
        return {"signal": float(self.vars.day), "cash_before": snapshot_before["cash"]}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return run_to(out, Artifacts, SampleData(), "2012-01-03", "2012-01-10", benchmark_asset="SPX")


def test_output_folder_is_named_strategy_wall_time_and_run_id(result):
    name = result.output_dir.name
    assert re.fullmatch(r"Artifacts_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_[0-9a-f]{8}", name), name
    assert name.endswith(result.settings["run_id"])
    assert {p.name for p in result.output_dir.iterdir()} >= {
        "trades.csv", "trades.parquet", "stats.csv", "indicators.csv", "logs.csv", "settings.json"}


def test_column_constants_are_pinned():
    assert list(artifacts.TRADE_COLUMNS) == TRADE_COLUMNS
    assert list(artifacts.STATS_COLUMNS) == STATS_COLUMNS
    assert list(artifacts.INDICATOR_COLUMNS) == INDICATOR_COLUMNS
    assert list(artifacts.LOG_COLUMNS) == LOG_COLUMNS
    assert artifacts.ARTIFACTS_VERSION == 1


def test_trades_csv_is_one_event_stream_of_trades_and_cash_events(result):
    trades = pd.read_csv(result.output_dir / "trades.csv")
    assert list(trades.columns) == TRADE_COLUMNS
    assert list(zip(trades["event_kind"], trades["side"].fillna(""), trades["status"].fillna(""),
                    trades["cash_event_type"].fillna(""))) == [
        ("trade", "buy", "fill", ""), ("cash_event", "", "", "deposit"), ("trade", "sell", "fill", "")]
    deposit = trades.iloc[1]
    assert (deposit["cash_event_amount"], deposit["cash_event_reason"], deposit["cash_event_direction"],
            bool(deposit["is_external_cash_flow"])) == (1_000.0, "monthly savings", "in", True)
    assert trades["time"].iloc[0] == "2012-01-04T09:30:00-05:00"


def test_trades_parquet_has_the_same_rows_and_columns(result):
    parquet = pd.read_parquet(result.output_dir / "trades.parquet")
    csv = pd.read_csv(result.output_dir / "trades.csv")
    assert list(parquet.columns) == TRADE_COLUMNS
    assert len(parquet) == len(csv) == 3
    assert str(parquet["time"].dt.tz) == "America/New_York"
    assert list(parquet["price"].fillna(0)) == list(csv["price"].fillna(0))


def test_stats_csv_has_pinned_columns_then_trace_stats_then_benchmark(result):
    stats = pd.read_csv(result.output_dir / "stats.csv")
    assert list(stats.columns) == STATS_COLUMNS + ["signal", "cash_before", "benchmark"]
    assert list(stats["signal"]) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # the value after each iteration
    assert stats["cash_before"].iloc[0] == 100_000.0
    assert stats["datetime"].iloc[0] == "2012-01-03T16:00:00-05:00"
    assert len(stats) == result.iterations == 6


def test_indicators_csv_holds_lines_and_markers(result):
    ind = pd.read_csv(result.output_dir / "indicators.csv")
    assert list(ind.columns) == INDICATOR_COLUMNS
    assert (ind["kind"] == "line").sum() == 6
    marker = ind[ind["kind"] == "marker"].iloc[0]
    assert (marker["name"], marker["color"], marker["symbol"], marker["asset"], marker["detail_text"]) == (
        "entry", "green", "triangle-up", "AAPL", "go long")
    assert marker["datetime"] == "2012-01-03T16:00:00-05:00"
    line = ind[ind["kind"] == "line"].iloc[0]
    assert (line["name"], line["color"], line["asset"]) == ("price", "blue", "AAPL")


def test_logs_csv_is_a_csv_with_a_header_and_levels(result):
    logs = pd.read_csv(result.output_dir / "logs.csv")
    assert list(logs.columns) == LOG_COLUMNS
    mine = logs[logs["message"].isin(["bought 10", "careful"])]
    assert list(zip(mine["message"], mine["level"])) == [("bought 10", "info"), ("careful", "warning")]
    assert mine["datetime"].iloc[0] == "2012-01-03T16:00:00-05:00"


def test_settings_json_has_the_pinned_keys(result):
    settings = json.loads((result.output_dir / "settings.json").read_text())
    assert SETTINGS_KEYS <= set(settings), SETTINGS_KEYS - set(settings)
    assert set(settings) - SETTINGS_KEYS <= {"agents"}
    assert settings["schema_version"] == 1
    assert (settings["strategy"], settings["start"], settings["end"], settings["budget"]) == (
        "Artifacts", "2012-01-03", "2012-01-10", 100_000.0)
    assert settings["parameters"] == {"symbol": "AAPL"}
    assert settings["data_source"] == {"name": "sample", "adjusted": True, "timestep": "day"}
    assert settings["iterations"] == 6 and settings["crashed"] is None
    assert settings["metrics"]["final_value"] == pytest.approx(result.equity.iloc[-1])


def test_a_crashing_strategy_still_writes_its_artifacts(tmp_path):
    from agentrt.engine.backtest import StrategyCrash

    class Crashes(Strategy):
        def on_trading_iteration(self):
            self.log_message("about to fail")
            if not self.first_iteration:
                raise ZeroDivisionError("boom")

    with pytest.raises(StrategyCrash, match=r"crashed at simulated time 2012-01-04T16:00:00-05:00: "
                                            r"ZeroDivisionError: boom") as info:
        run_to(tmp_path, Crashes, SampleData(), "2012-01-03", "2012-01-10")
    out = info.value.output_dir
    settings = json.loads((out / "settings.json").read_text())
    assert settings["crashed"] == "ZeroDivisionError: boom"
    assert len(pd.read_csv(out / "stats.csv")) == 1
    assert list(pd.read_csv(out / "logs.csv")["message"]) == ["about to fail", "about to fail"]
