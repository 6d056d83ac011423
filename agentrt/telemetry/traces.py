"""JSON trace files: the versioned record of one agent run, written redacted and read back validated.

One file per agent run at ``<output_dir>/traces/<sim_time compact>_<agent>_<run_id>.json``
(for example ``traces/20210305T160000_trader_3f9a2c.json``). The file name sorts by
simulated time and can be filtered by date and agent without opening the file.

Top-level keys (``TRACE_KEYS``, pinned by a test; bump ``TRACE_SCHEMA_VERSION`` on any
incompatible change):

``schema_version``  int, ``TRACE_SCHEMA_VERSION``
``run_id``          str, unique id of the agent run
``agent``, ``model`` str
``sim_time``        ISO-8601 simulated time with offset
``wall_time_ms``    float, wall-clock latency of the run (0 for a cache hit replay is fine)
``inputs``          ``{system_prompt, task, context, state}``
``model_calls``     ``[{index, request_summary, response, input_tokens, output_tokens, latency_ms, cache_hit}]``
``tool_calls``      ``[{index, call_id, name, kind, arguments, result, error, duration_ms, cache_hit, warnings}]``
``decision``        ``{summary, text}``
``orders``          list of order dicts as submitted
``usage``           ``{input_tokens, output_tokens}``
``cost_usd``        float
``cache``           ``{hit, key, recorded_trace}``
``warnings``        ``[{code, message, details}]`` — every warning of the run, including those
                    raised by tool calls (``tool_calls[].warnings`` repeats the ones of that call)

``index`` in ``model_calls`` and ``tool_calls`` is the step number within the run, shared by
both lists, so a viewer can interleave them into one timeline.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

from agentrt.telemetry.redact import redact_jsonable

__all__ = [
    "MODEL_CALL_KEYS",
    "TOOL_CALL_KEYS",
    "TRACE_KEYS",
    "TRACE_SCHEMA_VERSION",
    "AgentTrace",
    "ModelCallRecord",
    "ToolCallRecord",
    "TraceCache",
    "TraceDecision",
    "TraceInputs",
    "TraceUsage",
    "TraceVersionError",
    "TraceWarning",
    "new_trace",
    "read_trace",
    "trace_filename",
    "write_trace",
]

TRACE_SCHEMA_VERSION = 1


class TraceInputs(TypedDict):
    """What the agent was given: prompts, the user's context and the point-in-time state."""

    system_prompt: str
    task: str
    context: Any
    state: Any


class ModelCallRecord(TypedDict):
    """One model request/response inside an agent run."""

    index: int
    request_summary: Any
    response: Any
    input_tokens: int
    output_tokens: int
    latency_ms: float
    cache_hit: bool


class ToolCallRecord(TypedDict):
    """One tool call: arguments, (possibly blocked) result or error, timing, warnings."""

    index: int
    call_id: str | None
    name: str
    kind: str
    arguments: Any
    result: Any
    error: str | None
    duration_ms: float
    cache_hit: bool
    warnings: list[TraceWarning]


class TraceDecision(TypedDict):
    """The agent's final answer: a one-line summary and the full text."""

    summary: str
    text: str


class TraceUsage(TypedDict):
    """Token usage summed over the run's model calls."""

    input_tokens: int
    output_tokens: int


class TraceCache(TypedDict):
    """Replay-cache facts: hit or miss, the entry key, and the trace recorded with the entry."""

    hit: bool
    key: str | None
    recorded_trace: str | None


class TraceWarning(TypedDict):
    """A warning in trace form (``AgentWarning.to_dict()``)."""

    code: str
    message: str
    details: dict[str, Any]


