"""CCXTBroker and CCXTFeed: the real ccxt.binance client (sandbox mode) against a local Binance spot API."""

from __future__ import annotations

import datetime as dt

import pytest
from livefakes import FakeBinance

from agentrt import Strategy
from agentrt.broker.ccxt import CCXTBroker
from agentrt.calendars import sessions as market_sessions
from agentrt.clock import WallClock
from agentrt.data.live import CredentialsError, LiveMarketData, RetryPolicy
from agentrt.domain import Asset, OrderStatus

FAST = RetryPolicy(attempts=4, initial_seconds=0.01, max_seconds=0.05)
DAY_MS = 86_400_000


def _klines(days: int, *, end: dt.datetime) -> list[list]:
    """`days` daily candles ending with the one in progress at `end` (Binance's kline row layout)."""
    today = int(dt.datetime(end.year, end.month, end.day, tzinfo=dt.timezone.utc).timestamp() * 1000)
    rows = []
    for i in range(days):
        t = today - (days - 1 - i) * DAY_MS
        price = 50_000 + 100 * i
        rows.append([t, f"{price:.2f}", f"{price + 500:.2f}", f"{price - 500:.2f}", f"{price + 50:.2f}", "12.5",
                     t + DAY_MS - 1, f"{12.5 * price:.2f}", 1000, "6.1", f"{6.1 * price:.2f}", "0"])
    return rows


@pytest.fixture
def fake():
    server = FakeBinance(klines={"BTCUSDT": _klines(5, end=dt.datetime.now(dt.timezone.utc))})
    yield server
    server.close()


def connect(fake, *, key="BNTEST", clock=None) -> CCXTBroker:
    broker = CCXTBroker("binance", sandbox=True, api_key=key, secret="s3cret", url_override=fake.url, retry=FAST)
    clock = clock or WallClock("UTC")
    sessions = market_sessions("24/7")
    data = LiveMarketData(broker.default_feed())
    data.bind(sessions, clock)
    broker.bind(data=data, clock=clock, sessions=sessions, strategy_name="T")
    broker.connect()
    return broker


def order(symbol="BTC", qty=0.01, side="buy", cid=None, **kw):
    return Strategy.create_order(Strategy(), Asset(symbol, asset_type="crypto", quote="USDT"), qty, side,
                                 client_order_id=cid, **kw)


def test_sandbox_mode_and_the_api_host_are_applied(fake):
    broker = connect(fake)
    urls = broker.exchange.urls
    assert "apiBackup" in urls  # set_sandbox_mode(True) swapped in the testnet URLs
    assert urls["api"]["public"] == f"{fake.url}/api/v3"
    assert fake.count("GET", "/api/v3/exchangeInfo") == 1
    assert broker.cash == 10_000.0 and broker.get_positions() == []


def test_market_order_fills_on_poll_with_balances_and_fill_events(fake):
    fake.balances.update(ETH=5.0, XRP=1000.0)  # a testnet account holds coins the strategy never traded
    broker = connect(fake)
    fills = []
    broker.listener = type("L", (), {"on_fill": lambda self, o, f, p: fills.append((f.price, f.quantity, p.quantity)),
                                     "on_cancel": lambda self, o: None})()
    sent = broker.submit_order(order(qty=0.02, cid="run-4-0"))
    assert sent.status is OrderStatus.OPEN and sent.identifier
    broker.process(0)
    assert sent.status is OrderStatus.FILLED and sent.avg_fill_price == 50_000.0
    assert fills == [(50_000.0, 0.02, 0.02)]
    assert broker.cash == pytest.approx(10_000 - 1_000)
    assert [(p.symbol, p.quantity) for p in broker.get_positions()] == [("BTC", pytest.approx(0.02))]
    assert broker.get_position(Asset("ETH", asset_type="crypto")).quantity == 5.0  # asked for by name
    restarted = connect(fake)
    restarted.restore(broker.snapshot())
    assert [(p.symbol, p.avg_fill_price) for p in restarted.get_positions()] == [("BTC", 50_000.0)]
    body = next(b for m, p, _, b in fake.requests if m == "POST" and p == "/api/v3/order")
    assert "newClientOrderId=run-4-0" in body and "type=MARKET" in body and "side=BUY" in body


def test_limit_orders_rest_until_cancelled(fake):
    broker = connect(fake)
    sent = broker.submit_order(order(qty=0.01, cid="lim-1", limit_price=40_000.0))
    broker.process(0)
    assert sent.status is OrderStatus.OPEN
    broker.cancel_order(sent)
    assert sent.status is OrderStatus.CANCELED
    assert fake.orders[int(sent.identifier)]["status"] == "CANCELED"
    assert broker.events[-1][3] == "canceled"


