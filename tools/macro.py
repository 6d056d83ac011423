"""Point-in-time economic series for agents: FRED/ALFRED vintages online, embedded real data offline.

Agent tools (the simulated time comes from the agent run; the model cannot ask for the future):

- ``get_macro_series(series_id, lookback=12)`` — the last ``lookback`` values of a series that
  had been *released* by the simulated time, each with its observation ``date`` and its
  ``release_date``.
- ``list_macro_series()`` — the series this source offers, with titles and units.
- :func:`macro_tools` — both, ready for ``self.agents.create(..., tools=macro_tools())``; use it
  rather than the bare functions so the replay cache keeps FRED and embedded answers apart.

Plain functions for strategy code and servers: :func:`fetch_macro_series` and
:func:`fetch_macro_catalog`, which take the time explicitly (``as_of=``).

Sources (``AGENTRT_MACRO_SOURCE`` = ``auto`` (default) | ``fred`` | ``embedded``; ``auto`` means
``fred`` when ``FRED_API_KEY`` is set, else ``embedded``):

**fred** — ``GET {FRED_API_BASE}/series/observations`` (default base
``https://api.stlouisfed.org/fred``) with ``realtime_start = realtime_end = observation_end =`` the
simulated date (ALFRED's real-time period), so the answer is the series as FRED published it on
that day: values released later, and later revisions, are not in it. ``release_date`` is the
observation's ``realtime_start`` (FRED clips it to the requested period, so it reads "known by",
not always the first publication day). FRED vintages are dated, not timed: an intraday strategy
may see a value released later on the simulated day. Any FRED series id works (M2SL, DGS10,
CPIAUCSL, UNRATE, ...); missing values (``"."``) are skipped. The client also drops any row
whose ``realtime_start`` or ``date`` is after the simulated date, whatever the server sends.

**embedded** — real data shipped in agentrt (``agentrt.data.embedded``; provenance and licences
in ``agentrt/data/_embedded/``), under the FRED id each one approximates:

================  =================================================  ==========  ============================
id (aliases)      embedded data                                      frequency   visible from (New York time)
================  =================================================  ==========  ============================
M1SL (M1)         statsmodels macrodata ``m1``, end-of-quarter M1    quarterly   08:30 on the last day of the
                                                                                 2nd month after the quarter
TB3MS (TBILL)     macrodata ``tbilrate``, quarterly average of the   quarterly   same
                  3-month T-bill rate, percent
CPIAUCSL (CPI)    macrodata ``cpi``, end-of-quarter CPI-U            quarterly   same
UNRATE (UNEMP)    macrodata ``unemp``, percent                       quarterly   same
GDPC1 (GDP)       macrodata ``realgdp``, bn chained 2005 $ (SAAR)    quarterly   same
PCECC96           macrodata ``realcons``                             quarterly   same
GPDIC1            macrodata ``realinv``                              quarterly   same
DSPIC96           macrodata ``realdpi``                              quarterly   same
CPILFESL (CORE)   arch ``core-cpi`` (FRED CPILFESL itself)           monthly     08:30 on the last day of the
                                                                                 next month
DGS1MO .. DGS30   zipline ``treasury_curves`` constant-maturity      daily       16:00 on the observation day
                  yields, converted to percent
================  =================================================  ==========  ============================

They are approximations of the FRED series: quarterly instead of monthly for M1SL, TB3MS,
CPIAUCSL and UNRATE, one revised vintage (December 2009 for macrodata) rather than first prints,
and release dates estimated by rule (see ``agentrt.data.embedded``). Coverage: macrodata
1959Q1-2009Q3, core CPI 1957-2018, Treasury yields 1990-2017-03-29. Observation dates follow
FRED's convention: the first day of the period (1959-01-01 is 1959Q1). A value is returned only
when its release instant is at or before the simulated time, so a backtest can never see it
early.

Every answer is a JSON-serialisable dict::

    {"series_id": "M1SL", "source": "embedded", "as_of": "2005-06-30T16:00:00-04:00",
     "title": ..., "units": ..., "frequency": ...,
     "observations": [{"date": "2004-10-01", "value": 1366.6, "release_date": "2005-01-31"}, ...]}
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import os
from typing import Any, Final

from agentrt.agents.tool import agent_tool
from tools._clock import MARKET_TZ, parse_as_of, tool_now

__all__ = [
    "EMBEDDED_SERIES",
    "FRED_DEFAULT_BASE",
    "MacroDataError",
    "SeriesInfo",
    "fetch_macro_catalog",
    "fetch_macro_series",
    "get_macro_series",
    "list_macro_series",
    "macro_source",
    "macro_tools",
]

FRED_DEFAULT_BASE: Final = "https://api.stlouisfed.org/fred"
MAX_LOOKBACK: Final = 1000
_HTTP_TIMEOUT_S: Final = 20.0


class MacroDataError(RuntimeError):
    """A macro series cannot be served (unknown id, FRED error, bad arguments); the message says why."""


@dataclasses.dataclass(frozen=True)
class SeriesInfo:
    """One series of the catalog: its FRED id, what it is, and where the embedded copy comes from."""

    series_id: str
    title: str
    units: str
    frequency: str
    aliases: tuple[str, ...] = ()
    embedded: str | None = None
    """``"<table>:<column>"`` of the embedded approximation, or None (FRED only)."""
    approximation: str = ""
    """How the embedded copy differs from the FRED series (empty when it is the same series)."""
    embedded_frequency: str = ""
    """Frequency of the embedded copy when it differs from FRED's ``frequency``."""

    def frequency_in(self, source: str) -> str:
        return (self.embedded_frequency or self.frequency) if source == "embedded" else self.frequency

    def describe(self, source: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "series_id": self.series_id,
            "title": self.title,
            "units": self.units,
            "frequency": self.frequency_in(source),
        }
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if source == "embedded" and self.approximation:
            out["approximation"] = self.approximation
        return out


