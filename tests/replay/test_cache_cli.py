"""`agentrt cache stats|verify|merge|clear` driven through the CLI, asserting on database rows."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agentrt.cli import commands  # noqa: F401 - registers the cache group
from agentrt.cli.main import app
from agentrt.replay.store import ReplayStore

runner = CliRunner()


def _cache(tmp_path, name, make_material, record_run, agents=("macro", "tech")):
    folder = tmp_path / name
    with ReplayStore(folder) as store:
        for i, agent in enumerate(agents):
            record_run(store, make_material(agent=agent, **{"state.cash": f"{1000 + i}.00"}))
    return folder


def test_cache_stats_json_counts_runs_by_agent(tmp_path, make_material, record_run):
    folder = _cache(tmp_path, "a", make_material, record_run)
    out = runner.invoke(app, ["cache", "stats", "--cache-dir", str(folder), "--json"])
    assert out.exit_code == 0, out.output
    info = json.loads(out.output)
    assert info["runs"]["by_agent"] == {"macro": 1, "tech": 1}


def test_cache_verify_reports_and_quarantines_a_corrupt_row(tmp_path, make_material, record_run):
    folder = _cache(tmp_path, "a", make_material, record_run)
    with ReplayStore(folder) as store:
        key = store.db.execute("SELECT key FROM runs WHERE agent = 'tech'").fetchone()[0]
        store.db.execute("UPDATE runs SET result = 'not json' WHERE key = ?", [key])
        store.db.conn.commit()
    out = runner.invoke(app, ["cache", "verify", "--cache-dir", str(folder)])
    assert out.exit_code == 1
    assert key in out.output and "moved to quarantine" in out.output
    with ReplayStore(folder) as store:
        assert [r[0] for r in store.db.execute("SELECT agent FROM runs")] == ["macro"]
        assert store.db.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 1
    assert runner.invoke(app, ["cache", "verify", "--cache-dir", str(folder)]).exit_code == 0


def test_cache_merge_unions_two_caches(tmp_path, make_material, record_run):
    a = _cache(tmp_path, "a", make_material, record_run, agents=("macro",))
    b = _cache(tmp_path, "b", make_material, record_run, agents=("macro", "news"))
    out = runner.invoke(app, ["cache", "merge", str(b / "replay.sqlite"), "--cache-dir", str(a)])
    assert out.exit_code == 0, out.output
    assert "1 runs" in out.output
    with ReplayStore(a) as store:
        assert sorted(r[0] for r in store.db.execute("SELECT agent FROM runs")) == ["macro", "news"]


def test_cache_merge_refuses_a_file_that_is_not_a_cache(tmp_path, make_material, record_run):
    a = _cache(tmp_path, "a", make_material, record_run)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("hello")
    out = runner.invoke(app, ["cache", "merge", str(junk), "--cache-dir", str(a)])
    assert out.exit_code == 2 and "error:" in out.output


def test_cache_clear_by_agent(tmp_path, make_material, record_run):
    folder = _cache(tmp_path, "a", make_material, record_run)
    out = runner.invoke(app, ["cache", "clear", "--agent", "tech", "--yes", "--cache-dir", str(folder)])
    assert out.exit_code == 0 and "deleted 1" in out.output
    with ReplayStore(folder) as store:
        assert [r[0] for r in store.db.execute("SELECT agent FROM runs")] == ["macro"]
