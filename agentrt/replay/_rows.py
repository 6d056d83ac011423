"""Row codec of the replay cache: entries to SQLite rows, rows back to entries, and row checks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from agentrt.replay.entries import CallEntry, RunEntry
from agentrt.replay.hashing import canonical_json, verify_hash

RUN_COLUMNS = (
    "key",
    "agent",
    "sim_time",
    "model",
    "material",
    "result",
    "events",
    "orders",
    "trace_path",
    "created_at",
    "runtime_version",
    "value_hash",
)
CALL_COLUMNS = (
    "key",
    "kind",
    "name",
    "sim_time",
    "request",
    "response",
    "created_at",
    "value_hash",
)
PROBE_COLUMNS = ("probe", "surface", "inputs", "key", "agent", "sim_time", "head", "created_at")
HEAD_FIELDS = (
    "key",
    "sim_time",
    "summary",
    "tools",
    "warnings",
    "orders",
    "model_calls",
    "tool_calls",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "trace_path",
    "value",
)
"""What a probe row's ``head`` holds, in order (every value as text; see :func:`encode_head`)."""
_US = "\x1f"
COLUMNS = {"runs": RUN_COLUMNS, "calls": CALL_COLUMNS, "run_probes": PROBE_COLUMNS}
PRIMARY_KEYS = {"runs": "key", "calls": "key", "run_probes": "probe"}
JSON_COLUMNS = {
    "runs": ("material", "result", "events", "orders"),
    "calls": ("request", "response"),
}
CALL_KINDS = ("model", "tool")

_loads = json.loads


def iso(value: str | datetime | date) -> str:
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value)


def now_utc() -> str:
    return datetime.now(UTC).isoformat()


def run_value(result: Any, events: Any, orders: Any) -> dict[str, Any]:
    """What a run's ``value_hash`` covers."""
    return {"result": result, "events": events, "orders": orders}


def call_value(response: Any) -> dict[str, Any]:
    """What a call's ``value_hash`` covers."""
    return {"response": response}


# canonical_json of run_value()/call_value() assembled from already-canonical parts (keys in
# sorted order), so a put does not encode its values twice; verify re-derives it the long way.
def run_value_json(result_json: str, events_json: str, orders_json: str) -> str:
    return f'{{"events":{events_json},"orders":{orders_json},"result":{result_json}}}'


def call_value_json(response_json: str) -> str:
    return f'{{"response":{response_json}}}'


def probe_head(
    key: str,
    sim_time: str,
    result: Mapping[str, Any],
    orders: Sequence[Any],
    trace_path: str | None,
    events: Any = None,
    value_hash: str = "",
) -> str:
    """The head of a probe row for run ``key``: what a hit reports without reading the run,
    and which value of the run it reported (the first 16 hex digits of its ``value_hash``:
    a lazily read hit refuses to read a run rewritten since).

    ``events`` (the run's event list, or a callable returning it) is read only for runs
    recorded before results counted their external tool calls.
    """
    external = result.get("external_tool_calls")
    if external is None:
        listed = events() if callable(events) else events
        external = sum(
            1 for e in listed or [] if isinstance(e, Mapping) and e.get("type") == "tool_call"
            and e.get("kind") in ("custom", "mcp")
        )
    usage = result.get("usage") if isinstance(result.get("usage"), Mapping) else {}
    calls = result.get("tool_calls") or []
    warnings = result.get("warnings") or []
    return encode_head([
        str(key),
        str(sim_time),
        str(result.get("summary") or ""),
        canonical_json([str(c.get("name", "")) if isinstance(c, Mapping) else str(c) for c in calls]),
        canonical_json([str(w.get("code", "")) if isinstance(w, Mapping) else str(w) for w in warnings]),
        str(len(orders)),
        str(int(result.get("model_calls") or 0)),
        str(int(external)),
        str(int(usage.get("input_tokens") or 0)),
        str(int(usage.get("output_tokens") or 0)),
        repr(float(result.get("cost_usd") or 0.0)),
        "" if trace_path is None else str(trace_path),
        value_version(value_hash),
    ])


def value_version(value_hash: str) -> str:
    """The short form of a run's ``value_hash`` a probe head keeps."""
    return str(value_hash).partition(":")[2][:16]


def encode_head(values: Sequence[str]) -> str:
    """``values`` (texts, in ``HEAD_FIELDS`` order) joined by the unit separator, or as a JSON
    list when one of them holds that character; :func:`decode_head` reads both."""
    if len(values) != len(HEAD_FIELDS):
        raise ValueError(f"a probe head has {len(HEAD_FIELDS)} texts ({', '.join(HEAD_FIELDS)}), got {len(values)}")
    if any(_US in v for v in values):
        return canonical_json(list(values))
    return _US.join(values)


