"""The DuckDB workspace is point in time by construction and closed to the outside."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from agentrt.agents.workspace import Workspace, WorkspaceError, check_read_only_sql


@pytest.fixture
def ws(host):
    w = Workspace(host)
    w.load_history_table("AAPL", 10)
    yield w
    w.close()


def _data_file() -> Path:
    import agentrt

    return Path(next(iter(agentrt.__path__))) / "data" / "_embedded" / "stocks.csv.gz"


def test_loaded_table_holds_only_bars_visible_now(host, ws):
    now = host.get_datetime()
    out = ws.query("SELECT max(datetime) AS last, count(*) AS n, min(date) AS first_date FROM aapl_day")
    last, n, _ = out["rows"][0]
    assert n == 10
    assert last == now.replace(tzinfo=None).isoformat()
    assert ws.query("SELECT close FROM aapl_day ORDER BY datetime DESC LIMIT 1")["rows"][0][0] == host.get_last_price("AAPL")


def test_rows_stamped_after_now_are_dropped_even_if_a_source_returns_them(host):
    class Leaky:
        def __init__(self, h):
            self.h = h

        def __getattr__(self, name):
            return getattr(self.h, name)

        def get_historical_prices(self, asset, length, timestep="day"):
            class Bars:
                df = self.h.frames["AAPL"]  # the whole series, future included

            return Bars()

    w = Workspace(Leaky(host))
    try:
        info = w.load_history_table("AAPL", 500)
        assert info["last"] == host.get_datetime().replace(tzinfo=None).isoformat()
        out = w.query("SELECT count(*) FROM aapl_day WHERE datetime > TIMESTAMP '{}'".format(info["last"]))
        assert out["rows"] == [[0]]
    finally:
        w.close()


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE x AS SELECT 1",
        "INSERT INTO aapl_day SELECT * FROM aapl_day",
        "UPDATE aapl_day SET close = 0",
        "DELETE FROM aapl_day",
        "DROP TABLE aapl_day",
        "ATTACH ':memory:' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "COPY aapl_day TO '/tmp/leak.csv'",
        "SET enable_external_access = true",
        "PRAGMA enable_profiling",
        "CALL pragma_version()",
        "SELECT 1; DROP TABLE aapl_day",
        "WITH a AS (SELECT 1) DELETE FROM aapl_day",
        "EXPLAIN ANALYZE DELETE FROM aapl_day",
        "EXPORT DATABASE '/tmp/x'",
        "PIVOT aapl_day ON close",
    ],
)
def test_writes_settings_and_extensions_are_refused(ws, sql):
    with pytest.raises(WorkspaceError):
        ws.query(sql)
    assert ws.query("SELECT count(*) FROM aapl_day")["rows"] == [[10]]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('{data}')",
        "SELECT * FROM read_csv_auto('{data}')",
        "SELECT * FROM '{data}'",
        "SELECT * FROM read_parquet('/tmp/whatever.parquet')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM query('DELETE FROM aapl_day')",
        "SELECT * FROM duckdb_secrets()",
    ],
)
def test_files_and_side_doors_are_unreachable(ws, sql):
    with pytest.raises(WorkspaceError):
        ws.query(sql.format(data=_data_file()))
    assert ws.query("SELECT count(*) FROM aapl_day")["rows"] == [[10]]


def test_the_embedded_data_file_exists_so_the_read_csv_test_means_something():
    path = _data_file()
    assert path.is_file()
    with gzip.open(path, "rt") as fh:
        assert fh.readline()


def test_python_variables_are_not_scannable(host, ws):
    raw_frame = host.frames["AAPL"]  # noqa: F841 - a DataFrame in scope must stay invisible to SQL
    with pytest.raises(WorkspaceError, match="raw_frame"):
        ws.query("SELECT * FROM raw_frame")


def test_catalog_reads_are_harmless_and_show_only_workspace_tables(ws):
    assert ws.query("SHOW TABLES")["rows"] == [["aapl_day"]]
    tables = ws.query("SELECT table_name FROM information_schema.tables")["rows"]
    assert tables == [["aapl_day"]]
    assert ws.query("DESCRIBE aapl_day")["row_count"] == 7
    assert ws.query("PRAGMA table_info('aapl_day')")["row_count"] == 7
    assert ws.query("EXPLAIN SELECT avg(close) FROM aapl_day")["row_count"] >= 1
    assert ws.query("SUMMARIZE aapl_day")["row_count"] == 7


def test_wall_clock_functions_are_refused_with_the_fix(ws):
    with pytest.raises(WorkspaceError, match="simulated date as a literal"):
        ws.query("SELECT now()")
    with pytest.raises(WorkspaceError, match="current_date"):
        ws.query("SELECT * FROM aapl_day WHERE date < current_date")
    # the words inside a string literal are fine
    assert ws.query("SELECT 'now() is not called' AS note")["rows"] == [["now() is not called"]]


def test_row_limit_and_truncation_flag(ws):
    out = ws.query("SELECT * FROM range(50)", max_rows=7)
    assert out["row_count"] == 7 and out["truncated"] is True
    assert ws.query("SELECT * FROM range(3)")["truncated"] is False


def test_sql_errors_are_returned_with_the_known_tables(ws):
    with pytest.raises(WorkspaceError, match="Tables in the workspace: aapl_day"):
        ws.query("SELECT * FROM msft_day")
    with pytest.raises(WorkspaceError, match="does not parse"):
        ws.query("SELEC 1")


def test_reset_drops_every_table(ws):
    ws.reset()
    with pytest.raises(WorkspaceError):
        ws.query("SELECT * FROM aapl_day")
    assert ws.query("SHOW TABLES")["rows"] == []


def test_time_going_backwards_resets_the_connection(host, ws):
    host._i -= 5
    ws.load_history_table("MSFT", 5)
    assert ws.query("SHOW TABLES")["rows"] == [["msft_day"]]


def test_bad_load_arguments_are_explained(ws):
    with pytest.raises(WorkspaceError, match="length"):
        ws.load_history_table("AAPL", 0)
    with pytest.raises(WorkspaceError, match="timestep"):
        ws.load_history_table("AAPL", 5, "fortnight")
    with pytest.raises(WorkspaceError, match="cannot load history for 'ZZZZ'"):
        ws.load_history_table("ZZZZ", 5)


def test_only_single_read_statements_pass_the_checker():
    assert check_read_only_sql("WITH a AS (SELECT 1) SELECT * FROM a")
    with pytest.raises(WorkspaceError, match="exactly one SQL statement"):
        check_read_only_sql("SELECT 1; SELECT 2")
    with pytest.raises(WorkspaceError, match="non-empty"):
        check_read_only_sql("  ")
