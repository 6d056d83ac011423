"""Content-hashed SQLite replay cache of agent runs and model/tool calls.

A run is addressed by the hash of canonical JSON of everything its answer depends on
(model and settings, prompts, context, point-in-time state, tool surface, runtime
version), so a rerun with the same inputs is served from the cache, and a miss can say
which input changed. Parts:

- :mod:`~agentrt.replay.hashing` -- canonical JSON and ``sha256:``-prefixed hashes;
- :mod:`~agentrt.replay.store` -- :class:`ReplayStore`, the SQLite file (sqlite-utils);
- :mod:`~agentrt.replay.migrations` -- the ordered schema migrations;
- :mod:`~agentrt.replay.reasons` -- :func:`diff_material`, the miss reasons;
- :mod:`~agentrt.replay.modes` -- :class:`ReplayMode` and :class:`ReplayMissError`;
- :mod:`~agentrt.replay.report` -- :class:`ReplayCounters` for run summaries.

Names are imported lazily: ``sqlite_utils`` pulls in pandas, so the store and migrations
load only when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentrt.replay.entries import (
        CallEntry,
        MergeConflict,
        MergeReport,
        RunEntry,
        VerifyProblem,
        VerifyReport,
    )
    from agentrt.replay.hashing import ALGORITHM, canonical_json, content_hash, verify_hash
    from agentrt.replay.migrations import SCHEMA_VERSION
    from agentrt.replay.modes import ReplayMissError, ReplayMode, resolve_mode
    from agentrt.replay.reasons import diff_material
    from agentrt.replay.report import ReplayCounters
    from agentrt.replay.store import ReplayStore, ReplayStoreError, default_cache_dir

_EXPORTS: dict[str, str] = {
    "ALGORITHM": "hashing",
    "canonical_json": "hashing",
    "content_hash": "hashing",
    "verify_hash": "hashing",
    "CallEntry": "entries",
    "MergeConflict": "entries",
    "MergeReport": "entries",
    "RunEntry": "entries",
    "VerifyProblem": "entries",
    "VerifyReport": "entries",
    "SCHEMA_VERSION": "migrations",
    "ReplayMissError": "modes",
    "ReplayMode": "modes",
    "resolve_mode": "modes",
    "diff_material": "reasons",
    "ReplayCounters": "report",
    "ReplayStore": "store",
    "ReplayStoreError": "store",
    "default_cache_dir": "store",
}

__all__ = [
    "ALGORITHM",
    "SCHEMA_VERSION",
    "CallEntry",
    "MergeConflict",
    "MergeReport",
    "ReplayCounters",
    "ReplayMissError",
    "ReplayMode",
    "ReplayStore",
    "ReplayStoreError",
    "RunEntry",
    "VerifyProblem",
    "VerifyReport",
    "canonical_json",
    "content_hash",
    "default_cache_dir",
    "diff_material",
    "resolve_mode",
    "verify_hash",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentrt.replay' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agentrt.replay.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