class AgentTrace(TypedDict):
    """The JSON trace of one agent run (schema version ``TRACE_SCHEMA_VERSION``)."""

    schema_version: int
    run_id: str
    agent: str
    model: str
    sim_time: str
    wall_time_ms: float
    inputs: TraceInputs
    model_calls: list[ModelCallRecord]
    tool_calls: list[ToolCallRecord]
    decision: TraceDecision
    orders: list[Any]
    usage: TraceUsage
    cost_usd: float
    cache: TraceCache
    warnings: list[TraceWarning]


TRACE_KEYS: tuple[str, ...] = tuple(AgentTrace.__annotations__)
MODEL_CALL_KEYS: tuple[str, ...] = tuple(ModelCallRecord.__annotations__)
TOOL_CALL_KEYS: tuple[str, ...] = tuple(ToolCallRecord.__annotations__)
_NESTED_KEYS: dict[str, tuple[str, ...]] = {
    "inputs": tuple(TraceInputs.__annotations__),
    "decision": tuple(TraceDecision.__annotations__),
    "usage": tuple(TraceUsage.__annotations__),
    "cache": tuple(TraceCache.__annotations__),
}
_WARNING_KEYS = tuple(TraceWarning.__annotations__)


class TraceVersionError(ValueError):
    """A trace file has a schema version this agentrt cannot read."""


def new_trace(*, run_id: str, agent: str, model: str, sim_time: _dt.datetime | str) -> AgentTrace:
    """Return a complete trace dict with every key present and empty defaults, to be filled in."""
    return {
        "schema_version": TRACE_SCHEMA_VERSION,
        "run_id": run_id,
        "agent": agent,
        "model": model,
        "sim_time": sim_time.isoformat() if isinstance(sim_time, _dt.datetime) else str(sim_time),
        "wall_time_ms": 0.0,
        "inputs": {"system_prompt": "", "task": "", "context": {}, "state": {}},
        "model_calls": [],
        "tool_calls": [],
        "decision": {"summary": "", "text": ""},
        "orders": [],
        "usage": {"input_tokens": 0, "output_tokens": 0},
        "cost_usd": 0.0,
        "cache": {"hit": False, "key": None, "recorded_trace": None},
        "warnings": [],
    }


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _compact_sim_time(sim_time: Any) -> str:
    if isinstance(sim_time, str):
        try:
            sim_time = _dt.datetime.fromisoformat(sim_time)
        except ValueError as exc:
            raise ValueError(
                f"trace sim_time {sim_time!r} is not an ISO-8601 date-time; "
                "pass a datetime or a string like '2021-03-05T16:00:00-05:00'"
            ) from exc
    if isinstance(sim_time, _dt.datetime):
        return sim_time.strftime("%Y%m%dT%H%M%S")
    if isinstance(sim_time, _dt.date):
        return sim_time.strftime("%Y%m%dT000000")
    raise TypeError(f"trace sim_time must be a datetime or ISO string, got {type(sim_time).__name__}")


def _safe_agent(agent: str) -> str:
    return _UNSAFE.sub("-", agent).strip("-") or "agent"


def trace_filename(*, sim_time: Any, agent: str, run_id: str) -> str:
    """Return ``<YYYYmmddTHHMMSS>_<agent>_<run_id>.json`` (local simulated time, safe characters).

    The agent part keeps ``[A-Za-z0-9_.-]``; the run id part has no ``_`` so the name
    splits back into (time, agent, run_id) at the first and last underscore.
    """
    safe_agent = _safe_agent(agent)
    safe_run = _UNSAFE.sub("-", run_id).replace("_", "-").strip("-") or "run"
    return f"{_compact_sim_time(sim_time)}_{safe_agent}_{safe_run}.json"


