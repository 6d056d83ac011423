"""A LumiBot FAQ strategy runs unchanged but for its imports (lumibot.* -> agentrt)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd

FAQ_STRATEGY = textwrap.dedent('''
    from datetime import datetime
    from agentrt import YahooDataBacktesting            # was: from lumibot.backtesting import YahooDataBacktesting
    from agentrt import Strategy                        # was: from lumibot.strategies import Strategy


    class MyStrategy(Strategy):
        def on_trading_iteration(self):
            if self.first_iteration:
                price = self.get_last_price("AAPL")
                qty = self.portfolio_value // price
                order = self.create_order("AAPL", qty, "buy")
                self.submit_order(order)


    result = MyStrategy.backtest(
        YahooDataBacktesting,
        datetime(2023, 1, 1),
        datetime(2023, 12, 31),
    )
    print("TRADES", int((result.trades["status"] == "fill").sum()), "ITER", result.iterations)
''')


def test_the_faq_quick_start_runs_with_only_its_imports_changed(tmp_path):
    # Yahoo data comes from agentrt's Parquet cache, pre-filled here, so no network is needed
    days = pd.bdate_range("2022-12-01", "2023-12-29")
    close = 130 * np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.01, len(days))))
    frame = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                          "volume": 1e6}, index=pd.DatetimeIndex(days.normalize(), name="date"))
    (tmp_path / "cache" / "yahoo").mkdir(parents=True)
    frame.to_parquet(tmp_path / "cache" / "yahoo" / "AAPL-adjusted.parquet")
    script = tmp_path / "faq.py"
    script.write_text(FAQ_STRATEGY)
    env = {"AGENTRT_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(li for li in done.stdout.splitlines() if li.startswith("TRADES"))
    assert line.split()[1] == "1" and int(line.split()[3]) >= 240
    assert (tmp_path / "traces").is_dir()  # the default output folder
