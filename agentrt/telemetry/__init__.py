"""Telemetry for agent runs: OpenTelemetry spans, JSON trace files, warnings, redaction, the run index.

Names are loaded lazily on first access, so ``import agentrt.telemetry`` imports neither
OpenTelemetry, pyarrow, DuckDB nor rich. Submodules: ``otel`` (tracing setup; ``spans`` has the GenAI
span helpers), ``traces`` (trace JSON files), ``warnings`` (detectors), ``lookahead``
(the future-data walker), ``redact`` (secret redaction), ``runindex``
(``agent_runs.parquet``), ``inspect`` (functions behind the ``traces`` CLI).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # otel
    "TracingHandle": "otel",
    "setup_tracing": "otel",
    "JsonLinesSpanExporter": "otel",
    "backtest_span": "spans",
    "iteration_span": "spans",
    "agent_run_span": "spans",
    "model_call_span": "spans",
    "tool_call_span": "spans",
    "record_agent_outcome": "spans",
    "record_model_usage": "spans",
    "record_tool_error": "spans",
    # redact
    "REDACTED": "redact",
    "redact": "redact",
    "redact_jsonable": "redact",
    # traces
    "TRACE_SCHEMA_VERSION": "traces",
    "TRACE_KEYS": "traces",
    "AgentTrace": "traces",
    "TraceVersionError": "traces",
    "new_trace": "traces",
    "write_trace": "traces",
    "read_trace": "traces",
    # warnings
    "AgentWarning": "warnings",
    "WARNING_CODES": "warnings",
    "KNOWN_TRAINING_CUTOFFS": "warnings",
    "find_future_data": "lookahead",
    "block_future_data": "lookahead",
    "no_tool_calls": "warnings",
    "tool_error": "warnings",
    "order_without_evidence": "warnings",
    "knowledge_cutoff": "warnings",
    "budget_exceeded": "warnings",
    # runindex
    "RUN_INDEX_COLUMNS": "runindex",
    "RUN_INDEX_SCHEMA_VERSION": "runindex",
    "write_run_index": "runindex",
    "read_run_index": "runindex",
    "query_run_index": "runindex",
    "row_from_trace": "runindex",
    # inspect
    "RunNotFoundError": "inspect",
    "list_runs": "inspect",
    "render_run": "inspect",
    "collect_warnings": "inspect",
    "render_warnings": "inspect",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
