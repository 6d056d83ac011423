"""One strategy's live run: wiring (clock, live data, order gate, state) and its wall-clock loop.

`agentrt.engine.live.Trader` starts one `_Runner` per strategy. Each strategy gets the same `_RunContext` as in a backtest, wired with a wall clock (or, for
replayed feeds and tests, an `AcceleratedClock`), a `LiveMarketData` view of its broker's live
feed, and the broker itself behind an order gate that gives every order a client order id
derived from (run id, step, order index) so that a retried step never submits twice.

Threads, not one asyncio loop: strategy hooks and agent runs are blocking code (a model call
can take seconds), so each strategy runs in its own thread and a slow agent never delays
another strategy's schedule. The main thread only waits and turns SIGINT/SIGTERM into a clean
stop: every runner finishes its current step, saves its state and writes its artifacts.
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agentrt.calendars import normalize_market
from agentrt.calendars import sessions as market_sessions
from agentrt.clock import StepClock, WallClock
from agentrt.data.live import (
    CredentialsError,
    LiveConnectionError,
    LiveMarketData,
    is_transient,
)
from agentrt.engine.backtest import _agent_services, _fee_dict, _Listener, _versions
from agentrt.engine.persistence import OrderRow, StateStore, StrategyState, decode_vars, encode_vars
from agentrt.engine.recorder import Recorder
from agentrt.engine.schedule import ScheduleError, parse_sleeptime
from agentrt.strategy.strategy import Strategy, _RunContext

if TYPE_CHECKING:
    from agentrt.engine.live import Trader

__all__ = ["LiveError", "LiveResult", "is_provider_error"]

log = logging.getLogger("agentrt.live")

_ACTIVE = ("submitting", "new", "open", "partially_filled")
_PROVIDER_MODULES = ("litellm", "openai", "anthropic", "httpx", "httpcore", "requests", "urllib3", "aiohttp",
                     "ccxt", "alpaca", "google.genai", "google.api_core", "mcp")
_PROVIDER_NAMES = ("Timeout", "RateLimit", "ServiceUnavailable", "APIConnection", "ProviderError", "Overloaded",
                   "InternalServerError", "BadGateway")


class LiveError(ValueError):
    """The live run cannot start as configured; the message says how to fix it."""


def is_provider_error(exc: BaseException) -> bool:
    """A failure of an outside service (model provider, data vendor, venue) rather than of the strategy.

    Such an error skips the step loudly (logged, counted) and the run goes on; any other
    exception is a strategy bug and stops the strategy. Rejected credentials are never skipped.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, CredentialsError):
            return False
        if isinstance(current, (LiveConnectionError, TimeoutError, ConnectionError)) or is_transient(current):
            return True
        module = type(current).__module__ or ""
        if module.startswith(_PROVIDER_MODULES):
            return True
        if any(part in type(current).__name__ for part in _PROVIDER_NAMES):
            return True
        current = current.__cause__ or current.__context__
    return False


def _clock_in(clock, tz: str):
    if clock is None:
        return WallClock(tz)
    if hasattr(clock, "with_tz"):
        return clock.with_tz(tz)
    if isinstance(clock, WallClock):
        return WallClock(tz)
    return clock


