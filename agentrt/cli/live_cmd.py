"""The `agentrt live` command: run a strategy file on a paper account (built-in, Alpaca paper, CCXT sandbox)."""

from __future__ import annotations

import datetime as _dt
import logging
import sys
from pathlib import Path

import typer

_REPLAY_KINDS = ("sample", "replay", "csv", "parquet", "yahoo")


def build_broker(spec: str, *, budget: float = 100_000.0, data: str | None = None, sandbox: bool = False,
                 buy_trading_fees=(), sell_trading_fees=(), slippage_bps: float = 0.0):
    """A broker from a CLI name: "paper", "alpaca-paper" or "ccxt:<exchange>" (the latter needs sandbox)."""
    from agentrt.engine.live import LiveError

    text = str(spec).strip()
    kind, _, arg = text.partition(":")
    kind = kind.lower()
    if kind == "paper":
        from agentrt.broker.paper import PaperBroker

        return PaperBroker(cash=budget, data=data, buy_trading_fees=buy_trading_fees,
                           sell_trading_fees=sell_trading_fees, slippage_bps=slippage_bps)
    if kind in ("alpaca-paper", "alpaca_paper"):
        from agentrt.broker.alpaca import AlpacaBroker

        return AlpacaBroker(paper=True)
    if kind == "alpaca":
        raise LiveError("agentrt live trades paper accounts: use --broker alpaca-paper (Alpaca's paper account)")
    if kind == "ccxt":
        if not arg:
            raise LiveError("name the exchange: --broker ccxt:binance --sandbox")
        if not sandbox:
            raise LiveError(f"agentrt live trades paper accounts: add --sandbox to use {arg}'s testnet "
                            f"(keys from {arg.upper()}_API_KEY / {arg.upper()}_API_SECRET)")
        from agentrt.broker.ccxt import CCXTBroker

        return CCXTBroker(arg, sandbox=True)
    raise LiveError(f"unknown broker {spec!r}; use paper, alpaca-paper or ccxt:<exchange> --sandbox")


def replay_window(source: str, start: str | None) -> tuple[_dt.datetime, _dt.datetime]:
    """(clock start, data end) for a replayed feed: start defaults to a year before the data ends.

    The data ends with the symbol whose bars end first (SampleData: the stocks in 2013, not SPX in 2018).
    """
    from zoneinfo import ZoneInfo

    from agentrt.data.routing import resolve_data_source
    from agentrt.engine.live import LiveError

    src = resolve_data_source(source)
    firsts, lasts = [], []
    for sym in src.symbols():
        frame = src.frame(sym)
        if len(frame):
            firsts.append(frame.index[0])
            lasts.append(frame.index[-1])
    if not lasts:
        raise LiveError(f"the replay data {source!r} has no bars")
    first, last = min(firsts), min(lasts)  # the replay ends when the first symbol runs out of bars
    tz = ZoneInfo("America/New_York")
    end_day = last.date()
    if start:
        try:
            day = _dt.date.fromisoformat(str(start)[:10])
        except ValueError:
            raise LiveError(f"--start {start!r} is not a date; use YYYY-MM-DD") from None
    else:
        day = max(first.date(), end_day - _dt.timedelta(days=365))
    if not first.date() <= day <= end_day:
        raise LiveError(f"--start {day} is outside the replay data ({first.date()}..{end_day})")
    begin = _dt.datetime.combine(day, _dt.time(9, 0), tzinfo=tz)
    return begin, _dt.datetime.combine(end_day, _dt.time(23, 59), tzinfo=tz)


def _is_replay(data: str | None) -> bool:
    return data is not None and data.split(":", 1)[0].strip().lower() in _REPLAY_KINDS


def _default_data(broker: str) -> tuple[str | None, str | None]:
    """(data, notice): paper quotes from Alpaca when its keys are set, else the embedded bars replayed."""
    if broker.strip().lower() != "paper":
        return None, None
    import os

    from agentrt.data.live import load_env_file

    load_env_file()
    if (os.environ.get("ALPACA_API_KEY") or os.environ.get("APCA_API_KEY_ID")) and (
            os.environ.get("ALPACA_API_SECRET") or os.environ.get("APCA_API_SECRET_KEY")):
        return "alpaca", "paper broker quotes: Alpaca market data (ALPACA_API_KEY found)"
    return "sample", ("paper broker quotes: no ALPACA_API_KEY, so the embedded sample bars are replayed as a live "
                      "feed on an accelerated clock (choose with --data alpaca | ccxt:<exchange> | sample)")


