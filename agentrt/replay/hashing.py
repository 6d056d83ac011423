"""Canonical JSON encoding and algorithm-prefixed content hashes for the replay cache.

A cache key is the hash of the canonical JSON of *everything an answer depends on*, so
the encoding must be byte-stable across runs, processes and machines:

- object keys sorted, compact separators ``(",", ":")``, UTF-8 text kept as is
  (``ensure_ascii=False``);
- floats written with Python's shortest round-trip ``repr`` (``0.1`` stays ``0.1``);
  non-finite floats become the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
  because JSON has no spelling for them;
- ``datetime``/``date``/``time`` become ISO 8601 strings, ``Decimal`` becomes ``str``,
  tuples become lists, sets become lists sorted by their own canonical encoding,
  dataclasses and pydantic models become dicts, enums become their value, numpy scalars
  become the matching Python number;
- anything else raises ``TypeError`` naming the JSON path of the offending value.

Hashes carry their algorithm as a prefix (``"sha256:<hex>"``) so that a future change of
algorithm is detectable: :func:`verify_hash` dispatches on the prefix.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import hashlib
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ALGORITHM", "canonical_json", "content_hash", "verify_hash"]

ALGORITHM = "sha256"
"""The algorithm :func:`content_hash` uses; it is the prefix of every hash it returns."""

_HASHERS: dict[str, Callable[[bytes], Any]] = {"sha256": hashlib.sha256}

_SUPPORTED = (
    "None, bool, int, float, str, list, tuple, set, dict with str keys, datetime, date, "
    "time, Decimal, Enum, dataclass and pydantic model instances"
)

_DUMPS = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical_json(obj: Any) -> str:
    """Encode ``obj`` as canonical JSON text (see the module docstring for the rules).

    Raises ``TypeError`` naming the JSON path (``$.context.prices[2]``) of the first value
    that has no canonical encoding.
    """
    return _DUMPS(_normalize(obj, "$"))


def content_hash(obj: Any) -> str:
    """Return ``"sha256:<hex>"``, the hash of ``canonical_json(obj)`` encoded as UTF-8."""
    return hash_canonical_text(canonical_json(obj))


def hash_canonical_text(text: str) -> str:
    """``content_hash`` for text that is already canonical JSON (saves encoding it twice)."""
    return f"{ALGORITHM}:{_HASHERS[ALGORITHM](text.encode('utf-8')).hexdigest()}"


def verify_hash(h: str, obj: Any) -> bool:
    """Return whether ``h`` is the content hash of ``obj`` under the algorithm ``h`` names.

    Raises ``ValueError`` when ``h`` has no ``algorithm:`` prefix or names an algorithm this
    version of agentrt does not know.
    """
    algorithm, sep, digest = h.partition(":") if isinstance(h, str) else ("", "", "")
    if not sep or not algorithm:
        raise ValueError(
            f"hash {h!r} has no algorithm prefix; expected '<algorithm>:<hex digest>' "
            f"such as '{ALGORITHM}:9f86d0...'"
        )
    hasher = _HASHERS.get(algorithm)
    if hasher is None:
        known = ", ".join(sorted(_HASHERS))
        raise ValueError(
            f"hash {h[:24]!r}... uses unknown algorithm {algorithm!r}; this agentrt knows "
            f"{known}. It was probably written by a newer agentrt: upgrade agentrt, or "
            "re-record the entry with this version"
        )
    actual: str = hasher(canonical_json(obj).encode("utf-8")).hexdigest()
    return actual == digest


def _normalize(obj: Any, path: str) -> Any:
    # bool is an int subclass and str-/int-/float-based enums are instances of their base,
    # so the order of these checks matters.
    if obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, enum.Enum):
        return _normalize(obj.value, path)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(obj)
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, Mapping):
        return _normalize_mapping(obj, path)
    if isinstance(obj, (list, tuple)):
        return [_normalize(item, f"{path}[{i}]") for i, item in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        items = [_normalize(item, f"{path}[{i}]") for i, item in enumerate(obj)]
        return sorted(items, key=_DUMPS)
    if isinstance(obj, (_dt.datetime, _dt.date, _dt.time)):
        return obj.isoformat()
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return _normalize_mapping(fields, path)
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump) and hasattr(type(obj), "model_fields"):
        return _normalize(model_dump(mode="python"), path)
    if type(obj).__module__ == "numpy" and callable(getattr(obj, "item", None)):
        value = obj.item()
        if isinstance(value, (bool, int, float)):
            return _normalize(value, path)
    raise TypeError(
        f"cannot encode {type(obj).__module__}.{type(obj).__qualname__} at {path} as "
        f"canonical JSON; supported types are {_SUPPORTED}. Convert the value to one of "
        "them (for example str(value)) before it becomes part of a cache key"
    )


def _normalize_mapping(obj: Mapping[Any, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(key, enum.Enum):
            key = key.value
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            raise TypeError(
                f"cannot encode dict key {key!r} ({type(key).__name__}) at {path} as "
                "canonical JSON; keys must be str (or int, which is written as a str)"
            )
        name = str(key)
        if name in out:
            raise TypeError(
                f"dict at {path} has two keys that both encode as {name!r}; "
                "use distinct string keys"
            )
        out[name] = _normalize(value, f"{path}.{name}")
    return out
