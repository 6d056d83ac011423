"""verify(): re-derives keys and value hashes, reports damaged rows, moves them to quarantine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from agentrt.replay.hashing import content_hash
from agentrt.replay.store import ReplayStore

Material = Callable[..., dict[str, Any]]
Record = Callable[..., str]


def _quarantine(store: ReplayStore) -> list[dict[str, Any]]:
    return list(store.db.query("SELECT table_name, key, row, reason FROM quarantine ORDER BY id"))


def test_verify_of_a_sound_cache_is_ok_and_moves_nothing(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    record_run(store, make_material())
    store.put_call(
        store.call_key({"q": 1}),
        kind="tool",
        name="t",
        sim_time=None,
        request={"q": 1},
        response=[1],
    )
    report = store.verify()
    assert report.ok
    assert (report.checked_runs, report.checked_calls, report.quarantined) == (1, 1, 0)
    assert report.integrity == "ok"


def test_verify_quarantines_a_row_whose_json_does_not_parse(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    good = record_run(store, make_material())
    bad = record_run(store, make_material(task="other"))
    store.db.execute("UPDATE runs SET events = '[{\"kind\": ' WHERE key = ?", [bad])

    report = store.verify()

    assert not report.ok
    assert [(p.table, p.key) for p in report.problems] == [("runs", bad)]
    assert "column events is not valid JSON" in report.problems[0].reason
    assert report.quarantined == 1
    assert store.get_run(bad) is None
    assert store.get_run(good) is not None
    [moved] = _quarantine(store)
    assert (moved["table_name"], moved["key"]) == ("runs", bad)
    # The damaged text is kept verbatim: nothing is lost.
    assert json.loads(moved["row"])["events"] == '[{"kind": '
    assert store.verify().ok


def test_verify_quarantines_a_row_whose_value_was_tampered_with(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    key = record_run(store, make_material())
    store.db.execute("UPDATE runs SET orders = '[]' WHERE key = ?", [key])

    report = store.verify()

    assert [p.key for p in report.problems] == [key]
    assert "value_hash does not match the hash of its values" in report.problems[0].reason
    assert store.get_run(key) is None
    assert json.loads(_quarantine(store)[0]["row"])["orders"] == "[]"


def test_verify_catches_a_key_that_no_longer_matches_its_material(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    key = record_run(store, make_material())
    store.db.execute(
        "UPDATE runs SET material = ? WHERE key = ?",
        [json.dumps(make_material(system_prompt="edited by hand")), key],
    )
    [problem] = store.verify().problems
    assert problem.reason.startswith("key does not match the hash of its material")


def test_verify_checks_calls_and_reports_unknown_hash_algorithms(store: ReplayStore) -> None:
    key = store.call_key({"q": 1})
    store.put_call(key, kind="model", name="m", sim_time=None, request={"q": 1}, response="hi")
    store.db.execute("UPDATE calls SET value_hash = 'b3:1234' WHERE key = ?", [key])
    [problem] = store.verify().problems
    assert (problem.table, problem.key) == ("calls", key)
    assert (
        "value_hash cannot be checked: hash 'b3:1234'... uses unknown algorithm" in problem.reason
    )
    assert store.get_call(key) is None


def test_verify_without_quarantine_only_reports(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    key = record_run(store, make_material())
    store.db.execute("UPDATE runs SET result = 'not json' WHERE key = ?", [key])
    report = store.verify(quarantine=False)
    assert len(report.problems) == 1
    assert report.quarantined == 0
    assert _quarantine(store) == []
    assert store.db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_value_hash_written_by_put_equals_the_hash_verify_re_derives(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    key = record_run(store, make_material())
    entry = store.get_run(key)
    assert entry is not None
    value = {"result": entry.result, "events": entry.events, "orders": entry.orders}
    assert entry.value_hash == content_hash(value)
    call_key = store.call_key({"q": 1})
    store.put_call(call_key, kind="tool", name="t", sim_time=None, request={"q": 1}, response=[1.5])
    call = store.get_call(call_key)
    assert call is not None and call.value_hash == content_hash({"response": [1.5]})
