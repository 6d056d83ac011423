"""AlpacaBroker and AlpacaFeed: the real alpaca-py clients against a local server speaking Alpaca's API."""

from __future__ import annotations

import json

import pytest
from livefakes import FakeAlpaca
from livekit import at

from agentrt import Strategy
from agentrt.broker.alpaca import AlpacaBroker
from agentrt.calendars import sessions as market_sessions
from agentrt.clock import WallClock
from agentrt.data.live import CredentialsError, LiveMarketData, RetryPolicy
from agentrt.domain import OrderStatus

FAST = RetryPolicy(attempts=4, initial_seconds=0.01, max_seconds=0.05)


@pytest.fixture
def fake():
    server = FakeAlpaca(prices={"AAPL": 100.0, "MSFT": 50.0})
    yield server
    server.close()


def connect(fake, *, key="PKTEST", secret="SECRET", clock=None) -> AlpacaBroker:
    broker = AlpacaBroker(key, secret, url_override=fake.url, data_url_override=fake.url, retry=FAST)
    clock = clock or WallClock("America/New_York")
    sessions = market_sessions("NYSE")
    data = LiveMarketData(broker.default_feed())
    data.bind(sessions, clock)
    broker.bind(data=data, clock=clock, sessions=sessions, strategy_name="T")
    broker.connect()
    return broker


class Calls:
    def __init__(self) -> None:
        self.fills, self.cancels = [], []

    def on_fill(self, order, fill, position) -> None:
        self.fills.append((order.client_order_id, fill.price, fill.quantity, position.quantity))

    def on_cancel(self, order) -> None:
        self.cancels.append(order.client_order_id)


def order(broker, symbol="AAPL", qty=10, side="buy", cid=None, **kw):
    from agentrt.strategy.strategy import Strategy as S

    return S.create_order(S(), symbol, qty, side, client_order_id=cid, **kw)


def posted(fake) -> list[dict]:
    return [json.loads(body) for m, p, _, body in fake.requests if m == "POST" and p == "/v2/orders"]


def test_account_positions_and_clock_come_from_alpaca(fake):
    fake.positions["MSFT"] = [4.0, 45.0]
    broker = connect(fake)
    assert broker.cash == 100_000.0
    broker.process(0)
    assert [(p.symbol, p.quantity, p.avg_fill_price) for p in broker.get_positions()] == [("MSFT", 4.0, 45.0)]
    assert broker.portfolio_value() == pytest.approx(100_000.0 + 4 * 50.0)
    assert broker.market_clock()["is_open"] is True
    assert fake.count("GET", "/v2/clock") == 2 and fake.count("GET", "/v2/account") >= 1


def test_every_order_type_reaches_alpaca_with_a_client_order_id(fake):
    broker = connect(fake)
    cases = [
        dict(),
        dict(limit_price=99.0),
        dict(stop_price=90.0, side="sell"),
        dict(stop_price=90.0, limit_price=89.5, side="sell"),
        dict(trail_percent=0.05, side="sell"),
        dict(trail_price=2.5, side="sell"),
        dict(order_class="bracket", take_profit_price=110.0, stop_loss_price=95.0),
        dict(limit_price=99.0, order_class="oto", stop_loss_price=95.0),
        dict(order_class="oco", take_profit_price=110.0, stop_loss_price=95.0, side="sell"),
    ]
    fake.market_open = False  # keep them all open
    for i, kw in enumerate(cases):
        side = kw.pop("side", "buy")
        result = broker.submit_order(order(broker, side=side, cid=f"run1-3-{i}", **kw))
        assert result.status is OrderStatus.OPEN, result.reject_reason
    bodies = posted(fake)
    assert [b["client_order_id"] for b in bodies] == [f"run1-3-{i}" for i in range(len(cases))]
    assert [b["type"] for b in bodies] == ["market", "limit", "stop", "stop_limit", "trailing_stop",
                                           "trailing_stop", "market", "limit", "limit"]
    assert bodies[4]["trail_percent"] == pytest.approx(5.0)  # our fraction, Alpaca's percent
    assert bodies[5]["trail_price"] == 2.5
    assert bodies[6]["order_class"] == "bracket"
    assert bodies[6]["take_profit"] == {"limit_price": 110.0} and bodies[6]["stop_loss"] == {"stop_price": 95.0}
    assert bodies[7]["order_class"] == "oto" and "take_profit" not in bodies[7]
    assert bodies[8]["order_class"] == "oco"
    assert all(b["time_in_force"] == "day" and b["symbol"] == "AAPL" for b in bodies)


