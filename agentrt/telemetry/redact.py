"""Secret redaction: a deep copy of any JSON-like value with API keys, tokens and passwords replaced.

Everything that ends up in a trace (JSON trace files, span attributes, the run index)
passes through :func:`redact` first, so secrets never reach disk or an OTel backend.

What is redacted (replaced by ``"[REDACTED]"``):

* the value of any mapping key that names a secret, case-insensitively and with ``-``
  treated as ``_``: ``api_key``, ``apikey``, ``x-api-key``, ``authorization``,
  ``proxy-authorization``, ``cookie``, ``token``, ``access_token``, ``*_token``,
  anything containing ``secret``, ``password``, ``passwd``, ``credential``, ``private_key``
  — inside headers dicts as well as anywhere else. Keys such as ``input_tokens``,
  ``max_tokens`` or ``cache_key`` are *not* secrets and are kept;
* ``("Authorization", "...")``-style pairs (headers given as a list of 2-item lists/tuples);
* inside any string: ``Bearer <token>`` / ``Basic <credentials>``, well-known key shapes
  (``sk-...``, ``AIza...``, ``ghp_...``, ``xox?-...``), ``?api_key=...``/``&token=...`` URL
  query parameters, and every occurrence of the *value* of an environment variable whose
  name ends with ``_KEY``, ``_SECRET``, ``_TOKEN`` or ``_PASSWORD`` (values of at least 6
  characters; the environment is read at call time and the compiled matcher is cached
  by a fingerprint of the environment).

Other values (numbers, ``None``, datetimes, arbitrary objects) are returned as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import math
import os
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

__all__ = ["REDACTED", "is_secret_key", "redact", "redact_jsonable"]

REDACTED = "[REDACTED]"

_ENV_SUFFIXES = ("_KEY", "_SECRET", "_TOKEN", "_PASSWORD")
_MIN_ENV_SECRET_LEN = 6

_SECRET_KEY_EXACT = frozenset(
    {
        "api_key",
        "apikey",
        "x_api_key",
        "api_token",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "private_key",
        "access_key",
        "secret_key",
        "x_goog_api_key",
    }
)
_SECRET_KEY_SUBSTRINGS = ("secret", "password", "passwd", "credential", "api_key", "apikey")

# One pass over each string finds every pattern; group names select the replacement.
_STRING_PATTERN = re.compile(
    r"(?P<scheme>\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)\s+)(?P<cred>[A-Za-z0-9\-._~+/]{6,}=*)"
    r"|(?P<param>[?&;](?:api[_-]?key|apikey|key|access_token|token|secret|password|client_secret)=)"
    r"(?P<pval>[^&#\s\"']+)"
    r"|(?P<shape>\bsk-[A-Za-z0-9_\-]{16,}|\bAIza[0-9A-Za-z_\-]{30,}|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,})",
    re.IGNORECASE,
)

_KEY_CACHE: dict[str, bool] = {}
_KEY_CACHE_MAX = 4096


def is_secret_key(key: str) -> bool:
    """Return True when a mapping key names a secret (``api_key``, ``Authorization``, ``*_token``...)."""
    cached = _KEY_CACHE.get(key)
    if cached is not None:
        return cached
    norm = key.strip().lower().replace("-", "_").replace(" ", "_")
    secret = (
        norm in _SECRET_KEY_EXACT
        or norm.rsplit(".", 1)[-1] in _SECRET_KEY_EXACT  # http.request.header.authorization
        or norm.endswith("_token")
        or norm.endswith("_api_key")
        or any(part in norm for part in _SECRET_KEY_SUBSTRINGS)
    )
    if len(_KEY_CACHE) < _KEY_CACHE_MAX:
        _KEY_CACHE[key] = secret
    return secret


class _EnvSecrets:
    """Values of secret-looking environment variables, recomputed only when the environment changes."""

    def __init__(self) -> None:
        self._fingerprint: int | None = None
        self.values: tuple[str, ...] = ()

    def refresh(self) -> tuple[str, ...]:
        # os.environ._data is CPython's raw bytes mapping: hashing it costs ~1 µs, while
        # decoding every item through os.environ.items() costs ~30 µs per call.
        raw = getattr(os.environ, "_data", None)
        fingerprint = hash(tuple(raw.items())) if isinstance(raw, dict) else hash(tuple(os.environ.items()))
        if fingerprint != self._fingerprint:
            found = {
                value
                for name, value in os.environ.items()
                if name.upper().endswith(_ENV_SUFFIXES) and len(value) >= _MIN_ENV_SECRET_LEN
            }
            # Longest first, so a secret that contains another is replaced whole.
            self.values = tuple(sorted(found, key=lambda v: (-len(v), v)))
            self._fingerprint = fingerprint
        return self.values


_ENV_SECRETS = _EnvSecrets()


def _is_empty_str(value: Any) -> bool:
    return isinstance(value, str) and not value


def _string_replacer(match: re.Match[str]) -> str:
    if match.group("scheme") is not None:
        return match.group("scheme") + REDACTED
    if match.group("param") is not None:
        return match.group("param") + REDACTED
    return REDACTED


class _Redactor:
    __slots__ = ("env_values", "jsonable", "min_len")

    def __init__(self, env_values: tuple[str, ...], *, jsonable: bool) -> None:
        self.env_values = env_values
        self.jsonable = jsonable
        self.min_len = min((len(v) for v in env_values), default=_MIN_ENV_SECRET_LEN)

    def text(self, s: str) -> str:
        if len(s) < self.min_len and len(s) < 8:
            return s
        for value in self.env_values:
            if value in s:
                s = s.replace(value, REDACTED)
        if len(s) >= 8:
            s = _STRING_PATTERN.sub(_string_replacer, s)
        return s

    def walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if obj is None or isinstance(obj, (bool, int)):
            return obj
        if isinstance(obj, float):
            # NaN/Infinity are not JSON; browsers' JSON.parse rejects them.
            return None if self.jsonable and not math.isfinite(obj) else obj
        if isinstance(obj, Mapping):
            out: dict[Any, Any] = {}
            for key, value in obj.items():
                if isinstance(key, str) and is_secret_key(key) and value is not None and not _is_empty_str(value):
                    out[key] = REDACTED
                else:
                    if self.jsonable and not isinstance(key, str):
                        key = str(key)
                    out[key] = self.walk(value)
            return out
        if isinstance(obj, (list, tuple)):
            if len(obj) == 2 and isinstance(obj[0], str) and isinstance(obj[1], (str, bytes)) and is_secret_key(obj[0]):
                pair = [obj[0], REDACTED]
                return pair if (self.jsonable or isinstance(obj, list)) else tuple(pair)
            items = [self.walk(item) for item in obj]
            if self.jsonable or isinstance(obj, list):
                return items
            if type(obj) is tuple:
                return tuple(items)
            try:  # namedtuple
                return type(obj)(*items)
            except TypeError:
                return tuple(items)
        if isinstance(obj, (set, frozenset)):
            items = [self.walk(item) for item in obj]
            if self.jsonable:
                return sorted(items, key=repr)
            return type(obj)(items)
        if isinstance(obj, (bytes, bytearray)):
            decoded = bytes(obj).decode("utf-8", errors="replace")
            cleaned = self.text(decoded)
            if self.jsonable:
                return cleaned
            return obj if cleaned == decoded else cleaned.encode("utf-8")
        if self.jsonable:
            return self.walk(_to_json_value(obj))
        return obj


def _to_json_value(obj: Any) -> Any:
    """Turn one non-JSON value into JSON-compatible data (containers are walked by the caller)."""
    if isinstance(obj, (_dt.datetime, _dt.date, _dt.time)):
        return obj.isoformat()
    if isinstance(obj, _dt.timedelta):
        return obj.total_seconds()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    to_dict: Callable[..., Any] | None = getattr(obj, "to_dict", None)
    model_dump: Callable[..., Any] | None = getattr(obj, "model_dump", None)
    if model_dump is not None and callable(model_dump):  # pydantic v2
        try:
            return model_dump(mode="json")
        except Exception:
            pass
    item = getattr(obj, "item", None)  # numpy scalars
    if item is not None and callable(item) and getattr(obj, "shape", None) == ():
        try:
            return item()
        except Exception:
            pass
    tolist = getattr(obj, "tolist", None)  # numpy arrays
    if tolist is not None and callable(tolist) and getattr(obj, "ndim", 0) > 0:
        return tolist()
    if to_dict is not None and callable(to_dict):
        try:
            result = to_dict()
        except Exception:
            result = None
        if isinstance(result, Mapping):
            return result
    return str(obj)


def redact(obj: Any) -> Any:
    """Return a deep copy of ``obj`` with secrets replaced by ``"[REDACTED]"``.

    Mappings, lists, tuples (including namedtuples), sets, strings and bytes are copied
    and cleaned; other values are returned as they are. See the module docstring for
    what counts as a secret.
    """
    return _Redactor(_ENV_SECRETS.refresh(), jsonable=False).walk(obj)


def redact_jsonable(obj: Any) -> Any:
    """Like :func:`redact`, and also convert the result to plain JSON data in the same pass.

    Dataclasses, pydantic models, datetimes, Decimals, paths, enums and numpy values
    become dicts/strings/numbers; tuples and sets become lists; non-string keys become
    strings; anything else becomes ``str(value)`` (and is then scanned for secrets).
    """
    return _Redactor(_ENV_SECRETS.refresh(), jsonable=True).walk(obj)
