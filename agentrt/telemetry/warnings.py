"""Warning detectors for agent runs: pure, fast functions that return ``AgentWarning`` records.

Codes (see ``WARNING_CODES`` for severity and meaning):

``no_tool_calls``           the agent decided without calling any tool
``tool_error``              a tool raised or returned an error (the model saw the error)
``future_data``             a tool result holds data dated after the simulated time (look-ahead)
``order_without_evidence``  an order was submitted in a run that read no market/account/DuckDB data
``knowledge_cutoff``        the simulated time is before the model's training cutoff
``unknown_cutoff``          note: the model's training cutoff is not in ``KNOWN_TRAINING_CUTOFFS``
``budget_exceeded``         a token or cost budget was exceeded

Detectors that may or may not fire return ``list[AgentWarning]`` (empty when all is well);
:func:`tool_error` always describes a failure and returns one ``AgentWarning``.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import sys
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "DEFAULT_FORWARD_KEYS",
    "DEFAULT_RELEASE_KEYS",
    "KNOWN_TRAINING_CUTOFFS",
    "OFFLINE_MODEL_PREFIXES",
    "WARNING_CODES",
    "AgentWarning",
    "block_future_data",
    "budget_exceeded",
    "find_future_data",
    "knowledge_cutoff",
    "no_tool_calls",
    "order_without_evidence",
    "severity_of",
    "tool_error",
]


@dataclass(frozen=True, slots=True)
class AgentWarning:
    """One suspicious condition found in an agent run.

    ``code`` is one of ``WARNING_CODES``; ``message`` is a sentence for humans;
    ``details`` holds JSON-compatible facts (paths, values, names) for tools and tests.
    """

    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the trace-file form: ``{"code", "message", "details"}``."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentWarning:
        """Rebuild a warning from its trace-file form."""
        return cls(str(data["code"]), str(data.get("message", "")), dict(data.get("details") or {}))


#: code -> (severity, meaning). Severity is "error" (shown red), "warning" (yellow) or "note".
WARNING_CODES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "future_data": ("error", "a tool result holds data dated after the simulated time"),
        "order_without_evidence": (
            "error",
            "an order was submitted in a run that read no market, account or DuckDB data",
        ),
        "budget_exceeded": ("error", "a token or cost budget was exceeded"),
        "tool_error": ("warning", "a tool raised or returned an error"),
        "no_tool_calls": ("warning", "the agent decided without calling any tool"),
        "knowledge_cutoff": (
            "warning",
            "the simulated time is before the model's training cutoff (the model may know what happened next)",
        ),
        "unknown_cutoff": ("note", "the model's training cutoff is unknown to agentrt"),
    }
)


def severity_of(code: str) -> str:
    """Return "error", "warning" or "note" for a warning code (unknown codes are "warning")."""
    entry = WARNING_CODES.get(code)
    return entry[0] if entry else "warning"


# --------------------------------------------------------------------------- future data

DEFAULT_RELEASE_KEYS: tuple[str, ...] = (
    "release_date",
    "realtime_start",
    "published_at",
    "publish_time",
    "created_at",
    "available_at",
)

#: Keys whose dates legitimately lie in the future at simulated time T (option expiries,
#: bond maturities, announced dividend dates, "still valid" sentinels); their subtrees are
#: not checked. Keys starting with ``next_`` are treated the same way.
DEFAULT_FORWARD_KEYS: tuple[str, ...] = (
    "expiration",
    "expiration_date",
    "expiry",
    "expiry_date",
    "expires_at",
    "maturity",
    "maturity_date",
    "due_date",
    "settlement_date",
    "payment_date",
    "pay_date",
    "record_date",
    "ex_dividend_date",
    "valid_until",
    "good_till_date",
    "realtime_end",
    "observation_end",
)

_DATE_KEYS_EXACT = frozenset({"t", "ts", "time", "timestamp", "date", "datetime", "as_of", "asof"})
_DATE_KEY_SUFFIXES = ("_at", "_time", "_date", "_ts", "_timestamp", "_datetime")

# ISO 8601 date or date-time, also embedded in longer text ("as of 2021-03-05").
_ISO_RE = re.compile(
    r"(?<!\d)(\d{4})([-/])(\d{2})\2(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:\s?(Z|[+-]\d{2}(?::?\d{2})?))?)?"
    r"(?!\d)"
)
_DATE_PART_RE = re.compile(r"(?<!\d)\d{4}[-/]\d{2}[-/]\d{2}(?!\d)")  # cheap pre-check before _ISO_RE
_MIN_YEAR, _SENTINEL_YEAR = 1900, 9000  # years >= 9000 are "open-ended" sentinels (9999-12-31)
_UTC = _dt.UTC

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])([A-Z])")
_NORM_CACHE: dict[str, str] = {}
_MAX_DEPTH = 200


def _norm_key(key: str) -> str:
    cached = _NORM_CACHE.get(key)
    if cached is None:
        cached = _CAMEL_RE.sub(r"_\1", key).lower().replace("-", "_").replace(" ", "_")
        if len(_NORM_CACHE) < 8192:
            _NORM_CACHE[key] = cached
    return cached


def _is_date_key(nkey: str) -> bool:
    return nkey in _DATE_KEYS_EXACT or nkey.endswith(_DATE_KEY_SUFFIXES)


def _parse_tz(text: str | None) -> _dt.tzinfo | None:
    if text is None:
        return None
    if text == "Z":
        return _UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) >= 4 else 0
    return _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))


def _iso_matches(text: str) -> Iterable[tuple[str, _dt.date]]:
    for m in _ISO_RE.finditer(text):
        year = int(m.group(1))
        if not _MIN_YEAR <= year < _SENTINEL_YEAR:
            continue
        try:
            if m.group(5) is None:
                yield m.group(0), _dt.date(year, int(m.group(3)), int(m.group(4)))
            else:
                yield (
                    m.group(0),
                    _dt.datetime(
                        year,
                        int(m.group(3)),
                        int(m.group(4)),
                        int(m.group(5)),
                        int(m.group(6)),
                        int(m.group(7) or 0),
                        tzinfo=_parse_tz(m.group(8)),
                    ),
                )
        except ValueError:  # 2021-13-45 is not a date
            continue


def _number_to_date(value: float) -> _dt.date | None:
    """Interpret a number found under a date-like key: YYYYMMDD, or epoch s / ms / µs / ns."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and 19000101 <= value <= 21001231:
        try:
            return _dt.date(value // 10000, value // 100 % 100, value % 100)
        except ValueError:
            return None
    if value < 1e8:  # durations, counts, day numbers: not timestamps after 1973
        return None
    if value < 1e11:
        seconds = value
    elif value < 1e14:
        seconds = value / 1e3
    elif value < 1e17:
        seconds = value / 1e6
    elif value < 1e20:
        seconds = value / 1e9
    else:
        return None
    try:
        return _dt.datetime.fromtimestamp(seconds, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass(slots=True)
class _Finding:
    path: tuple[Any, ...] | None
    raw: Any
    when: _dt.date
    kind: str


def _format_path(chain: tuple[Any, ...] | None) -> str:
    parts: list[Any] = []
    while chain is not None:
        chain, component = chain
        parts.append(component)
    out = ["$"]
    for component in reversed(parts):
        if isinstance(component, int):
            out.append(f"[{component}]")
        elif isinstance(component, str) and component.isidentifier():
            out.append(f".{component}")
        else:
            out.append(f"[{_quote(component)}]")
    return "".join(out)


def _quote(component: Any) -> str:
    text = str(component).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


_SKIP, _DATEY, _PLAIN, _INHERIT = 0, 1, 2, 3  # how a mapping key treats its value


class _FutureFinder:
    def __init__(
        self,
        sim_time: _dt.datetime,
        release_keys: Sequence[str],
        forward_keys: Collection[str],
        limit: int,
    ) -> None:
        if sim_time.tzinfo is None or sim_time.utcoffset() is None:
            sim_time = sim_time.replace(tzinfo=_UTC)
        self.sim_time = sim_time
        self.sim_tz = sim_time.tzinfo
        self.sim_date = sim_time.date()
        self.sim_date_iso = self.sim_date.isoformat()
        # Any date-time written with a date at least 3 days before the simulated date is
        # before the simulated time whatever its UTC offset (offsets span -12h..+14h).
        self.safe_before_iso = (self.sim_date - _dt.timedelta(days=3)).isoformat()
        self.sim_ymd = self.sim_date.year * 10000 + self.sim_date.month * 100 + self.sim_date.day
        self.sim_epoch = sim_time.timestamp()
        self.release_keys = tuple(_norm_key(k) for k in release_keys)
        self.release_rank = {k: i for i, k in enumerate(self.release_keys)}
        self.forward = frozenset(_norm_key(k) for k in forward_keys)
        self.limit = limit
        self.findings: list[_Finding] = []
        self.total = 0
        # Records in one result usually share their keys: classify each key layout once.
        self.shapes: dict[tuple[Any, ...], tuple[tuple[tuple[Any, int], ...], tuple[Any, ...]]] = {}

    def shape(self, record: Mapping[Any, Any]) -> tuple[tuple[tuple[Any, int], ...], tuple[Any, ...]]:
        layout = tuple(record)
        found = self.shapes.get(layout)
        if found is None:
            entries = []
            releases = []
            for key in layout:
                if not isinstance(key, str):
                    entries.append((key, _INHERIT))
                    continue
                nk = _norm_key(key)
                if nk in self.forward or nk.startswith("next_"):
                    entries.append((key, _SKIP))
                    continue
                if nk in self.release_rank:
                    releases.append((self.release_rank[nk], key))
                entries.append((key, _DATEY if _is_date_key(nk) else _PLAIN))
            found = (tuple(entries), tuple(key for _rank, key in sorted(releases, key=lambda r: r[0])))
            if len(self.shapes) < 1024:
                self.shapes[layout] = found
        return found

    # -- comparisons
    def after(self, when: _dt.date) -> bool:
        try:
            if isinstance(when, _dt.datetime):
                if when.tzinfo is None or when.utcoffset() is None:
                    when = when.replace(tzinfo=self.sim_tz)
                return bool(when > self.sim_time)
            return when > self.sim_date
        except (TypeError, ValueError):  # NaT and friends
            return False

    def report(self, path: tuple[Any, ...] | None, raw: Any, when: _dt.date, kind: str) -> None:
        self.total += 1
        if len(self.findings) < self.limit:
            self.findings.append(_Finding(path, raw, when, kind))

    # -- scalar checks; each returns True when it reported
    def check_string(self, text: str, path: tuple[Any, ...] | None, datey: bool) -> bool:
        size = len(text)
        if size == 10 and text[4] == "-" and text[7] == "-" and text <= self.sim_date_iso:
            return False  # a plain YYYY-MM-DD up to the simulated date (string order is date order)
        if datey and text.isdigit():
            return self.check_number(int(text), path, text)
        if size < 10:
            return False
        dates = _DATE_PART_RE.findall(text)
        if not dates:
            return False
        latest = max(d.replace("/", "-") for d in dates) if "/" in text else max(dates)
        if latest < self.safe_before_iso:
            return False
        for raw, when in _iso_matches(text):
            if self.after(when):
                self.report(path, text if size <= 80 else raw, when, "date" if datey else "embedded")
                return True
        return False

    def check_number(self, value: float, path: tuple[Any, ...] | None, raw: Any = None) -> bool:
        # Compare against the simulated time as a number first; build a date only to report.
        if type(value) is int and 19000101 <= value <= 21001231:
            if value <= self.sim_ymd:
                return False
        elif not value >= 1e8:  # also rejects NaN: durations, counts, day numbers are not timestamps
            return False
        elif value < 1e11:
            if value <= self.sim_epoch:
                return False
        elif value < 1e14:
            if value / 1e3 <= self.sim_epoch:
                return False
        elif value < 1e17:
            if value / 1e6 <= self.sim_epoch:
                return False
        elif value < 1e20:
            if value / 1e9 <= self.sim_epoch:
                return False
        else:
            return False
        when = _number_to_date(value)
        if when is not None and self.after(when):
            self.report(path, value if raw is None else raw, when, "epoch")
            return True
        return False

    def check_scalar(self, obj: Any, path: tuple[Any, ...] | None, datey: bool) -> bool | None:
        """Return True/False for a scalar that was checked, None for a container or unknown type."""
        kind = type(obj)
        if kind is str:
            return self.check_string(obj, path, datey)
        if kind is float or kind is int:
            return self.check_number(obj, path) if datey else False
        if obj is None or kind is bool:
            return False
        if isinstance(obj, str):
            return self.check_string(str(obj), path, datey)
        if isinstance(obj, _dt.date):  # datetime, date, pandas.Timestamp
            if self.after(obj):
                self.report(path, obj, obj, "date")
                return True
            return False
        if isinstance(obj, (int, float)) and not isinstance(obj, bool):
            return self.check_number(obj, path) if datey else False
        name = kind.__name__
        if name == "datetime64":
            return self.check_datetime64(obj, path)
        if name in ("int64", "int32", "uint64", "uint32", "float64", "float32") and hasattr(obj, "item"):
            return self.check_number(obj.item(), path) if datey else False
        return None

    def check_datetime64(self, obj: Any, path: tuple[Any, ...] | None) -> bool:
        try:
            value = obj.astype("datetime64[us]").item()
        except (ValueError, TypeError, OverflowError):
            return False
        if isinstance(value, _dt.datetime) and self.after(value):
            self.report(path, str(obj), value, "date")
            return True
        return False

    # -- containers
    def visit(self, obj: Any, path: tuple[Any, ...] | None, datey: bool, depth: int) -> None:
        if self.check_scalar(obj, path, datey) is not None or depth > _MAX_DEPTH:
            return
        if isinstance(obj, Mapping):
            self.visit_record(obj, path, datey, depth)
        elif isinstance(obj, (list, tuple)):
            for index, item in enumerate(obj):
                kind = type(item)
                if kind is float or kind is int:
                    if datey:
                        self.check_number(item, (path, index))
                elif kind is str:
                    if datey or len(item) >= 10:
                        self.check_string(item, (path, index), datey)
                elif item is not None and kind is not bool:
                    self.visit(item, (path, index), datey, depth + 1)
        elif isinstance(obj, (set, frozenset)):
            for item in obj:
                self.visit(item, path, datey, depth + 1)
        else:
            converted = _tabular_to_records(obj)
            if converted is not None:
                self.visit(converted, path, datey, depth + 1)

    def visit_record(self, record: Mapping[Any, Any], path: tuple[Any, ...] | None, datey: bool, depth: int) -> None:
        entries, releases = self.shape(record)
        if releases:
            self.visit_released(record, path, datey, depth, entries, releases)
            return
        for key, mode in entries:
            if mode == _SKIP:
                continue
            value = record[key]
            kind = type(value)
            key_datey = mode == _DATEY or (mode == _INHERIT and datey)
            if kind is float or kind is int:
                if key_datey:
                    self.check_number(value, (path, key))
            elif kind is str:
                if key_datey or len(value) >= 10:
                    self.check_string(value, (path, key), key_datey)
            elif value is not None and kind is not bool:
                self.visit(value, (path, key), key_datey, depth + 1)

    def visit_released(
        self,
        record: Mapping[Any, Any],
        path: tuple[Any, ...] | None,
        datey: bool,
        depth: int,
        entries: tuple[tuple[Any, int], ...],
        releases: tuple[Any, ...],
    ) -> None:
        release_key = None
        for key in releases:
            when = _as_date(record[key])
            if when is not None:
                release_key = key
                break
        if release_key is None:  # no readable release date: judge the record like any other
            self.visit_record_plain(record, path, datey, depth, entries)
            return
        flagged = False
        if self.after(when):
            self.report((path, release_key), record[release_key], when, "release")
            flagged = True
        for key, mode in entries:
            if mode == _SKIP or key == release_key:
                continue
            value = record[key]
            key_datey = mode == _DATEY or (mode == _INHERIT and datey)
            if isinstance(value, (Mapping, list, tuple, set, frozenset)):
                self.visit(value, (path, key), key_datey, depth + 1)
            elif not flagged and (key_datey or isinstance(value, _dt.date)):
                # A released record is judged by its release date; its text may mention
                # later dates (a scheduled meeting), but an observation date after T is a leak.
                flagged = bool(self.check_scalar(value, (path, key), True))

    def visit_record_plain(
        self,
        record: Mapping[Any, Any],
        path: tuple[Any, ...] | None,
        datey: bool,
        depth: int,
        entries: tuple[tuple[Any, int], ...],
    ) -> None:
        for key, mode in entries:
            if mode != _SKIP:
                self.visit(record[key], (path, key), mode == _DATEY or (mode == _INHERIT and datey), depth + 1)


def _as_date(value: Any) -> _dt.date | None:
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.isdigit():
            return _number_to_date(int(stripped))
        for _raw, when in _iso_matches(stripped):
            return when
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_to_date(value)
    return None


def _tabular_to_records(obj: Any) -> Any:
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return None
    if isinstance(obj, pandas.DataFrame):
        frame = obj if isinstance(obj.index, pandas.RangeIndex) else obj.reset_index()
        return frame.to_dict(orient="records")
    if isinstance(obj, pandas.Series):
        return obj.to_dict()
    return None


def find_future_data(
    result: Any,
    sim_time: _dt.datetime,
    *,
    release_keys: Sequence[str] = DEFAULT_RELEASE_KEYS,
    forward_keys: Collection[str] = DEFAULT_FORWARD_KEYS,
    max_warnings: int = 5,
    tool_name: str | None = None,
) -> list[AgentWarning]:
    """Walk a tool result and return ``future_data`` warnings for values dated after ``sim_time``.

    Looks at: ISO dates/date-times in any string (also inside text: "as of 2021-03-05");
    ``datetime``/``date``/``pandas.Timestamp``/``numpy.datetime64`` values; and, only under
    date-like keys (``t``, ``ts``, ``time``, ``timestamp``, ``date``, ``datetime``, keys
    ending in ``_at``/``_time``/``_date``, camelCase too), epoch numbers (s, ms, µs, ns),
    ``YYYYMMDD`` integers and digit strings. Numbers under other keys (prices, volumes)
    are never read as dates.

    A plain date D is "after" only when ``D > sim_time.date()``; a datetime when it is
    ``> sim_time``; naive datetimes are read in ``sim_time``'s time zone (a naive
    ``sim_time`` is read as UTC). Years >= 9000 (``9999-12-31`` "open" sentinels) are
    ignored, as are subtrees under ``forward_keys`` (expiries, maturities, ``next_*``).

    A mapping that carries one of ``release_keys`` is judged by its release date: released
    after ``sim_time`` is a leak even when the observation date is earlier; otherwise only
    its date-like fields are checked (an observation dated after ``sim_time`` is still a
    leak) and its free text is not scanned. One warning per offending value (one per
    record), the first ``max_warnings`` of them, plus one summary warning with the count
    of the rest. Each warning's details hold ``path`` (``$.rows[3].date``), ``value``,
    ``date``, ``sim_time``, ``kind`` (release/date/epoch/embedded) and ``total``.
    """
    finder = _FutureFinder(sim_time, release_keys, forward_keys, max(max_warnings, 0))
    finder.visit(result, None, False, 0)
    if not finder.total:
        return []
    sim_iso = finder.sim_time.isoformat()
    source = f"tool {tool_name!r} result" if tool_name else "tool result"
    out: list[AgentWarning] = []
    for finding in finder.findings:
        path = _format_path(finding.path)
        value = _short(finding.raw)
        what = "was released" if finding.kind == "release" else "is dated"
        details: dict[str, Any] = {
            "path": path,
            "value": value,
            "date": finding.when.isoformat(),
            "sim_time": sim_iso,
            "kind": finding.kind,
            "total": finder.total,
        }
        if tool_name:
            details["tool"] = tool_name
        out.append(
            AgentWarning(
                "future_data",
                f"{source} holds data from after the simulated time {sim_iso}: "
                f"{path} = {value} {what} {finding.when.isoformat()}",
                details,
            )
        )
    omitted = finder.total - len(finder.findings)
    if omitted > 0:
        details = {"omitted": omitted, "total": finder.total, "sim_time": sim_iso}
        if tool_name:
            details["tool"] = tool_name
        out.append(
            AgentWarning(
                "future_data",
                f"{source} holds {omitted} more value(s) dated after the simulated time {sim_iso}",
                details,
            )
        )
    return out


def _short(value: Any, limit: int = 80) -> str:
    text = value.isoformat() if isinstance(value, _dt.date) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def block_future_data(result: Any, warnings: Sequence[AgentWarning]) -> dict[str, str]:
    """Return the tool result that replaces ``result`` in ``lookahead="block"`` mode.

    The model receives ``{"error": "blocked: ..."}`` naming the simulated time and one
    offending value, so it can ask again for data up to that time. ``warnings`` must hold
    at least one ``future_data`` warning from :func:`find_future_data` for this result.
    """
    future = [w for w in warnings if w.code == "future_data"]
    if not future:
        raise ValueError(
            "block_future_data() needs at least one 'future_data' warning for the result; "
            "call find_future_data(result, sim_time) first and block only when it returns warnings"
        )
    example = next((w for w in future if "path" in w.details), future[0])
    sim_iso = example.details.get("sim_time", "the simulated time")
    example_text = (
        f" (e.g. {example.details['path']}={example.details.get('value')})" if "path" in example.details else ""
    )
    return {
        "error": (
            f"blocked: this tool result contains data from after the simulated time {sim_iso}"
            f"{example_text}; request data up to {sim_iso} only"
        )
    }


# --------------------------------------------------------------------------- run-level checks


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def no_tool_calls(tool_calls: Sequence[Any]) -> list[AgentWarning]:
    """Warn (``no_tool_calls``) when an agent run called no tool at all."""
    if tool_calls:
        return []
    return [
        AgentWarning(
            "no_tool_calls",
            "the agent decided without calling any tool, so its decision is not grounded in "
            "point-in-time data (give it tools, or tell it in the prompt to check the data first)",
            {},
        )
    ]


def tool_error(tool_name: str, error: BaseException | str) -> AgentWarning:
    """Describe a tool failure (``tool_error``); the error itself went back to the model."""
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    if len(text) > 500:
        text = text[:499] + "…"
    return AgentWarning("tool_error", f"tool {tool_name!r} failed: {text}", {"tool": tool_name, "error": text})


def _order_summary(order: Any) -> str:
    if isinstance(order, Mapping):
        parts = [
            str(order[k])
            for k in ("side", "quantity", "qty", "symbol", "asset", "order_type", "type")
            if order.get(k) is not None
        ]
        if parts:
            return " ".join(parts)
    text = str(order)
    return text if len(text) <= 120 else text[:119] + "…"


def order_without_evidence(
    tool_calls: Sequence[Any],
    orders: Sequence[Any],
    *,
    evidence_tools: Collection[str],
) -> list[AgentWarning]:
    """Warn (``order_without_evidence``) when a run submitted orders but read no evidence.

    ``tool_calls`` are trace records or objects with ``name`` and ``error``; a call counts
    as evidence when its name is in ``evidence_tools`` (the market, account and DuckDB
    tools the runtime provides) and it did not fail.
    """
    if not orders:
        return []
    evidence = set(evidence_tools)
    called = [str(_field(call, "name", "")) for call in tool_calls]
    if any(name in evidence and not _field(call, "error") for name, call in zip(called, tool_calls, strict=True)):
        return []
    summaries = [_order_summary(order) for order in orders[:10]]
    return [
        AgentWarning(
            "order_without_evidence",
            f"{len(orders)} order(s) submitted ({'; '.join(summaries[:3])}) in a run that read no market, "
            f"account or DuckDB data (evidence tools: {', '.join(sorted(evidence)) or 'none configured'})",
            {
                "n_orders": len(orders),
                "orders": summaries,
                "tools_called": called,
                "evidence_tools": sorted(evidence),
            },
        )
    ]


# --------------------------------------------------------------------------- knowledge cutoff

#: Approximate training-data cutoffs (first day of the month the providers state; some
#: providers publish only a month or a "reliable knowledge" date). Keys are model-name
#: prefixes; the longest matching prefix wins, after dropping a provider prefix such as
#: ``openai/``, ``gemini/``, ``models/`` or ``anthropic.`` (Bedrock). Approximate by nature:
#: they exist to flag "the model may remember the future", not to be exact.
KNOWN_TRAINING_CUTOFFS: Mapping[str, _dt.date] = MappingProxyType(
    {
        # OpenAI
        "gpt-3.5-turbo": _dt.date(2021, 9, 1),
        "gpt-4": _dt.date(2021, 9, 1),
        "gpt-4-turbo": _dt.date(2023, 12, 1),
        "gpt-4o": _dt.date(2023, 10, 1),
        "gpt-4o-mini": _dt.date(2023, 10, 1),
        "gpt-4.1": _dt.date(2024, 6, 1),
        "gpt-4.5": _dt.date(2023, 10, 1),
        "gpt-5": _dt.date(2024, 9, 1),
        "gpt-5-mini": _dt.date(2024, 5, 1),
        "gpt-5-nano": _dt.date(2024, 5, 1),
        "o1": _dt.date(2023, 10, 1),
        "o3": _dt.date(2024, 6, 1),
        "o4-mini": _dt.date(2024, 6, 1),
        # Google
        "gemini-1.5": _dt.date(2023, 11, 1),
        "gemini-2.0-flash": _dt.date(2024, 8, 1),
        "gemini-2.5-": _dt.date(2025, 1, 1),
        # Anthropic
        "claude-3-haiku": _dt.date(2023, 8, 1),
        "claude-3-sonnet": _dt.date(2023, 8, 1),
        "claude-3-opus": _dt.date(2023, 8, 1),
        "claude-3-5-sonnet": _dt.date(2024, 4, 1),
        "claude-3-5-haiku": _dt.date(2024, 7, 1),
        "claude-3-7-sonnet": _dt.date(2024, 10, 1),
        "claude-sonnet-4": _dt.date(2025, 3, 1),
        "claude-opus-4": _dt.date(2025, 3, 1),
        "claude-sonnet-4-5": _dt.date(2025, 7, 1),
        # Meta Llama (Ollama "llama3.1:8b", Groq/Together "llama-3.1-70b-...")
        "llama3": _dt.date(2023, 12, 1),
        "llama-3": _dt.date(2023, 12, 1),
        "llama4": _dt.date(2024, 8, 1),
        "llama-4": _dt.date(2024, 8, 1),
    }
)

#: Offline, deterministic models that ship with agentrt know nothing: no cutoff warning.
OFFLINE_MODEL_PREFIXES: tuple[str, ...] = ("scripted", "function")

_PROVIDER_DOT_PREFIX = re.compile(r"^(?:[a-z]{2}\.)?(?:anthropic|meta|amazon|mistral|google)\.")
_NOTED_UNKNOWN: set[str] = set()
_NOTED_LOCK = threading.Lock()


def _bare_model_name(model: str) -> str:
    name = model.strip().lower().rsplit("/", 1)[-1]
    return _PROVIDER_DOT_PREFIX.sub("", name)


def _cutoff_for(model: str) -> tuple[str, _dt.date] | None:
    name = _bare_model_name(model)
    best: tuple[str, _dt.date] | None = None
    for prefix, cutoff in KNOWN_TRAINING_CUTOFFS.items():
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, cutoff)
    return best


def knowledge_cutoff(model: str, sim_time: _dt.datetime) -> list[AgentWarning]:
    """Warn (``knowledge_cutoff``) when ``sim_time`` is before the model's training cutoff.

    Such a model may "remember" prices and news after ``sim_time``: a look-ahead risk no
    data clipping can remove. Unknown models get one ``unknown_cutoff`` note per model per
    process; offline models (names starting with "scripted" or "function") get nothing.
    """
    bare = _bare_model_name(model)
    if bare.startswith(OFFLINE_MODEL_PREFIXES) or model.strip().lower().startswith(OFFLINE_MODEL_PREFIXES):
        return []
    match = _cutoff_for(model)
    if match is None:
        with _NOTED_LOCK:
            if model in _NOTED_UNKNOWN:
                return []
            _NOTED_UNKNOWN.add(model)
        return [
            AgentWarning(
                "unknown_cutoff",
                f"agentrt does not know the training cutoff of model {model!r}; if it was trained on data "
                "after the simulated period it may remember what happened next",
                {"model": model},
            )
        ]
    prefix, cutoff = match
    sim_date = sim_time.date()
    if sim_date >= cutoff:
        return []
    return [
        AgentWarning(
            "knowledge_cutoff",
            f"model {model!r} was trained on data up to about {cutoff:%Y-%m}; the simulated time "
            f"{sim_date.isoformat()} is before that, so the model may remember what happened next",
            {"model": model, "cutoff": cutoff.isoformat(), "matched_prefix": prefix, "sim_date": sim_date.isoformat()},
        )
    ]


# --------------------------------------------------------------------------- budgets


def budget_exceeded(
    *,
    used_tokens: int,
    used_cost: float,
    token_budget: int | None,
    cost_budget: float | None,
    scope: str,
) -> list[AgentWarning]:
    """Warn (``budget_exceeded``) for each budget that usage went over; ``None`` budgets are off.

    ``scope`` names what the budget covers ("run", "backtest", an agent name) and appears
    in the message and details.
    """
    out: list[AgentWarning] = []
    if token_budget is not None and used_tokens > token_budget:
        out.append(
            AgentWarning(
                "budget_exceeded",
                f"{scope}: used {used_tokens} tokens, over the budget of {token_budget}",
                {"scope": scope, "kind": "tokens", "used": used_tokens, "budget": token_budget},
            )
        )
    if cost_budget is not None and used_cost > cost_budget:
        out.append(
            AgentWarning(
                "budget_exceeded",
                f"{scope}: spent ${used_cost:.4f}, over the budget of ${cost_budget:.4f}",
                {"scope": scope, "kind": "cost_usd", "used": used_cost, "budget": cost_budget},
            )
        )
    return out
