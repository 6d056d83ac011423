"""Every demo runs: offline on the sample data, trades, shows no look-ahead, and reruns from the replay cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from agentrt.cli.loader import load_strategy_class

REPO_ROOT = Path(__file__).resolve().parents[2]
DEMOS = REPO_ROOT / "demos"

OFFLINE_DEMOS = [
    ("hello_agent", "2012-06-01", "2012-08-31"),
    ("momentum_allocator", "2012-06-01", "2012-08-31"),
    ("liquidity", "2008-09-02", "2008-11-28"),
    ("macro_risk", "2007-01-02", "2007-03-30"),
]


def _backtest(name: str, start: str, end: str, out: Path, cache: Path):
    from agentrt import SampleData

    cls = load_strategy_class(DEMOS / f"{name}.py")
    return cls.backtest(SampleData, start, end, output_dir=out, cache_dir=cache, show_progress=False, quiet=True,
                        tearsheet=False)


def _folder(result) -> Path:
    return Path(result.output_dir)


def _trades(folder: Path) -> pd.DataFrame:
    frame = pd.read_csv(folder / "trades.csv")
    return frame[(frame["event_kind"] == "trade") & (frame["status"] == "fill")]


def _warning_codes(folder: Path) -> list[str]:
    """Every warning code in the run index and in each JSON trace, tool-call warnings included."""
    codes = [str(c) for row in pd.read_parquet(folder / "agent_runs.parquet")["warnings"] for c in row]
    for trace in sorted((folder / "traces").glob("*.json")):
        doc = json.loads(trace.read_text())
        codes += [w["code"] for w in doc["warnings"]]
        codes += [w["code"] for call in doc["tool_calls"] for w in call.get("warnings") or []]
    return codes


def _replay(folder: Path) -> dict:
    return json.loads((folder / "settings.json").read_text())["agents"]["replay"]


def _assert_offline_demo_run(first, second, *, logs_marker: str = "offline policy model") -> None:
    one, two = _folder(first), _folder(second)
    assert len(_trades(one)) > 0, "the demo placed no trade"
    assert "future_data" not in _warning_codes(one)
    assert logs_marker in (one / "logs.csv").read_text()
    runs = pd.read_parquet(two / "agent_runs.parquet")
    assert len(runs) > 0 and runs["cache_hit"].all(), "the second run was not served whole from the cache"
    replay = _replay(two)
    assert replay["hit_rate"] == 1.0 and replay["model_calls_made"] == 0 and replay["tool_calls_made"] == 0
    assert (one / "trades.csv").read_bytes() == (two / "trades.csv").read_bytes()


@pytest.mark.parametrize(("name", "start", "end"), OFFLINE_DEMOS, ids=[d[0] for d in OFFLINE_DEMOS])
def test_offline_demo_trades_without_lookahead_and_reruns_fully_cached(name: str, start: str, end: str,
                                                                      tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _backtest(name, start, end, tmp_path / "first", cache)
    second = _backtest(name, start, end, tmp_path / "second", cache)
    _assert_offline_demo_run(first, second)


def test_every_demo_declares_a_model_parameter_that_defaults_to_the_offline_policy() -> None:
    for file in sorted(DEMOS.glob("*.py")):
        if file.name == "sma_cross.py":
            continue
        cls = load_strategy_class(file)
        assert cls.parameters.get("model", "missing") is None, file.name


def test_liquidity_books_interest_on_cash_at_the_t_bill_rate(tmp_path: Path) -> None:
    result = _backtest("liquidity", "2008-09-02", "2008-11-28", tmp_path / "out", tmp_path / "cache")
    events = pd.read_csv(_folder(result) / "trades.csv")
    interest = events[(events["event_kind"] == "cash_event") & (events["cash_event_type"] == "interest")]
    assert len(interest) > 40  # one credit per session after the first
    assert (interest["cash_event_amount"] > 0).all() and not interest["is_external_cash_flow"].any()
    assert interest["cash_event_reason"].str.contains("TB3MS").all()


def test_macro_risk_reaches_its_macro_data_through_the_mcp_server(tmp_path: Path) -> None:
    result = _backtest("macro_risk", "2007-01-02", "2007-02-28", tmp_path / "out", tmp_path / "cache")
    runs = pd.read_parquet(_folder(result) / "agent_runs.parquet")
    called = {name for row in runs["tools_called"] for name in row}
    assert {"treasury_curve", "inflation"} <= called
    first = json.loads((_folder(result) / runs["trace_path"].iloc[0]).read_text())
    curve = next(c for c in first["tool_calls"] if c["name"] == "treasury_curve")
    assert curve["kind"] == "mcp" and curve["arguments"]["as_of"] == first["sim_time"]


def test_news_sentiment_trades_on_recorded_news_and_reruns_without_calling_the_api(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_apis import RecordedApi, alpaca_news_handler

    cache = tmp_path / "cache"
    with RecordedApi(alpaca_news_handler) as api:
        monkeypatch.setenv("ALPACA_API_KEY", "PKTEST0123456789")
        monkeypatch.setenv("ALPACA_API_SECRET", "test-secret-abcdefghijklmnop")
        monkeypatch.setenv("ALPACA_DATA_URL", api.url)
        first = _backtest("news_sentiment", "2012-10-01", "2012-12-31", tmp_path / "first", cache)
        calls_first = len(api.requests)
        second = _backtest("news_sentiment", "2012-10-01", "2012-12-31", tmp_path / "second", cache)
        assert len(api.requests) == calls_first, "the cached rerun called the news API"
    assert calls_first > 0
    _assert_offline_demo_run(first, second)
    trades = _trades(_folder(first))
    moves = list(zip(trades["symbol"], trades["side"], trades["time"].str[:10], strict=True))
    # good AAPL news on Oct 10 -> buy at the next open; bad AAPL news on Nov 14 -> sell; good MSFT news Dec 5 -> buy.
    # MSFT's record quarter of 2013-01-24 (after the window) must never count.
    assert moves == [("AAPL", "buy", "2012-10-11"), ("AAPL", "sell", "2012-11-15"), ("MSFT", "buy", "2012-12-06")]


def test_news_sentiment_without_a_key_stops_and_names_the_variables(tmp_path: Path) -> None:
    from agentrt import StrategyError

    with pytest.raises(StrategyError, match="ALPACA_API_KEY and ALPACA_API_SECRET"):
        _backtest("news_sentiment", "2012-10-01", "2012-10-31", tmp_path / "out", tmp_path / "cache")


def test_cli_runs_a_demo_that_imports_the_tool_packs_from_any_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["AGENTRT_CACHE_DIR"] = str(tmp_path / "cache")
    cli = Path(sys.executable).with_name("agentrt")
    done = subprocess.run(
        [str(cli), "backtest", str(DEMOS / "liquidity.py"), "--start", "2008-09-02", "--end", "2008-10-31",
         "--out", str(tmp_path / "out"), "-q", "--no-html"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (folder,) = (tmp_path / "out").iterdir()
    assert len(_trades(folder)) > 0


@pytest.mark.parametrize(("model", "variable"), [("gemini-2.5-flash", "GOOGLE_API_KEY"),
                                                 ("openai/gpt-4.1-mini", "OPENAI_API_KEY")])
def test_demo_on_a_real_model_without_its_key_names_the_variable(model: str, variable: str, tmp_path: Path) -> None:
    from agentrt import SampleData

    cls = load_strategy_class(DEMOS / "momentum_allocator.py")
    with pytest.raises(Exception, match=variable):
        cls.backtest(SampleData, "2012-06-01", "2012-06-15", parameters={"model": model}, output_dir=tmp_path,
                     cache_dir=tmp_path / "cache", show_progress=False, quiet=True, tearsheet=False)


def test_demo_with_a_model_string_runs_that_model_instead_of_the_policy(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_apis import RecordedApi, openai_chat_handler

    with RecordedApi(openai_chat_handler) as llm:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
        monkeypatch.setenv("OPENAI_API_BASE", llm.url + "/v1")
        from agentrt import SampleData

        cls = load_strategy_class(DEMOS / "hello_agent.py")
        result = cls.backtest(SampleData, "2012-06-01", "2012-06-08", parameters={"model": "openai/gpt-test"},
                              output_dir=tmp_path, cache_dir=tmp_path / "cache", show_progress=False, quiet=True,
                              tearsheet=False)
    folder = _folder(result)
    runs = pd.read_parquet(folder / "agent_runs.parquet")
    assert (runs["model"] == "openai/gpt-test").all() and len(runs) == 6
    assert "offline policy model" not in (folder / "logs.csv").read_text()
    first = llm.requests[0]["body"]
    assert "You keep about half of the portfolio in AAPL" in first["messages"][0]["content"]
    assert {t["function"]["name"] for t in first["tools"]} >= {"account_portfolio", "orders_submit"}
