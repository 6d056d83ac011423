"""ReplayStore basics: where the file lives, put/get round trips, stats, clear, bad files."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agentrt.replay.entries import CallEntry, RunEntry
from agentrt.replay.hashing import content_hash
from agentrt.replay.store import (
    CACHE_DIR_ENV,
    ReplayStore,
    ReplayStoreError,
    default_cache_dir,
    resolve_cache_file,
)

Material = Callable[..., dict[str, Any]]
Record = Callable[..., str]


def test_store_file_is_replay_sqlite_inside_the_given_folder(tmp_path: Path) -> None:
    with ReplayStore(tmp_path / "new" / "folder") as store:
        assert store.path == tmp_path / "new" / "folder" / "replay.sqlite"
    assert store.path.is_file()


def test_store_folder_comes_from_env_when_no_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "from-env"))
    with ReplayStore() as store:
        assert store.path == tmp_path / "from-env" / "replay.sqlite"


def test_default_cache_dir_is_the_user_cache_dir_without_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "agentrt"


def test_a_sqlite_file_path_is_used_as_the_cache_file(tmp_path: Path) -> None:
    assert resolve_cache_file(tmp_path / "shared.sqlite") == tmp_path / "shared.sqlite"
    assert resolve_cache_file(tmp_path) == tmp_path / "replay.sqlite"


def test_put_run_then_get_run_returns_the_stored_entry(
    store: ReplayStore, make_material: Material
) -> None:
    material = make_material(**{"state.cash": Decimal("99.50")})
    key = store.run_key(material)
    when = datetime(2024, 1, 2, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    store.put_run(
        key,
        material=material,
        agent="trader",
        sim_time=when,
        model="scripted",
        result={"summary": "hold", "cost": 0.25, "tool_calls": [{"name": "get_quote"}]},
        events=[{"kind": "decision", "at": when}],
        orders=[],
        trace_path=Path("traces/run-1.json"),
    )
    entry = store.get_run(key)
    assert isinstance(entry, RunEntry)
    assert entry.key == key
    assert (entry.agent, entry.sim_time, entry.model) == (
        "trader",
        "2024-01-02T16:00:00-05:00",
        "scripted",
    )
    assert entry.material["state"]["cash"] == "99.50"
    assert entry.result == {"summary": "hold", "cost": 0.25, "tool_calls": [{"name": "get_quote"}]}
    assert entry.events == [{"kind": "decision", "at": "2024-01-02T16:00:00-05:00"}]
    assert entry.orders == []
    assert entry.trace_path == os.path.join("traces", "run-1.json")
    assert entry.runtime_version == "0.1.0"
    assert entry.value_hash.startswith("sha256:")
    assert entry.created_at


def test_get_run_of_an_unknown_key_is_none(store: ReplayStore) -> None:
    assert store.get_run(content_hash({"nothing": True})) is None
    assert store.get_call(content_hash({"nothing": True})) is None


def test_put_run_refuses_a_key_that_is_not_the_hash_of_the_material(
    store: ReplayStore, make_material: Material
) -> None:
    with pytest.raises(ValueError, match=r"does not match its key material.*run_key\(material\)"):
        store.put_run(
            content_hash("other"),
            material=make_material(),
            agent="trader",
            sim_time="2024-01-02",
            model=None,
            result={},
            events=[],
            orders=[],
        )


def test_put_run_again_replaces_the_entry_for_refresh_mode(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    key = record_run(store, make_material(), result={"summary": "first"})
    record_run(store, make_material(), result={"summary": "second"})
    entry = store.get_run(key)
    assert entry is not None and entry.result == {"summary": "second"}
    assert store.stats()["runs"]["total"] == 1


def test_put_run_is_visible_to_another_connection_at_once(
    tmp_path: Path, make_material: Material, record_run: Record
) -> None:
    with ReplayStore(tmp_path) as writer, ReplayStore(tmp_path) as reader:
        key = record_run(writer, make_material())
        assert reader.get_run(key) is not None


def test_put_call_then_get_call_returns_the_stored_entry(store: ReplayStore) -> None:
    request = {"model": "scripted", "messages": [{"role": "user", "content": "hi"}]}
    key = store.call_key(request)
    store.put_call(
        key,
        kind="model",
        name="scripted",
        sim_time="2024-01-02T16:00:00-05:00",
        request=request,
        response={"text": "buy", "usage": {"output_tokens": 3}},
    )
    entry = store.get_call(key)
    assert isinstance(entry, CallEntry)
    assert (entry.kind, entry.name, entry.sim_time) == (
        "model",
        "scripted",
        "2024-01-02T16:00:00-05:00",
    )
    assert entry.request == request
    assert entry.response == {"text": "buy", "usage": {"output_tokens": 3}}


def test_put_call_rejects_an_unknown_kind(store: ReplayStore) -> None:
    with pytest.raises(ValueError, match=r"call kind must be one of model, tool, got 'mcp'"):
        store.put_call(
            store.call_key({}), kind="mcp", name="x", sim_time=None, request={}, response={}
        )


def test_stats_counts_runs_by_agent_and_calls_by_kind_and_name(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    record_run(store, make_material())
    record_run(store, make_material(task="other"))
    record_run(store, make_material(agent="analyst"))
    for i, (kind, name) in enumerate(
        [("model", "scripted"), ("tool", "get_fred"), ("tool", "get_fred")]
    ):
        store.put_call(
            store.call_key({"i": i}),
            kind=kind,
            name=name,
            sim_time=None,
            request={"i": i},
            response=i,
        )
    stats = store.stats()
    assert stats["runs"]["total"] == 3
    assert stats["runs"]["by_agent"] == {"analyst": 1, "trader": 2}
    assert stats["calls"]["total"] == 3
    assert stats["calls"]["by_kind"] == {"model": 1, "tool": 2}
    assert stats["calls"]["by_name"] == {"model": {"scripted": 1}, "tool": {"get_fred": 2}}
    assert stats["runs"]["oldest"] <= stats["runs"]["newest"]
    assert stats["size_bytes"] > 0
    assert stats["schema_version"] == 4
    assert stats["quarantined"] == 0


def test_clear_by_agent_deletes_only_that_agents_runs_and_keeps_calls(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    kept = record_run(store, make_material(agent="analyst"))
    record_run(store, make_material())
    record_run(store, make_material(task="again"))
    store.put_call(store.call_key(1), kind="tool", name="t", sim_time=None, request=1, response=2)
    assert store.clear(agent="trader") == 2
    assert store.stats()["runs"]["by_agent"] == {"analyst": 1}
    assert store.get_run(kept) is not None
    assert store.stats()["calls"]["total"] == 1


def test_clear_before_compares_sim_times_as_instants(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    times = ["2024-01-02T16:00:00-05:00", "2024-01-03T16:00:00-05:00", "2024-07-01T16:00:00-04:00"]
    keys = [record_run(store, make_material(**{"state.sim_time": t}), sim_time=t) for t in times]
    for i, t in enumerate(times):
        store.put_call(store.call_key(i), kind="tool", name="t", sim_time=t, request=i, response=i)
    # 2024-01-03T21:00Z is 16:00 in New York: the second run is not before it.
    assert store.clear(before="2024-01-03T21:00:00+00:00") == 2
    assert [store.get_run(k) is not None for k in keys] == [False, True, True]
    assert store.stats()["calls"]["total"] == 2


def test_clear_with_agent_and_before_needs_both_to_match(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    early, late = "2024-01-02T16:00:00-05:00", "2024-02-02T16:00:00-05:00"
    record_run(store, make_material(**{"state.sim_time": early}), sim_time=early)
    record_run(store, make_material(**{"state.sim_time": late}), sim_time=late)
    record_run(store, make_material(agent="analyst"), sim_time=early)
    assert store.clear(agent="trader", before=datetime(2024, 1, 15)) == 1
    assert store.stats()["runs"]["by_agent"] == {"analyst": 1, "trader": 1}


def test_clear_without_filters_empties_runs_and_calls(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    record_run(store, make_material())
    store.put_call(store.call_key(1), kind="tool", name="t", sim_time=None, request=1, response=2)
    assert store.clear() == 2
    assert store.stats()["runs"]["total"] == store.stats()["calls"]["total"] == 0


def test_clear_before_rejects_a_value_that_is_not_iso_8601(store: ReplayStore) -> None:
    with pytest.raises(ValueError, match=r"before='last week' is not an ISO 8601"):
        store.clear(before="last week")


def test_a_corrupt_file_gives_a_clear_error_and_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "replay.sqlite"
    garbage = b"this is not a database, but it is somebody's data\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(ReplayStoreError) as info:
        ReplayStore(tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert "not a readable SQLite replay cache" in message
    assert "Move it away" in message
    assert "agentrt cache verify" in message
    assert path.read_bytes() == garbage
    assert sorted(os.listdir(tmp_path)) == ["replay.sqlite"]


def test_an_unreadable_row_raises_a_store_error_pointing_at_verify(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    key = record_run(store, make_material())
    store.db.execute("UPDATE runs SET result = '{broken' WHERE key = ?", [key])
    with pytest.raises(ReplayStoreError, match=r"runs entry sha256:.* is unreadable.*cache verify"):
        store.get_run(key)


def test_run_material_is_parsed_on_first_read_and_damage_points_at_verify(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    key = record_run(store, make_material())
    entry = store.get_run(key)
    assert entry is not None and entry.material == make_material()
    store.db.execute("UPDATE runs SET material = '{\"v\": ' WHERE key = ?", [key])
    damaged = store.get_run(key)
    assert damaged is not None and damaged.result["summary"] == "buy 10 SPY"
    with pytest.raises(ReplayStoreError, match=r"key material of run sha256:.*cache verify"):
        damaged.material  # noqa: B018


def test_a_closed_store_says_it_is_closed(tmp_path: Path) -> None:
    store = ReplayStore(tmp_path)
    store.close()
    store.close()
    with pytest.raises(ReplayStoreError, match=r"is closed; open a new ReplayStore"):
        store.get_run("sha256:00")
