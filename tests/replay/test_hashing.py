"""Canonical JSON and content hashes: byte-stable encoding, algorithm prefix, clear errors."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentrt.replay.hashing import ALGORITHM, canonical_json, content_hash, verify_hash


def test_canonical_json_sorts_keys_at_every_level_and_is_compact() -> None:
    a = {"b": 1, "a": {"z": [1, 2], "y": None}}
    b = {"a": {"y": None, "z": [1, 2]}, "b": 1}
    assert canonical_json(a) == canonical_json(b) == '{"a":{"y":null,"z":[1,2]},"b":1}'


def test_canonical_json_keeps_unicode_text_unescaped() -> None:
    assert canonical_json({"name": "Société Générale €"}) == '{"name":"Société Générale €"}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (1e-7, "1e-07"),
        (1e16, "1e+16"),
        (-0.0, "-0.0"),
        (2.0, "2.0"),
        (float("nan"), '"NaN"'),
        (float("inf"), '"Infinity"'),
        (float("-inf"), '"-Infinity"'),
    ],
)
def test_canonical_json_writes_floats_with_shortest_round_trip_repr(
    value: float, text: str
) -> None:
    assert canonical_json(value) == text


def test_canonical_json_keeps_int_and_float_distinct() -> None:
    assert content_hash({"qty": 1}) != content_hash({"qty": 1.0})


def test_canonical_json_writes_datetimes_as_iso_8601_with_their_offset() -> None:
    ny = datetime(2024, 1, 2, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    utc = datetime(2024, 7, 1, 20, 0, 0, 123456, tzinfo=UTC)
    assert canonical_json([ny, utc, date(2024, 1, 2)]) == (
        '["2024-01-02T16:00:00-05:00","2024-07-01T20:00:00.123456+00:00","2024-01-02"]'
    )


def test_canonical_json_converts_decimal_tuple_set_enum_and_numpy_scalars() -> None:
    class Side(enum.Enum):
        BUY = "buy"

    value = {
        "cash": Decimal("100.50"),
        "pair": (1, "a"),
        "tags": {"b", "a", "c"},
        "side": Side.BUY,
        "n": np.int64(3),
        "x": np.float64(0.5),
    }
    assert canonical_json(value) == (
        '{"cash":"100.50","n":3,"pair":[1,"a"],"side":"buy","tags":["a","b","c"],"x":0.5}'
    )


def test_canonical_json_sorts_mixed_type_sets_by_their_encoding() -> None:
    assert canonical_json({3, "a", 1}) == canonical_json({"a", 1, 3}) == '["a",1,3]'


def test_canonical_json_encodes_dataclasses_and_pydantic_models_as_dicts() -> None:
    @dataclasses.dataclass(frozen=True)
    class Position:
        symbol: str
        quantity: Decimal

    class Order(pydantic.BaseModel):
        symbol: str
        limit: float | None = None

    assert canonical_json(Position("SPY", Decimal("10"))) == '{"quantity":"10","symbol":"SPY"}'
    assert canonical_json(Order(symbol="SPY")) == '{"limit":null,"symbol":"SPY"}'


def test_canonical_json_writes_int_keys_as_strings_and_rejects_colliding_keys() -> None:
    assert canonical_json({1: "a"}) == '{"1":"a"}'
    with pytest.raises(TypeError, match=r"two keys that both encode as '1'"):
        canonical_json({1: "a", "1": "b"})


def test_canonical_json_error_names_the_path_of_the_unsupported_value() -> None:
    with pytest.raises(TypeError) as info:
        canonical_json({"context": {"prices": [1.0, 2.0, object()]}})
    message = str(info.value)
    assert "$.context.prices[2]" in message
    assert "builtins.object" in message
    assert "str(value)" in message


def test_canonical_json_rejects_non_string_dict_keys_with_the_path() -> None:
    with pytest.raises(TypeError, match=r"dict key \(1, 2\).*\$\.state"):
        canonical_json({"state": {(1, 2): "x"}})


def test_content_hash_is_sha256_of_canonical_json_with_algorithm_prefix() -> None:
    obj = {"b": [1, 2.5], "a": "x"}
    expected = hashlib.sha256(b'{"a":"x","b":[1,2.5]}').hexdigest()
    assert ALGORITHM == "sha256"
    assert content_hash(obj) == f"sha256:{expected}"


def test_content_hash_of_a_known_value_is_pinned() -> None:
    # Changing this hash invalidates every cache on disk: bump the material "v" instead.
    assert content_hash({"a": 1}) == (
        "sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
    )


def test_verify_hash_accepts_the_right_value_and_rejects_another() -> None:
    h = content_hash({"a": 1})
    assert verify_hash(h, {"a": 1}) is True
    assert verify_hash(h, {"a": 2}) is False


def test_verify_hash_with_unknown_algorithm_says_which_and_what_is_known() -> None:
    with pytest.raises(ValueError, match=r"unknown algorithm 'b2'.*knows sha256.*upgrade agentrt"):
        verify_hash("b2:abcdef", {"a": 1})


def test_verify_hash_without_prefix_explains_the_expected_form() -> None:
    with pytest.raises(ValueError, match=r"no algorithm prefix.*'<algorithm>:<hex digest>'"):
        verify_hash("abcdef", {"a": 1})


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_json_values)
def test_canonical_json_is_a_fixed_point_after_one_round_trip(value: object) -> None:
    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text
