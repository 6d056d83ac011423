"""Secret redaction: env-var values, secret-named keys, Authorization headers, bearer tokens."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple

import pytest

from agentrt.telemetry.redact import REDACTED, is_secret_key, redact, redact_jsonable

FAKE_OPENAI = "sk-fake-openai-0123456789abcdef"
FAKE_DB_PASSWORD = "hunter2-but-longer"


@pytest.fixture(autouse=True)
def fake_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI)
    monkeypatch.setenv("WAREHOUSE_PASSWORD", FAKE_DB_PASSWORD)
    monkeypatch.setenv("SHORT_TOKEN", "abc")  # under 6 characters: not treated as a secret
    monkeypatch.setenv("PLAIN_SETTING", "verbose-logging")  # name is not secret-like


def test_environment_secret_values_are_redacted_wherever_they_appear() -> None:
    result = redact(
        {
            "message": f"calling with key {FAKE_OPENAI} now",
            "nested": [{"dsn": f"postgres://me:{FAKE_DB_PASSWORD}@db/x"}],
            "tuple": ("x", FAKE_OPENAI),
        }
    )
    text = repr(result)
    assert FAKE_OPENAI not in text
    assert FAKE_DB_PASSWORD not in text
    assert result["message"] == f"calling with key {REDACTED} now"
    assert result["tuple"] == ("x", REDACTED)


def test_short_and_non_secret_env_values_are_left_alone() -> None:
    result = redact({"note": "abc verbose-logging"})
    assert result == {"note": "abc verbose-logging"}


def test_env_changes_are_seen_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    assert redact("value rotated-secret-42") == "value rotated-secret-42"
    monkeypatch.setenv("ROTATED_SECRET", "rotated-secret-42")
    assert redact("value rotated-secret-42") == f"value {REDACTED}"


def test_authorization_headers_and_secret_named_keys_are_redacted_case_insensitively() -> None:
    result = redact(
        {
            "headers": {"Authorization": "Token 123456789", "X-Api-Key": "k-123", "Accept": "json"},
            "API_KEY": "value1",
            "client_secret": "value2",
            "db_password": "value3",
            "refresh_token": "value4",
            "config": {"apiKey": "value5"},
        }
    )
    assert result["headers"] == {"Authorization": REDACTED, "X-Api-Key": REDACTED, "Accept": "json"}
    for key in ("API_KEY", "client_secret", "db_password", "refresh_token"):
        assert result[key] == REDACTED
    assert result["config"] == {"apiKey": REDACTED}


def test_header_pairs_given_as_a_list_are_redacted() -> None:
    assert redact([("authorization", "secret-value"), ("accept", "json")]) == [
        ("authorization", REDACTED),
        ("accept", "json"),
    ]


def test_usage_and_cache_fields_are_not_mistaken_for_secrets() -> None:
    data = {"input_tokens": 120, "output_tokens": 15, "max_tokens": 512, "cache_key": "b2:abc", "token_budget": 10}
    assert redact(data) == data
    assert not is_secret_key("input_tokens")
    assert not is_secret_key("cache_key")
    assert is_secret_key("Proxy-Authorization")


def test_bearer_tokens_key_shapes_and_url_keys_are_redacted_inside_text() -> None:
    text = redact(
        "curl -H 'Authorization: Bearer eyJhbGciOi.J9xyz' "
        "https://api.example.com/v1?symbol=SPY&api_key=abcdef123&x=1 with ghp_" + "a" * 36
    )
    assert "eyJhbGciOi" not in text
    assert "abcdef123" not in text
    assert "ghp_aaaa" not in text
    assert "Bearer [REDACTED]" in text
    assert "api_key=[REDACTED]&x=1" in text
    assert "symbol=SPY" in text


def test_redact_returns_a_deep_copy_and_keeps_container_types() -> None:
    Point = namedtuple("Point", "x y")
    original = {"a": [1, {"b": "c"}], "p": Point(1, "sk-fake-openai-0123456789abcdef"), "s": {"x"}}
    copy = redact(original)
    assert copy is not original and copy["a"] is not original["a"]
    copy["a"][1]["b"] = "changed"
    assert original["a"][1]["b"] == "c"
    assert copy["p"] == Point(1, REDACTED)
    assert copy["s"] == {"x"}


def test_non_string_values_pass_through_unchanged() -> None:
    when = dt.datetime(2021, 3, 5)
    assert redact({"t": when, "n": None, "x": 1.5, "ok": True}) == {"t": when, "n": None, "x": 1.5, "ok": True}


def test_redact_jsonable_converts_objects_and_still_redacts() -> None:
    class Opaque:
        def __str__(self) -> str:
            return f"Opaque(key={FAKE_OPENAI})"

    result = redact_jsonable({1: dt.date(2021, 3, 5), "o": Opaque(), "t": (1, 2), "nan": float("nan")})
    assert result == {"1": "2021-03-05", "o": f"Opaque(key={REDACTED})", "t": [1, 2], "nan": None}


def test_large_results_are_redacted_in_one_pass() -> None:
    rows = [{"date": f"2021-01-{i % 28 + 1:02d}", "close": 100.0 + i, "note": "ok"} for i in range(20_000)]
    rows[12_345]["note"] = f"leaked {FAKE_OPENAI}"
    cleaned = redact({"rows": rows})
    assert cleaned["rows"][12_345]["note"] == f"leaked {REDACTED}"
    assert cleaned["rows"][0] == rows[0]
