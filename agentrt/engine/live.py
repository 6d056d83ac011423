"""The live engine: `Trader` runs strategies on a wall clock against paper or venue brokers.

This module, `engine.live_runner` and `engine.backtest` are the only places that know whether a
run is simulated. Threads, not one asyncio loop: strategy hooks and agent runs are blocking code
(a model call can take seconds), so each strategy runs in its own thread (`_Runner`) and a slow
agent never delays another strategy's schedule. The main thread only waits and turns
SIGINT/SIGTERM into a clean stop: every runner finishes its current step, saves its state and
writes its artifacts.
"""

from __future__ import annotations

import datetime as _dt
import logging
import signal
import threading
from pathlib import Path
from typing import Any

from agentrt.clock import AcceleratedClock, datetime_to_ns
from agentrt.engine.backtest import StrategyCrash
from agentrt.engine.live_runner import LiveError, LiveResult, _Crash, _Runner, is_provider_error
from agentrt.engine.persistence import StateStore
from agentrt.strategy.strategy import Strategy

__all__ = ["AcceleratedClock", "LiveError", "LiveResult", "Trader", "is_provider_error"]

log = logging.getLogger("agentrt.live")


# ---- the trader ------------------------------------------------------------------------------
class Trader:
    """Runs strategies live: `Trader().add_strategy(MyStrategy(broker=PaperBroker(data="alpaca"))).run_all()`.

    Each strategy needs its own broker instance (its own account for `PaperBroker`). State
    (`self.vars`, counters, the paper account, known orders) is saved after every step to
    `state` (a path or URL), else `DB_CONNECTION_STR`, else `<out_dir>/state/live_state.sqlite`,
    and restored on the next start. Artifacts go to `<out_dir>/<strategy>_live_<time>_<run id>/`.
    `max_iterations` and `until` end a run early; SIGINT/SIGTERM end it cleanly.
    """

    def __init__(self, *, out_dir: str | Path | None = None, state: str | Path | None = None, clock=None,
                 max_iterations: int | None = None, until: _dt.datetime | None = None, poll_seconds: float = 5.0,
                 handle_signals: bool = True, quiet: bool = False, replay: str | None = None,
                 cache_dir: str | Path | None = None, lookahead: str = "warn", agent_budget: dict | None = None,
                 tearsheet: bool = True, min_wait_seconds: float = 0.002) -> None:
        if max_iterations is not None and max_iterations < 1:
            raise LiveError(f"max_iterations must be at least 1, got {max_iterations}")
        if poll_seconds <= 0:
            raise LiveError(f"poll_seconds must be positive, got {poll_seconds}")
        self.out_root = Path(out_dir) if out_dir is not None else Path.cwd() / "traces"
        self._state_arg = state
        self.clock = clock
        self.max_iterations = max_iterations
        self.until_ns = datetime_to_ns(until) if until is not None else None
        self.until_is_data_end = False
        self.poll_seconds = poll_seconds
        self.handle_signals = handle_signals
        self.quiet = quiet
        self.replay, self.cache_dir, self.lookahead, self.agent_budget = replay, cache_dir, lookahead, agent_budget
        self.tearsheet = tearsheet
        self.min_wait_seconds = min_wait_seconds
        self.stop_reason: str | None = None
        self._stop = threading.Event()
        self._entries: list[tuple[Strategy, Any, Any]] = []
        self.store: StateStore | None = None

    def add_strategy(self, strategy: Strategy, *, broker=None, data=None) -> Trader:
        """Add a strategy instance; `broker` defaults to the one given as `MyStrategy(broker=...)`."""
        if isinstance(strategy, type):
            raise LiveError(f"add_strategy takes an instance: trader.add_strategy({strategy.__name__}(broker=...))")
        if not isinstance(strategy, Strategy):
            raise LiveError(f"{strategy!r} is not a Strategy")
        if type(strategy).on_trading_iteration is Strategy.on_trading_iteration:
            raise LiveError(f"{type(strategy).__name__} has no on_trading_iteration(self) method; define it")
        broker = broker if broker is not None else strategy._pending_broker
        if broker is None:
            raise LiveError(f"{strategy.name} has no broker: MyStrategy(broker=PaperBroker(data='alpaca')) or "
                            "trader.add_strategy(strategy, broker=...)")
        for other, other_broker, _ in self._entries:
            if other.name == strategy.name:
                raise LiveError(f"two strategies are named {strategy.name!r}; give one another name "
                                "(MyStrategy(name='...', broker=...)): state is saved per name")
            if other_broker is broker:
                raise LiveError(f"{strategy.name} and {other.name} share one broker object; give each strategy its "
                                "own broker (each PaperBroker is one account)")
        self._entries.append((strategy, broker, data if data is not None else strategy._pending_data))
        return self

    def stop(self, reason: str = "stop()") -> None:
        """Ask every strategy to stop after its current step (thread-safe)."""
        self.stop_reason = self.stop_reason or reason
        self._stop.set()

    def run_all(self) -> dict[str, LiveResult]:
        """Run every strategy until stopped; returns one `LiveResult` per strategy name."""
        from agentrt.data.live import feed_from_spec

        if not self._entries:
            raise LiveError("no strategies to run: trader.add_strategy(MyStrategy(broker=...)) first")
        self.store = StateStore.open(state_dir=self.out_root / "state",
                                     url=str(self._state_arg) if self._state_arg is not None else None)
        runners: list[_Runner] = []
        try:
            for strategy, broker, data in self._entries:
                feed = feed_from_spec(data) if data is not None else broker.default_feed()
                runner = _Runner(self, strategy, broker, feed)
                runners.append(runner)
                runner.prepare()
        except BaseException as exc:
            for runner in runners:
                services = runner.ctx.agent_services if runner.ctx is not None else None
                if services is not None and hasattr(services, "close"):
                    services.close()
            self.store.close()
            if isinstance(exc, _Crash):
                raise LiveError(f"initialize() failed: {type(exc.error).__name__}: {exc.error}") from exc.error
            raise
        previous = self._install_signals()
        try:
            for runner in runners:
                runner.thread = threading.Thread(target=runner.run, name=f"agentrt-live-{runner.strategy.name}",
                                                 daemon=True)
                runner.thread.start()
            while any(r.thread.is_alive() for r in runners):
                for r in runners:
                    r.thread.join(0.2)
        finally:
            self._restore_signals(previous)
            results = {r.strategy.name: r.finish() for r in runners}
            self.store.close()
        crashed = [r for r in runners if r.crash is not None]
        if crashed:
            r = crashed[0]
            where = r.crash_time.isoformat() if r.crash_time else "start"
            error = StrategyCrash(
                f"{r.strategy.name} crashed at {where}: {type(r.crash).__name__}: {r.crash} (state saved to "
                f"{self.store.describe()}; artifacts in {r.out_dir})", output_dir=r.out_dir, sim_time=r.crash_time)
            error.results = results  # type: ignore[attr-defined]
            raise error from r.crash
        return results

    def _install_signals(self) -> dict:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}

        def _handler(signum, _frame) -> None:
            name = signal.Signals(signum).name
            if self._stop.is_set():  # a second signal: stop waiting for the current step
                raise KeyboardInterrupt
            log.warning("%s received: stopping after the current step (state is saved; send it again to abort)", name)
            self.stop(name)

        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _handler)
        return previous

    @staticmethod
    def _restore_signals(previous: dict) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
