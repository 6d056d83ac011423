"""Miss reasons: diff_material names each kind of change; miss_reasons picks the right run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agentrt.replay.reasons import diff_material
from agentrt.replay.store import ReplayStore

Material = Callable[..., dict[str, Any]]
Record = Callable[..., str]

NEW_TOOL = {
    "name": "search_news",
    "kind": "mcp",
    "schema": {"type": "object"},
    "source_hash": None,
    "server": "news",
}


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"model.name": "openai/gpt-4o"}, ["model changed"]),
        ({"model.settings.temperature": 0.7}, ["model settings changed: temperature"]),
        (
            {"model.settings": {"temperature": 0.7, "top_p": 0.9}},
            ["model settings changed: max_tokens, temperature, top_p"],
        ),
        ({"system_prompt": "You trade QQQ."}, ["system prompt changed"]),
        ({"task": None}, ["task changed"]),
        ({"context.lookback": 50}, ["context changed: key lookback"]),
        (
            {"context": {"lookback": 50, "regime": "bear"}},
            ["context changed: keys lookback, regime, symbol"],
        ),
        ({"state.cash": "90000.00"}, ["state changed: cash"]),
        ({"state.positions": [{"symbol": "SPY", "quantity": "10"}]}, ["state changed: positions"]),
        (
            {"state.cash": "1.00", "state.open_orders": [{"id": "1"}]},
            ["state changed: cash", "state changed: open_orders"],
        ),
        ({"tools.1.source_hash": "sha256:bbbb"}, ["tool get_fred source changed"]),
        ({"tools.1.schema": {"type": "object"}}, ["tool get_fred schema changed"]),
        ({"tools.1.kind": "mcp"}, ["tool get_fred kind changed"]),
        ({"tools.1.server": "fred"}, ["tool get_fred server changed"]),
        ({"runtime_version": "0.2.0"}, ["runtime version changed"]),
        ({"base_prompt_version": "2"}, ["base prompt version changed"]),
        ({"agent": "analyst"}, ["agent name changed"]),
        ({"v": 2}, ["key material version changed"]),
    ],
)
def test_diff_material_names_what_changed(
    make_material: Material, changes: dict[str, Any], reasons: list[str]
) -> None:
    assert diff_material(make_material(), make_material(**changes)) == reasons


def test_diff_material_names_added_and_removed_tools(make_material: Material) -> None:
    old = make_material()
    new = make_material()
    new["tools"] = [new["tools"][0], NEW_TOOL]
    assert diff_material(old, new) == ["tool search_news added", "tool get_fred removed"]


def test_diff_material_reports_a_pure_reordering_of_tools(make_material: Material) -> None:
    old = make_material()
    new = make_material()
    new["tools"].reverse()
    assert diff_material(old, new) == ["tool order changed"]


def test_diff_material_lists_reasons_in_layout_order(make_material: Material) -> None:
    new = make_material(
        **{"tools.1.source_hash": "sha256:cccc", "state.cash": "1", "model.name": "other"}
    )
    assert diff_material(make_material(), new) == [
        "model changed",
        "state changed: cash",
        "tool get_fred source changed",
    ]


def test_diff_material_of_equal_materials_is_empty(make_material: Material) -> None:
    assert diff_material(make_material(), make_material()) == []


def test_diff_material_names_unknown_top_level_keys(make_material: Material) -> None:
    new = make_material()
    new["mcp_servers"] = ["news"]
    assert diff_material(make_material(), new) == ["mcp_servers changed"]


def test_miss_reasons_compare_with_the_latest_run_of_the_agent_at_that_time(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    older = record_run(store, make_material(system_prompt="old prompt"))
    newer = record_run(store, make_material(**{"model.settings.temperature": 0.5}))
    # Written later, but for another agent or another simulated time: not comparable.
    other_agent = make_material(agent="analyst", system_prompt="x")
    record_run(store, other_agent)
    later = "2024-01-03T16:00:00-05:00"
    record_run(store, make_material(**{"state.sim_time": later}), sim_time=later)
    store.db.execute(
        "UPDATE runs SET created_at = '2026-01-01T00:00:00+00:00' WHERE key = ?", [older]
    )
    store.db.execute(
        "UPDATE runs SET created_at = '2026-01-02T00:00:00+00:00' WHERE key = ?", [newer]
    )

    reasons = store.miss_reasons(
        make_material(**{"state.cash": "5.00", "model.settings.temperature": 0.5}),
        agent="trader",
        sim_time="2024-01-02T16:00:00-05:00",
    )
    assert reasons == ["state changed: cash"]

    # Make the older run the most recent one: it becomes the comparison.
    store.db.execute(
        "UPDATE runs SET created_at = '2026-01-03T00:00:00+00:00' WHERE key = ?", [older]
    )
    reasons = store.miss_reasons(
        make_material(**{"state.cash": "5.00", "model.settings.temperature": 0.5}),
        agent="trader",
        sim_time="2024-01-02T16:00:00-05:00",
    )
    assert reasons == [
        "model settings changed: temperature",
        "system prompt changed",
        "state changed: cash",
    ]


def test_miss_reasons_without_an_earlier_run_at_that_time_say_so(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    record_run(store, make_material())
    when = "2024-01-05T16:00:00-05:00"
    assert store.miss_reasons(
        make_material(**{"state.sim_time": when}), agent="trader", sim_time=when
    ) == [f"no earlier run for this agent at {when}"]


def test_miss_reasons_of_cached_material_are_empty(
    store: ReplayStore, make_material: Material, record_run: Record
) -> None:
    record_run(store, make_material())
    assert (
        store.miss_reasons(make_material(), agent="trader", sim_time="2024-01-02T16:00:00-05:00")
        == []
    )


def test_data_changes_name_the_source_or_the_symbols() -> None:
    old = {"data": {"source": {"name": "csv"}, "bars": {"AAPL": "3:aa", "MSFT": "3:bb"}}}
    assert diff_material(old, {"data": {"source": {"name": "csv"}, "bars": {"AAPL": "3:ff", "MSFT": "3:bb"}}}) == [
        "data changed: AAPL"]
    assert diff_material(old, {"data": {"source": {"name": "yahoo"}, "bars": {}}}) == ["data source changed"]
