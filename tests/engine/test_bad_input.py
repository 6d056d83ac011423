"""Bad input: each mistake raises a clear error that says how to fix it, from Python and from the CLI.

Every row of the table is run twice: through the Python API (the exception and its message) and
through `agentrt backtest` (exit code non-zero, `error:` plus the same advice, no traceback).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from testkit import run
from typer.testing import CliRunner

from agentrt import SampleData, Strategy, TradingFee
from agentrt.cli.loader import StrategyFileError, load_strategy_class
from agentrt.cli.main import app
from agentrt.engine.backtest import BacktestError, StrategyCrash

DEMO = Path(__file__).resolve().parents[2] / "demos" / "sma_cross.py"

FILES = {
    "syntax_error.py": "from agentrt import Strategy\n\n\nclass Broken(Strategy):\n"
                       "    def on_trading_iteration(self)\n        pass\n",
    "no_iteration.py": "from agentrt import Strategy\n\n\nclass Idle(Strategy):\n"
                       "    def initialize(self):\n        self.sleeptime = '1D'\n",
    "bad_sleeptime.py": "from agentrt import Strategy\n\n\nclass Sleepy(Strategy):\n"
                        "    def initialize(self):\n        self.sleeptime = '1X'\n\n"
                        "    def on_trading_iteration(self):\n        pass\n",
    "no_strategy.py": "x = 1\n",
}


@dataclass
class Case:
    id: str
    api: Callable[[Path], object]  # raises
    error: type[BaseException]
    patterns: list[str]  # regexes the message must match (the problem and how to fix it)
    cli: list[str] | None = None  # CLI arguments after `backtest`; FILE is replaced by the file path
    file: str = "demo"
    env: dict[str, str] = field(default_factory=dict)


def _file(tmp: Path, name: str) -> Path:
    if name == "demo":
        return DEMO
    path = tmp / name
    path.write_text(FILES[name])
    return path


def _demo(tmp: Path):
    return load_strategy_class(DEMO)


class Idle(Strategy):
    def initialize(self):
        pass


class Sleepy(Strategy):
    def initialize(self):
        self.sleeptime = "1X"

    def on_trading_iteration(self):
        pass


CASES = [
    Case("unknown-symbol",
         lambda t: run(_demo(t), SampleData(), "2010-01-01", "2010-03-01", parameters={"symbol": "APPL"}),
         StrategyCrash, [r"unknown symbol 'APPL'", r"Did you mean 'AAPL'\?"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01", "--param", "symbol=APPL"]),
    Case("start-after-end", lambda t: run(_demo(t), SampleData(), "2011-01-01", "2010-01-01"),
         BacktestError, [r"start 2011-01-01 is after end 2010-01-01", r"swap them"],
         cli=["FILE", "--start", "2011-01-01", "--end", "2010-01-01"]),
    Case("malformed-date", lambda t: run(_demo(t), SampleData(), "2010-13-45", "2011-01-01"),
         BacktestError, [r"start '2010-13-45' is not a date", r"use YYYY-MM-DD"],
         cli=["FILE", "--start", "2010-13-45", "--end", "2011-01-01"]),
    Case("range-outside-data", lambda t: run(_demo(t), SampleData(), "2020-01-01", "2020-06-30"),
         BacktestError, [r"2020-01-01\.\.2020-06-30 is outside the data", r"covers 1999-\d\d-\d\d\.\.2018",
                         r"choose dates inside that range"],
         cli=["FILE", "--start", "2020-01-01", "--end", "2020-06-30"]),
    Case("syntax-error-file", lambda t: load_strategy_class(_file(t, "syntax_error.py")),
         StrategyFileError, [r"syntax_error\.py:5: syntax error", r"fix the line"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01"], file="syntax_error.py"),
    Case("file-without-strategy", lambda t: load_strategy_class(_file(t, "no_strategy.py")),
         StrategyFileError, [r"defines no Strategy subclass", r"class MyStrategy\(Strategy\)"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01"], file="no_strategy.py"),
    Case("no-on-trading-iteration", lambda t: run(Idle, SampleData(), "2010-01-01", "2010-03-01"),
         BacktestError, [r"has no on_trading_iteration\(self\) method", r"define it"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01"], file="no_iteration.py"),
    Case("bad-sleeptime", lambda t: run(Sleepy, SampleData(), "2010-01-01", "2010-03-01"),
         BacktestError, [r"bad sleeptime '1X'", r"use a number and a unit: '1D'"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01"], file="bad_sleeptime.py"),
    Case("bad-data-source", lambda t: run(_demo(t), "nope", "2010-01-01", "2010-03-01"),
         BacktestError, [r"unknown data source 'nope'", r"use one of sample, yahoo, csv:<path>"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01", "--data", "nope"]),
    Case("bad-backtesting-parameters-json", lambda t: run(_demo(t), SampleData(), "2010-01-01", "2010-03-01"),
         BacktestError, [r"BACKTESTING_PARAMETERS is not valid JSON", r"""e\.g\. '\{"symbol": "AAPL"\}'"""],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01"], env={"BACKTESTING_PARAMETERS": "{fast: 5"}),
    Case("unknown-parameter", lambda t: run(_demo(t), SampleData(), "2010-01-01", "2010-03-01",
                                            parameters={"fsat": 5}),
         BacktestError, [r"unknown parameter 'fsat'", r"Did you mean 'fast'\?"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01", "--param", "fsat=5"]),
    Case("negative-budget", lambda t: run(_demo(t), SampleData(), "2010-01-01", "2010-03-01", budget=-5),
         BacktestError, [r"budget must be positive, got -5"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01", "--budget", "-5"]),
    Case("fees-not-a-list", lambda t: run(_demo(t), SampleData(), "2010-01-01", "2010-03-01",
                                          buy_trading_fees=TradingFee(percent_fee=0.001)),
         BacktestError, [r"buy_trading_fees must be a list of TradingFee",
                         r"e\.g\. \[TradingFee\(percent_fee=0\.001\)\]"]),
    Case("fee-percent-given-in-percent", lambda t: TradingFee(percent_fee=5),
         ValueError, [r"percent_fee is a fraction", r"did you mean percent_fee=0\.05\?"]),
    Case("bad-order-side", lambda t: Strategy().create_order("AAPL", 1, "by"),
         ValueError, [r"unknown order side 'by'", r"Did you mean 'buy'\?"]),
    Case("bad-replay-mode", lambda t: run(_demo(t), SampleData(), "2010-01-01", "2010-03-01", replay="strct"),
         BacktestError, [r"unknown replay mode 'strct'", r"Did you mean 'strict'\?"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01", "--replay", "strct"]),
    Case("bad-lookahead-policy", lambda t: run(_demo(t), SampleData(), "2010-01-01", "2010-03-01", lookahead="blok"),
         BacktestError, [r"lookahead must be 'warn' or 'block', got 'blok'"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01", "--lookahead", "blok"]),
    Case("missing-strategy-file", lambda t: load_strategy_class(t / "nowhere.py"),
         StrategyFileError, [r"nowhere\.py' does not exist"],
         cli=["FILE", "--start", "2010-01-01", "--end", "2010-03-01"], file="nowhere.py"),
]


def _matches(message: str, patterns: list[str]) -> None:
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_raises_a_clear_error(case: Case, tmp_path, tmp_cwd, monkeypatch):
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(case.error) as info:
        case.api(tmp_path)
    _matches(str(info.value), case.patterns)


CLI_CASES = [c for c in CASES if c.cli is not None]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_input_through_the_cli_exits_nonzero_with_the_message(case: Case, tmp_path, tmp_cwd):
    path = tmp_path / case.file if case.file == "nowhere.py" else _file(tmp_path, case.file)
    args = ["backtest", *[str(path) if a == "FILE" else a for a in case.cli], "-q", "--no-html",
            "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400", **case.env})
    output = result.output
    assert result.exit_code != 0, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a clean exit, not a crash
    assert "error:" in output
    assert "Traceback" not in output
    _matches(" ".join(output.split()), case.patterns)
