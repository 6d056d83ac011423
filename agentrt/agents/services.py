"""What the engine hands every agent of a run: output folder, replay cache, tracing, budgets, counters.

:class:`AgentServices` is built by the engine (``AgentServices.for_backtest(...)`` or
``for_live(...)``) and attached to the strategy as ``strategy._agent_services``. Its
defaults make a strategy used outside the engine work too (no cache, no trace files).
Nothing heavy is opened on construction: the replay store and OpenTelemetry are opened
on the first agent run, so a backtest without agents pays nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

__all__ = ["AgentBudget", "AgentServices"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class AgentBudget:
    """Token and dollar budgets; going over one gives a ``budget_exceeded`` warning (runs go on)."""

    run_tokens: int | None = None
    run_cost_usd: float | None = None
    backtest_tokens: int | None = None
    backtest_cost_usd: float | None = None

    @classmethod
    def parse(cls, value: Any) -> AgentBudget | None:
        """Accept ``None``, an :class:`AgentBudget` or a dict with these field names."""
        if value is None or isinstance(value, AgentBudget):
            return value
        if isinstance(value, dict):
            names = {f.name for f in dataclasses.fields(cls)}
            unknown = set(value) - names
            if unknown:
                import difflib

                hints = [difflib.get_close_matches(k, names, n=1) for k in unknown]
                extra = "".join(f" Did you mean {h[0]!r}?" for h in hints if h)
                raise ValueError(f"unknown agent budget keys {sorted(unknown)}; expected {sorted(names)}.{extra}")
            return cls(**value)
        raise TypeError(f"agent budget must be a dict or AgentBudget, got {type(value).__name__}")


@dataclasses.dataclass
class AgentServices:
    """Services shared by the agents of one backtest or live run."""

    output_dir: Path | None = None
    """Run folder; traces go to ``<output_dir>/traces/``. None: no trace files."""
    replay_store: Any = None
    """An ``agentrt.replay.store.ReplayStore`` or None (no cache)."""
    replay_mode: Any = None
    """An ``agentrt.replay.modes.ReplayMode``; None means off."""
    is_live: bool = False
    lookahead: Literal["warn", "block"] = "warn"
    run_id: str = "run"
    counters: Any = None
    """``agentrt.replay.report.ReplayCounters`` (created on first use when None)."""
    tracing: Any = None
    """A telemetry ``TracingHandle`` or None."""
    budget: AgentBudget | None = None
    model_timeout_s: float | None = 300.0
    """A model call that takes longer fails the run (``model_error``) instead of hanging it."""
    cache_dir: Path | str | None = None
    """Where to open the replay store lazily when ``replay_store`` is None and the mode uses it."""
    setup_tracing: bool = False
    """Open a tracing handle (spans.jsonl in ``output_dir``) on the first agent run."""
    run_rows: list[Mapping[str, Any]] = dataclasses.field(default_factory=list)
    """One run-index row per agent run (written to ``agent_runs.parquet`` on close)."""
    totals: dict[str, Any] = dataclasses.field(
        default_factory=lambda: {"runs": 0, "model_calls": 0, "tool_calls": 0, "input_tokens": 0,
                                 "output_tokens": 0, "cost_usd": 0.0, "warnings": {}, "orders": 0}
    )
    close_errors: list[BaseException] = dataclasses.field(default_factory=list, repr=False)
    _closers: list[Callable[[], None]] = dataclasses.field(default_factory=list, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)
    _opened: bool = dataclasses.field(default=False, repr=False)
    _owns_store: bool = dataclasses.field(default=False, repr=False)
    _closed: bool = dataclasses.field(default=False, repr=False)
    _budget_warned: bool = dataclasses.field(default=False, repr=False)

    @classmethod
    def for_backtest(
        cls,
        *,
        output_dir: Path | str | None,
        run_id: str,
        replay: Any = None,
        cache_dir: Path | str | None = None,
        lookahead: str = "warn",
        budget: Any = None,
        live: bool = False,
    ) -> AgentServices:
        """Services for an engine run: mode from ``replay`` / ``$AGENTRT_REPLAY`` (default record)."""
        from agentrt.replay.modes import resolve_mode

        if lookahead not in ("warn", "block"):
            raise ValueError(f"lookahead must be 'warn' or 'block', got {lookahead!r}")
        mode = resolve_mode(replay, live=live)
        return cls(
            output_dir=Path(output_dir) if output_dir is not None else None,
            replay_mode=mode,
            is_live=live,
            lookahead=lookahead,  # type: ignore[arg-type]
            run_id=str(run_id),
            budget=AgentBudget.parse(budget),
            cache_dir=cache_dir,
            setup_tracing=output_dir is not None,
        )

    @classmethod
    def for_live(cls, **kwargs: Any) -> AgentServices:
        """Services for a live run: the cache records but never serves (see ``ReplayMode``)."""
        return cls.for_backtest(live=True, **kwargs)

    # -- lazy opening -------------------------------------------------------------------
    def open(self) -> None:
        """Open the replay store and tracing if configured (idempotent; called on first agent run)."""
        if self._opened:
            return
        with self._lock:
            if self._opened:
                return
            if self.counters is None:
                from agentrt.replay.report import ReplayCounters

                self.counters = ReplayCounters()
            mode = self.mode_value
            if self.replay_store is None and mode != "off":
                from agentrt.replay.store import ReplayStore

                self.replay_store = ReplayStore(self.cache_dir)
                self._owns_store = True
            if self.tracing is None and self.setup_tracing:
                from agentrt.telemetry.otel import setup_tracing

                self.tracing = setup_tracing(self.output_dir)
            self._opened = True

    @property
    def mode_value(self) -> str:
        mode = self.replay_mode
        if mode is None:
            return "off"
        return str(getattr(mode, "value", mode))

    def serves_from_cache(self) -> bool:
        mode = self.replay_mode
        return mode is not None and self.replay_store is not None and mode.serves_from_cache(self.is_live)

    def writes_cache(self) -> bool:
        mode = self.replay_mode
        return mode is not None and self.replay_store is not None and mode.writes_cache

    def reads_calls(self) -> bool:
        """Whether single model/tool calls may be served from the cache."""
        return self.serves_from_cache()

    def raises_on_miss(self) -> bool:
        mode = self.replay_mode
        return mode is not None and self.replay_store is not None and mode.raises_on_miss(self.is_live)

    # -- lifecycle ----------------------------------------------------------------------
    def register_closer(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when the run ends (agent runtimes close their loops and MCP sessions)."""
        self._closers.append(fn)

    def record_run(self, row: Mapping[str, Any] | None, *, model_calls: int, tool_calls: int,
                   input_tokens: int, output_tokens: int, cost_usd: float, warnings: list[str], orders: int) -> None:
        """Count one agent run in the totals and keep its run-index row."""
        with self._lock:
            t = self.totals
            t["model_calls"] += model_calls
            t["tool_calls"] += tool_calls
            t["input_tokens"] += input_tokens
            t["output_tokens"] += output_tokens
            t["cost_usd"] += cost_usd
        self.record_hit(row, warnings=warnings, orders=orders)

    def record_hit(self, row: Mapping[str, Any] | None, *, warnings: list[str], orders: int) -> None:
        """:meth:`record_run` for a cache hit, which spends no model call, tool call, token or dollar."""
        with self._lock:
            if row is not None:
                self.run_rows.append(row)
            t = self.totals
            t["runs"] += 1
            t["orders"] += orders
            if warnings:
                counts = t["warnings"]
                for code in warnings:
                    counts[code] = counts.get(code, 0) + 1

    def backtest_budget_warnings(self) -> list[Any]:
        """``budget_exceeded`` warnings for the whole run (given once, when first exceeded)."""
        budget = self.budget
        if budget is None or self._budget_warned:
            return []
        if budget.backtest_tokens is None and budget.backtest_cost_usd is None:
            return []
        from agentrt.telemetry.warnings import budget_exceeded

        t = self.totals
        found = budget_exceeded(
            used_tokens=t["input_tokens"] + t["output_tokens"], used_cost=t["cost_usd"],
            token_budget=budget.backtest_tokens, cost_budget=budget.backtest_cost_usd, scope="backtest",
        )
        if found:
            self._budget_warned = True
        return found

    def summary(self) -> dict[str, Any]:
        """Agent totals of the run for settings.json, the CLI and the tearsheet."""
        t = dict(self.totals)
        t["warnings"] = dict(sorted(t["warnings"].items()))
        t["cost_usd"] = round(float(t["cost_usd"]), 6)
        t["replay_mode"] = self.mode_value
        t["replay"] = self.counters.to_dict() if self.counters is not None else None
        t["run_index"] = "agent_runs.parquet" if self.run_rows and self.output_dir is not None else None
        return t

    def close(self) -> None:
        """End of run: close agent runtimes, write ``agent_runs.parquet``, flush tracing, close the store.

        A step that fails is logged and kept in ``close_errors``; the other steps still run
        and nothing is raised, so the engine goes on to write the backtest's artifacts.
        """
        if self._closed:
            return
        self._closed = True
        errors = self.close_errors
        for fn in reversed(self._closers):
            try:
                fn()
            except Exception as exc:  # one failing closer must not keep the others open
                errors.append(exc)
        self._closers.clear()
        if self.run_rows and self.output_dir is not None:
            try:
                from agentrt.telemetry.runindex import write_run_index

                write_run_index(self.run_rows, Path(self.output_dir))
            except Exception as exc:
                errors.append(exc)
        if self.tracing is not None:
            try:
                self.tracing.close()
            except Exception as exc:
                errors.append(exc)
        if self._owns_store and self.replay_store is not None:
            try:
                self.replay_store.close()
            except Exception as exc:
                errors.append(exc)
            self.replay_store = None
        for exc in errors:
            log.error("closing the agent services: %s: %s", type(exc).__name__, exc)
