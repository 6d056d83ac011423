"""Shared factories for the replay cache tests: key material in the runtime's layout, stores."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentrt.replay.store import ReplayStore

SIM_TIME = "2024-01-02T16:00:00-05:00"

BASE_MATERIAL: dict[str, Any] = {
    "v": 1,
    "runtime_version": "0.1.0",
    "base_prompt_version": "1",
    "agent": "trader",
    "model": {"name": "scripted", "settings": {"temperature": 0.0, "max_tokens": 512}},
    "system_prompt": "You trade SPY. Buy when the trend is up.",
    "task": "Decide today's SPY position.",
    "context": {"lookback": 20, "symbol": "SPY"},
    "state": {
        "sim_time": SIM_TIME,
        "cash": "100000.00",
        "portfolio_value": "100000.00",
        "positions": [],
        "open_orders": [],
    },
    "tools": [
        {
            "name": "get_quote",
            "kind": "builtin",
            "schema": {"type": "object", "properties": {"symbol": {"type": "string"}}},
            "source_hash": None,
            "server": None,
        },
        {
            "name": "get_fred",
            "kind": "custom",
            "schema": {"type": "object", "properties": {"series": {"type": "string"}}},
            "source_hash": "sha256:aaaa",
            "server": None,
        },
    ],
}


def _make_material(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE_MATERIAL; ``changes`` maps dotted paths to new values."""
    material = copy.deepcopy(BASE_MATERIAL)
    for dotted, value in changes.items():
        target = material
        *parents, last = dotted.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return material


def _record_run(store: ReplayStore, material: dict[str, Any], **overrides: Any) -> str:
    """Store a run for ``material`` with a small result; returns its key."""
    key = store.run_key(material)
    fields: dict[str, Any] = {
        "material": material,
        "agent": material["agent"],
        "sim_time": material["state"]["sim_time"],
        "model": material["model"]["name"],
        "result": {"summary": "buy 10 SPY", "usage": {"input_tokens": 120}, "cost": 0.0012},
        "events": [{"kind": "model_call", "n": 1}, {"kind": "tool_call", "name": "get_quote"}],
        "orders": [{"symbol": "SPY", "side": "buy", "quantity": "10", "type": "market"}],
    }
    fields.update(overrides)
    store.put_run(key, **fields)
    return key


@pytest.fixture
def make_material() -> Callable[..., dict[str, Any]]:
    """``make_material(**{"model.settings.temperature": 0.7})`` -> material dict."""
    return _make_material


@pytest.fixture
def record_run() -> Callable[..., str]:
    """``record_run(store, material, **put_run_overrides)`` -> key."""
    return _record_run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ReplayStore]:
    with ReplayStore(tmp_path / "cache") as opened:
        yield opened