def test_polled_fills_become_fill_events_and_on_filled_order_calls(fake):
    broker = connect(fake)
    calls = Calls()
    broker.listener = calls
    fake.market_open = False
    sent = broker.submit_order(order(broker, qty=10, cid="c-1"))
    broker.process(0)
    assert sent.status is OrderStatus.OPEN and calls.fills == []
    fake.market_open = True
    fake.prices["AAPL"] = 101.0
    broker.process(0)
    assert sent.status is OrderStatus.FILLED
    assert calls.fills == [("c-1", 101.0, 10.0, 10.0)]
    assert broker.get_position(sent.asset).quantity == 10
    assert broker.cash == pytest.approx(100_000 - 1010)
    kinds = [(e[3], e[2].price if e[2] else None) for e in broker.events]
    assert kinds == [("fill", 101.0)]


def test_bracket_exit_legs_are_tracked_and_fill(fake):
    broker = connect(fake)
    calls = Calls()
    broker.listener = calls
    parent = broker.submit_order(order(broker, qty=5, cid="b-1", order_class="bracket", take_profit_price=110.0,
                                       stop_loss_price=95.0))
    broker.process(0)  # entry fills at 100; the legs become live
    assert parent.status is OrderStatus.FILLED
    assert sorted(c.order_type.value for c in parent.child_orders) == ["limit", "stop"]
    fake.prices["AAPL"] = 111.0
    broker.process(0)
    tp = next(c for c in parent.child_orders if c.order_type.value == "limit")
    sl = next(c for c in parent.child_orders if c.order_type.value == "stop")
    assert tp.status is OrderStatus.FILLED and tp.avg_fill_price == 110.0
    assert sl.status is OrderStatus.CANCELED
    assert broker.get_position(parent.asset) is None


def test_cancel_and_modify_go_to_alpaca(fake):
    broker = connect(fake)
    calls = Calls()
    broker.listener = calls
    fake.market_open = False
    limit = broker.submit_order(order(broker, cid="m-1", limit_price=90.0))
    old_id = limit.identifier
    broker.modify_order(limit, limit_price=91.0)
    assert limit.identifier != old_id and limit.limit_price == 91.0
    assert fake.orders[old_id]["status"] == "replaced"
    broker.cancel_order(limit)
    assert limit.status is OrderStatus.CANCELED
    assert calls.cancels == ["m-1"]
    assert fake.orders[limit.identifier]["status"] == "canceled"


def test_the_same_client_order_id_is_never_placed_twice(fake):
    broker = connect(fake)
    first = broker.submit_order(order(broker, cid="dup-1"))
    again = broker.submit_order(order(broker, cid="dup-1"))
    assert again is first and broker.duplicates == 1
    # a restarted process that does not know the order yet: Alpaca refuses the id, the broker attaches
    fresh = connect(fake)
    attached = fresh.submit_order(order(fresh, cid="dup-1"))
    assert attached.identifier == first.identifier
    assert len(fake.orders) == 1


def test_an_answer_lost_on_a_dropped_connection_does_not_place_the_order_twice(fake):
    broker = connect(fake)
    fake.fail_next("drop_response", method="POST", path="/v2/orders")
    sent = broker.submit_order(order(broker, cid="lost-1"))
    assert sent.status is OrderStatus.OPEN or sent.status is OrderStatus.FILLED
    assert len(fake.orders) == 1 and fake.count("POST", "/v2/orders") == 1
    assert fake.count("GET", "/v2/orders:by_client_order_id") == 1


def test_a_connection_closed_before_the_order_arrived_is_retried(fake):
    broker = connect(fake)
    fake.fail_next("close", method="POST", path="/v2/orders")
    sent = broker.submit_order(order(broker, cid="retry-1"))
    assert sent.identifier in fake.orders
    assert fake.count("POST", "/v2/orders") == 2 and len(fake.orders) == 1


def test_a_503_is_retried_with_backoff(fake):
    fake.fail_next(503, method="GET", path="/v2/account")
    broker = connect(fake)
    assert broker.cash == 100_000.0
    assert fake.count("GET", "/v2/account") == 2


def test_a_provider_that_stays_down_gives_a_clear_connection_error(fake):
    from agentrt.data.live import LiveConnectionError

    for _ in range(FAST.attempts):
        fake.fail_next(503, method="GET", path="/v2/account")
    with pytest.raises(LiveConnectionError, match="Alpaca: account failed after 4 attempts"):
        connect(fake)


def test_missing_credentials_name_the_variables(fake, monkeypatch):
    broker = AlpacaBroker(url_override=fake.url)
    with pytest.raises(CredentialsError, match="ALPACA_API_KEY or APCA_API_KEY_ID.*ALPACA_API_SECRET"):
        broker.connect()