def _ordered(record: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {key: record[key] for key in keys if key in record}
    for key in sorted(k for k in record if k not in out):
        out[key] = record[key]
    return out


def _sorted_deep(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {key: _sorted_deep(obj[key]) for key in sorted(obj, key=str)}
    if isinstance(obj, list):
        return [_sorted_deep(item) for item in obj]
    return obj


def _canonical(trace: Mapping[str, Any]) -> dict[str, Any]:
    defaults = new_trace(run_id="", agent="", model="", sim_time="")
    merged: dict[str, Any] = {**defaults, **trace}
    for key, nested_defaults in (
        ("inputs", defaults["inputs"]),
        ("decision", defaults["decision"]),
        ("usage", defaults["usage"]),
        ("cache", defaults["cache"]),
    ):
        value = merged.get(key)
        merged[key] = {**nested_defaults, **value} if isinstance(value, Mapping) else value
    clean = _sorted_deep(redact_jsonable(merged))
    for key, keys in _NESTED_KEYS.items():
        if isinstance(clean.get(key), dict):
            clean[key] = _ordered(clean[key], keys)
    clean["model_calls"] = [
        _ordered(call, MODEL_CALL_KEYS) if isinstance(call, dict) else call for call in clean["model_calls"] or []
    ]
    tool_calls = []
    for call in clean["tool_calls"] or []:
        if isinstance(call, dict):
            call = _ordered(call, TOOL_CALL_KEYS)
            if isinstance(call.get("warnings"), list):
                call["warnings"] = [_ordered(w, _WARNING_KEYS) if isinstance(w, dict) else w for w in call["warnings"]]
        tool_calls.append(call)
    clean["tool_calls"] = tool_calls
    clean["warnings"] = [_ordered(w, _WARNING_KEYS) if isinstance(w, dict) else w for w in clean["warnings"] or []]
    return _ordered(clean, TRACE_KEYS)


def write_trace(trace: Mapping[str, Any], output_dir: Path) -> Path:
    """Write one agent-run trace as JSON and return its path.

    The file goes to ``<output_dir>/traces/`` (created if needed) under
    :func:`trace_filename`. The content is redacted (:func:`~agentrt.telemetry.redact.redact`),
    completed with defaults for missing keys, converted to plain JSON (datetimes become
    ISO strings, other objects ``str()``), and laid out in a stable key order (``TRACE_KEYS``
    first, free-form payloads sorted), indented by 2. ``AgentWarning`` objects may be
    passed in ``warnings``; they are stored as ``{code, message, details}``.
    """
    schema = trace.get("schema_version", TRACE_SCHEMA_VERSION)
    if schema != TRACE_SCHEMA_VERSION:
        raise TraceVersionError(
            f"write_trace() got a trace with schema_version={schema!r}; this agentrt writes "
            f"version {TRACE_SCHEMA_VERSION}. Build traces with agentrt.telemetry.traces.new_trace()."
        )
    for key in ("run_id", "agent", "sim_time"):
        if not trace.get(key):
            raise ValueError(f"write_trace() needs a non-empty {key!r} in the trace (it names the file)")
    document = _canonical(trace)
    document["schema_version"] = TRACE_SCHEMA_VERSION
    folder = Path(output_dir) / "traces"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / trace_filename(sim_time=trace["sim_time"], agent=str(trace["agent"]), run_id=str(trace["run_id"]))
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_trace(path: Path | str) -> dict[str, Any]:
    """Read a trace file written by :func:`write_trace`, checking its ``schema_version``.

    Raises ``TraceVersionError`` for a file from a newer agentrt and ``ValueError`` for a
    file that is not an agentrt trace.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"trace file {path} is not valid JSON ({exc}); it may be truncated or not a trace") from exc
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ValueError(f"{path} is not an agentrt trace file: it has no 'schema_version' key")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"trace file {path} has a non-integer schema_version {version!r}")
    if version > TRACE_SCHEMA_VERSION:
        raise TraceVersionError(
            f"trace file {path} has schema_version {version}, but this agentrt reads traces up to "
            f"version {TRACE_SCHEMA_VERSION}; upgrade agentrt (pip install -U agentrt) to read it"
        )
    if version < 1:
        raise TraceVersionError(f"trace file {path} has an invalid schema_version {version} (expected >= 1)")
    return data
