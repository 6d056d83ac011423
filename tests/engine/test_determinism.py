"""Determinism: two runs of the same backtest write byte-identical trades and stats files."""

from __future__ import annotations

from pathlib import Path

from testkit import run_to

from agentrt import SampleData, TradingFee
from agentrt.cli.loader import load_strategy_class

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sma_cross.py"


def _run(out: Path):
    cls = load_strategy_class(DEMO)
    fees = [TradingFee(percent_fee=0.001, flat_fee=1.0)]
    return run_to(out, cls, SampleData(), "2010-01-01", "2011-12-31", parameters={"fast": 5, "slow": 20},
                  buy_trading_fees=fees, sell_trading_fees=[TradingFee(per_share_fee=0.005)], slippage_bps=7.5,
                  benchmark_asset="SPX")


def test_two_runs_write_byte_identical_trades_and_stats(tmp_path):
    first, second = _run(tmp_path / "a"), _run(tmp_path / "b")
    assert first.output_dir.name != second.output_dir.name  # each run gets its own folder ...
    for name in ("trades.csv", "stats.csv", "metrics.json"):  # ... with identical contents
        a, b = (first.output_dir / name).read_bytes(), (second.output_dir / name).read_bytes()
        assert a == b, name
    fills = first.trades[first.trades["status"] == "fill"]
    assert len(fills) >= 6 and (fills["fees"] > 0).all()  # a real run: several round trips, fees charged
    assert first.equity.equals(second.equity)
