"""Replay-cache keys and entries of agent runs, computed without Google ADK.

The run key material has the layout agreed with :mod:`agentrt.replay.reasons`::

    {"v": 1, "runtime_version", "base_prompt_version", "agent",
     "model": {"name", "settings"}, "system_prompt", "task", "context",
     "data": {"source": <source description>, "bars": {symbol: <digest of its visible bars>}},
     "state": {"sim_time", "cash", "portfolio_value", "positions", "open_orders"},
     "tools": [{"name", "kind", "schema", "source_hash", "server"}, ...]}

A hit re-applies the recorded order intents through the strategy's own order path; an
intent the broker now refuses becomes a ``replayed_order_rejected`` warning on the result,
never a confirmation of an order that did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentrt.agents._version import RUNTIME_VERSION
from agentrt.agents.prompt import BASE_PROMPT_VERSION
from agentrt.agents.state import Snapshot
from agentrt.agents.tool import ToolSpec
from agentrt.agents.trading import OrderIntent, apply_intent, describe_intent, order_view

__all__ = ["KEY_LAYOUT_VERSION", "RunKeyer", "reapply_orders", "run_material", "schema_json"]

KEY_LAYOUT_VERSION = 2


def schema_json(schema: Any) -> Any:
    """A JSON form of an ``output_schema`` (pydantic model, type or dict) for keys and traces."""
    if schema is None:
        return None
    if isinstance(schema, Mapping):
        return dict(schema)
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return schema.model_json_schema()
    import pydantic

    return pydantic.TypeAdapter(schema).json_schema()


def run_material(
    *,
    agent: str,
    model: Mapping[str, Any],
    system_prompt: str,
    task: str | None,
    context: Any,
    state: Mapping[str, Any],
    tools: Sequence[ToolSpec],
    data: Any = None,
) -> dict[str, Any]:
    """The key material of one agent run (see the module docstring)."""
    return {
        "data": data,
        "v": KEY_LAYOUT_VERSION,
        "runtime_version": RUNTIME_VERSION,
        "base_prompt_version": BASE_PROMPT_VERSION,
        "agent": agent,
        "model": {"name": model["name"], "settings": dict(model.get("settings") or {})},
        "system_prompt": system_prompt,
        "task": task,
        "context": context,
        "state": dict(state),
        "tools": [spec.key_material() for spec in tools],
    }


class RunKeyer:
    """Computes ``content_hash(run_material(...))`` fast: the static parts are encoded once.

    Canonical JSON sorts object keys, so the encoding of the whole material is the
    encodings of its top-level values joined in key order; the agent's model, prompt and
    tool surface are encoded once per tool surface instead of once per run.
    """

    def __init__(self, *, agent: str, model: Mapping[str, Any], system_prompt: str, tools: Sequence[ToolSpec]) -> None:
        import json

        from agentrt.replay.hashing import canonical_json

        static = run_material(agent=agent, model=model, system_prompt=system_prompt, task=None, context=None,
                              state={}, tools=tools)
        self._static = {k: canonical_json(v) for k, v in static.items()
                        if k not in ("task", "context", "state", "data")}
        self.tool_names = tuple(t.name for t in tools)
        # The canonical text is the top-level members in sorted key order; precompute the
        # static stretches between the three per-run members once.
        names = sorted([*self._static, "task", "context", "state", "data"])
        self._layout: list[str] = []  # literal text, or the name of a per-run member
        text = ""
        for i, name in enumerate(names):
            text += ("," if i else "") + f"{json.dumps(name, ensure_ascii=False)}:"
            if name in self._static:
                text += self._static[name]
            else:
                self._layout += [text, name]
                text = ""
        self._tail = text
        self.static_text = "".join(self._layout) + "|" + self._tail
        """Every static stretch of the key text (with the per-run member names between them)."""

    def key(self, *, task: str | None, context: Any, state: Mapping[str, Any], data: Any = None,
            data_json: str | None = None) -> str:
        """The run key; `data_json` is the canonical JSON of `data` when the caller already has it."""
        import hashlib

        from agentrt.replay.hashing import ALGORITHM, canonical_json

        values = {"task": canonical_json(task) if task is not None else "null",
                  "context": canonical_json(context) if context is not None else "null",
                  "state": _state_json(state),
                  "data": data_json if data_json is not None else (_state_json(data) if data is not None else "null")}
        layout = self._layout
        text = "{" + "".join(values[layout[i]] if i % 2 else layout[i] for i in range(len(layout))) + self._tail + "}"
        return f"{ALGORITHM}:" + hashlib.new(ALGORITHM, text.encode("utf-8")).hexdigest()


_PLAIN_DUMPS = None


def _state_json(state: Mapping[str, Any]) -> str:
    """Canonical JSON of a state snapshot. Snapshots hold only str/float/list/dict, for which the
    plain sorted-keys encoder gives exactly ``canonical_json``'s text, without its type walk."""
    global _PLAIN_DUMPS
    if _PLAIN_DUMPS is None:
        import json

        _PLAIN_DUMPS = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                        allow_nan=False).encode
    if type(state) is not Snapshot and not _str_keys_only(state):
        # the plain encoder would sort or coerce non-string keys differently from canonical_json
        from agentrt.replay.hashing import canonical_json

        return canonical_json(state)
    try:
        return _PLAIN_DUMPS(state)
    except (TypeError, ValueError):
        from agentrt.replay.hashing import canonical_json

        return canonical_json(state)


def _str_keys_only(value: Any) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _str_keys_only(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_str_keys_only(v) for v in value)
    return True


def reapply_orders(host: Any, intents: Sequence[Mapping[str, Any]], *, source: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """Re-apply recorded order intents; return (order views, warnings for those refused now)."""
    from agentrt.telemetry.warnings import AgentWarning

    views: list[dict[str, Any]] = []
    warnings: list[Any] = []
    for data in intents:
        intent = OrderIntent.from_json(dict(data))
        try:
            order = apply_intent(host, intent, source=source)
        except Exception as exc:  # noqa: BLE001 - any refusal on replay is reported, never raised into the bar
            views.append({**intent.to_json(), "status": "rejected", "reject_reason": str(exc), "replayed": True})
            warnings.append(AgentWarning(
                "replayed_order_rejected",
                f"replayed order '{describe_intent(intent)}' was refused now: {exc}. The cached run placed it; "
                "the current account could not, so it did not happen",
                {"intent": intent.to_json(), "reason": str(exc)},
            ))
            continue
        view = order_view(order)
        view["action"] = intent.action
        view["replayed"] = True
        views.append(view)
    return views, warnings
