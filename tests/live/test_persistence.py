"""Live state storage: pinned schema, self.vars encoding, DB_CONNECTION_STR, paper account snapshots."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys

import numpy as np
import pytest
from livekit import AllIn, at, paper, replay_trader

from agentrt.engine.persistence import (
    ORDER_COLUMNS,
    STATE_SCHEMA_VERSION,
    STRATEGY_COLUMNS,
    OrderRow,
    StateError,
    StateStore,
    StrategyState,
    decode_vars,
    encode_vars,
)


def test_state_schema_is_versioned_and_its_columns_are_pinned(tmp_path):
    store = StateStore(str(tmp_path / "s.sqlite"))
    store.close()
    assert STATE_SCHEMA_VERSION == 1
    assert STRATEGY_COLUMNS == ("strategy", "version", "run_id", "step", "step_done", "iterations",
                                "last_iteration_ns", "cash_adjusted_value", "prev_portfolio_value", "vars_json",
                                "broker_json", "updated_at")
    assert ORDER_COLUMNS == ("strategy", "client_order_id", "broker_order_id", "status", "reason", "order_json",
                             "updated_at")
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        cols = {t: tuple(r[1] for r in conn.execute(f"PRAGMA table_info({t})"))
                for t in ("agentrt_strategy_state", "agentrt_orders")}
        version = conn.execute("SELECT value FROM agentrt_state_meta WHERE key = 'schema_version'").fetchone()[0]
    assert cols["agentrt_strategy_state"] == STRATEGY_COLUMNS
    assert cols["agentrt_orders"] == ORDER_COLUMNS
    assert version == "1"


def test_vars_round_trip_dates_sets_tuples_and_numpy_scalars():
    value = {"when": dt.datetime(2012, 3, 5, 16, tzinfo=dt.timezone.utc), "day": dt.date(2012, 3, 5),
             "seen": {"AAPL", "MSFT"}, "pair": (1, "a"), "n": np.int64(3), "x": np.float64(1.5),
             "nested": {"list": [1, 2, {"d": dt.date(2020, 1, 1)}]}, "none": None}
    text, skipped = encode_vars(value)
    assert skipped == []
    back = decode_vars(text)
    assert back == {**value, "n": 3, "x": 1.5}
    assert isinstance(back["pair"], tuple) and isinstance(back["seen"], set)


def test_a_value_that_cannot_be_stored_is_skipped_and_named():
    text, skipped = encode_vars({"ok": 1, "lock": object(), "bad_keys": {1: "x"}})
    assert skipped == ["lock", "bad_keys"]
    assert decode_vars(text) == {"ok": 1}


class KeepsAConnection(AllIn):
    def on_trading_iteration(self):
        super().on_trading_iteration()
        self.vars.handle = object()


def test_an_unstorable_var_is_reported_in_the_run_logs(tmp_path):
    import pandas as pd

    trader = replay_trader(tmp_path, "2012-03-05 15:50", max_iterations=1)
    trader.add_strategy(KeepsAConnection(broker=paper()))
    result = trader.run_all()["KeepsAConnection"]
    logs = pd.read_csv(result.output_dir / "logs.csv")
    assert logs.message.str.contains("self.vars.handle was not saved").sum() == 1
    store = StateStore.open(state_dir=tmp_path / "out" / "state")
    assert store.load("KeepsAConnection").vars["count"] == 1
    store.close()


def test_db_connection_str_sqlite_url_holds_the_state(tmp_path, monkeypatch):
    db = tmp_path / "elsewhere" / "bot.sqlite"
    monkeypatch.setenv("DB_CONNECTION_STR", f"sqlite:///{db}")
    trader = replay_trader(tmp_path, "2012-03-05 15:50", max_iterations=1)
    trader.add_strategy(AllIn(broker=paper()))
    result = trader.run_all()["AllIn"]
    assert result.state == f"sqlite:///{db}"
    assert not (tmp_path / "out" / "state").exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT iterations FROM agentrt_strategy_state").fetchone()[0] == 1


def test_postgresql_without_sqlalchemy_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # as if not installed
    with pytest.raises(StateError, match=r"pip install sqlalchemy 'psycopg\[binary\]'") as err:
        StateStore("postgresql://bot:hunter2@127.0.0.1/agentrt")
    assert "hunter2" not in str(err.value)


def test_an_unknown_database_url_is_refused():
    with pytest.raises(StateError, match="sqlite:///path/to/file.sqlite or postgresql://"):
        StateStore("redis://127.0.0.1/0")


def test_a_newer_state_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    StateStore(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE agentrt_state_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StateError, match="schema version 99, newer than this agentrt"):
        StateStore(str(path))


def test_strategy_state_and_orders_round_trip(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    state = StrategyState(strategy="S", run_id="abcd1234", step=7, step_done=False, iterations=5,
                          last_iteration_ns=123, cash_adjusted_value=1.5, prev_portfolio_value=2.5,
                          vars={"a": [1, 2]}, broker={"version": 1, "cash": 10.0})
    store.save(state, orders=[OrderRow("abcd1234-7-0", "o1", "open", {"quantity": 3})])
    store.save_orders("S", [OrderRow("abcd1234-7-1", "o2", "filled", {"quantity": 1})])
    loaded = store.load("S")
    assert (loaded.run_id, loaded.step, loaded.step_done, loaded.iterations, loaded.vars, loaded.broker) == (
        "abcd1234", 7, False, 5, {"a": [1, 2]}, {"version": 1, "cash": 10.0})
    assert [r.client_order_id for r in store.orders("S", active_only=True)] == ["abcd1234-7-0"]
    assert len(store.orders("S")) == 2 and store.load("other") is None
    store.close()


def test_paper_account_snapshot_restores_cash_positions_and_open_orders(tmp_path):
    from agentrt.calendars import sessions
    from agentrt.data.live import LiveMarketData
    from agentrt.domain import Order, OrderSide, OrderStatus, OrderType
    from agentrt.domain.assets import Asset
    from agentrt.engine.live import AcceleratedClock

    def bound(broker, clock):
        data = LiveMarketData(broker.default_feed())
        data.bind(sessions("NYSE"), clock)
        broker.bind(data=data, clock=clock, sessions=sessions("NYSE"), strategy_name="S")
        return broker

    clock = AcceleratedClock(at("2012-03-06 10:00"), 1.0)
    first = bound(paper(cash=50_000), clock)
    aapl = Asset("AAPL")
    buy = first.submit_order(Order(aapl, 10, OrderSide.BUY, client_order_id="r-1-0"))
    first.process(clock.now_ns)
    assert buy.status is OrderStatus.FILLED
    limit = first.submit_order(Order(aapl, 5, OrderSide.SELL, order_type=OrderType.LIMIT, limit_price=999.0,
                                     client_order_id="r-1-1"))
    snap = first.snapshot()

    second = bound(paper(cash=1.0), clock)
    restored = second.restore(snap)
    assert second.cash == first.cash
    assert [(p.symbol, p.quantity) for p in second.get_positions()] == [("AAPL", 10.0)]
    assert [(o.client_order_id, o.limit_price, o.status) for o in restored] == [("r-1-1", 999.0, OrderStatus.OPEN)]
    assert second._expire_ns[limit.identifier] == first._expire_ns[limit.identifier]
    assert second.find_order("r-1-0").status is OrderStatus.FILLED  # closed orders are remembered for dedupe
    again = second.submit_order(Order(aapl, 10, OrderSide.BUY, client_order_id="r-1-0"))
    assert again.status is OrderStatus.FILLED and second.duplicates == 1
    with pytest.raises(ValueError, match="snapshot version"):
        second.restore({**snap, "version": 99})
