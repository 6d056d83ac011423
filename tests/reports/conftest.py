"""Synthetic but realistic backtest outputs shared by the reports tests.

500 NYSE business days of a strategy that tracks a random-walk benchmark with a deposit
and a withdrawal, two traded stocks with OHLCV bars, round-trip fills with fees (one
split into partial fills, one short), cancelled/rejected orders, cash events, indicator
lines and markers, and an agent summary. Everything is seeded, so every run is identical.
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from agentrt.reports import artifacts

TZ = "America/New_York"
N_BARS = 500
INITIAL = 100_000.0
DEPOSIT_BAR, DEPOSIT = 200, 20_000.0
WITHDRAWAL_BAR, WITHDRAWAL = 350, 10_000.0

TRADE_COLUMNS = list(artifacts.TRADE_COLUMNS)  # the event stream the engine writes


def bar_times(n: int = N_BARS, start: str = "2022-01-03") -> pd.DatetimeIndex:
    days = pd.bdate_range(start, periods=n)
    return pd.DatetimeIndex(days + pd.Timedelta(hours=16)).tz_localize(TZ)


def make_benchmark_and_returns(n: int = N_BARS) -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(20240601)
    bench_r = rng.normal(0.0003, 0.011, n)
    bench_r[0] = 0.0
    strat_r = 0.0002 + 0.7 * bench_r + rng.normal(0.0, 0.006, n)
    strat_r[0] = 0.0
    benchmark = pd.Series(4700.0 * np.cumprod(1.0 + bench_r), index=bar_times(n), name="SPX")
    return benchmark, strat_r


def make_stats(strat_r: np.ndarray, *, flows: dict[int, float] | None = None) -> pd.DataFrame:
    """Stats rows; ``flows`` maps bar number -> external cash flow added after that bar's return."""
    flows = flows or {}
    n = len(strat_r)
    cav = INITIAL * np.cumprod(1.0 + strat_r)
    pv = np.empty(n)
    pv[0] = INITIAL
    for i in range(1, n):
        pv[i] = pv[i - 1] * (1.0 + strat_r[i]) + flows.get(i, 0.0)
    invested = np.zeros(n, dtype=bool)
    for start, end in ((25, 160), (200, 300), (320, 340), (400, 470)):
        invested[start:end] = True
    positions_value = np.where(invested, pv * 0.8, 0.0)
    return pd.DataFrame(
        {
            "datetime": bar_times(n),
            "portfolio_value": pv,
            "cash_adjusted_value": cav,
            "cash": pv - positions_value,
            "positions_value": positions_value,
            "return": np.concatenate(([0.0], cav[1:] / cav[:-1] - 1.0)),
            "agent_confidence": np.round(np.linspace(0.2, 0.9, n), 3),
        }
    )


