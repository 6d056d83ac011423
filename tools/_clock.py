"""The simulated "now" of a tool call: from the running agent, or an explicit ``as_of`` value.

Tool packs never read the wall clock. An ``@agent_tool`` asks the agent runtime for the
simulated time of the run that called it (:func:`tool_now`); plain functions and MCP tools
take it as an ``as_of`` argument (:func:`parse_as_of`). Both return a timezone-aware datetime in
America/New_York, the time zone of the NYSE sessions the embedded data follows.
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo

__all__ = ["MARKET_TZ", "parse_as_of", "tool_now"]

MARKET_TZ = ZoneInfo("America/New_York")
"""Time zone in which naive times and release hours are read."""


def parse_as_of(value: str | _dt.datetime | _dt.date) -> _dt.datetime:
    """Read an ``as_of`` time: an aware or naive datetime, a date, or an ISO 8601 string.

    Naive values are read in America/New_York. A bare date means the START of that day
    (00:00 New York time), the conservative reading: nothing released later that day is visible.
    """
    if isinstance(value, _dt.datetime):
        moment = value
    elif isinstance(value, _dt.date):
        moment = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("as_of is empty; give the simulated datetime, e.g. '2008-03-14T16:00:00-04:00'")
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = _dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"as_of {value!r} is not an ISO 8601 date or datetime; "
                "give the simulated datetime, e.g. '2008-03-14T16:00:00-04:00' or '2008-03-14'"
            ) from None
    else:
        raise TypeError(f"as_of must be a datetime, a date or an ISO string, got {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=MARKET_TZ)
    return moment.astimezone(MARKET_TZ)


def tool_now() -> _dt.datetime:
    """The simulated time of the agent run whose tool is executing (America/New_York).

    Raises ``RuntimeError`` outside an agent tool call: call the plain ``fetch_*`` function
    with an explicit ``as_of`` instead.
    """
    from agentrt.agents.tool import current_tool_context

    try:
        sim_time = current_tool_context().sim_time
    except RuntimeError:
        raise RuntimeError(
            "this agent tool reads the simulated time of the agent run that calls it and was called "
            "outside one; call the matching fetch_* function with as_of=... instead"
        ) from None
    return parse_as_of(sim_time)