_QUARTERLY_NOTE = "quarterly (FRED: monthly); one 2009 vintage; release dates estimated"
_TENORS: Final = (
    ("DGS1MO", "1month", "1-month"), ("DGS3MO", "3month", "3-month"), ("DGS6MO", "6month", "6-month"),
    ("DGS1", "1year", "1-year"), ("DGS2", "2year", "2-year"), ("DGS3", "3year", "3-year"),
    ("DGS5", "5year", "5-year"), ("DGS7", "7year", "7-year"), ("DGS10", "10year", "10-year"),
    ("DGS20", "20year", "20-year"), ("DGS30", "30year", "30-year"),
)

_CATALOG: Final[tuple[SeriesInfo, ...]] = (
    SeriesInfo("M1SL", "M1 money stock", "billions of dollars, SA", "monthly", ("M1",), "macro:m1",
               "end-of-quarter M1, " + _QUARTERLY_NOTE, "quarterly"),
    SeriesInfo("M2SL", "M2 money stock", "billions of dollars, SA", "monthly", ("M2",)),
    SeriesInfo("TB3MS", "3-month Treasury bill secondary market rate", "percent", "monthly", ("TBILL", "TBILRATE"),
               "macro:tbilrate", "quarterly average of the monthly rate, " + _QUARTERLY_NOTE, "quarterly"),
    SeriesInfo("CPIAUCSL", "Consumer price index, all urban consumers", "index 1982-84=100, SA", "monthly",
               ("CPI",), "macro:cpi", "end-of-quarter value, " + _QUARTERLY_NOTE, "quarterly"),
    SeriesInfo("UNRATE", "Unemployment rate", "percent, SA", "monthly", ("UNEMP",), "macro:unemp",
               _QUARTERLY_NOTE, "quarterly"),
    SeriesInfo("GDPC1", "Real gross domestic product", "billions of chained 2005 dollars, SAAR", "quarterly",
               ("GDP", "REALGDP"), "macro:realgdp", "one 2009 vintage (chained 2005 dollars); release dates estimated"),
    SeriesInfo("PCECC96", "Real personal consumption expenditures", "billions of chained 2005 dollars, SAAR",
               "quarterly", (), "macro:realcons", "one 2009 vintage; release dates estimated"),
    SeriesInfo("GPDIC1", "Real gross private domestic investment", "billions of chained 2005 dollars, SAAR",
               "quarterly", (), "macro:realinv", "one 2009 vintage; release dates estimated"),
    SeriesInfo("DSPIC96", "Real disposable personal income", "billions of chained 2005 dollars, SAAR",
               "quarterly", (), "macro:realdpi", "one 2009 vintage; release dates estimated"),
    SeriesInfo("CPILFESL", "CPI less food and energy (core CPI)", "index 1982-84=100, SA", "monthly",
               ("CORE_CPI", "CORECPI"), "core_cpi:cpilfesl",
               "a later (revised) vintage; release dates estimated, never early: the end of the next month"),
    *(SeriesInfo(fred_id, f"{label} Treasury constant maturity yield", "percent", "daily", (), f"treasury:{column}",
                 "zipline's copy of the daily H.15 yields, treated as released at 16:00 on the day")
      for fred_id, column, label in _TENORS),
    SeriesInfo("FEDFUNDS", "Effective federal funds rate", "percent", "monthly"),
    SeriesInfo("T10Y2Y", "10-year minus 2-year Treasury yield spread", "percent", "daily"),
    SeriesInfo("PAYEMS", "All employees, total nonfarm", "thousands of persons, SA", "monthly"),
)