def make_prices(n: int = N_BARS) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(99)
    frames = {}
    for symbol, start in (("AAPL", 180.0), ("SPY", 470.0)):
        close = start * np.cumprod(1.0 + rng.normal(0.0003, 0.015, n))
        open_ = close * (1.0 + rng.normal(0.0, 0.004, n))
        high = np.maximum(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.005, n)))
        low = np.minimum(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.005, n)))
        volume = rng.integers(1_000_000, 5_000_000, n)
        frames[symbol] = pd.DataFrame(
            {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=bar_times(n)
        )
    return frames


def _trade(time, symbol, side, status, price, quantity, *, order_type="market", reason="", ident=""):
    fees = round(1.0 + 0.0005 * price * quantity, 2) if status in ("fill", "partial_fill") else 0.0
    return {
        "event_kind": "trade",
        "time": time,
        "strategy": "AgentMomentum",
        "identifier": ident or f"o-{symbol}-{time:%Y%m%d}-{side}",
        "symbol": symbol,
        "asset_type": "stock",
        "side": side,
        "type": order_type,
        "status": status,
        "price": price,
        "quantity": quantity,
        "multiplier": 1.0,
        "fees": fees,
        "reason": reason,
        "cash_event_type": None,
        "cash_event_amount": np.nan,
        "cash_event_reason": None,
        "cash_event_direction": None,
        "is_external_cash_flow": None,
    }


def _cash(time, kind, amount, direction, external, reason):
    return {
        "event_kind": "cash_event",
        "time": time,
        "strategy": "AgentMomentum",
        "identifier": None,
        "symbol": None,
        "asset_type": None,
        "side": None,
        "type": None,
        "status": None,
        "price": np.nan,
        "quantity": np.nan,
        "multiplier": np.nan,
        "fees": np.nan,
        "reason": None,
        "cash_event_type": kind,
        "cash_event_amount": amount,
        "cash_event_reason": reason,
        "cash_event_direction": direction,
        "is_external_cash_flow": external,
    }


def make_trades(prices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    times = bar_times()

    def px(symbol: str, bar: int) -> float:
        return round(float(prices[symbol]["close"].iloc[bar]), 2)

    rows = [
        _trade(times[25], "AAPL", "buy", "fill", px("AAPL", 25), 100, reason="agent: momentum breakout"),
        _trade(times[30], "SPY", "buy", "fill", px("SPY", 30), 20, order_type="limit", reason="agent: add beta"),
        _trade(
            times[40], "AAPL", "buy", "canceled", px("AAPL", 40) * 0.97, 50, order_type="limit", reason="agent: buy dip"
        ),
        _trade(times[60], "AAPL", "sell", "fill", px("AAPL", 60), 100, reason="agent: take profit"),
        _trade(times[90], "SPY", "sell", "fill", px("SPY", 90), 20, order_type="stop", reason="stop loss"),
        _trade(times[100], "AAPL", "buy", "fill", px("AAPL", 100), 50),
        _trade(times[110], "AAPL", "buy", "fill", px("AAPL", 110), 50),
        _trade(
            times[160], "AAPL", "sell", "partial_fill", px("AAPL", 160), 60, order_type="limit", ident="o-AAPL-exit"
        ),
        _trade(
            times[161], "AAPL", "sell", "partial_fill", px("AAPL", 161), 40, order_type="limit", ident="o-AAPL-exit"
        ),
        _trade(times[200], "SPY", "buy", "fill", px("SPY", 200), 30),
        _trade(times[250], "SPY", "buy", "rejected", px("SPY", 250), 1000, reason="insufficient buying power"),
        _trade(times[300], "SPY", "sell", "fill", px("SPY", 300), 30),
        _trade(times[320], "SPY", "sell_short", "fill", px("SPY", 320), 10, reason="agent: hedge"),
        _trade(times[340], "SPY", "buy_to_cover", "fill", px("SPY", 340), 10),
        _trade(times[400], "AAPL", "buy", "fill", px("AAPL", 400), 80),
        _trade(times[470], "AAPL", "sell", "fill", px("AAPL", 470), 80),
        _cash(times[DEPOSIT_BAR], "deposit", DEPOSIT, "in", True, "monthly contribution"),
        _cash(times[WITHDRAWAL_BAR], "withdrawal", WITHDRAWAL, "out", True, "client withdrawal"),
        _cash(times[120], "interest", 12.5, "in", False, "cash sweep interest"),
        _cash(times[240], "interest", 14.1, "in", False, "cash sweep interest"),
        _cash(times[330], "fee", 25.0, "out", False, "margin borrow fee"),
    ]
    frame = pd.DataFrame(rows, columns=TRADE_COLUMNS)
    return frame.sort_values("time", kind="mergesort").reset_index(drop=True)


def make_indicators(prices: dict[str, pd.DataFrame]) -> pd.DataFrame:
    times = bar_times()
    rows = []
    sma = prices["AAPL"]["close"].rolling(20).mean()
    for i in range(19, N_BARS):
        rows.append(
            {
                "datetime": times[i],
                "kind": "line",
                "name": "SMA20",
                "value": sma.iloc[i],
                "color": "orange",
                "symbol": None,
                "asset": "AAPL",
                "detail_text": None,
            }
        )
    sma50 = prices["SPY"]["close"].rolling(50).mean()
    for i in range(49, N_BARS):
        rows.append(
            {
                "datetime": times[i],
                "kind": "line",
                "name": "SMA50",
                "value": sma50.iloc[i],
                "color": "#1f77b4",
                "symbol": None,
                "asset": "SPY",
                "detail_text": None,
            }
        )
    for i in range(N_BARS):
        rows.append(
            {
                "datetime": times[i],
                "kind": "line",
                "name": "gross leverage",
                "value": 0.5 + 0.3 * np.sin(i / 30),
                "color": "purple",
                "symbol": None,
                "asset": None,
                "detail_text": None,
            }
        )
    for i, text in ((24, "breakout above 20-day high"), (99, "RSI < 30"), (399, "earnings beat")):
        rows.append(
            {
                "datetime": times[i],
                "kind": "marker",
                "name": "agent signal",
                "value": float(prices["AAPL"]["close"].iloc[i]) * 0.97,
                "color": "gold",
                "symbol": "star",
                "asset": "AAPL",
                "detail_text": text,
            }
        )
    for i, text in ((150, "regime: risk-off"), (380, "regime: risk-on")):
        rows.append(
            {
                "datetime": times[i],
                "kind": "marker",
                "name": "regime",
                "value": np.nan,
                "color": "black",
                "symbol": "diamond",
                "asset": None,
                "detail_text": text,
            }
        )
    return pd.DataFrame(rows)


AGENT_SUMMARY = {
    "runs": 500,
    "cache_hits": 470,
    "model_calls": 61,
    "input_tokens": 1_234_567,
    "output_tokens": 45_678,
    "cost_usd": 1.2345,
    "warnings": {"future_data": 2, "no_tools_called": 5, "order_without_evidence": 1},
    "by_agent": {
        "analyst": {
            "runs": 500,
            "cache_hits": 470,
            "model_calls": 41,
            "input_tokens": 1_000_000,
            "output_tokens": 40_000,
            "cost_usd": 1.0,
        },
        "risk <manager>": {
            "runs": 100,
            "cache_hits": 80,
            "model_calls": 20,
            "input_tokens": 234_567,
            "output_tokens": 5_678,
            "cost_usd": 0.2345,
        },
    },
}


@pytest.fixture(scope="session")
def benchmark_and_returns() -> tuple[pd.Series, np.ndarray]:
    return make_benchmark_and_returns()


@pytest.fixture(scope="session")
def benchmark(benchmark_and_returns) -> pd.Series:
    return benchmark_and_returns[0]


@pytest.fixture(scope="session")
def stats(benchmark_and_returns) -> pd.DataFrame:
    return make_stats(benchmark_and_returns[1], flows={DEPOSIT_BAR: DEPOSIT, WITHDRAWAL_BAR: -WITHDRAWAL})


@pytest.fixture(scope="session")
def stats_without_flows(benchmark_and_returns) -> pd.DataFrame:
    """The same strategy returns without the deposit and the withdrawal."""
    return make_stats(benchmark_and_returns[1])


@pytest.fixture(scope="session")
def prices() -> dict[str, pd.DataFrame]:
    return make_prices()


@pytest.fixture(scope="session")
def trades(prices) -> pd.DataFrame:
    return make_trades(prices)


@pytest.fixture(scope="session")
def indicators(prices) -> pd.DataFrame:
    return make_indicators(prices)


@pytest.fixture(scope="session")
def agent_summary() -> dict:
    return AGENT_SUMMARY


def figure_traces(document: str, div_id: str) -> list[dict]:
    """The trace dicts passed to ``Plotly.newPlot(div_id, ...)`` in a page, typed arrays decoded."""
    match = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', document)
    assert match is not None, f"no Plotly.newPlot call for {div_id!r}"
    traces, _ = json.JSONDecoder().raw_decode(document, match.end())
    return [_decode(trace) for trace in traces]


def figure_layout(document: str, div_id: str) -> dict:
    match = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', document)
    assert match is not None, f"no Plotly.newPlot call for {div_id!r}"
    decoder = json.JSONDecoder()
    _, end = decoder.raw_decode(document, match.end())
    rest = re.match(r"\s*,\s*", document[end:])
    layout, _ = decoder.raw_decode(document, end + rest.end())
    return layout


def _decode(value):
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"}:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            return array.tolist()
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


@pytest.fixture(scope="session")
def traces_of():
    return figure_traces


@pytest.fixture(scope="session")
def layout_of():
    return figure_layout
