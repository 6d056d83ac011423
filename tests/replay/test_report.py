"""ReplayCounters: hits, misses by reason, call reuse, a pinned dict layout, a short summary."""

from __future__ import annotations

from agentrt.replay.report import ReplayCounters


def _counters() -> ReplayCounters:
    counters = ReplayCounters()
    counters.record_hit(model_calls=2, tool_calls=3, tokens=1500, cost_usd=0.0125)
    counters.record_hit(model_calls=1, tokens=500, cost_usd=0.0025)
    counters.record_hit()
    counters.record_miss(["system prompt changed"])
    counters.record_miss(["state changed: cash", "system prompt changed"])
    counters.record_model_call(reused=False)
    counters.record_model_call(reused=True, tokens=100, cost_usd=0.001)
    counters.record_tool_call(reused=False)
    return counters


def test_counters_add_up_hits_misses_and_savings() -> None:
    c = _counters()
    assert (c.runs, c.hits, c.misses) == (5, 3, 2)
    assert c.misses_by_reason == {"system prompt changed": 2, "state changed: cash": 1}
    assert (c.model_calls_made, c.model_calls_reused) == (1, 4)
    assert (c.tool_calls_made, c.tool_calls_reused) == (1, 3)
    assert c.tokens_saved == 2100
    assert abs(c.cost_saved_usd - 0.016) < 1e-12
    assert c.hit_rate == 0.6


def test_counters_dict_keys_are_pinned() -> None:
    assert _counters().to_dict() == {
        "version": 1,
        "runs": 5,
        "hits": 3,
        "misses": 2,
        "hit_rate": 0.6,
        "misses_by_reason": {"system prompt changed": 2, "state changed: cash": 1},
        "model_calls_made": 1,
        "model_calls_reused": 4,
        "tool_calls_made": 1,
        "tool_calls_reused": 3,
        "tokens_saved": 2100,
        "cost_saved_usd": 0.016,
    }


def test_summary_says_hit_rate_reasons_calls_and_savings() -> None:
    assert _counters().format_summary().splitlines() == [
        "Replay cache: 5 runs, 3 hits (60.0%), 2 misses",
        "Miss reasons: system prompt changed (2), state changed: cash (1)",
        "Model calls: 1 made, 4 reused; tool calls: 1 made, 3 reused",
        "Saved: 2,100 tokens, $0.0160",
    ]


def test_summary_of_no_runs_is_one_line() -> None:
    assert ReplayCounters().format_summary() == "Replay cache: no agent runs"
    assert ReplayCounters().to_dict()["hit_rate"] == 0.0