_BY_ID: Final = {info.series_id: info for info in _CATALOG}
_ALIASES: Final = {alias: info.series_id for info in _CATALOG for alias in info.aliases}

EMBEDDED_SERIES: Final = tuple(info.series_id for info in _CATALOG if info.embedded)
"""Series ids served offline (the embedded approximations)."""

# Release instant of an embedded value, local New York time on its release date.
_RELEASE_TIME: Final = {"macro": _dt.time(8, 30), "core_cpi": _dt.time(8, 30), "treasury": _dt.time(16, 0)}
# How old the newest value may be before the answer says the embedded copy has ended.
_STALE_AFTER: Final = {"daily": _dt.timedelta(days=10), "monthly": _dt.timedelta(days=75),
                       "quarterly": _dt.timedelta(days=200)}


# --------------------------------------------------------------------------- source choice


def macro_source(source: str | None = None) -> str:
    """Resolve the source: ``"fred"`` or ``"embedded"``.

    ``source`` (or ``$AGENTRT_MACRO_SOURCE`` when None) is ``auto``, ``fred`` or ``embedded``;
    ``auto`` picks ``fred`` when ``FRED_API_KEY`` is set. ``fred`` without a key is an error.
    """
    choice = (source or os.environ.get("AGENTRT_MACRO_SOURCE") or "auto").strip().lower()
    if choice not in ("auto", "fred", "embedded"):
        raise MacroDataError(f"macro source {choice!r} is unknown; use auto, fred or embedded")
    has_key = bool(os.environ.get("FRED_API_KEY", "").strip())
    if choice == "auto":
        return "fred" if has_key else "embedded"
    if choice == "fred" and not has_key:
        raise MacroDataError(
            "the macro source is 'fred' but FRED_API_KEY is not set; get a free key at "
            "https://fred.stlouisfed.org/docs/api/api_key.html and export FRED_API_KEY, "
            "or use the embedded data (AGENTRT_MACRO_SOURCE=embedded)"
        )
    return choice


def _resolve_id(series_id: str) -> str:
    if not isinstance(series_id, str) or not series_id.strip():
        raise MacroDataError("series_id must be a FRED series id such as 'M2SL' or 'DGS10'")
    key = series_id.strip().upper()
    return _ALIASES.get(key, key)


def _check_lookback(lookback: Any) -> int:
    if isinstance(lookback, bool) or not isinstance(lookback, int) or not 1 <= lookback <= MAX_LOOKBACK:
        raise MacroDataError(
            f"lookback must be a whole number of observations from 1 to {MAX_LOOKBACK}, got {lookback!r}"
        )
    return lookback


# --------------------------------------------------------------------------- public functions


def fetch_macro_series(
    series_id: str,
    *,
    as_of: str | _dt.datetime | _dt.date,
    lookback: int = 12,
    source: str | None = None,
) -> dict[str, Any]:
    """The last ``lookback`` values of ``series_id`` released at or before ``as_of``.

    ``as_of`` is the simulated time (aware datetime, date, or ISO string; naive and date-only
    values are read in New York time, a date as its midnight). ``source`` overrides
    ``$AGENTRT_MACRO_SOURCE`` (see :func:`macro_source`). Raises :class:`MacroDataError` for an
    unknown series, an unreachable FRED or bad arguments.
    """
    now = parse_as_of(as_of)
    lookback = _check_lookback(lookback)
    resolved = macro_source(source)
    sid = _resolve_id(series_id)
    if resolved == "fred":
        return _fred_series(sid, now, lookback)
    return _embedded_series(sid, now, lookback, asked=series_id)


