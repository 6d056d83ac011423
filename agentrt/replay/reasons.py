"""Explain a replay cache miss: name, in human terms, what changed between two key materials.

The material of a run key is built by the agent runtime in exactly this layout::

    {
      "v": 1,                                   # version of this layout
      "runtime_version": str,                   # agentrt version that ran the agent
      "base_prompt_version": str,               # version of the built-in base prompt
      "agent": str,                             # agent name
      "model": {"name": str, "settings": {...}},  # temperature, max_tokens, ...
      "system_prompt": str,                     # the effective system prompt
      "task": str | None,                       # the task prompt of this run
      "context": {...},                         # the user's context dict
      "state": {"sim_time": str, "cash": str, "portfolio_value": str,
                "positions": [...], "open_orders": [...]},
      "tools": [{"name": str, "kind": "builtin" | "custom" | "mcp", "schema": {...},
                 "source_hash": str | None, "server": str | None}, ...],
    }

:func:`diff_material` turns two such dicts into short, stable reason strings such as
``"model settings changed: temperature"`` or ``"tool get_fred source changed"``. Values
are deliberately left out of the reasons, so reports can count misses by reason.
Unknown top-level keys are reported as ``"<key> changed"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentrt.replay.hashing import canonical_json

__all__ = ["diff_material"]

# Top-level keys in the order reasons are reported, with their human names.
_SCALARS: dict[str, str] = {
    "v": "key material version changed",
    "runtime_version": "runtime version changed",
    "base_prompt_version": "base prompt version changed",
    "agent": "agent name changed",
    "system_prompt": "system prompt changed",
    "task": "task changed",
}
_ORDER = (
    "v",
    "runtime_version",
    "base_prompt_version",
    "agent",
    "model",
    "system_prompt",
    "task",
    "context",
    "data",
    "state",
    "tools",
)
_TOOL_FIELDS = (
    ("kind", "kind"),
    ("schema", "schema"),
    ("source_hash", "source"),
    ("server", "server"),
)


def diff_material(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Return the reasons why ``new`` hashes differently from ``old`` (``[]`` if equal).

    Both arguments follow the layout in the module docstring; missing keys compare as
    absent, so a partial or older layout still yields a sensible answer.
    """
    reasons: list[str] = []
    keys = [k for k in _ORDER if k in old or k in new]
    keys += sorted((set(old) | set(new)) - set(_ORDER))
    for key in keys:
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        if _same(before, after):
            continue
        if key == "model":
            reasons += _diff_model(before, after)
        elif key == "context":
            reasons.append(_diff_context(before, after))
        elif key == "state":
            reasons += _diff_state(before, after)
        elif key == "tools":
            reasons += _diff_tools(before, after)
        elif key == "data":
            reasons.append(_diff_data(before, after))
        else:
            reasons.append(_SCALARS.get(key, f"{key} changed"))
    return reasons


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    try:
        return canonical_json(a) == canonical_json(b)
    except TypeError:
        return bool(a == b)


def _changed_keys(before: Any, after: Any) -> list[str]:
    a = before if isinstance(before, Mapping) else {}
    b = after if isinstance(after, Mapping) else {}
    return sorted(
        str(k) for k in set(a) | set(b) if not _same(a.get(k, _MISSING), b.get(k, _MISSING))
    )


def _diff_model(before: Any, after: Any) -> list[str]:
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return ["model changed"]
    reasons = []
    if not _same(before.get("name", _MISSING), after.get("name", _MISSING)):
        reasons.append("model changed")
    settings = _changed_keys(before.get("settings"), after.get("settings"))
    if settings:
        reasons.append(f"model settings changed: {', '.join(settings)}")
    other = [k for k in _changed_keys(before, after) if k not in ("name", "settings")]
    if other:
        reasons.append(f"model changed: {', '.join(other)}")
    return reasons


def _diff_context(before: Any, after: Any) -> str:
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return "context changed"
    keys = _changed_keys(before, after)
    noun = "key" if len(keys) == 1 else "keys"
    return f"context changed: {noun} {', '.join(keys)}"


def _diff_data(before: Any, after: Any) -> str:
    """The market data the run could read: its source, or which symbols' visible bars differ."""
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return "data changed"
    if not _same(before.get("source", _MISSING), after.get("source", _MISSING)):
        return "data source changed"
    symbols = _changed_keys(before.get("bars"), after.get("bars"))
    if not symbols:
        return "data changed"
    shown = ", ".join(symbols[:5]) + (f" (+{len(symbols) - 5} more)" if len(symbols) > 5 else "")
    return f"data changed: {shown}"


def _diff_state(before: Any, after: Any) -> list[str]:
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return ["state changed"]
    return [f"state changed: {key}" for key in _changed_keys(before, after)]


def _tools_by_name(tools: Any) -> dict[str, Mapping[str, Any]] | None:
    if not isinstance(tools, list):
        return None
    by_name: dict[str, Mapping[str, Any]] = {}
    for tool in tools:
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            return None
        if tool["name"] in by_name:
            return None
        by_name[tool["name"]] = tool
    return by_name


def _diff_tools(before: Any, after: Any) -> list[str]:
    old, new = _tools_by_name(before), _tools_by_name(after)
    if old is None or new is None:
        return ["tools changed"]
    reasons: list[str] = []
    for name in new:
        if name not in old:
            reasons.append(f"tool {name} added")
    for name in old:
        if name not in new:
            reasons.append(f"tool {name} removed")
    for name in old:
        if name not in new:
            continue
        a, b = old[name], new[name]
        known = {field for field, _ in _TOOL_FIELDS} | {"name"}
        for field, label in _TOOL_FIELDS:
            if not _same(a.get(field, _MISSING), b.get(field, _MISSING)):
                reasons.append(f"tool {name} {label} changed")
        extra = [k for k in _changed_keys(a, b) if k not in known]
        if extra:
            reasons.append(f"tool {name} changed: {', '.join(extra)}")
    if not reasons:
        # Same tools with the same content: only their order in the prompt moved.
        reasons.append("tool order changed")
    return reasons
