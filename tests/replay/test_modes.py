"""Replay modes: parsing, env resolution, live downgrade, and the strict-mode miss error."""

from __future__ import annotations

import pickle

import pytest

from agentrt.replay.modes import ENV_VAR, ReplayMissError, ReplayMode, resolve_mode


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("off", ReplayMode.OFF),
        ("RECORD", ReplayMode.RECORD),
        (" Strict ", ReplayMode.STRICT),
        ("refresh", ReplayMode.REFRESH),
        ("replay", ReplayMode.REPLAY),
    ],
)
def test_parse_accepts_mode_names_in_any_case(text: str, mode: ReplayMode) -> None:
    assert ReplayMode.parse(text) is mode


def test_parse_of_an_unknown_mode_lists_valid_ones_and_suggests_the_closest() -> None:
    with pytest.raises(ValueError) as info:
        ReplayMode.parse("stirct")
    message = str(info.value)
    assert "unknown replay mode 'stirct'" in message
    assert "off, record, replay, strict, refresh" in message
    assert "Did you mean 'strict'?" in message


def test_parse_of_a_hopeless_mode_makes_no_suggestion() -> None:
    with pytest.raises(ValueError) as info:
        ReplayMode.parse("zzzzzz")
    assert "Did you mean" not in str(info.value)


def test_resolve_mode_prefers_explicit_then_env_then_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_mode(None, live=False) is ReplayMode.RECORD
    monkeypatch.setenv(ENV_VAR, "strict")
    assert resolve_mode(None, live=False) is ReplayMode.STRICT
    assert resolve_mode("off", live=False) is ReplayMode.OFF
    monkeypatch.setenv(ENV_VAR, "")
    assert resolve_mode(None, live=False) is ReplayMode.RECORD


def test_resolve_mode_names_the_env_var_when_its_value_is_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_VAR, "recrod")
    with pytest.raises(ValueError, match=r"unknown AGENTRT_REPLAY value 'recrod'.*'record'"):
        resolve_mode(None, live=True)


def test_modes_serve_from_cache_only_in_backtests() -> None:
    serving = {mode for mode in ReplayMode if mode.serves_from_cache(live=False)}
    assert serving == {ReplayMode.RECORD, ReplayMode.REPLAY, ReplayMode.STRICT}
    assert not any(mode.serves_from_cache(live=True) for mode in ReplayMode)


def test_live_runs_keep_recording_but_never_fail_on_a_miss() -> None:
    assert ReplayMode.RECORD.writes_cache and ReplayMode.REFRESH.writes_cache
    assert not (ReplayMode.OFF.writes_cache or ReplayMode.REPLAY.writes_cache)
    assert ReplayMode.STRICT.raises_on_miss(live=False)
    assert not ReplayMode.STRICT.raises_on_miss(live=True)
    assert not ReplayMode.RECORD.raises_on_miss(live=False)


def test_replay_miss_error_names_agent_time_key_and_reasons() -> None:
    error = ReplayMissError(
        agent="trader",
        sim_time="2024-01-02T16:00:00-05:00",
        reasons=["model settings changed: temperature", "tool get_fred source changed"],
        key="sha256:abc",
    )
    message = str(error)
    assert "strict mode" in message
    assert "'trader'" in message
    assert "2024-01-02T16:00:00-05:00" in message
    assert "sha256:abc" in message
    assert "model settings changed: temperature; tool get_fred source changed" in message
    assert "AGENTRT_REPLAY=record" in message
    assert error.reasons == ["model settings changed: temperature", "tool get_fred source changed"]


def test_replay_miss_error_survives_pickling_between_processes() -> None:
    error = ReplayMissError(agent="a", sim_time="2024-01-02", reasons=["task changed"])
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, ReplayMissError)
    assert (copy.agent, copy.reasons, str(copy)) == ("a", ["task changed"], str(error))