def fetch_macro_catalog(*, as_of: str | _dt.datetime | _dt.date, source: str | None = None) -> dict[str, Any]:
    """The series offered by the source; FRED accepts any other FRED id as well."""
    now = parse_as_of(as_of)
    resolved = macro_source(source)
    if resolved == "fred":
        entries = [info.describe("fred") for info in _CATALOG]
        note = "well-known series; any other FRED series id works too"
    else:
        entries = [info.describe("embedded") for info in _CATALOG if info.embedded]
        note = ("embedded real data approximating these FRED ids (no network); "
                "M2SL and other ids need FRED_API_KEY")
    return {"source": resolved, "as_of": now.isoformat(), "series": entries, "note": note}


@agent_tool(name="get_macro_series")
def get_macro_series(series_id: str, lookback: int = 12) -> dict[str, Any]:
    """Economic data series (FRED ids) as known at the simulated time, with release dates.

    Returns the last `lookback` observations that had been published by the simulated
    datetime: {"series_id", "source", "as_of", "title", "units", "frequency",
    "observations": [{"date", "value", "release_date"}, ...]} (oldest first). Values
    published after the simulated time are never returned.

    Args:
        series_id: FRED series id, e.g. M2SL or M1SL (money supply), TB3MS (3-month T-bill
            rate), CPIAUCSL (CPI), CPILFESL (core CPI), UNRATE, GDPC1, DGS2 / DGS10 (Treasury
            yields). list_macro_series shows what is available.
        lookback: How many of the most recent observations to return (1-1000).
    """
    return fetch_macro_series(series_id, as_of=tool_now(), lookback=lookback)


@agent_tool(name="list_macro_series")
def list_macro_series() -> dict[str, Any]:
    """List the economic series get_macro_series can return: id, title, units, frequency."""
    return fetch_macro_catalog(as_of=tool_now())


def macro_tools() -> list[Any]:
    """``[get_macro_series, list_macro_series]`` as agent tools, keyed by the source in use.

    The replay cache identifies a tool by its source code; the source of the data (FRED or
    embedded, chosen by the environment) is added to that identity here, so a run recorded
    offline is never served to a run with ``FRED_API_KEY`` set, or the other way round.
    """
    from agentrt.agents.tool import make_tool

    salt = f"tools.macro source={macro_source()}"
    return [make_tool(fn, extra_hash=salt) for fn in (get_macro_series, list_macro_series)]


# --------------------------------------------------------------------------- embedded backend


@dataclasses.dataclass(frozen=True)
class _Table:
    dates: tuple[str, ...]  # observation period start, ISO
    values: tuple[float, ...]
    release_dates: tuple[str, ...]  # ISO date
    release_ns: tuple[int, ...]  # release instant, epoch ns, ascending


@functools.lru_cache(maxsize=None)
def _embedded_table(series_id: str) -> _Table:
    import math

    import pandas as pd

    from agentrt.data import embedded

    info = _BY_ID[series_id]
    assert info.embedded is not None
    table, column = info.embedded.split(":")
    if table == "macro":
        frame = embedded.load_macro_quarterly()
        starts = frame.index.to_period("Q").start_time
    elif table == "core_cpi":
        frame = embedded.load_core_cpi()
        starts = frame.index
    else:
        frame = embedded.load_treasury_curves()
        starts = frame.index
    values = frame[column].to_numpy(dtype="float64")
    if table == "treasury":
        values = values * 100.0  # decimal fractions -> percent, as FRED publishes them
    release_day = pd.DatetimeIndex(frame["release_date"])
    at = _RELEASE_TIME[table]
    instants = (release_day + pd.Timedelta(hours=at.hour, minutes=at.minute)).tz_localize(MARKET_TZ)
    rows = [
        (start.strftime("%Y-%m-%d"), round(float(value), 4), day.strftime("%Y-%m-%d"), int(ns))
        for start, value, day, ns in zip(starts, values, release_day, instants.asi8, strict=True)
        if not math.isnan(value)
    ]
    rows.sort(key=lambda r: (r[3], r[0]))
    return _Table(
        dates=tuple(r[0] for r in rows),
        values=tuple(r[1] for r in rows),
        release_dates=tuple(r[2] for r in rows),
        release_ns=tuple(r[3] for r in rows),
    )


