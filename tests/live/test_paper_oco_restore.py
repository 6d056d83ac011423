"""A paper account restored after a restart still knows its open OCO orders (no duplicate on a retried step)."""
import datetime as dt
from zoneinfo import ZoneInfo

from agentrt.broker.paper import PaperBroker
from agentrt.calendars import sessions
from agentrt.data.live import LiveMarketData
from agentrt.domain import Order, OrderClass, OrderSide, OrderStatus
from agentrt.domain.assets import Asset
from agentrt.engine.live import AcceleratedClock

NY = ZoneInfo("America/New_York")


def _bound(broker, clock):
    data = LiveMarketData(broker.default_feed())
    data.bind(sessions("NYSE"), clock)
    broker.bind(data=data, clock=clock, sessions=sessions("NYSE"), strategy_name="S")
    return broker


def _oco():
    return Order(Asset("AAPL"), 10, OrderSide.SELL, order_class=OrderClass.OCO, take_profit_price=999.0,
                 stop_loss_price=1.0, client_order_id="r-2-0")


def test_open_oco_survives_snapshot_and_restore():
    clock = AcceleratedClock(dt.datetime(2012, 3, 6, 10, 0, tzinfo=NY), 1.0)
    first = _bound(PaperBroker(data="sample", cash=50_000), clock)
    first.submit_order(Order(Asset("AAPL"), 10, OrderSide.BUY, client_order_id="r-1-0"))
    first.process(clock.now_ns)
    oco = first.submit_order(_oco())
    assert oco.status is OrderStatus.OPEN
    snap = first.snapshot()

    second = _bound(PaperBroker(data="sample", cash=1.0), clock)
    second.restore(snap)
    found = second.find_order("r-2-0")
    again = second.submit_order(_oco())  # the same step retried after a restart
    working = [o for o in second.get_orders() if o.status.is_active]
    assert found is not None and len(working) == 2, (
        f"OCO client order id known after restore: {found is not None}; working orders after the retry: {working}")
