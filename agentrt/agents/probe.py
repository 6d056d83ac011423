"""Replay probes: find a recorded run from its raw inputs, without rendering its key.

A run key (:class:`~agentrt.agents.caching.RunKeyer`) is the hash of canonical JSON: the
state snapshot and the data fingerprint rendered as text (times in ISO 8601, money to the
cent, one digest string per symbol). Rendering and hashing that text every bar costs more
than everything else a cache hit does. A *probe* is the raw inputs the text is rendered
from instead, in two parts:

- the *surface*: a hash of what is fixed between runs with the same task and context
  (the agent's static key text: runtime, model, prompt, tool surface; the host's static
  inputs: time zone, data source and symbols; the task and context);
- the *inputs*: bytes packed by the host each run, with fixed widths and length prefixes so
  two different inputs never pack alike: the simulated time in nanoseconds, the visible
  market data (count and a running digest (two 64-bit sums) of every bar closed by now, see
  :meth:`MarketData.probe_timeline`), cash, each position, each open order, and the
  portfolio value unless the positions' prices already follow from the data.

The key is a function of exactly these, so equal probes mean equal keys
(``tests/replay/test_probes.py`` checks it on randomly trading backtests). The cache
indexes each recorded run under its probe (``run_probes``); a rerun fetches the index once
per surface and finds each run by comparing bytes, never hashing on a hit. A probe it does
not know (changed state, another version, a cache written before probes) takes the long
way: render the key, look it up, and index the probe for next time.

Hosts opt in with ``_agent_probe_source()`` returning ``(static bytes, dynamic)``, where
``dynamic()`` packs the inputs now (or returns None when it cannot vouch for them: the run
then takes the long way); a backtest :class:`~agentrt.Strategy` on the simulated
broker does, other hosts (live brokers, custom hosts) always take the long way.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from typing import Any

__all__ = ["PROBE_VERSION", "RunProber", "host_prober", "pack_text", "probe_id"]

PROBE_VERSION = 1
"""Version of the probe packing; part of every probe, so a new packing never matches an old one."""

_LEN = struct.Struct("<I").pack


def pack_text(text: str | bytes) -> bytes:
    """``text`` with its length in front (so concatenations stay unambiguous)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return _LEN(len(data)) + data


class RunProber:
    """Probes of one agent's runs on one host: ``(surface, inputs)``.

    The *surface* is the hash of everything fixed between runs with the same task and
    context (the agent's static key text, the host's static inputs, task and context); the
    *inputs* are the host's packed raw inputs now, compared as bytes, never hashed on a hit.
    ``static_text`` is :attr:`RunKeyer.static_text`, ``host_static`` and ``dynamic`` come
    from the host's ``_agent_probe_source()``.
    """

    __slots__ = ("_base", "_plain", "inputs", "_last")

    def __init__(self, static_text: str, host_static: bytes, dynamic: Callable[[], bytes | None]) -> None:
        base = hashlib.sha256(f"agentrt-probe/{PROBE_VERSION}\n".encode())
        base.update(pack_text(static_text))
        base.update(pack_text(host_static))
        self._base = base
        plain = base.copy()
        plain.update(b"\x00")
        self._plain = "sha256:" + plain.hexdigest()
        self.inputs: Callable[[], bytes | None] = dynamic
        """The packed raw inputs now (None: this run has no probe)."""
        self._last: tuple[Any, str] = (None, "")

    def surface(self, task: str | None, context_json: Any) -> str:
        """The surface of a run with ``task`` and ``context_json`` (the JSON form of the context)."""
        if task is None and context_json is None:
            return self._plain
        from agentrt.replay.hashing import canonical_json

        text = canonical_json([task, context_json])
        last = self._last
        if last[0] == text:
            return last[1]
        h = self._base.copy()
        h.update(b"\x01" + pack_text(text))
        surface = "sha256:" + h.hexdigest()
        self._last = (text, surface)
        return surface


def probe_id(surface: str, inputs: bytes) -> str:
    """The id a probe is stored under: the hash of its surface and inputs (``verify`` recomputes it)."""
    return "sha256:" + hashlib.sha256(pack_text(surface) + inputs).hexdigest()


def host_prober(host: Any, static_text: str) -> RunProber | None:
    """A :class:`RunProber` for ``host``, or None when the host cannot pack its inputs."""
    source = getattr(host, "_agent_probe_source", None)
    got = source() if source is not None else None
    if got is None:
        return None
    host_static, dynamic = got
    return RunProber(static_text, host_static, dynamic)
