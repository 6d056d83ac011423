"""Warning detectors for agent runs: pure, fast functions that return ``AgentWarning`` records.

Codes (see ``WARNING_CODES`` for severity and meaning):

``no_tool_calls``           the agent decided without calling any tool
``tool_error``              a tool raised or returned an error (the model saw the error)
``future_data``             a tool result holds data dated after the simulated time (look-ahead)
``order_without_evidence``  an order was submitted in a run that read no market/account/DuckDB data
``knowledge_cutoff``        the simulated time is before the model's training cutoff
``unknown_cutoff``          note: the model's training cutoff is not in ``KNOWN_TRAINING_CUTOFFS``
``budget_exceeded``         a token or cost budget was exceeded
``max_steps_exceeded``      the run hit ``max_steps`` model calls
``output_schema_mismatch``  the final answer did not fit ``output_schema``
``model_error``             the model call failed (provider error or timeout)
``replayed_order_rejected`` an order re-submitted from the replay cache was rejected

Detectors that may or may not fire return ``list[AgentWarning]`` (empty when all is well);
:func:`tool_error` always describes a failure and returns one ``AgentWarning``.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_LOOKAHEAD_EXPORTS = ("DEFAULT_RELEASE_KEYS", "DEFAULT_FORWARD_KEYS", "find_future_data", "block_future_data")

__all__ = [
    "KNOWN_TRAINING_CUTOFFS",
    "OFFLINE_MODEL_PREFIXES",
    "WARNING_CODES",
    "AgentWarning",
    "budget_exceeded",
    "knowledge_cutoff",
    "no_tool_calls",
    "order_without_evidence",
    "severity_of",
    "tool_error",
]
__all__ += _LOOKAHEAD_EXPORTS


@dataclass(frozen=True, slots=True)
class AgentWarning:
    """One suspicious condition found in an agent run.

    ``code`` is one of ``WARNING_CODES``; ``message`` is a sentence for humans;
    ``details`` holds JSON-compatible facts (paths, values, names) for tools and tests.
    """

    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the trace-file form: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentWarning:
        """Rebuild a warning from its trace-file form."""
        return cls(str(data["code"]), str(data.get("message", "")), dict(data.get("details") or {}))


#: code -> (severity, meaning). Severity is "error" (shown red), "warning" (yellow) or "note".
WARNING_CODES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "future_data": ("error", "a tool result holds data dated after the simulated time"),
        "order_without_evidence": (
            "error",
            "an order was submitted in a run that read no market, account or DuckDB data",
        ),
        "budget_exceeded": ("error", "a token or cost budget was exceeded"),
        "tool_error": ("warning", "a tool raised or returned an error"),
        "no_tool_calls": ("warning", "the agent decided without calling any tool"),
        "knowledge_cutoff": (
            "warning",
            "the simulated time is before the model's training cutoff (the model may know what happened next)",
        ),
        "unknown_cutoff": ("note", "the model's training cutoff is unknown to agentrt"),
        "max_steps_exceeded": ("warning", "the run reached max_steps model calls and was stopped"),
        "output_schema_mismatch": ("warning", "the final answer did not match the agent's output_schema"),
        "model_error": ("error", "the model call failed (provider error, timeout); the run made no decision"),
        "replayed_order_rejected": (
            "error",
            "a cached run's order was re-submitted on replay and the broker rejected it",
        ),
    }
)


def severity_of(code: str) -> str:
    """Return "error", "warning" or "note" for a warning code (unknown codes are "warning")."""
    entry = WARNING_CODES.get(code)
    return entry[0] if entry else "warning"


# --------------------------------------------------------------------------- run-level checks


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def no_tool_calls(tool_calls: Sequence[Any]) -> list[AgentWarning]:
    """Warn (``no_tool_calls``) when an agent run called no tool at all."""
    if tool_calls:
        return []
    return [
        AgentWarning(
            "no_tool_calls",
            "the agent decided without calling any tool, so its decision is not grounded in "
            "point-in-time data (give it tools, or tell it in the prompt to check the data first)",
            {},
        )
    ]


def tool_error(tool_name: str, error: BaseException | str) -> AgentWarning:
    """Describe a tool failure (``tool_error``); the error itself went back to the model."""
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    if len(text) > 500:
        text = text[:499] + "…"
    return AgentWarning("tool_error", f"tool {tool_name!r} failed: {text}", {"tool": tool_name, "error": text})


def _order_summary(order: Any) -> str:
    if isinstance(order, Mapping):
        parts = [
            str(order[k])
            for k in ("side", "quantity", "qty", "symbol", "asset", "order_type", "type")
            if order.get(k) is not None
        ]
        if parts:
            return " ".join(parts)
    text = str(order)
    return text if len(text) <= 120 else text[:119] + "…"


def order_without_evidence(
    tool_calls: Sequence[Any],
    orders: Sequence[Any],
    *,
    evidence_tools: Collection[str],
) -> list[AgentWarning]:
    """Warn (``order_without_evidence``) when a run submitted orders but read no evidence.

    ``tool_calls`` are trace records or objects with ``name`` and ``error``; a call counts
    as evidence when its name is in ``evidence_tools`` (the market, account and DuckDB
    tools the runtime provides) and it did not fail.
    """
    if not orders:
        return []
    evidence = set(evidence_tools)
    called = [str(_field(call, "name", "")) for call in tool_calls]
    if any(name in evidence and not _field(call, "error") for name, call in zip(called, tool_calls, strict=True)):
        return []
    summaries = [_order_summary(order) for order in orders[:10]]
    return [
        AgentWarning(
            "order_without_evidence",
            f"{len(orders)} order(s) submitted ({'; '.join(summaries[:3])}) in a run that read no market, "
            f"account or DuckDB data (evidence tools: {', '.join(sorted(evidence)) or 'none configured'})",
            {
                "n_orders": len(orders),
                "orders": summaries,
                "tools_called": called,
                "evidence_tools": sorted(evidence),
            },
        )
    ]


# --------------------------------------------------------------------------- knowledge cutoff

#: Approximate training-data cutoffs (first day of the month the providers state; some
#: providers publish only a month or a "reliable knowledge" date). Keys are model-name
#: prefixes; the longest matching prefix wins, after dropping a provider prefix such as
#: ``openai/``, ``gemini/``, ``models/`` or ``anthropic.`` (Bedrock). Approximate by nature:
#: they exist to flag "the model may remember the future", not to be exact.
KNOWN_TRAINING_CUTOFFS: Mapping[str, _dt.date] = MappingProxyType(
    {
        # OpenAI
        "gpt-3.5-turbo": _dt.date(2021, 9, 1),
        "gpt-4": _dt.date(2021, 9, 1),
        "gpt-4-turbo": _dt.date(2023, 12, 1),
        "gpt-4o": _dt.date(2023, 10, 1),
        "gpt-4o-mini": _dt.date(2023, 10, 1),
        "gpt-4.1": _dt.date(2024, 6, 1),
        "gpt-4.5": _dt.date(2023, 10, 1),
        "gpt-5": _dt.date(2024, 9, 1),
        "gpt-5-mini": _dt.date(2024, 5, 1),
        "gpt-5-nano": _dt.date(2024, 5, 1),
        "o1": _dt.date(2023, 10, 1),
        "o3": _dt.date(2024, 6, 1),
        "o4-mini": _dt.date(2024, 6, 1),
        # Google
        "gemini-1.5": _dt.date(2023, 11, 1),
        "gemini-2.0-flash": _dt.date(2024, 8, 1),
        "gemini-2.5-": _dt.date(2025, 1, 1),
        # Anthropic
        "claude-3-haiku": _dt.date(2023, 8, 1),
        "claude-3-sonnet": _dt.date(2023, 8, 1),
        "claude-3-opus": _dt.date(2023, 8, 1),
        "claude-3-5-sonnet": _dt.date(2024, 4, 1),
        "claude-3-5-haiku": _dt.date(2024, 7, 1),
        "claude-3-7-sonnet": _dt.date(2024, 10, 1),
        "claude-sonnet-4": _dt.date(2025, 3, 1),
        "claude-opus-4": _dt.date(2025, 3, 1),
        "claude-sonnet-4-5": _dt.date(2025, 7, 1),
        # Meta Llama (Ollama "llama3.1:8b", Groq/Together "llama-3.1-70b-...")
        "llama3": _dt.date(2023, 12, 1),
        "llama-3": _dt.date(2023, 12, 1),
        "llama4": _dt.date(2024, 8, 1),
        "llama-4": _dt.date(2024, 8, 1),
    }
)

#: Offline, deterministic models that ship with agentrt know nothing: no cutoff warning.
OFFLINE_MODEL_PREFIXES: tuple[str, ...] = ("scripted", "function")

_PROVIDER_DOT_PREFIX = re.compile(r"^(?:[a-z]{2}\.)?(?:anthropic|meta|amazon|mistral|google)\.")
_NOTED_UNKNOWN: set[str] = set()
_NOTED_LOCK = threading.Lock()


def _bare_model_name(model: str) -> str:
    name = model.strip().lower().rsplit("/", 1)[-1]
    return _PROVIDER_DOT_PREFIX.sub("", name)


def _cutoff_for(model: str) -> tuple[str, _dt.date] | None:
    name = _bare_model_name(model)
    best: tuple[str, _dt.date] | None = None
    for prefix, cutoff in KNOWN_TRAINING_CUTOFFS.items():
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, cutoff)
    return best


def knowledge_cutoff(model: str, sim_time: _dt.datetime) -> list[AgentWarning]:
    """Warn (``knowledge_cutoff``) when ``sim_time`` is before the model's training cutoff.

    Such a model may "remember" prices and news after ``sim_time``: a look-ahead risk no
    data clipping can remove. Unknown models get one ``unknown_cutoff`` note per model per
    process; offline models (names starting with "scripted" or "function") get nothing.
    """
    bare = _bare_model_name(model)
    if bare.startswith(OFFLINE_MODEL_PREFIXES) or model.strip().lower().startswith(OFFLINE_MODEL_PREFIXES):
        return []
    match = _cutoff_for(model)
    if match is None:
        with _NOTED_LOCK:
            if model in _NOTED_UNKNOWN:
                return []
            _NOTED_UNKNOWN.add(model)
        return [
            AgentWarning(
                "unknown_cutoff",
                f"agentrt does not know the training cutoff of model {model!r}; if it was trained on data "
                "after the simulated period it may remember what happened next",
                {"model": model},
            )
        ]
    prefix, cutoff = match
    sim_date = sim_time.date()
    if sim_date >= cutoff:
        return []
    return [
        AgentWarning(
            "knowledge_cutoff",
            f"model {model!r} was trained on data up to about {cutoff:%Y-%m}; the simulated time "
            f"{sim_date.isoformat()} is before that, so the model may remember what happened next",
            {"model": model, "cutoff": cutoff.isoformat(), "matched_prefix": prefix, "sim_date": sim_date.isoformat()},
        )
    ]


# --------------------------------------------------------------------------- budgets


def budget_exceeded(
    *,
    used_tokens: int,
    used_cost: float,
    token_budget: int | None,
    cost_budget: float | None,
    scope: str,
) -> list[AgentWarning]:
    """Warn (``budget_exceeded``) for each budget that usage went over; ``None`` budgets are off.

    ``scope`` names what the budget covers ("run", "backtest", an agent name) and appears
    in the message and details.
    """
    out: list[AgentWarning] = []
    if token_budget is not None and used_tokens > token_budget:
        out.append(
            AgentWarning(
                "budget_exceeded",
                f"{scope}: used {used_tokens} tokens, over the budget of {token_budget}",
                {"scope": scope, "kind": "tokens", "used": used_tokens, "budget": token_budget},
            )
        )
    if cost_budget is not None and used_cost > cost_budget:
        out.append(
            AgentWarning(
                "budget_exceeded",
                f"{scope}: spent ${used_cost:.4f}, over the budget of ${cost_budget:.4f}",
                {"scope": scope, "kind": "cost_usd", "used": used_cost, "budget": cost_budget},
            )
        )
    return out


def __getattr__(name: str) -> Any:
    # The look-ahead walker lives in agentrt.telemetry.lookahead (it imports AgentWarning from
    # here); re-exported lazily so that neither module imports the other at import time.
    if name in _LOOKAHEAD_EXPORTS:
        from agentrt.telemetry import lookahead

        return getattr(lookahead, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
