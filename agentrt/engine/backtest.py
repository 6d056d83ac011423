"""The backtest engine: resolves a run's settings, wires simulated clock + data + broker, runs the loop.

This module and `engine.live` are the only places that know whether a run is simulated.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from agentrt.broker.sim import SimBroker
from agentrt.calendars import normalize_market, sessions as market_sessions
from agentrt.clock import SimClock, ns_to_datetime
from agentrt.data.base import DataError
from agentrt.data.feed import MarketData
from agentrt.data.routing import resolve_data_source
from agentrt.domain import TradingFee
from agentrt.engine.recorder import Recorder
from agentrt.engine.schedule import ScheduleError, iteration_times, parse_sleeptime
from agentrt.strategy.strategy import Strategy, StrategyError, _RunContext


class BacktestError(ValueError):
    """The backtest cannot start as configured; the message says how to fix it."""


class StrategyCrash(RuntimeError):
    """A strategy hook raised during a run. Artifacts recorded so far were still written."""

    def __init__(self, message: str, *, output_dir: Path | None, sim_time: _dt.datetime | None) -> None:
        super().__init__(message)
        self.output_dir = output_dir
        self.sim_time = sim_time


def _parse_date(value: Any, what: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise BacktestError(f"{what} {value!r} is not a date; use YYYY-MM-DD, e.g. 2010-01-04") from None


def _env_overrides(start, end, budget, datasource, parameters):
    env = os.environ
    if env.get("BACKTESTING_START"):
        start = env["BACKTESTING_START"]
    if env.get("BACKTESTING_END"):
        end = env["BACKTESTING_END"]
    if env.get("BACKTESTING_BUDGET"):
        try:
            budget = float(env["BACKTESTING_BUDGET"])
        except ValueError:
            raise BacktestError(f"BACKTESTING_BUDGET={env['BACKTESTING_BUDGET']!r} is not a number") from None
    if env.get("BACKTESTING_DATA_SOURCE"):
        datasource = env["BACKTESTING_DATA_SOURCE"]
    if env.get("BACKTESTING_PARAMETERS"):
        try:
            extra = json.loads(env["BACKTESTING_PARAMETERS"])
        except json.JSONDecodeError as exc:
            raise BacktestError(f"BACKTESTING_PARAMETERS is not valid JSON ({exc}); e.g. '{{\"symbol\": \"AAPL\"}}'") from None
        if not isinstance(extra, dict):
            raise BacktestError("BACKTESTING_PARAMETERS must be a JSON object, e.g. '{\"symbol\": \"AAPL\"}'")
        parameters = {**(parameters or {}), **extra}
    return start, end, budget, datasource, parameters


def _check_parameters(cls: type, parameters: dict | None) -> None:
    if not parameters:
        return
    declared = dict(getattr(cls, "parameters", {}) or {})
    if not declared:
        return
    import difflib

    for key in parameters:
        if key not in declared:
            hint = difflib.get_close_matches(key, list(declared), n=1)
            extra = f" Did you mean {hint[0]!r}?" if hint else ""
            raise BacktestError(
                f"unknown parameter {key!r} for {cls.__name__} (declared: {', '.join(sorted(declared))}).{extra}")


class _Listener:
    """Routes broker callbacks to the strategy's hooks."""

    __slots__ = ("strategy", "wants_fill", "wants_cancel")

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy
        self.wants_fill = strategy._overrides("on_filled_order")
        self.wants_cancel = strategy._overrides("on_canceled_order")

    def on_fill(self, order, fill, position) -> None:
        if self.wants_fill:
            self.strategy.on_filled_order(position, order, fill.price, fill.quantity, fill.multiplier)

    def on_cancel(self, order) -> None:
        if self.wants_cancel:
            self.strategy.on_canceled_order(order)


