"""A real backtest's tearsheet.html and trades.html render in headless Chromium; screenshots land in the run folder."""

from __future__ import annotations

import os

import pytest

from agentrt import SampleData, Strategy
from agentrt.reports.browser import find_chromium, screenshot_and_check

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        find_chromium() is None and not os.environ.get("AGENTRT_REQUIRE_BROWSER"),
        reason="Chromium not installed (apt-get install -y chromium); set AGENTRT_REQUIRE_BROWSER=1 to fail instead",
    ),
]


class Swing(Strategy):
    """Buys AAPL and MSFT, sells them later, deposits cash once, draws a line and a marker."""

    def on_trading_iteration(self):
        closes = self.get_historical_prices("AAPL", 20).close
        if len(closes) == 20:
            self.add_line("sma20", float(closes.mean()), color="orange", asset="AAPL")
        i = self.vars.get("i", 0)
        self.vars.i = i + 1
        if i == 5:
            self.submit_order(self.create_order("AAPL", 100, "buy"))
            self.submit_order(self.create_order("MSFT", 200, "buy"))
            self.add_marker("entry", float(closes[-1]), color="green", symbol="star", asset="AAPL",
                            detail_text="first entry")
        if i == 40:
            self.deposit_cash(5_000, "top-up")
        if i == 60:
            self.sell_all()


def test_backtest_pages_render_and_screenshots_are_saved(tmp_path):
    result = Swing.backtest(SampleData, "2011-01-03", "2011-07-01", benchmark_asset="SPX", show_progress=False,
                            quiet=True, output_dir=tmp_path)
    run = result.output_dir
    for page in ("tearsheet", "trades"):
        html = run / f"{page}.html"
        assert html.exists()
        check = screenshot_and_check(html, run / f"{page}.png")
        assert check["ok"], check["problems"]
        assert check["errors"] == [] and check["console_errors"] == []
        assert check["plots"] >= 2 and check["rendered"] == check["plots"]
        assert (run / f"{page}.png").stat().st_size > 10_000
