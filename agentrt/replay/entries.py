"""Value objects read from and reported by the replay cache: entries, verify and merge reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from agentrt.replay._files import ReplayStoreError

__all__ = [
    "CallEntry",
    "MergeConflict",
    "MergeReport",
    "RunEntry",
    "VerifyProblem",
    "VerifyReport",
]


@dataclass(frozen=True)
class RunEntry:
    """One cached agent run. ``result``, ``events`` and ``orders`` come back in their JSON
    form (Decimals and datetimes as strings).

    ``material`` (the dict the key was hashed from) is parsed from ``material_json`` only
    when first read: a cache hit does not need it, and it is the largest column.
    """

    key: str
    agent: str
    sim_time: str
    model: str | None
    material_json: str
    result: dict[str, Any]
    events_json: str
    orders: list[Any]
    trace_path: str | None
    created_at: str
    runtime_version: str | None
    value_hash: str

    @cached_property
    def events(self) -> list[Any]:
        """The run's ordered events, parsed from ``events_json`` on first read (a hit rarely needs them)."""
        try:
            events: list[Any] = json.loads(self.events_json)
        except ValueError as exc:
            raise ReplayStoreError(
                f"the events of run {self.key} are unreadable ({exc}); run "
                "`agentrt cache verify` to move damaged rows to quarantine"
            ) from exc
        return events

    @cached_property
    def material(self) -> dict[str, Any]:
        """The key material, parsed from ``material_json``."""
        try:
            material: dict[str, Any] = json.loads(self.material_json)
        except ValueError as exc:
            raise ReplayStoreError(
                f"the key material of run {self.key} is unreadable ({exc}); run "
                "`agentrt cache verify` to move damaged rows to quarantine"
            ) from exc
        return material


@dataclass(frozen=True)
class CallEntry:
    """One cached model call or external tool call; ``request`` is what the key hashes."""

    key: str
    kind: str
    name: str
    sim_time: str | None
    request: Any
    response: Any
    created_at: str
    value_hash: str


@dataclass(frozen=True)
class VerifyProblem:
    """A row that failed verification: which table, which key, and why."""

    table: str
    key: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of :meth:`ReplayStore.verify`.

    ``integrity`` is SQLite's own ``PRAGMA quick_check`` answer (``"ok"`` when the file is
    sound); ``quarantined`` counts the rows moved to the ``quarantine`` table.
    """

    path: str
    checked_runs: int
    checked_calls: int
    problems: tuple[VerifyProblem, ...]
    quarantined: int
    integrity: str
    checked_probes: int = 0
    """Rows of the probe index (``run_probes``) checked against their runs."""

    @property
    def ok(self) -> bool:
        """True when every row verified and SQLite found the file sound."""
        return not self.problems and self.integrity == "ok"


@dataclass(frozen=True)
class MergeConflict:
    """The same key holds different values here and in the merged file; the local one was kept."""

    table: str
    key: str
    local_value_hash: str
    other_value_hash: str


@dataclass(frozen=True)
class MergeReport:
    """Outcome of :meth:`ReplayStore.merge`.

    ``invalid`` lists rows of the other file that failed verification and were not copied.
    """

    source: str
    runs_added: int
    calls_added: int
    runs_identical: int
    calls_identical: int
    conflicts: tuple[MergeConflict, ...]
    invalid: tuple[VerifyProblem, ...]
    probes_added: int = 0
    """Probe index rows copied (they point to runs now in this cache; not counted in ``added``)."""

    @property
    def added(self) -> int:
        """Runs plus calls copied into this cache."""
        return self.runs_added + self.calls_added