# ---- order gate ------------------------------------------------------------------------------
class _OrderGate:
    """The broker as the strategy sees it: every order gets a deterministic client order id.

    Ids are `<run id>-<step>-<n>`: the run id survives restarts, the step number is reused when
    the process stopped inside that step, so a retried step asks for the same ids and the
    broker answers with the orders it already has. Before an order goes to a venue its intent is
    written to the state store, so an order whose answer was lost is found again on restart.
    """

    def __init__(self, broker, *, run_id: str, store: StateStore, strategy: str) -> None:
        self._broker = broker
        self.run_id = run_id
        self.store = store
        self.strategy = strategy
        self.step: int | str = "init"
        self._index = 0
        self.seen: set[str] = {row.client_order_id for row in store.orders(strategy)}
        self.duplicates = 0

    def begin(self, step: int | str) -> None:
        self.step = step
        self._index = 0

    def next_client_order_id(self) -> str:
        cid = f"{self.run_id}-{self.step}-{self._index}"
        self._index += 1
        return cid

    def submit_order(self, order):
        if not order.client_order_id:
            order.client_order_id = self.next_client_order_id()
        cid = order.client_order_id
        if cid in self.seen:  # sent before (a retried step): hand back what the broker has, never resend
            found = self._broker.find_order(cid, hint=order)
            if found is not None:
                self.duplicates += 1
                log.info("%s: order %s was already submitted; not sending it again", self.strategy, cid)
                return found
        self.seen.add(cid)
        if not getattr(self._broker, "is_simulated", False):
            from agentrt.broker.paper import order_record

            self.store.save_orders(self.strategy, [OrderRow(cid, "", "submitting", order_record(order))])
        return self._broker.submit_order(order)

    # the rest of the Broker protocol, unchanged
    @property
    def cash(self) -> float:
        return self._broker.cash

    def portfolio_value(self) -> float:
        return self._broker.portfolio_value()

    def get_positions(self):
        return self._broker.get_positions()

    def get_position(self, asset):
        return self._broker.get_position(asset)

    def cancel_order(self, order):
        return self._broker.cancel_order(order)

    def modify_order(self, order, *, limit_price=None, stop_price=None):
        return self._broker.modify_order(order, limit_price=limit_price, stop_price=stop_price)

    def get_orders(self, *, active_only: bool = True):
        return self._broker.get_orders(active_only=active_only)

    def get_order(self, identifier: str):
        return self._broker.get_order(identifier)

    def cash_event(self, amount: float, *, cash_event_type: str, reason: str = "", is_external_cash_flow: bool = False):
        return self._broker.cash_event(amount, cash_event_type=cash_event_type, reason=reason,
                                       is_external_cash_flow=is_external_cash_flow)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)


# ---- results ---------------------------------------------------------------------------------
@dataclass
class LiveResult:
    """What one strategy's live run did: counts, why it stopped, where its files and state are."""

    strategy: str
    run_id: str
    iterations: int
    provider_errors: int
    stopped_by: str
    output_dir: Path | None
    state: str
    crashed: str | None = None
    result: Any = None
    """The `BacktestResult`-shaped artifacts object (stats, trades, files) or None."""
    files: dict[str, Path] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"LiveResult({self.strategy}: {self.iterations} iterations, {self.provider_errors} provider errors, "
                f"stopped by {self.stopped_by}, output_dir={self.output_dir})")


