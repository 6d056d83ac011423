"""Workspace SQL cannot read the wall clock through uuidv7() or use nondeterministic functions."""
import datetime as dt

from .conftest import FakeHost, price_frame

from agentrt.agents.workspace import Workspace, WorkspaceError


def test_sql_cannot_read_the_wall_clock_through_uuidv7():
    host = FakeHost({"AAPL": price_frame([100.0 + i for i in range(80)])})  # simulated time in 2020
    ws = Workspace(host)
    try:
        answer = ws.query("SELECT uuid_extract_timestamp(uuidv7()) AS t")
    except WorkspaceError:
        return  # refused: fine
    finally:
        ws.close()
    seen = answer["rows"][0][0]
    assert dt.datetime.fromisoformat(seen).year <= host.get_datetime().year, f"SQL read the wall clock: {seen}"