def run_backtest(
    strategy_class: type[Strategy],
    datasource=None,
    backtesting_start=None,
    backtesting_end=None,
    *,
    budget: float = 100_000.0,
    benchmark_asset: str | None = None,
    buy_trading_fees=(),
    sell_trading_fees=(),
    parameters: dict | None = None,
    show_progress: bool = True,
    output_dir: str | Path | None = None,
    write_outputs: bool = True,
    slippage_bps: float = 0.0,
    fill_at: str = "next_open",
    allow_short: bool = False,
    replay: str | None = None,
    cache_dir: str | Path | None = None,
    lookahead: str = "warn",
    agent_budget: dict | None = None,
    name: str | None = None,
    quiet: bool = False,
    progress=None,
    tearsheet: bool = True,
    **unknown: Any,
):
    """Run `strategy_class` over [start, end] on simulated time; see `Strategy.backtest`."""
    if unknown:
        import difflib

        known = list(run_backtest.__code__.co_varnames[: run_backtest.__code__.co_argcount
                                                        + run_backtest.__code__.co_kwonlyargcount])
        key = next(iter(unknown))
        hint = difflib.get_close_matches(key, known, n=1)
        raise BacktestError(f"unknown backtest argument {key!r}." + (f" Did you mean {hint[0]!r}?" if hint else ""))
    if not (isinstance(strategy_class, type) and issubclass(strategy_class, Strategy)):
        raise BacktestError(f"{strategy_class!r} is not a Strategy subclass")
    if strategy_class.on_trading_iteration is Strategy.on_trading_iteration:
        raise BacktestError(
            f"{strategy_class.__name__} has no on_trading_iteration(self) method; define it: it is where the "
            "strategy decides what to do each iteration")
    start, end, budget, datasource, parameters = _env_overrides(
        backtesting_start, backtesting_end, budget, datasource, parameters)
    if start is None or end is None:
        raise BacktestError("give a start and an end date, e.g. MyStrategy.backtest(SampleData, '2010-01-01', '2012-12-31')")
    start_d, end_d = _parse_date(start, "start"), _parse_date(end, "end")
    if start_d > end_d:
        raise BacktestError(f"start {start_d} is after end {end_d}; swap them")
    try:
        budget = float(budget)
    except (TypeError, ValueError):
        raise BacktestError(f"budget must be a number, got {budget!r}") from None
    if not budget > 0:
        raise BacktestError(f"budget must be positive, got {budget}; pass the starting cash, e.g. budget=100_000")
    for fees, what in ((buy_trading_fees, "buy_trading_fees"), (sell_trading_fees, "sell_trading_fees")):
        if isinstance(fees, TradingFee) or not all(isinstance(f, TradingFee) for f in fees):
            raise BacktestError(f"{what} must be a list of TradingFee, e.g. [TradingFee(percent_fee=0.001)]")
    _check_parameters(strategy_class, parameters)
    try:
        source = resolve_data_source(datasource)
    except DataError as exc:
        raise BacktestError(str(exc)) from None

    strategy = strategy_class(parameters=parameters, name=name, budget=budget)
    # initialize() may change the market; it runs with a context whose clock sits at the start
    clock = SimClock("UTC")
    recorder = Recorder(echo_logs=not quiet and show_progress is False)
    ctx = _RunContext(clock=clock, recorder=recorder, is_backtesting=True, settings={})
    strategy._ctx = ctx
    provisional = market_sessions("NYSE")
    ctx.sessions = provisional
    data = MarketData(source, provisional, clock)
    ctx.data = data
    broker = SimBroker(data, cash=budget, buy_fees=buy_trading_fees, sell_fees=sell_trading_fees,
                       slippage_bps=slippage_bps, allow_short=allow_short, fill_at=fill_at,
                       strategy_name=strategy.name)
    ctx.broker = broker
    run_id = uuid.uuid4().hex[:8]
    ctx.run_id = run_id
    wall_start = time.time()
    out_dir = None
    if write_outputs:
        root = Path(output_dir) if output_dir is not None else Path.cwd() / "traces"
        stamp = _dt.datetime.fromtimestamp(wall_start).strftime("%Y-%m-%d_%H-%M-%S")
        out_dir = root / f"{strategy.name}_{stamp}_{run_id}"
    ctx.output_dir = out_dir
    try:
        ctx.agent_services = _agent_services(out_dir, run_id=run_id, replay=replay, cache_dir=cache_dir,
                                             lookahead=lookahead, agent_budget=agent_budget)
    except (ValueError, TypeError) as exc:  # a bad replay mode, lookahead policy or budget
        raise BacktestError(str(exc)) from None

    first = _dt.datetime.combine(start_d, _dt.time(0), tzinfo=_dt.timezone.utc)
    clock.advance_to(int(first.timestamp()) * 1_000_000_000)
    try:
        strategy.initialize()
    except (KeyboardInterrupt, SystemExit):
        raise
    except (BacktestError, StrategyError):
        raise  # already says what to fix
    except Exception as exc:  # noqa: BLE001 - report where it failed, keep the cause chained
        raise StrategyCrash(f"{strategy.name}.initialize() failed: {type(exc).__name__}: {exc}",
                            output_dir=None, sim_time=None) from exc
    try:
        market = normalize_market(strategy.market)
        sessions_all = market_sessions(market)
    except ValueError as exc:
        raise BacktestError(str(exc)) from None
    sess = sessions_all.slice(start_d, end_d)
    if len(sess) == 0:
        raise BacktestError(f"no {strategy.market} trading sessions between {start_d} and {end_d}; widen the range")
    ctx.sessions = sessions_all
    clock.set_tz(_tz(sessions_all.tz))
    data.rebind(sessions_all)  # initialize() may have read bars bound to the provisional sessions
    broker.rebind(sessions_all)  # day orders (even those placed in initialize()) expire at this market's closes
    cover = data.coverage()
    if cover is not None:
        lo, hi = _dt.date.fromisoformat(cover[0]), _dt.date.fromisoformat(cover[1])
        if start_d > hi or end_d < lo:
            raise BacktestError(
                f"{start_d}..{end_d} is outside the data ({type(source).__name__} covers {lo}..{hi}); "
                f"choose dates inside that range, e.g. --start {max(lo, start_d if start_d < hi else lo)} --end {hi}")
    try:
        seconds, daily = parse_sleeptime(strategy.sleeptime)
    except ScheduleError as exc:
        raise BacktestError(f"{strategy.name}.sleeptime: {exc}") from None

    settings = {
        "schema_version": 1,
        "artifacts_version": _artifacts_version(),
        "strategy": strategy.name,
        "strategy_class": f"{strategy_class.__module__}.{strategy_class.__qualname__}",
        "parameters": strategy.parameters,
        "data_source": source.describe(),
        "start": str(start_d),
        "end": str(end_d),
        "budget": budget,
        "benchmark_asset": benchmark_asset,
        "market": market,
        "sleeptime": str(strategy.sleeptime),
        "buy_trading_fees": [_fee_dict(f) for f in buy_trading_fees],
        "sell_trading_fees": [_fee_dict(f) for f in sell_trading_fees],
        "slippage_bps": slippage_bps,
        "fill_at": fill_at,
        "allow_short": allow_short,
        "replay": getattr(getattr(ctx.agent_services, "replay_mode", None), "value", replay),
        "lookahead": lookahead,
        "run_id": run_id,
        "versions": _versions(),
    }
    ctx.settings = settings
    listener = _Listener(strategy)
    broker.listener = listener

    loop = _Loop(strategy, ctx, sess, seconds, daily, budget, progress=progress if progress is not None else (
        _default_progress(len(sess), strategy.name) if show_progress and not quiet else None))
    crash: BaseException | None = None
    has_agents = strategy._agents is not None and len(strategy._agents) > 0
    if has_agents and ctx.agent_services is not None:
        ctx.agent_services.open()  # tracing and the replay store, so the backtest span is the root
        loop.traced = ctx.agent_services.tracing is not None
    try:
        if has_agents and ctx.agent_services is not None:
            strategy._agents.prepare(since=str(sess.dates[0])[:10])  # replay indexes load like market data
        if loop.traced:
            from agentrt.telemetry.spans import backtest_span

            with backtest_span(strategy.name, str(start_d), str(end_d)):
                loop.run()
        else:
            loop.run()
    except _Crash as exc:
        crash = exc.error
    finally:
        if loop.progress is not None and hasattr(loop.progress, "close"):
            loop.progress.close()
        services = ctx.agent_services
        if services is not None and hasattr(services, "close"):
            services.close()
    from agentrt.engine.result import build_result

    result = build_result(strategy, ctx, loop, settings, benchmark_asset=benchmark_asset, out_dir=out_dir,
                          wall_start=wall_start, crashed=crash, tearsheet=tearsheet)
    if crash is not None:
        where = loop.crash_time.isoformat() if loop.crash_time else "start"
        raise StrategyCrash(
            f"{strategy.name} crashed at simulated time {where}: {type(crash).__name__}: {crash}"
            + (f" (artifacts written to {out_dir})" if out_dir else ""),
            output_dir=out_dir, sim_time=loop.crash_time) from crash
    return result


