"""The `agentrt` command line (typer + rich): backtest, live, cache and traces commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

app = typer.Typer(
    name="agentrt",
    help=(
        "agentrt: LLM agents that trade, backtested bar by bar and run live unchanged.\n\n"
        "Examples:\n\n"
        "  agentrt backtest demos/sma_cross.py --start 2008-01-01 --end 2012-12-31\n\n"
        "  agentrt backtest demos/momentum_allocator.py --param top_n=2 --replay strict\n\n"
        "  agentrt traces show traces/<run-folder> --at 2011-03-04\n\n"
        "  agentrt cache stats\n\n"
        "  agentrt live demos/hello_agent.py --broker paper"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """agentrt command line."""


def _parse_params(values: list[str]) -> dict:
    params = {}
    for item in values or []:
        if "=" not in item:
            raise typer.BadParameter(f"--param takes key=value, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def _fail(message: str, code: int = 2) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _default_dates(source, start, end):
    """Default to the last two years of the range that every symbol of the source covers."""
    import datetime as dt

    if start and end:
        return start, end
    from agentrt.data.routing import resolve_data_source

    src = resolve_data_source(source)
    first = last = None
    for sym in src.symbols():
        frame = src.frame(sym)
        if len(frame):
            first = frame.index[0] if first is None or frame.index[0] > first else first
            last = frame.index[-1] if last is None or frame.index[-1] < last else last
    if last is None or first > last:
        _fail("cannot pick default dates for this data source; pass --start and --end")
    end = end or str(last.date())
    start = start or str(max(first.date(), dt.date.fromisoformat(end) - dt.timedelta(days=730)))
    return start, end


@app.command()
def backtest(
    file: Path = typer.Argument(..., help="Strategy file (.py) defining one Strategy subclass."),
    start: str = typer.Option(None, help="First date, YYYY-MM-DD (default: two years before --end)."),
    end: str = typer.Option(None, help="Last date, YYYY-MM-DD (default: the end of the data)."),
    budget: float = typer.Option(100_000.0, help="Starting cash."),
    data: str = typer.Option(None, help="sample | yahoo | csv:PATH | parquet:PATH | JSON routing map."),
    param: list[str] = typer.Option(None, "--param", "-p", help="Override a strategy parameter: key=value."),
    model: str = typer.Option(None, help="Model for agent demos (sets the 'model' parameter)."),
    out: Path = typer.Option(None, help="Output folder (default: ./traces)."),
    benchmark: str = typer.Option("SPX", help="Benchmark symbol ('' for none)."),
    replay: str = typer.Option(None, help="Replay cache mode: off | record | strict | refresh."),
    cache_dir: Path = typer.Option(None, help="Replay cache folder (default: AGENTRT_CACHE_DIR or ~/.cache/agentrt)."),
    lookahead: str = typer.Option("warn", help="Future data in tool results: warn | block."),
    slippage_bps: float = typer.Option(0.0, help="Slippage in basis points on market and stop fills."),
    fee_percent: float = typer.Option(0.0, help="Percent fee on buys and sells as a fraction (0.001 = 0.1%)."),
    strategy: str = typer.Option(None, help="Strategy class name, when the file defines several."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary table."),
    no_html: bool = typer.Option(False, "--no-html", help="Skip tearsheet.html and trades.html."),
) -> None:
    """Backtest a strategy file on simulated time and write its output folder."""
    from agentrt.cli.loader import StrategyFileError, load_strategy_class
    from agentrt.data.base import DataError
    from agentrt.engine.backtest import BacktestError, StrategyCrash
    from agentrt.strategy.strategy import StrategyError

    try:
        cls = load_strategy_class(file, name=strategy)
    except StrategyFileError as exc:
        _fail(str(exc))
    params = _parse_params(param)
    if model:
        if "model" not in (getattr(cls, "parameters", {}) or {}):
            _fail(f"{cls.__name__} has no 'model' parameter, so --model cannot be applied")
        params["model"] = model
    fees = ()
    if fee_percent:
        from agentrt.domain import TradingFee

        fees = (TradingFee(percent_fee=fee_percent),)
    try:
        start, end = _default_dates(data, start, end)
        result = cls.backtest(
            data, start, end, budget=budget, benchmark_asset=benchmark or None, parameters=params or None,
            show_progress=not quiet, output_dir=out, replay=replay, cache_dir=cache_dir, lookahead=lookahead,
            slippage_bps=slippage_bps, buy_trading_fees=fees, sell_trading_fees=fees, quiet=quiet,
            tearsheet=not no_html)
    except (BacktestError, DataError, StrategyError) as exc:
        _fail(str(exc))
    except StrategyCrash as exc:
        _fail(str(exc), code=1)
    except Exception as exc:  # noqa: BLE001 - e.g. a strict-mode replay miss
        if type(exc).__name__ in ("ReplayMissError", "ModelConfigError", "AgentConfigError"):
            _fail(str(exc))
        raise
    if not quiet:
        from agentrt.cli.summary import print_summary

        print_summary(result)


def main() -> None:
    from agentrt.cli import commands  # noqa: F401 - registers the other command groups

    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
