"""Live market data never shows the future; credentials, provider errors and the `agentrt live` CLI's errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from livekit import at

from agentrt.calendars import sessions
from agentrt.clock import datetime_to_ns, ns_to_datetime
from agentrt.data.live import (
    CredentialsError,
    LiveDataError,
    LiveFeed,
    LiveMarketData,
    ReplayFeed,
    alpaca_credentials,
    exchange_credentials,
    feed_from_spec,
    make_exchange,
)
from agentrt.domain.position import Quote


class FixedClock:
    def __init__(self, when: dt.datetime) -> None:
        self.tz = when.tzinfo
        self.now_ns = datetime_to_ns(when)

    def now(self) -> dt.datetime:
        return ns_to_datetime(self.now_ns, self.tz)


def replay_at(when: dt.datetime) -> tuple[LiveMarketData, FixedClock]:
    clock = FixedClock(when)
    md = LiveMarketData(ReplayFeed("sample"), quote_ttl_seconds=0)
    md.bind(sessions("NYSE"), clock)
    return md, clock


def test_replayed_quotes_follow_the_session():
    from agentrt import SampleData

    aapl = SampleData().frame("AAPL")
    md, clock = replay_at(at("2012-03-06 09:00"))
    assert md.last_price("AAPL") == pytest.approx(aapl.loc["2012-03-05", "close"])
    clock.now_ns = datetime_to_ns(at("2012-03-06 11:00"))
    assert md.last_price("AAPL") == pytest.approx(aapl.loc["2012-03-06", "open"])
    assert md.quote("AAPL").time == at("2012-03-06 09:30")
    clock.now_ns = datetime_to_ns(at("2012-03-06 16:00"))
    assert md.last_price("AAPL") == pytest.approx(aapl.loc["2012-03-06", "close"])


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=400 * 24 * 60))
def test_no_live_read_is_stamped_after_the_clock(minutes):
    when = at("2011-06-01 00:00") + dt.timedelta(minutes=minutes)
    md, clock = replay_at(when)
    bars = md.history("MSFT", 30)
    assert len(bars) and int(bars.end_ns[-1]) <= clock.now_ns
    assert md.quote("MSFT").time <= when
    series = md.series(md.asset("MSFT"))
    assert int(series.end_ns.max()) <= clock.now_ns


class SkewedFeed(LiveFeed):
    """A provider whose last minute bar is still in progress and whose clock runs 5 s ahead."""

    name = "skewed"

    def bars(self, asset, timestep, *, length, now_ns):
        step = 60_000_000_000
        current = now_ns - now_ns % step  # the minute in progress
        starts = current - step * np.arange(length, -1, -1)
        index = pd.DatetimeIndex(starts.astype("datetime64[ns]")).tz_localize("UTC")
        frame = pd.DataFrame({"open": 1.0, "high": 2.0, "low": 0.5, "close": np.arange(len(starts), dtype=float),
                              "volume": 10.0}, index=index)
        from agentrt.data.live import _frame_to_series

        return _frame_to_series(asset, frame, self.sessions, timestep)

    def quote(self, asset, *, now_ns):
        return Quote(asset, 9.9, 10.1, 10.0, ns_to_datetime(now_ns + 5_000_000_000, dt.timezone.utc))

    def knows(self, asset):
        return True


def test_an_in_progress_bar_and_a_future_quote_stamp_never_reach_the_strategy():
    clock = FixedClock(at("2024-03-06 11:00:30"))
    md = LiveMarketData(SkewedFeed())
    md.bind(sessions("NYSE"), clock)
    bars = md.history("AAPL", 5, "minute")
    assert len(bars) == 5
    assert bars.df.index[-1] == pd.Timestamp("2024-03-06 10:59", tz="America/New_York")  # 11:00 is in progress
    assert int(bars.end_ns[-1]) <= clock.now_ns
    quote = md.quote("AAPL")
    assert quote.time == clock.now() and quote.mid_price == pytest.approx(10.0)


def test_feed_names_resolve_and_bad_names_say_what_to_use():
    assert isinstance(feed_from_spec("sample"), ReplayFeed)
    assert feed_from_spec("ccxt:kraken").exchange_id == "kraken"
    with pytest.raises(LiveDataError, match="'alpaca', 'ccxt:<exchange>', 'sample'"):
        feed_from_spec("bloomberg")
    with pytest.raises(ValueError, match="Did you mean 'binance'"):
        make_exchange("binanse")
    with pytest.raises(ValueError, match="no sandbox/testnet"):
        make_exchange("kraken", sandbox=True)


def test_unknown_symbols_are_a_clear_data_error():
    md, _ = replay_at(at("2012-03-06 12:00"))
    with pytest.raises(LiveDataError, match="no data for ZZZZ"):
        md.history("ZZZZ", 5)
    assert md.last_price("ZZZZ") is None


def test_credentials_come_from_either_variable_name(monkeypatch):
    monkeypatch.setenv("APCA_API_KEY_ID", "k1")
    monkeypatch.setenv("ALPACA_API_SECRET", "s1")
    assert alpaca_credentials() == ("k1", "s1")
    monkeypatch.setenv("OKX_API_KEY", "k2")
    monkeypatch.setenv("OKX_API_SECRET", "s2")
    monkeypatch.setenv("OKX_PASSPHRASE", "p2")
    assert exchange_credentials("okx") == {"apiKey": "k2", "secret": "s2", "password": "p2"}
    with pytest.raises(CredentialsError, match="BYBIT_API_KEY, BYBIT_API_SECRET"):
        exchange_credentials("bybit")


@pytest.mark.parametrize(("error", "provider"), [
    (TimeoutError("model timed out"), True),
    (ConnectionResetError("reset"), True),
    (RuntimeError("agent failed") , False),
    (KeyError("symbol"), False),
    (CredentialsError("bad key"), False),
])
def test_provider_errors_are_told_apart_from_strategy_bugs(error, provider):
    from agentrt.engine.live import is_provider_error

    assert is_provider_error(error) is provider


def test_a_provider_error_wrapped_by_the_agent_runtime_is_still_a_provider_error():
    import ccxt

    from agentrt.engine.live import is_provider_error

    try:
        try:
            raise ccxt.RequestTimeout("binance timed out")
        except ccxt.RequestTimeout as inner:
            raise RuntimeError("agent 'hello' failed 3 runs in a row") from inner
    except RuntimeError as outer:
        assert is_provider_error(outer)


def run_cli(args, tmp_path):
    from typer.testing import CliRunner

    from agentrt.cli import commands  # noqa: F401 - registers `live`
    from agentrt.cli.main import app

    return CliRunner().invoke(app, ["live", *args])


STRATEGY = "from agentrt import Strategy\n\nclass S(Strategy):\n    def on_trading_iteration(self):\n        pass\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--broker", "ccxt:binance"], "add --sandbox to use binance's testnet"),
    (["--broker", "alpaca"], "use --broker alpaca-paper"),
    (["--broker", "ibkr"], "unknown broker 'ibkr'"),
    (["--broker", "paper", "--data", "alpaca", "--speed", "10"], "--speed and --start apply only to a replayed feed"),
    (["--broker", "alpaca-paper"], "ALPACA_API_KEY or APCA_API_KEY_ID"),
    (["--broker", "paper", "--data", "sample", "--start", "1990-01-01"], "outside the replay data"),
])
def test_live_cli_bad_input_says_how_to_fix_it(tmp_path, args, message):
    file = tmp_path / "s.py"
    file.write_text(STRATEGY)
    result = run_cli([str(file), *args, "--out", str(tmp_path / "out")], tmp_path)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_live_cli_runs_a_replayed_paper_session(tmp_path):
    file = tmp_path / "s.py"
    file.write_text(STRATEGY.replace("pass", "self.vars.n = self.vars.get('n', 0) + 1"))
    result = run_cli([str(file), "--broker", "paper", "--data", "sample", "--start", "2012-03-05", "--speed",
                      "200000", "--max-iterations", "2", "--out", str(tmp_path / "out"), "--no-html"], tmp_path)
    assert result.exit_code == 0, result.output
    assert "S: 2 iterations, 0 provider errors, stopped by max iterations (2)" in " ".join(result.output.split())
    assert len(list((tmp_path / "out").glob("S_live_*/trades.csv"))) == 1
