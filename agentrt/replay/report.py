"""Replay counters of one backtest: hits, misses by reason, calls made or reused, savings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COUNTERS_VERSION", "ReplayCounters"]

COUNTERS_VERSION = 1
"""Version of the :meth:`ReplayCounters.to_dict` layout."""


@dataclass
class ReplayCounters:
    """Running totals the runtime updates as agents run; reported at the end of a backtest.

    A run *hit* reuses every model and tool call the cached run made; a *miss* runs the
    agent, whose individual calls may still be reused from the call-level cache
    (:meth:`record_model_call`, :meth:`record_tool_call`).
    """

    runs: int = 0
    hits: int = 0
    misses: int = 0
    misses_by_reason: dict[str, int] = field(default_factory=dict)
    model_calls_made: int = 0
    model_calls_reused: int = 0
    tool_calls_made: int = 0
    tool_calls_reused: int = 0
    tokens_saved: int = 0
    cost_saved_usd: float = 0.0

    def record_hit(
        self,
        model_calls: int = 0,
        tool_calls: int = 0,
        tokens: int = 0,
        cost_usd: float = 0.0,
    ) -> None:
        """Count a run served from the cache, with the calls, tokens and cost it saved."""
        self.runs += 1
        self.hits += 1
        self.model_calls_reused += model_calls
        self.tool_calls_reused += tool_calls
        self.tokens_saved += tokens
        self.cost_saved_usd += cost_usd

    def record_miss(self, reasons: Iterable[str]) -> None:
        """Count a run that had to be made, once per reason it gave."""
        self.runs += 1
        self.misses += 1
        for reason in reasons:
            self.misses_by_reason[reason] = self.misses_by_reason.get(reason, 0) + 1

    def record_model_call(self, *, reused: bool, tokens: int = 0, cost_usd: float = 0.0) -> None:
        """Count one model call inside a missed run; ``tokens``/``cost_usd`` count if reused."""
        if reused:
            self.model_calls_reused += 1
            self.tokens_saved += tokens
            self.cost_saved_usd += cost_usd
        else:
            self.model_calls_made += 1

    def record_tool_call(self, *, reused: bool) -> None:
        """Count one external tool call inside a missed run."""
        if reused:
            self.tool_calls_reused += 1
        else:
            self.tool_calls_made += 1

    @property
    def hit_rate(self) -> float:
        """Hits as a fraction of runs (0.0 when nothing ran)."""
        return self.hits / self.runs if self.runs else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with a ``version`` field; reasons sorted by count, then name."""
        return {
            "version": COUNTERS_VERSION,
            "runs": self.runs,
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": round(self.hit_rate, 6),
            "misses_by_reason": dict(self._reasons_by_count()),
            "model_calls_made": self.model_calls_made,
            "model_calls_reused": self.model_calls_reused,
            "tool_calls_made": self.tool_calls_made,
            "tool_calls_reused": self.tool_calls_reused,
            "tokens_saved": self.tokens_saved,
            "cost_saved_usd": round(self.cost_saved_usd, 6),
        }

    def format_summary(self) -> str:
        """A few human lines: hits and misses, why runs missed, calls made/reused, savings."""
        if not self.runs:
            return "Replay cache: no agent runs"
        lines = [
            f"Replay cache: {self.runs} runs, {self.hits} hits ({self.hit_rate:.1%}), "
            f"{self.misses} misses"
        ]
        if self.misses_by_reason:
            reasons = ", ".join(f"{r} ({n})" for r, n in self._reasons_by_count())
            lines.append(f"Miss reasons: {reasons}")
        lines.append(
            f"Model calls: {self.model_calls_made} made, {self.model_calls_reused} reused; "
            f"tool calls: {self.tool_calls_made} made, {self.tool_calls_reused} reused"
        )
        if self.tokens_saved or self.cost_saved_usd:
            lines.append(f"Saved: {self.tokens_saved:,} tokens, ${self.cost_saved_usd:,.4f}")
        return "\n".join(lines)

    def _reasons_by_count(self) -> list[tuple[str, int]]:
        return sorted(self.misses_by_reason.items(), key=lambda item: (-item[1], item[0]))
