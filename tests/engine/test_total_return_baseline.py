"""total_return/CAGR are measured from the starting budget, so the first iteration's fills and fees count."""
import pytest
from testkit import make_bars, run, scripted

from agentrt.domain import TradingFee

FLAT = (100.0, 100.0, 100.0, 100.0)


def test_total_return_counts_the_first_iterations_fees():
    def buy(self):
        self.submit_order(self.create_order("TEST", 500, "buy"))

    cls = scripted({0: buy})
    fee = TradingFee(flat_fee=1_000.0)  # $1,000 per fill; prices never move
    result = run(cls, make_bars([FLAT] * 5), "2012-01-03", "2012-01-09", fill_at="close", budget=100_000,
                 buy_trading_fees=[fee])
    final = result.stats["final_value"]
    assert final == pytest.approx(99_000.0)
    assert result.stats["total_return"] == pytest.approx(final / 100_000 - 1), (
        f"total_return {result.stats['total_return']} but the account went 100,000 -> {final:,.0f}")