def register(app: typer.Typer) -> None:
    """Add the `live` command to the agentrt typer app."""

    @app.command("live")
    def live(
        file: Path = typer.Argument(..., help="Strategy file (.py), the same one you backtest."),
        broker: str = typer.Option("paper", help="paper | alpaca-paper | ccxt:<exchange> (with --sandbox)."),
        sandbox: bool = typer.Option(False, "--sandbox", help="Use the ccxt exchange's sandbox/testnet."),
        budget: float = typer.Option(100_000.0, help="Starting cash of the built-in paper account."),
        data: str = typer.Option(None, help="Quotes for --broker paper: alpaca | ccxt:<exchange> | sample "
                                            "(replayed embedded bars). Default: alpaca if its keys are set, "
                                            "else sample."),
        start: str = typer.Option(None, help="Replayed feeds only: the date the clock starts at (YYYY-MM-DD)."),
        speed: float = typer.Option(None, help="Replayed feeds only: clock speed (3600 = an hour per second; "
                                               "default 3600). Live venues always run at 1."),
        param: list[str] = typer.Option(None, "--param", "-p", help="Override a strategy parameter: key=value."),
        out: Path = typer.Option(None, help="Output folder for artifacts and the state file (default: ./traces)."),
        state: str = typer.Option(None, help="State database: a file or URL (default: DB_CONNECTION_STR, else "
                                             "OUT/state/live_state.sqlite)."),
        max_iterations: int = typer.Option(None, help="Stop after this many trading iterations."),
        poll: float = typer.Option(5.0, help="Seconds (of the clock) between order-status polls."),
        strategy: str = typer.Option(None, help="Strategy class name, when the file defines several."),
        replay: str = typer.Option(None, help="Replay cache mode for agents (live runs record, never serve)."),
        cache_dir: Path = typer.Option(None, help="Replay cache folder."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No log lines on the console."),
        no_html: bool = typer.Option(False, "--no-html", help="Skip tearsheet.html and trades.html."),
    ) -> None:
        """Run a strategy live on a paper account with the wall clock; Ctrl-C stops it cleanly.

        Examples:

          agentrt live demos/sma_cross.py --broker paper --max-iterations 5

          agentrt live demos/my_agent.py --broker alpaca-paper

          agentrt live demos/crypto.py --broker ccxt:binance --sandbox
        """
        from agentrt.cli.loader import StrategyFileError, load_strategy_class
        from agentrt.cli.main import _fail, _parse_params
        from agentrt.data.base import DataError
        from agentrt.data.live import CredentialsError, LiveConnectionError
        from agentrt.engine.backtest import StrategyCrash
        from agentrt.engine.live import AcceleratedClock, LiveError, Trader
        from agentrt.engine.persistence import StateError

        try:
            cls = load_strategy_class(file, name=strategy)
        except StrategyFileError as exc:
            _fail(str(exc))
        params = _parse_params(param)
        if not quiet:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                                stream=sys.stderr)
            logging.getLogger("agentrt.live").setLevel(logging.INFO)
        notice = None
        if data is None:
            data, notice = _default_data(broker)
        if data is not None and broker.strip().lower() != "paper":
            _fail(f"--data applies to --broker paper; {broker} brings its own market data")
        clock = until = None
        try:
            if _is_replay(data):
                begin, until = replay_window(data.split(":", 1)[1] if data.startswith("replay:") else data, start)
                clock = AcceleratedClock(begin, speed if speed is not None else 3600.0)
            elif speed not in (None, 1.0) or start is not None:
                _fail("--speed and --start apply only to a replayed feed (--data sample); live venues run on the "
                      "wall clock")
            venue = build_broker(broker, budget=budget, data=data, sandbox=sandbox)
            if notice and not quiet:
                print(notice, file=sys.stderr)
            instance = cls(parameters=params or None, broker=venue, budget=budget)
            trader = Trader(out_dir=out, state=state, clock=clock, max_iterations=max_iterations, until=until,
                            poll_seconds=poll, quiet=quiet, replay=replay, cache_dir=cache_dir, tearsheet=not no_html)
            trader.until_is_data_end = until is not None
            trader.add_strategy(instance)
            results = trader.run_all()
        except (LiveError, CredentialsError, StateError, DataError, LiveConnectionError, ValueError) as exc:
            _fail(str(exc))
        except StrategyCrash as exc:
            _fail(str(exc), code=1)
        if not quiet:
            for res in results.values():
                print(f"{res.strategy}: {res.iterations} iterations, {res.provider_errors} provider errors, "
                      f"stopped by {res.stopped_by}; artifacts {res.output_dir}; state {res.state}", file=sys.stderr)