def test_credentials_from_a_dotenv_file(fake, tmp_path, monkeypatch):
    import agentrt.data.connect as live  # credentials and .env loading live there

    monkeypatch.setattr(live, "_ENV_LOADED", set())
    (tmp_path / ".env").write_text("APCA_API_KEY_ID=PKTEST\nAPCA_API_SECRET_KEY=SECRET\n")
    broker = AlpacaBroker(url_override=fake.url)
    broker.connect()
    assert broker.cash == 100_000.0


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_give_a_clear_error(fake, status):
    if status == 403:
        fake.forbid = True
    with pytest.raises(CredentialsError, match=f"HTTP {status}.*ALPACA_API_KEY / ALPACA_API_SECRET"):
        connect(fake, key="PKTEST" if status == 403 else "WRONG")


def test_alpaca_market_data_never_shows_a_bar_before_it_closed(fake):
    days = ["2024-03-04", "2024-03-05", "2024-03-06"]
    fake.bars["AAPL"] = [{"t": f"{d}T05:00:00Z", "o": 100 + i, "h": 102 + i, "l": 99 + i, "c": 101 + i,
                          "v": 1000, "n": 10, "vw": 100.5} for i, d in enumerate(days)]
    from livekit import NY

    from agentrt.engine.live import AcceleratedClock

    broker = connect(fake, clock=AcceleratedClock(at("2024-03-06 12:00"), 1.0, tz=NY))
    md = broker.md
    bars = md.history("AAPL", 5)
    assert list(bars.df.index.strftime("%Y-%m-%d")) == days[:2]  # 03-06 is still trading: not visible
    quote = md.quote("AAPL")
    assert quote.bid == pytest.approx(99.99) and quote.ask == pytest.approx(100.01) and quote.last == 100.0
    assert quote.time <= md.clock.now()  # the server stamps real time; clamped to the clock
    assert md.last_price("AAPL") == 100.0


class IntradayBuyer(Strategy):
    def initialize(self):
        self.sleeptime = "1S"
        self.vars.n = 0

    def on_trading_iteration(self):
        self.vars.n += 1
        if self.vars.n == 1:
            self.submit_order(self.create_order("AAPL", 3, "buy"))
            self.submit_order(self.create_order("MSFT", 2, "buy", limit_price=10.0))  # rests


def test_live_run_on_alpaca_fills_restarts_and_reconciles(fake, tmp_path):
    from agentrt.engine.live import AcceleratedClock, Trader
    from agentrt.engine.persistence import OrderRow, StateStore

    def trader(start):
        t = Trader(out_dir=tmp_path / "out", clock=AcceleratedClock(at(start), 1.0), max_iterations=2,
                   poll_seconds=0.2, quiet=True, handle_signals=False, tearsheet=False)
        strategy = IntradayBuyer(broker=AlpacaBroker("PKTEST", "SECRET", url_override=fake.url,
                                                     data_url_override=fake.url, retry=FAST))
        return t.add_strategy(strategy), strategy

    t1, s1 = trader("2024-03-06 11:00:00")
    r1 = t1.run_all()["IntradayBuyer"]
    assert r1.crashed is None and r1.iterations == 2
    bodies = posted(fake)
    assert [b["client_order_id"] for b in bodies] == [f"{r1.run_id}-1-0", f"{r1.run_id}-1-1"]
    fills = r1.result.trades.query("status == 'fill'")
    assert list(zip(fills.symbol, fills.price, fills.quantity)) == [("AAPL", 100.0, 3.0)]

    store = StateStore.open(state_dir=tmp_path / "out" / "state")
    store.save_orders("IntradayBuyer", [OrderRow("ghost-1", "", "open", dict(
        next(r.order for r in store.orders("IntradayBuyer") if r.status == "open"), client_order_id="ghost-1"))])
    store.close()

    t2, s2 = trader("2024-03-06 11:05:00")
    r2 = t2.run_all()["IntradayBuyer"]
    assert s2.vars.n == 4 and r2.run_id == r1.run_id
    assert len(posted(fake)) == 2  # nothing new: the iteration-1 orders were not sent again
    open_orders = s2.get_orders()
    assert [(o.asset.symbol, o.client_order_id) for o in open_orders] == [("MSFT", f"{r1.run_id}-1-1")]
    store = StateStore.open(state_dir=tmp_path / "out" / "state")
    ghost = next(r for r in store.orders("IntradayBuyer") if r.client_order_id == "ghost-1")
    store.close()
    assert ghost.status == "canceled" and "no longer knows" in ghost.reason
    trades = r2.result.trades
    assert "reconciled on restart" in trades.loc[trades.status == "canceled", "reason"].iloc[0]
