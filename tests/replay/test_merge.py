"""merge(): union of two caches, conflicts reported and kept local, the other file untouched."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentrt.replay.store import ReplayStore, ReplayStoreError

Material = Callable[..., dict[str, Any]]
Record = Callable[..., str]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_merge_copies_missing_entries_skips_identical_and_reports_conflicts(
    tmp_path: Path, make_material: Material, record_run: Record
) -> None:
    shared, only_theirs, contested = (
        make_material(task="shared"),
        make_material(task="theirs"),
        make_material(task="contested"),
    )
    request = {"tool": "get_fred", "args": {"series": "CPI"}}
    with ReplayStore(tmp_path / "theirs") as theirs:
        record_run(theirs, shared)
        theirs_key = record_run(theirs, only_theirs)
        contested_key = record_run(theirs, contested, result={"summary": "sell"})
        theirs.put_call(
            theirs.call_key(request),
            kind="tool",
            name="get_fred",
            sim_time=None,
            request=request,
            response={"value": 310.3},
        )
    source = tmp_path / "theirs" / "replay.sqlite"
    before = _digest(source)

    with ReplayStore(tmp_path / "mine") as mine:
        record_run(mine, shared)
        record_run(mine, contested, result={"summary": "buy"})
        report = mine.merge(tmp_path / "theirs")

        assert (report.runs_added, report.runs_identical) == (1, 1)
        assert (report.calls_added, report.calls_identical) == (1, 0)
        assert [(c.table, c.key) for c in report.conflicts] == [("runs", contested_key)]
        assert report.conflicts[0].local_value_hash != report.conflicts[0].other_value_hash
        assert report.invalid == ()
        assert report.source == str(source)

        copied = mine.get_run(theirs_key)
        assert copied is not None and copied.material == only_theirs
        kept = mine.get_run(contested_key)
        assert kept is not None and kept.result["summary"] == "buy"
        assert mine.get_call(mine.call_key(request)) is not None
        assert mine.verify().ok

        again = mine.merge(source)
        assert (again.added, again.runs_identical, again.calls_identical) == (0, 2, 1)

    assert _digest(source) == before
    with sqlite3.connect(source) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 3


def test_merge_does_not_copy_rows_that_fail_verification(
    tmp_path: Path, make_material: Material, record_run: Record
) -> None:
    with ReplayStore(tmp_path / "theirs") as theirs:
        bad = record_run(theirs, make_material(task="tampered"))
        good = record_run(theirs, make_material(task="fine"))
        theirs.db.execute('UPDATE runs SET result = \'{"summary": "forged"}\' WHERE key = ?', [bad])
    with ReplayStore(tmp_path / "mine") as mine:
        report = mine.merge(tmp_path / "theirs")
        assert report.runs_added == 1
        assert [(p.table, p.key) for p in report.invalid] == [("runs", bad)]
        assert mine.get_run(bad) is None
        assert mine.get_run(good) is not None


def test_merge_refuses_a_sqlite_file_that_is_not_an_agentrt_cache(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER)")
    conn.close()
    with (
        ReplayStore(tmp_path / "mine") as mine,
        pytest.raises(
            ReplayStoreError, match=r"other\.sqlite is a SQLite database but not an agentrt"
        ),
    ):
        mine.merge(other)


def test_merge_refuses_a_file_that_is_not_sqlite_and_leaves_it_alone(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    other.write_bytes(b"plain text, not a database\n" * 50)
    with (
        ReplayStore(tmp_path / "mine") as mine,
        pytest.raises(ReplayStoreError, match=r"notes\.db is not a readable SQLite replay cache"),
    ):
        mine.merge(other)
    assert other.read_bytes() == b"plain text, not a database\n" * 50


def test_merge_refuses_a_missing_file_and_the_cache_itself(tmp_path: Path) -> None:
    with ReplayStore(tmp_path / "mine") as mine:
        with pytest.raises(ReplayStoreError, match=r"no such file"):
            mine.merge(tmp_path / "nowhere")
        with pytest.raises(ReplayStoreError, match=r"into itself"):
            mine.merge(tmp_path / "mine")
