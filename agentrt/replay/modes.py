"""Replay modes: what the runtime does with the cache, chosen explicitly or by ``AGENTRT_REPLAY``.

=========  ===============  ===============  ==================================================
mode       serves hits      writes entries   on a miss
=========  ===============  ===============  ==================================================
off        no               no               runs the agent, stores nothing
record     yes              yes              runs the agent and stores the run (the default)
replay     yes              no               runs the agent, leaves the cache untouched
strict     yes              no               raises :class:`ReplayMissError` (for CI)
refresh    no               yes (replaces)   always runs the agent and overwrites the entry
=========  ===============  ===============  ==================================================

Live runs never serve from the cache: wall-clock decisions must be made fresh, so in a
live run every mode that would serve a hit behaves as record-only (``record`` still
stores, ``strict`` does not fail). The runtime asks :meth:`ReplayMode.serves_from_cache`
and :meth:`ReplayMode.raises_on_miss` instead of branching on the mode itself.
"""

from __future__ import annotations

import difflib
import enum
import os
from collections.abc import Sequence
from datetime import datetime

__all__ = ["ENV_VAR", "ReplayMissError", "ReplayMode", "resolve_mode"]

ENV_VAR = "AGENTRT_REPLAY"
"""Environment variable read by :func:`resolve_mode` when no mode is given explicitly."""


class ReplayMode(enum.Enum):
    """How an agent run uses the replay cache (see the module docstring for the table)."""

    OFF = "off"
    RECORD = "record"
    REPLAY = "replay"
    STRICT = "strict"
    REFRESH = "refresh"

    @classmethod
    def parse(cls, value: str | ReplayMode, *, source: str = "replay mode") -> ReplayMode:
        """Parse a case-insensitive mode name; an unknown name raises ``ValueError``.

        The error lists the valid names and suggests the closest one. ``source`` names where
        the value came from (for example ``"AGENTRT_REPLAY"``) so the message can say so.
        """
        if isinstance(value, ReplayMode):
            return value
        text = str(value).strip().lower()
        for mode in cls:
            if mode.value == text:
                return mode
        valid = [mode.value for mode in cls]
        hint = difflib.get_close_matches(text, valid, n=1, cutoff=0.5)
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ValueError(
            f"unknown {source} {value!r}; expected one of: {', '.join(valid)}.{suggestion}"
        )

    @property
    def reads_cache(self) -> bool:
        """Whether this mode looks entries up at all (``replay``, ``record``, ``strict``)."""
        return self in (ReplayMode.RECORD, ReplayMode.REPLAY, ReplayMode.STRICT)

    @property
    def writes_cache(self) -> bool:
        """Whether this mode stores the runs it makes (``record``, ``refresh``)."""
        return self in (ReplayMode.RECORD, ReplayMode.REFRESH)

    def serves_from_cache(self, live: bool) -> bool:
        """Whether a hit may replace running the agent; never in a live run."""
        return self.reads_cache and not live

    def raises_on_miss(self, live: bool) -> bool:
        """Whether a miss is an error (``strict`` in a backtest); never in a live run."""
        return self is ReplayMode.STRICT and not live


def resolve_mode(explicit: str | ReplayMode | None, *, live: bool) -> ReplayMode:
    """Return the mode to use: ``explicit`` if given, else ``$AGENTRT_REPLAY``, else ``record``.

    ``live`` does not change the mode itself; it is taken so callers state the context, and
    the returned mode's :meth:`ReplayMode.serves_from_cache` applies the live downgrade.
    """
    del live  # the downgrade lives on the mode so the runtime asks one place
    if explicit is not None:
        return ReplayMode.parse(explicit)
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return ReplayMode.parse(from_env, source=f"{ENV_VAR} value")
    return ReplayMode.RECORD


class ReplayMissError(Exception):
    """A cache miss in strict mode; ``reasons`` says which inputs changed."""

    def __init__(
        self,
        *,
        agent: str,
        sim_time: str | datetime,
        reasons: Sequence[str],
        key: str | None = None,
    ) -> None:
        self.agent = agent
        self.sim_time = sim_time.isoformat() if isinstance(sim_time, datetime) else sim_time
        self.reasons: list[str] = list(reasons)
        self.key = key
        why = "; ".join(self.reasons) if self.reasons else "no reason could be determined"
        key_text = f" (key {key})" if key else ""
        super().__init__(
            f"replay cache miss in strict mode for agent {agent!r} at {self.sim_time}"
            f"{key_text}: {why}. Strict mode fails on every miss so CI can prove a run is "
            f"fully cached; record the missing runs first (mode 'record', e.g. "
            f"{ENV_VAR}=record) or undo the change named above"
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only __init__ breaks the default exception pickling used across processes.
        return (_rebuild_miss_error, (self.agent, self.sim_time, self.reasons, self.key))


def _rebuild_miss_error(
    agent: str, sim_time: str, reasons: list[str], key: str | None
) -> ReplayMissError:
    return ReplayMissError(agent=agent, sim_time=sim_time, reasons=reasons, key=key)