def _embedded_series(series_id: str, now: _dt.datetime, lookback: int, *, asked: str) -> dict[str, Any]:
    import bisect

    info = _BY_ID.get(series_id)
    if info is None or info.embedded is None:
        known = ", ".join(EMBEDDED_SERIES)
        hint = " (the embedded data has M1SL, quarterly)" if series_id.startswith("M2") else ""
        raise MacroDataError(
            f"series {asked!r} is not in the embedded offline data{hint}; offline series: {known}. "
            "Set FRED_API_KEY to query any FRED series online"
        )
    table = _embedded_table(series_id)
    now_ns = _epoch_ns(now)
    visible = bisect.bisect_right(table.release_ns, now_ns)
    lo = max(0, visible - lookback)
    observations = [
        {"date": table.dates[i], "value": table.values[i], "release_date": table.release_dates[i]}
        for i in range(lo, visible)
    ]
    result = _answer(info, series_id, "embedded", now, observations)
    if not observations:
        result["note"] = f"no value of {series_id} had been released by the simulated time"
    elif now - _parse_day(observations[-1]["release_date"]) > _STALE_AFTER[info.frequency_in("embedded")]:
        result["note"] = (
            f"the embedded copy of {series_id} ends with the value released {observations[-1]['release_date']}; "
            "newer values need FRED (set FRED_API_KEY)"
        )
    return result


# --------------------------------------------------------------------------- FRED backend


def _fred_series(series_id: str, now: _dt.datetime, lookback: int) -> dict[str, Any]:
    import httpx

    day = now.date().isoformat()
    base = (os.environ.get("FRED_API_BASE") or FRED_DEFAULT_BASE).rstrip("/")
    params = {
        "series_id": series_id,
        "api_key": os.environ.get("FRED_API_KEY", "").strip(),
        "file_type": "json",
        "realtime_start": day,
        "realtime_end": day,
        "observation_end": day,
        "sort_order": "desc",
        "limit": str(min(100_000, lookback * 2 + 10)),  # room for missing values (".")
    }
    try:
        with httpx.Client(timeout=_HTTP_TIMEOUT_S, transport=httpx.HTTPTransport(retries=2)) as client:
            response = client.get(f"{base}/series/observations", params=params)
    except httpx.HTTPError as exc:
        # never echo the request URL: it carries the API key
        raise MacroDataError(f"could not reach FRED at {base} for {series_id}: {type(exc).__name__}") from None
    payload = _json_or_none(response)
    if response.status_code != 200:
        message = payload.get("error_message") if isinstance(payload, dict) else None
        raise MacroDataError(
            f"FRED answered HTTP {response.status_code} for series {series_id}: "
            f"{(message or response.reason_phrase or 'no message').strip()}"
        )
    if not isinstance(payload, dict) or not isinstance(payload.get("observations"), list):
        raise MacroDataError(f"FRED sent an unexpected answer for {series_id} (no 'observations' list)")
    rows = []
    for item in payload["observations"]:
        if not isinstance(item, dict):
            continue
        date = str(item.get("date", ""))[:10]
        released = str(item.get("realtime_start", ""))[:10]
        # point in time by construction: whatever the server sends, nothing dated or released later
        if len(date) != 10 or len(released) != 10 or date > day or released > day:
            continue
        try:
            value = float(item.get("value"))
        except (TypeError, ValueError):
            continue  # FRED writes "." for a missing value
        if value != value:  # NaN
            continue
        rows.append({"date": date, "value": value, "release_date": released})
    rows.sort(key=lambda r: r["date"])
    observations = rows[-lookback:]
    info = _BY_ID.get(series_id) or SeriesInfo(series_id, "", str(payload.get("units") or ""), "")
    result = _answer(info, series_id, "fred", now, observations)
    if not observations:
        result["note"] = f"FRED had published no value of {series_id} by the simulated date"
    return result


def _json_or_none(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# --------------------------------------------------------------------------- helpers


def _answer(info: SeriesInfo, series_id: str, source: str, now: _dt.datetime,
            observations: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"series_id": series_id, "source": source, "as_of": now.isoformat()}
    if info.title:
        out["title"] = info.title
    if info.units:
        out["units"] = info.units
    if info.frequency_in(source):
        out["frequency"] = info.frequency_in(source)
    out["observations"] = observations
    return out


def _epoch_ns(moment: _dt.datetime) -> int:
    delta = moment - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _parse_day(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text).replace(tzinfo=MARKET_TZ)
