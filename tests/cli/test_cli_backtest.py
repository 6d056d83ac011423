"""`agentrt` on the command line: help with examples, a backtest that writes its folder, --param, --data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from testkit import make_frame
from typer.testing import CliRunner

from agentrt.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demos" / "sma_cross.py"
AGENTRT = Path(sys.executable).parent / "agentrt"
FOLDER = re.compile(r"SmaCross_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}_[0-9a-f]{8}")


def agentrt(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it (offline env, wide terminal, no colour)."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    for name in [k for k in env if k.startswith("BACKTESTING_")]:
        del env[name]
    return subprocess.run([str(AGENTRT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def only_run_folder(out: Path) -> Path:
    folders = list(out.iterdir())
    assert len(folders) == 1, folders
    assert FOLDER.fullmatch(folders[0].name), folders[0].name
    return folders[0]


def test_help_lists_commands_with_examples(tmp_path):
    proc = agentrt("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "backtest" in proc.stdout
    assert "Examples:" in proc.stdout
    assert "agentrt backtest demos/sma_cross.py --start" in proc.stdout


def test_backtest_help_documents_its_options():
    result = invoke("backtest", "--help")
    assert result.exit_code == 0
    for option in ("--start", "--end", "--budget", "--data", "--param", "--out", "--quiet"):
        assert option in result.output


def test_backtest_demo_exits_zero_and_writes_its_output_folder(tmp_path):
    out = tmp_path / "out"
    proc = agentrt("backtest", str(DEMO), "--start", "2010-01-01", "--end", "2010-12-31", "--out", str(out), "-q",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    folder = only_run_folder(out)
    for name in ("trades.csv", "trades.parquet", "stats.csv", "indicators.csv", "logs.csv", "settings.json"):
        assert (folder / name).is_file(), name
    settings = json.loads((folder / "settings.json").read_text())
    assert (settings["start"], settings["end"], settings["strategy"]) == ("2010-01-01", "2010-12-31", "SmaCross")
    stats = pd.read_csv(folder / "stats.csv")
    assert stats["datetime"].iloc[0].startswith("2010-01-04") and stats["datetime"].iloc[-1].startswith("2010-12-31")
    assert not (tmp_path / "traces").exists()  # --out was honoured


def test_backtest_prints_a_summary_table_unless_quiet(tmp_path):
    loud = invoke("backtest", str(DEMO), "--start", "2010-01-01", "--end", "2010-06-30", "--out", str(tmp_path / "a"),
                  "--no-html")
    assert loud.exit_code == 0, loud.output
    assert "total return" in loud.output and "output:" in loud.output
    quiet = invoke("backtest", str(DEMO), "--start", "2010-01-01", "--end", "2010-06-30", "--out",
                   str(tmp_path / "b"), "--no-html", "-q")
    assert quiet.exit_code == 0 and quiet.output.strip() == ""


def test_param_overrides_a_strategy_parameter_and_changes_the_trades(tmp_path):
    common = ["backtest", str(DEMO), "--start", "2010-01-01", "--end", "2010-12-31", "-q", "--no-html"]
    assert invoke(*common, "--out", str(tmp_path / "default")).exit_code == 0
    result = invoke(*common, "--out", str(tmp_path / "fast"), "--param", "fast=5", "-p", "symbol=AAPL")
    assert result.exit_code == 0, result.output
    default, fast = only_run_folder(tmp_path / "default"), only_run_folder(tmp_path / "fast")
    settings = json.loads((fast / "settings.json").read_text())
    assert settings["parameters"] == {"symbol": "AAPL", "fast": 5, "slow": 30}  # 5 parsed as a number
    fast_trades = pd.read_csv(fast / "trades.csv")
    assert set(fast_trades["symbol"]) == {"AAPL"}
    assert (fast / "trades.csv").read_bytes() != (default / "trades.csv").read_bytes()


def test_param_without_equals_sign_is_a_usage_error(tmp_path):
    result = invoke("backtest", str(DEMO), "--start", "2010-01-01", "--end", "2010-02-01", "--param", "fast",
                    "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--param takes key=value" in " ".join(result.output.split())


def test_data_csv_folder_feeds_the_backtest(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    closes = [100 + (i % 20) - (10 if i % 40 >= 20 else 0) for i in range(80)]
    frame = make_frame([(c, c + 1, c - 1, c) for c in closes], start="2012-01-03")
    frame.rename_axis("date").to_csv(folder / "ZZZ.csv")
    out = tmp_path / "out"
    result = invoke("backtest", str(DEMO), "--start", "2012-01-03", "--end", "2012-04-30", "--data", f"csv:{folder}",
                    "--param", "symbol=ZZZ", "--param", "fast=3", "--param", "slow=8", "--benchmark", "",
                    "--out", str(out), "-q", "--no-html")
    assert result.exit_code == 0, result.output
    run = only_run_folder(out)
    trades = pd.read_csv(run / "trades.csv")
    assert set(trades["symbol"]) == {"ZZZ"} and (trades["status"] == "fill").sum() >= 2
    assert json.loads((run / "settings.json").read_text())["data_source"]["name"] == "csv"


@pytest.mark.parametrize("args, message", [
    (["--start", "2011-01-01", "--end", "2010-01-01"], "start 2011-01-01 is after end 2010-01-01; swap them"),
    (["--start", "2010-01-01", "--end", "2010-02-01", "--param", "symbol=APPL"], "Did you mean 'AAPL'?"),
])
def test_cli_errors_from_the_installed_script_have_no_traceback(tmp_path, args, message):
    proc = agentrt("backtest", str(DEMO), *args, "-q", "--no-html", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.startswith("error:"), proc.stderr
    assert message in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr + proc.stdout