def decode_head(head: str) -> list[str]:
    """The texts of a head (see :func:`encode_head`)."""
    return json.loads(head) if head[:1] == "[" else head.split(_US)


def probe_row(surface: str, inputs: bytes, agent: str, head: str) -> tuple[Any, ...]:
    """A ``run_probes`` row in ``PROBE_COLUMNS`` order."""
    from agentrt.agents.probe import probe_id

    key, sim_time = decode_head(head)[:2]
    return (probe_id(surface, inputs), surface, bytes(inputs), key, agent, sim_time, head, now_utc())


def check_probe_row(row: Mapping[str, Any], run: Mapping[str, Any] | None) -> str | None:
    """Why a ``run_probes`` row fails verification against its run (``None`` when sound).

    ``run`` is the run row it points to (raw columns), or None when that run is missing.
    """
    from agentrt.agents.probe import probe_id

    surface, inputs = row.get("surface"), row.get("inputs")
    if not isinstance(surface, str) or not isinstance(inputs, (bytes, bytearray, memoryview)):
        return "surface or inputs missing or of the wrong type"
    if row.get("probe") != probe_id(surface, bytes(inputs)):
        return "probe does not match the hash of its surface and inputs (the row was changed after it was written)"
    if run is None:
        return f"its run {row.get('key')} is not in the cache"
    if (run.get("agent"), run.get("sim_time")) != (row.get("agent"), row.get("sim_time")):
        return "its agent and simulated time differ from those of its run"
    try:
        result, orders = json.loads(run["result"]), json.loads(run["orders"])
        head = probe_head(run["key"], run["sim_time"], result, orders, run.get("trace_path"),
                          events=lambda: json.loads(run["events"]), value_hash=str(run.get("value_hash")))
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return f"its run {row.get('key')} is unreadable ({exc})"
    if row.get("head") != head:
        return "head does not match its run (the row or the run was changed)"
    return None


def run_from_row(row: Sequence[Any]) -> RunEntry:
    return RunEntry(
        key=row[0],
        agent=row[1],
        sim_time=row[2],
        model=row[3],
        material_json=row[4],
        result=_loads(row[5]),
        events_json=row[6],
        orders=_loads(row[7]),
        trace_path=row[8],
        created_at=row[9],
        runtime_version=row[10],
        value_hash=row[11],
    )


def call_from_row(row: Sequence[Any]) -> CallEntry:
    return CallEntry(
        key=row[0],
        kind=row[1],
        name=row[2],
        sim_time=row[3],
        request=_loads(row[4]),
        response=_loads(row[5]),
        created_at=row[6],
        value_hash=row[7],
    )


def check_row(table: str, row: Mapping[str, Any]) -> str | None:
    """Return why ``row`` of ``table`` fails verification, or None when it is sound.

    A sound row has parseable JSON columns, a key that is the hash of its material/request,
    and a value hash that matches its stored values.
    """
    parsed: dict[str, Any] = {}
    for column in JSON_COLUMNS[table]:
        text = row.get(column)
        if not isinstance(text, str):
            return f"column {column} holds {type(text).__name__}, expected JSON text"
        try:
            parsed[column] = json.loads(text)
        except ValueError as exc:
            return f"column {column} is not valid JSON ({exc})"
    if table == "runs":
        keyed, value = (
            parsed["material"],
            run_value(parsed["result"], parsed["events"], parsed["orders"]),
        )
        key_source = "material"
    else:
        keyed, value = parsed["request"], call_value(parsed["response"])
        key_source = "request"
    for label, stored, obj in (
        ("key", row.get("key"), keyed),
        ("value_hash", row.get("value_hash"), value),
    ):
        try:
            good = isinstance(stored, str) and verify_hash(stored, obj)
        except (ValueError, TypeError) as exc:
            return f"{label} cannot be checked: {exc}"
        if not good:
            what = f"the hash of its {key_source}" if label == "key" else "the hash of its values"
            return f"{label} does not match {what} (the row was changed after it was written)"
    return None


def row_json(row: Mapping[str, Any]) -> str:
    """Serialize a raw row losslessly for the quarantine table (bytes become hex)."""

    def _default(value: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {"$hex": bytes(value).hex()}
        raise TypeError(f"unexpected {type(value).__name__} in a cache row")

    # ASCII escapes keep text that was not valid UTF-8 (lone surrogates after a lenient read)
    return json.dumps(dict(row), sort_keys=True, ensure_ascii=True, default=_default)