class _Crash(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Loop:
    """The hot loop. Kept flat: it runs once per bar and must cost microseconds."""

    def __init__(self, strategy: Strategy, ctx: _RunContext, sess, seconds: int, daily: bool, budget: float,
                 *, progress=None) -> None:
        self.strategy = strategy
        self.ctx = ctx
        self.sess = sess
        self.seconds = seconds
        self.daily = daily
        self.budget = budget
        self.progress = progress
        self.crash_time: _dt.datetime | None = None
        self.iterations = 0
        self.loop_seconds = 0.0
        self.traced = False  # wrap each iteration in an OpenTelemetry span (only when agents run)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - any strategy error ends the run, loudly
            self.crash_time = self.ctx.clock.now()
            try:
                self.strategy.on_bot_crash(exc)
            except Exception:  # noqa: BLE001
                pass
            raise _Crash(exc) from exc

    def run(self) -> None:
        """Run every session. Objects alive before the loop (data, modules, the strategy) are
        frozen out of the cyclic garbage collector meanwhile: the loop's short-lived objects
        are still collected, but a full collection no longer walks the whole heap mid-run.
        (Old garbage cycles wait for the end of the loop; a freeze made by strategy code during
        the loop ends with it; nothing happens when the heap is already frozen.)"""
        import gc

        freeze = gc.isenabled() and gc.get_freeze_count() == 0  # never undo a freeze we did not make
        if freeze:
            gc.collect(1)  # young garbage from the setup goes now rather than waiting in the frozen set
            gc.freeze()
        try:
            self._run()
        finally:
            if freeze:
                gc.unfreeze()

    def _run(self) -> None:
        t0 = time.perf_counter()
        strategy, ctx = self.strategy, self.ctx
        clock, broker, recorder = ctx.clock, ctx.broker, ctx.recorder
        sess = self.sess
        opens, closes = sess.opens, sess.closes
        iter_times, owners = iteration_times(sess, self.seconds, self.daily)
        wants = {h: strategy._overrides(h) for h in ("before_market_opens", "before_starting_trading",
                                                     "before_market_closes", "after_market_closes", "trace_stats")}
        bmo, bst, bmc, amc, tstats = (wants["before_market_opens"], wants["before_starting_trading"],
                                      wants["before_market_closes"], wants["after_market_closes"],
                                      wants["trace_stats"])
        before_open_ns = int(strategy.minutes_before_opening * 60e9)
        before_close_ns = int(strategy.minutes_before_closing * 60e9)
        iterate = strategy.on_trading_iteration
        process = broker.process
        traced = self.traced
        if traced:
            from agentrt.telemetry.spans import IterationTracker

            tracker = IterationTracker(clock.now)
            begin_iteration, end_iteration = tracker.begin, tracker.end
        call = self._call
        cav = self.budget
        prev_pv = self.budget
        ext_seen = 0
        cash_events = broker.cash_events
        n_iter = len(iter_times)
        k = 0
        progress = self.progress
        step = max(1, len(sess) // 200)
        neg_cash_logged = False
        for i in range(len(sess)):
            o_ns, c_ns = int(opens[i]), int(closes[i])
            if bmo:
                clock.advance_to(max(clock.now_ns, o_ns - before_open_ns))
                call(strategy.before_market_opens)
            clock.advance_to(o_ns)
            process(o_ns)
            if not neg_cash_logged and broker.cash < 0:
                neg_cash_logged = True
                recorder.log(clock, f"cash is negative ({broker.cash:,.2f}): a fill at the open gapped past the "
                             "price seen when the order was submitted", "warning")
            if bst:
                call(strategy.before_starting_trading)
            close_hook_done = not bmc
            while k < n_iter and owners[k] == i:
                t = int(iter_times[k])
                if not close_hook_done and t >= c_ns - before_close_ns:
                    bc = c_ns - before_close_ns
                    if bc > clock.now_ns:
                        clock.advance_to(bc)
                        process(bc)
                    call(strategy.before_market_closes)
                    close_hook_done = True
                if t > clock.now_ns:
                    clock.advance_to(t)
                    process(t)
                snapshot = None
                if tstats:
                    snapshot = {"portfolio_value": broker.portfolio_value(), "cash": broker.cash}
                if traced:
                    begin_iteration()
                    try:
                        call(iterate)
                    finally:
                        end_iteration()
                else:
                    call(iterate)
                strategy._first_iteration = False
                strategy._iteration += 1
                # stats after the iteration, valued at visible prices
                pv = broker.portfolio_value()
                flow = 0.0
                if len(cash_events) > ext_seen:
                    for ev in cash_events[ext_seen:]:
                        if ev.is_external_cash_flow:
                            flow += ev.amount
                    ext_seen = len(cash_events)
                ret = (pv - flow) / prev_pv - 1.0 if prev_pv > 0 else 0.0
                cav = cav * (1.0 + ret)
                prev_pv = pv
                extra = call(strategy.trace_stats, {"iteration": strategy._iteration}, snapshot) if tstats else None
                recorder.stat(clock.now_ns, pv, broker.cash, cav, ret, extra)
                k += 1
            if not close_hook_done:
                bc = c_ns - before_close_ns
                if bc > clock.now_ns:
                    clock.advance_to(bc)
                    process(bc)
                call(strategy.before_market_closes)
            if c_ns > clock.now_ns:
                clock.advance_to(c_ns)
            process(c_ns)
            if broker.holds_options:
                broker.settle_expired_options(sess.dates[i].astype(object), c_ns)
            if amc:
                call(strategy.after_market_closes)
            if progress is not None and (i % step == 0 or i == len(sess) - 1):
                progress.update(i + 1, clock.now(), broker.portfolio_value())
        self.iterations = k
        self.loop_seconds = time.perf_counter() - t0


def _artifacts_version() -> int:
    from agentrt.reports.artifacts import ARTIFACTS_VERSION

    return ARTIFACTS_VERSION


def _tz(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _fee_dict(fee: TradingFee) -> dict:
    return {"flat_fee": fee.flat_fee, "percent_fee": fee.percent_fee, "per_share_fee": fee.per_share_fee,
            "per_contract_fee": fee.per_contract_fee, "maker": fee.maker, "taker": fee.taker}


def _versions() -> dict:
    import platform

    from agentrt import __version__

    return {"agentrt": __version__, "python": platform.python_version()}


def _agent_services(out_dir, *, run_id, replay, cache_dir, lookahead, agent_budget, live: bool = False):
    """Services for agents (replay cache, traces). Cheap: nothing heavy opens until an agent runs.
    Live runs (`live=True`) record to the replay cache but never answer from it."""
    from agentrt.agents.services import AgentServices

    return AgentServices.for_backtest(output_dir=out_dir, run_id=run_id, replay=replay, cache_dir=cache_dir,
                                      lookahead=lookahead, budget=agent_budget, live=live)


class _RichProgress:
    def __init__(self, total: int, title: str) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._t0 = time.perf_counter()
        self._p = Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                           TimeElapsedColumn(), transient=False)
        self._task = self._p.add_task(title, total=total, info="")
        self._p.start()

    def update(self, done: int, now: _dt.datetime, value: float) -> None:
        rate = done / max(1e-9, time.perf_counter() - self._t0)
        self._p.update(self._task, completed=done,
                       info=f"{now:%Y-%m-%d}  {rate:,.0f} bars/s  value {value:,.0f}")

    def close(self) -> None:
        self._p.stop()


def _default_progress(total: int, title: str):
    import sys

    if not sys.stderr.isatty():
        return None
    return _RichProgress(total, title)


__all__ = ["BacktestError", "StrategyCrash", "StrategyError", "run_backtest", "ns_to_datetime"]
