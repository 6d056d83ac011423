"""Run-level detectors: no tools, tool errors, orders without evidence, knowledge cutoff, budgets."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from agentrt.telemetry import warnings as w
from agentrt.telemetry.warnings import (
    KNOWN_TRAINING_CUTOFFS,
    WARNING_CODES,
    AgentWarning,
    budget_exceeded,
    knowledge_cutoff,
    no_tool_calls,
    order_without_evidence,
    severity_of,
    tool_error,
)

EVIDENCE = {"get_bars", "get_account", "duckdb_query"}
T_2021 = dt.datetime(2021, 3, 5, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
T_2025 = dt.datetime(2025, 6, 2, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))


@pytest.fixture(autouse=True)
def forget_unknown_models() -> Iterator[None]:
    w._NOTED_UNKNOWN.clear()
    yield
    w._NOTED_UNKNOWN.clear()


def test_agent_warning_is_frozen_hashable_and_roundtrips_through_dict() -> None:
    warning = AgentWarning("tool_error", "tool 'x' failed", {"tool": "x"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        warning.code = "other"  # type: ignore[misc]
    assert {warning, AgentWarning("tool_error", "tool 'x' failed", {"tool": "y"})}
    assert AgentWarning.from_dict(warning.to_dict()) == warning
    assert warning.to_dict() == {"code": "tool_error", "message": "tool 'x' failed", "details": {"tool": "x"}}


def test_every_code_has_a_severity() -> None:
    assert set(WARNING_CODES) == {
        "future_data",
        "order_without_evidence",
        "budget_exceeded",
        "tool_error",
        "no_tool_calls",
        "knowledge_cutoff",
        "unknown_cutoff",
        "max_steps_exceeded",
        "output_schema_mismatch",
        "model_error",
        "replayed_order_rejected",
    }
    assert severity_of("future_data") == "error"
    assert severity_of("unknown_cutoff") == "note"


def test_run_without_tool_calls_is_flagged() -> None:
    (warning,) = no_tool_calls([])
    assert warning.code == "no_tool_calls"
    assert no_tool_calls([{"name": "get_bars"}]) == []


def test_tool_error_names_the_tool_and_exception() -> None:
    warning = tool_error("get_bars", ValueError("unknown symbol 'XYZ'"))
    assert warning.code == "tool_error"
    assert warning.details == {"tool": "get_bars", "error": "ValueError: unknown symbol 'XYZ'"}
    assert "get_bars" in warning.message
    assert tool_error("t", "x" * 2000).details["error"].endswith("…")


def test_order_after_reading_market_data_has_evidence() -> None:
    calls = [{"name": "get_bars", "error": None}]
    assert order_without_evidence(calls, [{"side": "buy"}], evidence_tools=EVIDENCE) == []


def test_order_without_any_evidence_tool_call_is_flagged() -> None:
    calls = [{"name": "search_news", "error": None}]
    orders = [{"side": "buy", "quantity": 10, "symbol": "SPY", "type": "market"}]
    (warning,) = order_without_evidence(calls, orders, evidence_tools=EVIDENCE)
    assert warning.code == "order_without_evidence"
    assert warning.details["orders"] == ["buy 10 SPY market"]
    assert warning.details["tools_called"] == ["search_news"]
    assert warning.details["evidence_tools"] == sorted(EVIDENCE)


def test_failed_evidence_tool_call_does_not_count_as_evidence() -> None:
    calls = [{"name": "get_bars", "error": "ValueError: bad symbol"}]
    assert order_without_evidence(calls, ["order-1"], evidence_tools=EVIDENCE) != []


def test_tool_call_objects_with_attributes_are_accepted() -> None:
    @dataclasses.dataclass
    class Call:
        name: str
        error: str | None = None

    assert order_without_evidence([Call("get_account")], ["o"], evidence_tools=EVIDENCE) == []
    assert order_without_evidence([], [], evidence_tools=EVIDENCE) == []


@pytest.mark.parametrize(
    ("model", "cutoff"),
    [
        ("gpt-4o", "2023-10-01"),
        ("openai/gpt-4o-mini", "2023-10-01"),
        ("openai/gpt-4.1-mini", "2024-06-01"),
        ("gemini-2.0-flash", "2024-08-01"),
        ("gemini/gemini-2.5-flash", "2025-01-01"),
        ("models/gemini-2.5-pro", "2025-01-01"),
        ("anthropic/claude-3-5-sonnet-20241022", "2024-04-01"),
        ("claude-sonnet-4-20250514", "2025-03-01"),
        ("ollama_chat/llama3.1:8b", "2023-12-01"),
        ("bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0", "2024-04-01"),
    ],
)
def test_simulated_time_before_training_cutoff_is_flagged(model: str, cutoff: str) -> None:
    (warning,) = knowledge_cutoff(model, T_2021)
    assert warning.code == "knowledge_cutoff"
    assert warning.details["cutoff"] == cutoff
    assert model in warning.message


def test_simulated_time_after_training_cutoff_is_fine() -> None:
    assert knowledge_cutoff("gpt-4o", T_2025) == []


def test_longest_prefix_wins() -> None:
    assert w._cutoff_for("gpt-4o-2024-08-06") == ("gpt-4o", KNOWN_TRAINING_CUTOFFS["gpt-4o"])
    assert w._cutoff_for("gpt-4-0613") == ("gpt-4", KNOWN_TRAINING_CUTOFFS["gpt-4"])
    assert w._cutoff_for("claude-sonnet-4-5")[0] == "claude-sonnet-4-5"


def test_unknown_model_gets_one_note_per_process() -> None:
    (note,) = knowledge_cutoff("acme/brand-new-model", T_2021)
    assert note.code == "unknown_cutoff"
    assert note.details == {"model": "acme/brand-new-model"}
    assert knowledge_cutoff("acme/brand-new-model", T_2021) == []
    assert len(knowledge_cutoff("acme/other-model", T_2021)) == 1


@pytest.mark.parametrize("model", ["scripted", "scripted:trend", "function", "function:my_policy"])
def test_offline_models_have_no_cutoff_warning(model: str) -> None:
    assert knowledge_cutoff(model, T_2021) == []


def test_budgets_warn_per_exceeded_dimension() -> None:
    both = budget_exceeded(used_tokens=1200, used_cost=0.5, token_budget=1000, cost_budget=0.25, scope="backtest")
    assert [x.details["kind"] for x in both] == ["tokens", "cost_usd"]
    assert all(x.code == "budget_exceeded" and x.details["scope"] == "backtest" for x in both)
    assert budget_exceeded(used_tokens=1000, used_cost=0.25, token_budget=1000, cost_budget=0.25, scope="run") == []
    assert budget_exceeded(used_tokens=10**9, used_cost=1e9, token_budget=None, cost_budget=None, scope="run") == []