def test_unsupported_orders_are_rejected_with_a_reason(fake):
    broker = connect(fake)
    stop = broker.submit_order(order(cid="s-1", stop_price=45_000.0, side="sell"))
    assert stop.status is OrderStatus.REJECTED and "market or limit only" in stop.reject_reason
    assert fake.count("POST", "/api/v3/order") == 0


def test_exchange_rejections_become_rejected_orders(fake):
    broker = connect(fake)
    big = broker.submit_order(order(qty=10.0, cid="big-1"))
    assert big.status is OrderStatus.REJECTED and "insufficient balance" in big.reject_reason


def test_a_lost_answer_is_found_by_client_order_id_instead_of_sent_again(fake):
    broker = connect(fake)
    fake.fail_next("drop_response", method="POST", path="/api/v3/order")
    sent = broker.submit_order(order(cid="lost-7"))
    assert len(fake.orders) == 1 and fake.count("POST", "/api/v3/order") == 1
    assert sent.identifier == str(next(iter(fake.orders)))
    again = broker.submit_order(order(cid="lost-7"))
    assert again is sent and broker.duplicates == 1


def test_a_dropped_connection_and_a_503_are_retried(fake):
    fake.fail_next("close", method="GET", path="/api/v3/ticker/24hr")
    fake.fail_next(503, method="GET", path="/api/v3/account")
    broker = connect(fake)
    assert broker.cash == 10_000.0
    assert broker.md.last_price("BTC") == 50_000.0
    assert fake.count("GET", "/api/v3/account") == 2 and fake.count("GET", "/api/v3/ticker/24hr") == 2


def test_restarted_broker_finds_its_order_on_the_exchange(fake):
    first = connect(fake)
    sent = first.submit_order(order(cid="keep-1", limit_price=40_000.0))
    second = connect(fake)
    found = second.find_order("keep-1", hint=order())
    assert found is not None and found.identifier == sent.identifier and found.status is OrderStatus.OPEN
    assert second.find_order("never-sent", hint=order()) is None


def test_wrong_keys_give_a_clear_error(fake):
    with pytest.raises(CredentialsError, match="BINANCE_API_KEY / BINANCE_API_SECRET.*sandbox keys"):
        connect(fake, key="WRONG")


def test_missing_keys_name_the_variables(fake):
    broker = CCXTBroker("binance", sandbox=True, url_override=fake.url, retry=FAST)
    with pytest.raises(CredentialsError, match="BINANCE_API_KEY.*BINANCE_API_SECRET"):
        broker.connect()


def test_ccxt_candles_in_progress_are_not_visible(fake):
    broker = connect(fake)
    bars = broker.md.history("BTC", 10)
    today = dt.datetime.now(dt.timezone.utc).date()
    assert len(bars) == 4  # five candles served, today's is still open
    assert bars.df.index[-1].date() == today - dt.timedelta(days=1)
    assert bars.close[-1] == 50_000 + 100 * 3 + 50
    quote = broker.md.quote("BTC/USDT")
    assert (quote.bid, quote.ask, quote.last) == (49_999.5, 50_000.5, 50_000.0)


class CryptoOnce(Strategy):
    def initialize(self):
        self.set_market("24/7")
        self.sleeptime = "1S"

    def on_trading_iteration(self):
        if self.first_iteration:
            self.submit_order(self.create_order("BTC", 0.01, "buy"))


def test_live_run_on_a_ccxt_sandbox(fake, tmp_path):
    from agentrt.engine.live import Trader

    trader = Trader(out_dir=tmp_path / "out", max_iterations=2, poll_seconds=0.2, quiet=True, handle_signals=False,
                    tearsheet=False)
    strategy = CryptoOnce(broker=CCXTBroker("binance", sandbox=True, api_key="BNTEST", secret="s",
                                            url_override=fake.url, retry=FAST))
    result = trader.add_strategy(strategy).run_all()["CryptoOnce"]
    assert result.crashed is None and result.iterations == 2
    fills = result.result.trades.query("status == 'fill'")
    assert list(zip(fills.symbol, fills.quantity)) == [("BTC", 0.01)]
    assert strategy.get_position("BTC").quantity == pytest.approx(0.01)
    assert fake.orders[next(iter(fake.orders))]["clientOrderId"] == f"{result.run_id}-1-0"
