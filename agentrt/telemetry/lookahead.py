"""Look-ahead detection: find values dated after the simulated time in a tool result, and block them.

``find_future_data`` walks JSON-like tool results (and pandas objects) for dates after
simulated time T and returns ``future_data`` warnings with JSON paths; ``block_future_data``
builds the replacement result for ``lookahead="block"`` mode. Both are re-exported by
``agentrt.telemetry.warnings``. See docs/observability.md for the rules.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentrt.telemetry.warnings import AgentWarning

__all__ = [
    "DEFAULT_FORWARD_KEYS",
    "DEFAULT_RELEASE_KEYS",
    "block_future_data",
    "find_future_data",
]

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

_DATE_KEYS_EXACT = frozenset(
    {
        "t",
        "ts",
        "time",
        "timestamp",
        "date",
        "datetime",
        "as_of",
        "asof",
        "updated",
        "created",
        "published",
        "modified",
        "issued",
    }
)
_DATE_KEY_SUFFIXES = ("_at", "_time", "_date", "_ts", "_timestamp", "_datetime", "_updated", "_modified")

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
        self.json_depth = 0
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
        if text[0] in "{[" and text[-1] in "}]":
            found = self.check_json_text(text, path, datey)
            if found is not None:
                return found
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

    def check_json_text(self, text: str, path: tuple[Any, ...] | None, datey: bool) -> bool | None:
        # MCP servers and HTTP tools often return JSON as text: walk it as data, so release
        # dates and epoch fields inside it are judged like those of a structured result.
        if self.json_depth >= 3:
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            return None
        if not isinstance(parsed, (dict, list)):
            return None
        before = self.total
        self.json_depth += 1
        try:
            self.visit(parsed, path, datey, 0)
        finally:
            self.json_depth -= 1
        return self.total > before

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
    ``datetime``/``date``/``pandas.Timestamp``/``numpy.datetime64`` values; JSON text (a
    string holding an object or array, as MCP tools return it, is parsed and walked as
    data); and, only under date-like keys (``t``, ``ts``, ``time``, ``timestamp``, ``date``,
    ``datetime``, ``updated``, ``created``, ``published``, keys ending in ``_at``/``_time``/
    ``_date``/``_updated``, camelCase too), epoch numbers (s, ms, µs, ns),
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
