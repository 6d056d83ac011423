"""Row codec of the replay cache: entries to SQLite rows, rows back to entries, and row checks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from agentrt.replay.entries import CallEntry, RunEntry
from agentrt.replay.hashing import verify_hash

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
COLUMNS = {"runs": RUN_COLUMNS, "calls": CALL_COLUMNS}
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

    return json.dumps(dict(row), sort_keys=True, ensure_ascii=False, default=_default)
