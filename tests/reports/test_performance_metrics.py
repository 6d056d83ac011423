"""compute_metrics / round_trips / infer_periods_per_year: hand-computed fixtures and an empyrical cross-check."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agentrt.reports.metrics import (
    METRIC_KEYS,
    METRICS_VERSION,
    ROUND_TRIP_COLUMNS,
    compute_metrics,
    infer_periods_per_year,
    round_trips,
)

TZ = "America/New_York"
REPO = Path(__file__).resolve().parents[2]


def _stats(values, *, positions=None, dates=None, pv=None) -> pd.DataFrame:
    dates = dates or ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"][: len(values)]
    times = pd.DatetimeIndex(pd.to_datetime(dates) + pd.Timedelta(hours=16)).tz_localize(TZ)
    values = np.asarray(values, dtype=float)
    positions = np.zeros(len(values)) if positions is None else np.asarray(positions, dtype=float)
    pv = values if pv is None else np.asarray(pv, dtype=float)
    return pd.DataFrame(
        {
            "datetime": times,
            "portfolio_value": pv,
            "cash_adjusted_value": values,
            "cash": pv - positions,
            "positions_value": positions,
            "return": np.concatenate(([0.0], values[1:] / values[:-1] - 1.0)),
        }
    )


def _fill(
    time, symbol, side, price, quantity, fees=0.0, *, status="fill", asset_type="stock", multiplier=1.0, ident=""
):
    return {
        "event_kind": "trade",
        "time": pd.Timestamp(time, tz=TZ),
        "strategy": "S",
        "identifier": ident or f"{symbol}-{time}-{side}",
        "symbol": symbol,
        "asset_type": asset_type,
        "side": side,
        "type": "market",
        "status": status,
        "price": price,
        "quantity": quantity,
        "multiplier": multiplier,
        "fees": fees,
        "reason": None,
        "cash_event_type": None,
        "cash_event_amount": np.nan,
        "cash_event_reason": None,
        "cash_event_direction": None,
        "is_external_cash_flow": None,
    }


# cash_adjusted_value 100, 110, 99, 118.8, 106.92 -> returns r = +0.10, -0.10, +0.20, -0.10
HAND_VALUES = [100.0, 110.0, 99.0, 118.8, 106.92]


def test_hand_computed_series_gives_hand_computed_metrics():
    m = compute_metrics(_stats(HAND_VALUES, positions=[0, 50, 50, 0, 0]), None, periods_per_year=4)
    # total = 106.92 / 100 - 1
    assert m["total_return"] == pytest.approx(0.0692)
    # 4 returns at 4 per year = 1 year, so CAGR = total return
    assert m["cagr"] == pytest.approx(0.0692)
    # mean r = 0.025; deviations .075 -.125 .175 -.125; squares sum .0675; /3 = .0225; std = 0.15
    assert m["volatility"] == pytest.approx(0.15 * 2)  # x sqrt(4)
    assert m["sharpe"] == pytest.approx(0.025 / 0.15 * 2)  # = 0.3333
    # downside: sqrt(mean([0, .01, 0, .01])) = sqrt(.005), x sqrt(4) = .141421; numerator .025 * 4 = .1
    assert m["sortino"] == pytest.approx(0.1 / (math.sqrt(0.005) * 2))  # = 1/sqrt(2)
    # running peaks 100 110 110 118.8 118.8 -> drawdowns 0 0 -.1 0 -.1
    assert m["max_drawdown"] == pytest.approx(-0.10)
    assert m["calmar"] == pytest.approx(0.692)
    # peak Jan 3, recovered Jan 5 (2 days); peak Jan 5, still under water Jan 8 (3 days)
    assert m["max_drawdown_duration_days"] == pytest.approx(3.0)
    assert m["exposure_time"] == pytest.approx(2 / 5)
    assert m["periods_per_year"] == 4.0
    assert m["initial_value"] == 100.0 and m["final_cash_adjusted_value"] == pytest.approx(106.92)
    assert m["start"] == "2024-01-02T16:00:00-05:00" and m["end"] == "2024-01-08T16:00:00-05:00"
    assert m["num_trades"] == 0 and m["win_rate"] is None and m["profit_factor"] is None
    assert m["alpha"] is None and m["beta"] is None and m["benchmark_return"] is None


def test_risk_free_rate_is_annual_and_compounded_to_a_per_bar_rate():
    # per-bar rf 0.01 at 4 bars a year <=> annual (1.01)^4 - 1; excess mean .015, std .15
    rf = 1.01**4 - 1.0
    m = compute_metrics(_stats(HAND_VALUES), None, periods_per_year=4, risk_free_rate=rf)
    assert m["sharpe"] == pytest.approx(0.015 / 0.15 * 2)  # = 0.2
    # excess .09 -.11 .19 -.11 -> downside sqrt((.0121 + .0121) / 4) x 2; numerator .015 x 4
    assert m["sortino"] == pytest.approx(0.06 / (math.sqrt(0.0242 / 4) * 2))
    assert m["risk_free_rate"] == pytest.approx(rf)


def test_drawdown_duration_runs_from_peak_to_recovery():
    # peak Jan 2 (100), under water Jan 3-4, back at 100 on Jan 5 -> 3 days; Jan 8 new high
    m = compute_metrics(_stats([100, 95, 90, 100, 101]), None, periods_per_year=252)
    assert m["max_drawdown_duration_days"] == pytest.approx(3.0)
    assert m["max_drawdown"] == pytest.approx(-0.10)


def test_round_trips_match_fills_first_in_first_out_with_fees():
    trades = pd.DataFrame(
        [
            _fill("2024-01-02 10:00", "AAA", "buy", 10.0, 10, 1.0),
            _fill("2024-01-03 10:00", "AAA", "buy", 12.0, 10, 1.0),
            _fill("2024-01-03 11:00", "AAA", "buy", 11.0, 99, status="canceled"),
            _fill("2024-01-03 12:00", "AAA", "buy", 11.0, 99, status="rejected"),
            _fill("2024-01-04 10:00", "AAA", "sell", 13.0, 15, 1.5),
            _fill("2024-01-05 10:00", "AAA", "sell", 9.0, 5, 0.5),
            _fill("2024-01-02 10:00", "BBB", "sell_short", 50.0, 10),
            _fill("2024-01-08 10:00", "BBB", "buy_to_cover", 45.0, 10),
            _fill("2024-01-02 10:00", "XYZ", "buy", 2.0, 1, 0.65, asset_type="option", multiplier=100),
            _fill("2024-01-05 10:00", "XYZ", "sell", 3.5, 1, 0.65, asset_type="option", multiplier=100),
        ]
    )
    trips = round_trips(trades)
    assert tuple(trips.columns) == ROUND_TRIP_COLUMNS
    by_exit = trips.set_index(["symbol", "exit_time"])["pnl"]
    # sell 15 @ 13 takes 10 @ 10 (fee 1) and 5 of 10 @ 12 (fee .5): 30 + 5 - (1 + .5 + 1.5) = 32
    assert by_exit[("AAA", pd.Timestamp("2024-01-04 10:00", tz=TZ))] == pytest.approx(32.0)
    # sell 5 @ 9 takes the other 5 @ 12 (fee .5): -15 - (.5 + .5) = -16
    assert by_exit[("AAA", pd.Timestamp("2024-01-05 10:00", tz=TZ))] == pytest.approx(-16.0)
    # short 10 @ 50 covered @ 45: +50
    assert by_exit[("BBB", pd.Timestamp("2024-01-08 10:00", tz=TZ))] == pytest.approx(50.0)
    # option: (3.5 - 2.0) x 1 x 100 - 1.30 = 148.70
    assert by_exit[("XYZ", pd.Timestamp("2024-01-05 10:00", tz=TZ))] == pytest.approx(148.7)
    assert trips.loc[trips["symbol"] == "BBB", "direction"].item() == "short"

    m = compute_metrics(_stats(HAND_VALUES), trades, periods_per_year=4)
    assert m["num_trades"] == 4
    assert m["num_fills"] == 8
    assert m["win_rate"] == pytest.approx(3 / 4)
    assert m["profit_factor"] == pytest.approx((32 + 50 + 148.7) / 16)
    assert m["avg_win"] == pytest.approx((32 + 50 + 148.7) / 3)
    assert m["avg_loss"] == pytest.approx(-16.0)


def test_partial_fills_of_one_closing_order_make_one_round_trip():
    trades = pd.DataFrame(
        [
            _fill("2024-01-02 10:00", "AAA", "buy", 10.0, 100),
            _fill("2024-01-03 10:00", "AAA", "sell", 11.0, 60, status="partial_fill", ident="exit-1"),
            _fill("2024-01-03 10:05", "AAA", "sell", 12.0, 40, status="partial_fill", ident="exit-1"),
        ]
    )
    trips = round_trips(trades)
    assert len(trips) == 1
    # 60 x 1 + 40 x 2 = 140; exit price weighted (60 x 11 + 40 x 12) / 100 = 11.4
    assert trips["pnl"].item() == pytest.approx(140.0)
    assert trips["exit_price"].item() == pytest.approx(11.4)
    assert trips["quantity"].item() == pytest.approx(100.0)


def test_fill_larger_than_position_reverses_it():
    trades = pd.DataFrame(
        [
            _fill("2024-01-02 10:00", "AAA", "buy", 10.0, 10),
            _fill("2024-01-03 10:00", "AAA", "sell", 12.0, 15),  # closes 10 (+20), opens short 5 @ 12
            _fill("2024-01-04 10:00", "AAA", "buy", 11.0, 5),  # covers: +5
        ]
    )
    assert round_trips(trades)["pnl"].tolist() == pytest.approx([20.0, 5.0])
    assert round_trips(trades)["direction"].tolist() == ["long", "short"]


def test_expired_option_closes_at_zero_but_an_expired_stock_order_is_ignored():
    trades = pd.DataFrame(
        [
            _fill("2024-01-02 10:00", "XYZ", "buy", 1.0, 2, asset_type="option", multiplier=100),
            {
                **_fill("2024-01-19 16:00", "XYZ", "sell", np.nan, np.nan, asset_type="option", multiplier=100),
                "status": "expired",
            },
            {**_fill("2024-01-03 16:00", "AAA", "buy", 10.0, 5), "status": "expired"},
        ]
    )
    trips = round_trips(trades)
    assert trips["symbol"].tolist() == ["XYZ"]
    assert trips["pnl"].item() == pytest.approx(-200.0)  # 2 contracts x 1.00 x 100 lost


def test_cash_settled_option_closes_at_its_settlement_price():
    trades = pd.DataFrame(
        [
            _fill("2024-01-02 10:00", "SPX", "sell", 5.0, 1, asset_type="option", multiplier=100),
            {
                **_fill("2024-01-19 16:00", "SPX", "buy", 7.5, 1, asset_type="option", multiplier=100),
                "status": "cash_settled",
            },
        ]
    )
    assert round_trips(trades)["pnl"].item() == pytest.approx(-250.0)  # short 5.00, settled 7.50


def test_fill_without_side_is_an_error_that_names_the_row():
    trades = pd.DataFrame([_fill("2024-01-02 10:00", "AAA", "hold", 10.0, 1)])
    with pytest.raises(ValueError, match="side 'hold'.*buy"):
        round_trips(trades)


def test_deposit_mid_series_does_not_change_return_metrics(stats, stats_without_flows, trades, benchmark):
    no_flows = stats_without_flows
    with_flows = compute_metrics(stats, trades, benchmark=benchmark)
    without = compute_metrics(no_flows, trades, benchmark=benchmark)
    assert stats["portfolio_value"].iloc[-1] != pytest.approx(no_flows["portfolio_value"].iloc[-1])
    for key in (
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "alpha",
        "beta",
        "max_drawdown_duration_days",
        "calmar",
    ):
        assert with_flows[key] == pytest.approx(without[key]), key
    raw_return = stats["portfolio_value"].iloc[-1] / stats["portfolio_value"].iloc[0] - 1.0
    assert with_flows["total_return"] < raw_return - 0.05  # the raw value includes the net 10k deposit
    assert with_flows["net_external_cash_flow"] == pytest.approx(20_000.0 - 10_000.0)
    assert without["net_external_cash_flow"] == pytest.approx(10_000.0)  # flows come from trades, not stats


def test_metrics_match_empyrical_on_the_same_returns(stats, trades, benchmark):
    empyrical = pytest.importorskip("empyrical")
    returns = stats.set_index("datetime")["cash_adjusted_value"].pct_change().iloc[1:]
    bench_returns = benchmark.pct_change().iloc[1:]
    for rf in (0.0, 0.03):
        m = compute_metrics(stats, trades, benchmark=benchmark, periods_per_year=252, risk_free_rate=rf)
        rf_bar = (1 + rf) ** (1 / 252) - 1
        # Same conventions as empyrical: ddof=1, sqrt(252) scaling, CAGR over len(returns)/252 years,
        # max drawdown anchored at the starting value, alpha = (1 + mean(r - beta*b))^252 - 1.
        assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(returns, risk_free=rf_bar), rel=1e-9)
        assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(returns, required_return=rf_bar), rel=1e-9)
        alpha, beta = empyrical.alpha_beta(returns, bench_returns, risk_free=rf_bar)
        assert m["alpha"] == pytest.approx(alpha, rel=1e-9)
        assert m["beta"] == pytest.approx(beta, rel=1e-9)
    assert m["max_drawdown"] == pytest.approx(empyrical.max_drawdown(returns), rel=1e-9)
    assert m["volatility"] == pytest.approx(empyrical.annual_volatility(returns), rel=1e-9)
    assert m["cagr"] == pytest.approx(empyrical.cagr(returns), rel=1e-9)
    assert m["calmar"] == pytest.approx(empyrical.calmar_ratio(returns), rel=1e-9)


def test_alpha_and_beta_recover_a_known_linear_relation():
    rng = np.random.default_rng(3)
    b = rng.normal(0.0, 0.01, 300)
    r = 0.001 + 1.5 * b  # exactly linear: beta 1.5, alpha 0.001 per bar
    times = pd.bdate_range("2021-01-04", periods=301)
    bench = pd.Series(100.0 * np.cumprod(np.concatenate(([1.0], 1 + b))), index=times.tz_localize("UTC"))
    stats = pd.DataFrame(
        {
            "datetime": (times + pd.Timedelta(hours=16)).tz_localize(TZ),
            "cash_adjusted_value": 1000.0 * np.cumprod(np.concatenate(([1.0], 1 + r))),
            "positions_value": 1.0,
        }
    )
    # benchmark stamped at UTC midnight, stats at 16:00 New York: aligned by calendar date
    m = compute_metrics(stats, None, benchmark=bench)
    assert m["beta"] == pytest.approx(1.5, rel=1e-9)
    assert m["alpha"] == pytest.approx(1.001**252 - 1.0, rel=1e-9)
    assert m["benchmark_return"] == pytest.approx(bench.iloc[-1] / bench.iloc[0] - 1.0)


def test_benchmark_with_missing_dates_is_aligned_on_common_dates(stats, benchmark):
    holey = benchmark.drop(benchmark.index[100:110])
    m = compute_metrics(stats, None, benchmark=holey)
    full = compute_metrics(stats, None, benchmark=benchmark)
    assert m["beta"] == pytest.approx(full["beta"], rel=0.05)
    assert m["beta"] != full["beta"]


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (pd.bdate_range("2024-01-01", periods=60), 252),
        (pd.date_range("2024-01-01", periods=60, freq="D"), 365),  # crypto: weekends trade
        (pd.date_range("2024-01-05", periods=30, freq="W-FRI"), 52),
        (pd.date_range("2020-01-31", periods=30, freq="ME"), 12),
        (pd.date_range("2010-03-31", periods=12, freq="QE"), 4),
        (
            pd.DatetimeIndex(
                [
                    t + pd.Timedelta(minutes=30 + 60 * h)
                    for t in pd.bdate_range("2024-01-08", periods=5)
                    for h in range(9, 16)
                ]
            ),
            7 * 252,
        ),
    ],
)
def test_periods_per_year_is_inferred_from_bar_spacing(times, expected):
    assert infer_periods_per_year(times.tz_localize(TZ)) == expected


def test_metrics_keys_and_version_are_pinned(stats, trades, benchmark):
    assert METRICS_VERSION == 1
    assert METRIC_KEYS == (
        "metrics_version",
        "start",
        "end",
        "periods_per_year",
        "risk_free_rate",
        "initial_value",
        "final_value",
        "final_cash_adjusted_value",
        "net_external_cash_flow",
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "sortino",
        "calmar",
        "max_drawdown",
        "max_drawdown_duration_days",
        "win_rate",
        "profit_factor",
        "avg_win",
        "avg_loss",
        "num_trades",
        "num_fills",
        "exposure_time",
        "benchmark_return",
        "alpha",
        "beta",
    )
    assert ROUND_TRIP_COLUMNS == (
        "symbol",
        "asset_type",
        "direction",
        "entry_time",
        "exit_time",
        "quantity",
        "entry_price",
        "exit_price",
        "multiplier",
        "fees",
        "pnl",
    )
    m = compute_metrics(stats, trades, benchmark=benchmark)
    assert tuple(m) == METRIC_KEYS
    assert m["metrics_version"] == METRICS_VERSION
    assert all(value is None or isinstance(value, (int, float, str)) for value in m.values())


def test_fixture_metrics_are_stable(stats, trades, benchmark):
    m = compute_metrics(stats, trades, benchmark=benchmark)
    assert m["periods_per_year"] == 252.0  # daily bars inferred
    assert m["num_trades"] == 6 and m["num_fills"] == 14
    assert m["exposure_time"] == pytest.approx(325 / 500)
    assert compute_metrics(stats, trades, benchmark=benchmark) == m


def test_flat_curve_reports_none_instead_of_nan_or_infinity():
    m = compute_metrics(_stats([100.0, 100.0, 100.0, 100.0]), None, periods_per_year=252)
    assert m["total_return"] == 0.0 and m["max_drawdown"] == 0.0 and m["volatility"] == 0.0
    assert m["sharpe"] is None and m["sortino"] is None and m["calmar"] is None
    only_wins = pd.DataFrame([_fill("2024-01-02", "A", "buy", 1.0, 1), _fill("2024-01-03", "A", "sell", 2.0, 1)])
    assert compute_metrics(_stats([100.0, 101.0]), only_wins)["profit_factor"] is None


def test_single_row_stats_give_zero_return_and_no_ratios():
    m = compute_metrics(_stats([100.0]), None)
    assert m["total_return"] == 0.0 and m["cagr"] is None and m["sharpe"] is None and m["volatility"] is None


def test_missing_cash_adjusted_value_is_an_error_that_names_the_column():
    with pytest.raises(ValueError, match="cash_adjusted_value"):
        compute_metrics(pd.DataFrame({"datetime": [pd.Timestamp("2024-01-02", tz=TZ)], "portfolio_value": [1.0]}), None)
    bad = _stats(HAND_VALUES)
    bad.loc[2, "cash_adjusted_value"] = np.nan
    with pytest.raises(ValueError, match="not a number at 2024-01-04"):
        compute_metrics(bad, None)


def test_importing_agentrt_reports_loads_neither_plotly_nor_the_metrics_module():
    code = (
        "import sys, agentrt.reports as r; "
        "assert 'plotly' not in sys.modules, 'plotly'; "
        "assert 'agentrt.reports.metrics' not in sys.modules; "
        "assert callable(r.compute_metrics) and 'agentrt.reports.metrics' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