class _Crash(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _LoopInfo:
    def __init__(self) -> None:
        self.iterations = 0
        self.loop_seconds = 0.0


# ---- one strategy --------------------------------------------------------------------------
class _Runner:
    def __init__(self, trader: Trader, strategy: Strategy, broker, feed) -> None:
        self.trader = trader
        self.strategy = strategy
        self.broker = broker
        self.feed = feed
        self.crash: BaseException | None = None
        self.crash_time: _dt.datetime | None = None
        self.provider_errors = 0
        self.stopped_by = "not started"
        self.info = _LoopInfo()
        self.thread: threading.Thread | None = None
        self._saved: dict[str, tuple] = {}
        self._skipped_vars: set[str] = set()
        self._cash_seen = 0
        self._pre_step_vars: str | None = None
        self.ctx: _RunContext | None = None

    # -- wiring (main thread: errors surface before anything runs) ------------------------
    def prepare(self) -> None:
        tr, strategy = self.trader, self.strategy
        self.wall_start = time.time()
        replayed = getattr(self.feed, "is_replay", False)
        if replayed and tr.clock is None:
            raise LiveError("a replayed feed (data='sample') needs a clock that starts inside its data: "
                            "Trader(clock=AcceleratedClock(start, speed)) or agentrt live --start DATE --speed X")
        if tr.clock is not None and getattr(tr.clock, "speed", 1.0) != 1.0 and not replayed:
            raise LiveError("an accelerated clock needs a replayed feed (data='sample'); live venues quote in real "
                            "time, so run them at --speed 1")
        clock = StepClock(_clock_in(tr.clock, "America/New_York"))
        sessions = market_sessions("NYSE")
        data = LiveMarketData(self.feed)
        self._bind(data, sessions, clock)
        self.recorder = Recorder(echo_logs=not tr.quiet)
        self.store = tr.store
        state = self.store.load(strategy.name)
        self.restored = state is not None
        if state is None:
            state = StrategyState(strategy=strategy.name, run_id=uuid.uuid4().hex[:8])
        self.state = state
        self.gate = _OrderGate(self.broker, run_id=state.run_id, store=self.store, strategy=strategy.name)
        stamp = _dt.datetime.fromtimestamp(self.wall_start).strftime("%Y-%m-%d_%H-%M-%S")
        self.out_dir = tr.out_root / f"{strategy.name}_live_{stamp}_{state.run_id}"
        services = _agent_services(self.out_dir, run_id=state.run_id, replay=tr.replay, cache_dir=tr.cache_dir,
                                   lookahead=tr.lookahead, agent_budget=tr.agent_budget, live=True)
        self.ctx = ctx = _RunContext(clock=clock, recorder=self.recorder, is_backtesting=False, sessions=sessions,
                                     data=data, broker=self.gate, run_id=state.run_id, output_dir=self.out_dir,
                                     agent_services=services, settings={})
        strategy._ctx = ctx
        self.broker.listener = _Listener(strategy)
        self.broker.connect()
        self.gate.begin("init")
        clock.hold()
        try:
            self._guarded("initialize", strategy.initialize)
        finally:
            clock.release()
        try:
            market = normalize_market(strategy.market)
        except ValueError as exc:
            raise LiveError(str(exc)) from None
        if market != "XNYS":
            sessions = market_sessions(market)
            clock = StepClock(_clock_in(tr.clock, sessions.tz))
            ctx.clock, ctx.sessions = clock, sessions
            self._bind(data, sessions, clock)
        self.sessions, self.clock, self.data = sessions, clock, data
        try:
            self.seconds, self.daily = parse_sleeptime(strategy.sleeptime)
        except ScheduleError as exc:
            raise LiveError(f"{strategy.name}.sleeptime: {exc}") from None
        if self.restored:
            strategy.vars.update(state.vars)
            strategy._iteration = state.iterations
            strategy._first_iteration = state.iterations == 0
            if state.broker is not None and hasattr(self.broker, "restore"):
                self.broker.restore(state.broker)
        self._reconcile()
        ctx.settings = self.settings = self._settings(market)
        self.recorder.log(clock, f"{strategy.name} live on {getattr(self.broker, 'name', 'broker')} "
                                 f"({'restored' if self.restored else 'new'} run {state.run_id}, state in "
                                 f"{self.store.describe()})", "info")
        self._save()

    def _bind(self, data: LiveMarketData, sessions, clock) -> None:
        data.bind(sessions, clock)
        self.broker.bind(data=data, clock=clock, sessions=sessions, strategy_name=self.strategy.name)

    def _settings(self, market: str) -> dict:
        s, tr = self.strategy, self.trader
        describe = getattr(self.broker, "describe", None)
        return {
            "schema_version": 1,
            "mode": "live",
            "strategy": s.name,
            "strategy_class": f"{type(s).__module__}.{type(s).__qualname__}",
            "parameters": s.parameters,
            "broker": describe() if callable(describe) else {"name": getattr(self.broker, "name", "broker")},
            "data_source": self.feed.describe(),
            "market": market,
            "sleeptime": str(s.sleeptime),
            "buy_trading_fees": [_fee_dict(f) for f in getattr(self.broker, "buy_fees", ())],
            "sell_trading_fees": [_fee_dict(f) for f in getattr(self.broker, "sell_fees", ())],
            "clock": {"kind": type(self.clock.base).__name__, "speed": self.clock.speed,
                      "started_at": self.clock.now().isoformat()},
            "replay": getattr(self.ctx.agent_services, "mode_value", None),
            "lookahead": tr.lookahead,
            "run_id": self.state.run_id,
            "restored": self.restored,
            "state": self.store.describe(),
            "versions": _versions(),
        }

    # -- restarts ----------------------------------------------------------------------------
    def _reconcile(self) -> None:
        """Re-attach orders the broker still knows; mark the others canceled, with the reason."""
        from agentrt.broker.paper import order_from_record, order_record
        from agentrt.domain import OrderStatus

        rows = self.store.orders(self.strategy.name, active_only=True)
        updates = []
        for row in rows:
            found = self.broker.find_order(row.client_order_id, hint=order_from_record(row.order))
            if found is not None:
                updates.append(OrderRow(row.client_order_id, found.identifier, found.status.value,
                                        order_record(found)))
                self.recorder.log(self.clock, f"re-attached order {found.identifier} ({row.client_order_id}): "
                                              f"{found.status.value}", "info")
                continue
            order = order_from_record(row.order)
            reason = ("never reached the broker (the run stopped while sending it)" if row.status == "submitting"
                      else "the broker no longer knows this order")
            order.status = OrderStatus.CANCELED
            order.reject_reason = reason
            order.updated_at = self.clock.now()
            self.broker.events.append(("trade", order, None, "canceled", f"reconciled on restart: {reason}"))
            updates.append(OrderRow(row.client_order_id, row.broker_order_id, "canceled", order_record(order),
                                    f"reconciled on restart: {reason}"))
            self.recorder.log(self.clock, f"order {row.client_order_id} marked canceled on restart: {reason}",
                              "warning")
        self.store.save_orders(self.strategy.name, updates)
        for row in updates:
            self._saved[row.client_order_id] = (row.status, row.order.get("filled_quantity"))

    def _order_rows(self) -> list[OrderRow]:
        from agentrt.broker.paper import order_record

        rows = []
        for order in self.broker.get_orders(active_only=False):
            cid = order.client_order_id
            if not cid:
                continue
            key = (order.status.value, order.filled_quantity)
            if self._saved.get(cid) == key:
                continue
            self._saved[cid] = key
            rows.append(OrderRow(cid, order.identifier, order.status.value, order_record(order),
                                 order.reject_reason or ""))
        return rows

    def _save(self) -> None:
        state = self.state
        if state.step_done or self._pre_step_vars is None:
            state.vars = self.strategy.vars.to_dict()
        else:  # stopped inside a step: it will be retried from the vars it started with
            state.vars = decode_vars(self._pre_step_vars)
        snapshot = getattr(self.broker, "snapshot", None)
        state.broker = snapshot() if callable(snapshot) else None
        skipped = self.store.save(state, orders=self._order_rows())
        for key in skipped:
            if key not in self._skipped_vars:
                self._skipped_vars.add(key)
                self.recorder.log(self.clock, f"self.vars.{key} was not saved: its value is not JSON-storable "
                                              "(store numbers, strings, lists, dicts, dates)", "warning")

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        t0 = time.perf_counter()
        try:
            self._loop()
        except _Crash as exc:
            self.crash = exc.error
            self.stopped_by = "crash"
        except BaseException as exc:  # noqa: BLE001 - an engine failure must still save state
            self.crash = exc
            self.crash_time = self.clock.now()
            self.stopped_by = "crash"
        finally:
            self.info.loop_seconds = time.perf_counter() - t0

    def _guarded(self, hook: str, fn, *args) -> bool:
        """Run a strategy hook: provider errors are skipped loudly, anything else stops the strategy."""
        try:
            fn(*args)
            return True
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            if is_provider_error(exc):
                self.provider_errors += 1
                self.recorder.log(self.clock, f"provider error in {hook}, step skipped ({self.provider_errors} so "
                                              f"far): {type(exc).__name__}: {exc}", "error")
                log.error("%s: provider error in %s (skipped): %s: %s", self.strategy.name, hook,
                          type(exc).__name__, exc)
                return False
            self.crash_time = self.clock.now()
            try:
                self.strategy.on_bot_crash(exc)
            except Exception:  # noqa: BLE001 - the original error is what matters
                pass
            raise _Crash(exc) from exc

    def _step(self, hook: str, fn) -> bool:
        state = self.state
        if state.step_done:
            state.step += 1
        state.step_done = False
        state.vars = self.strategy.vars.to_dict()
        self._pre_step_vars = encode_vars(state.vars)[0]
        self.store.save(state)  # a hard kill from here on retries this step number (same order ids)
        self.gate.begin(state.step)
        self.clock.hold()
        try:
            ok = self._guarded(hook, fn)
        finally:
            self.clock.release()
        state.step_done = True
        self._save()
        return ok

    def _poll(self) -> None:
        process = getattr(self.broker, "process", None)
        if process is not None:
            self._guarded("order updates", process, self.clock.now_ns)

    def _stopped(self) -> bool:
        tr = self.trader
        if tr._stop.is_set():
            self.stopped_by = tr.stop_reason or "stop"
            return True
        if tr.until_ns is not None and self.clock.now_ns >= tr.until_ns:
            self.stopped_by = "end of the replayed data" if tr.until_is_data_end else "until"
            return True
        return False

    def _wait_until(self, t_ns: int) -> bool:
        clock, tr = self.clock, self.trader
        speed = getattr(clock, "speed", 1.0)
        poll_ns = int(tr.poll_seconds * 1e9)
        while True:
            now = clock.now_ns
            if now >= t_ns:
                return True
            if self._stopped():
                return False
            if tr.until_ns is not None and t_ns > tr.until_ns and now >= tr.until_ns:
                return False
            if now >= self._next_poll:
                self._poll()
                self._next_poll = clock.now_ns + poll_ns
                now = clock.now_ns
            target = min(t_ns, self._next_poll, tr.until_ns if tr.until_ns is not None else t_ns)
            tr._stop.wait(max(tr.min_wait_seconds, min(1.0, (target - now) / 1e9 / speed)))

    def _events(self, i: int) -> list[tuple[int, int, str]]:
        s = self.strategy
        o, c = int(self.sessions.opens[i]), int(self.sessions.closes[i])
        ev = [(o, 1, "open"), (c, 4, "close")]
        if self._wants["before_market_opens"]:
            ev.append((o - int(s.minutes_before_opening * 60e9), 0, "bmo"))
        if self._wants["before_market_closes"]:
            ev.append((c - int(s.minutes_before_closing * 60e9), 2, "bmc"))
        if self.daily:
            if i % max(1, self.seconds // 86_400) == 0:
                ev.append((c, 3, "iter"))
        else:
            ev.extend((t, 3, "iter") for t in range(o, c, self.seconds * 1_000_000_000))
        ev.sort()
        return ev

    def _loop(self) -> None:
        s = self.strategy
        self._wants = {h: s._overrides(h) for h in ("before_market_opens", "before_starting_trading",
                                                    "before_market_closes", "after_market_closes", "trace_stats")}
        self._next_poll = 0
        opens, closes = self.sessions.opens, self.sessions.closes
        start = self.clock.now_ns
        i = int(np.searchsorted(closes, start, side="left"))  # first session not yet closed
        if i >= len(closes):
            raise LiveError("the market calendar has no sessions after now; upgrade exchange_calendars")
        last = self.state.last_iteration_ns or 0
        if self.daily and i > 0 and start < int(opens[i]) and last < int(closes[i - 1]) \
                and (i - 1) % max(1, self.seconds // 86_400) == 0:
            # the last close passed while we were not running: iterate now, before the next open
            self.recorder.log(self.clock, "daily iteration of the last session was missed; running it now", "info")
            if self._iteration():
                return
        elif not self.daily and int(opens[i]) <= start < int(closes[i]):
            if self._iteration():  # started during the session: trade now, then on the grid
                return
        while True:
            if i >= len(closes):
                self.stopped_by = "end of the market calendar"
                return
            if i + 1 < len(closes) and self.clock.now_ns >= int(closes[i + 1]):
                # a step ran longer than a whole session (or the machine slept): skip, do not burst
                self.recorder.log(self.clock, f"fell behind: session {self.sessions.dates[i]} skipped", "warning")
                i += 1
                continue
            for t, _, kind in self._events(i):
                if t < start or (kind == "iter" and not self.daily and self.clock.now_ns >= t + self.seconds * 1e9):
                    continue  # before this process started, or an intraday slot missed entirely
                if not self._wait_until(t):
                    return
                if self._dispatch(kind):
                    return
            i += 1

    def _dispatch(self, kind: str) -> bool:
        """Handle one scheduled event; True means stop (max iterations)."""
        s, w = self.strategy, self._wants
        if kind == "iter":
            return self._iteration()
        self._poll()
        if kind == "bmo":
            self._step("before_market_opens", s.before_market_opens)
        elif kind == "open" and w["before_starting_trading"]:
            self._step("before_starting_trading", s.before_starting_trading)
        elif kind == "bmc":
            self._step("before_market_closes", s.before_market_closes)
        elif kind == "close" and w["after_market_closes"]:
            self._step("after_market_closes", s.after_market_closes)
        return False

    def _iteration(self) -> bool:
        s, broker, state, rec = self.strategy, self.gate, self.state, self.recorder
        self._poll()
        snapshot = None
        if self._wants["trace_stats"]:
            snapshot = {"portfolio_value": broker.portfolio_value(), "cash": broker.cash}
        ok = self._step("on_trading_iteration", s.on_trading_iteration)
        if ok:
            s._first_iteration = False
            s._iteration += 1
        self.info.iterations += 1
        state.iterations += 1 if ok else 0
        now = self.clock.now_ns
        state.last_iteration_ns = now
        pv = broker.portfolio_value()
        prev = state.prev_portfolio_value if state.prev_portfolio_value is not None else pv
        flow = sum(ev.amount for ev in broker.cash_events[self._cash_seen:] if ev.is_external_cash_flow) \
            if hasattr(broker, "cash_events") else 0.0
        self._cash_seen = len(getattr(broker, "cash_events", ()))
        ret = (pv - flow) / prev - 1.0 if prev > 0 else 0.0
        cav = (state.cash_adjusted_value if state.cash_adjusted_value is not None else pv) * (1.0 + ret)
        state.prev_portfolio_value, state.cash_adjusted_value = pv, cav
        extra = None
        if self._wants["trace_stats"]:
            holder: dict = {}
            self._guarded("trace_stats", lambda: holder.setdefault("v", s.trace_stats(
                {"iteration": s._iteration}, snapshot)))
            extra = holder.get("v")
        rec.stat(now, pv, broker.cash, cav, ret, extra)
        self._save()
        log.info("%s %s iteration %d: value %.2f cash %.2f", s.name, self.clock.now().strftime("%Y-%m-%d %H:%M"),
                 s._iteration, pv, broker.cash)
        max_it = self.trader.max_iterations
        if max_it is not None and self.info.iterations >= max_it:
            self.stopped_by = f"max iterations ({max_it})"
            return True
        return False

    # -- the end -----------------------------------------------------------------------------
    def finish(self) -> LiveResult:
        from agentrt.engine.result import build_result

        ctx = self.ctx
        try:
            self._save()
        except Exception as exc:  # noqa: BLE001 - report, then still try to write the artifacts
            log.error("%s: saving state failed: %s: %s", self.strategy.name, type(exc).__name__, exc)
        settings = dict(self.settings)
        services = ctx.agent_services
        totals = getattr(services, "totals", None) or {}
        settings["live"] = {"provider_errors": self.provider_errors, "stopped_by": self.stopped_by,
                            "agent_model_errors": int((totals.get("warnings") or {}).get("model_error", 0)),
                            "iterations_this_run": self.info.iterations, "iterations_total": self.state.iterations,
                            "duplicate_orders_ignored": getattr(self.broker, "duplicates", 0) + self.gate.duplicates}
        result = None
        try:
            result = build_result(self.strategy, ctx, self.info, settings, benchmark_asset=None, out_dir=self.out_dir,
                                  wall_start=self.wall_start, crashed=self.crash, tearsheet=self.trader.tearsheet)
        except Exception as exc:  # noqa: BLE001 - artifacts are a report; the state is already saved
            log.error("%s: writing artifacts failed: %s: %s", self.strategy.name, type(exc).__name__, exc,
                      exc_info=True)
        if services is not None and hasattr(services, "close"):
            try:
                services.close()
            except Exception as exc:  # noqa: BLE001
                log.error("%s: closing agent services failed: %s", self.strategy.name, exc)
        close = getattr(self.broker, "close", None)
        if callable(close):
            close()
        crashed = None if self.crash is None else f"{type(self.crash).__name__}: {self.crash}"
        return LiveResult(strategy=self.strategy.name, run_id=self.state.run_id, iterations=self.info.iterations,
                          provider_errors=self.provider_errors, stopped_by=self.stopped_by,
                          output_dir=self.out_dir if self.out_dir.exists() else None, state=self.store.describe(),
                          crashed=crashed, result=result, files=dict(result.files) if result is not None else {})
