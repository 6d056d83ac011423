"""orders_modify refuses non-positive or non-finite prices with a tool error."""
import math

import pytest
from .conftest import FakeHost, price_frame

from agentrt.agents import ScriptedModel


@pytest.mark.parametrize("bad", [-5.0, 0.0, float("nan"), float("inf")])
def test_orders_modify_rejects_non_positive_prices(bad):
    host = FakeHost({"AAPL": price_frame([100.0 + i for i in range(80)])})
    host.agents.create("a", model=ScriptedModel([
        {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": 1, "side": "buy",
                                           "order_type": "limit", "limit_price": 50}},
        {"tool": "orders_modify", "args": {"order_id": "1", "limit_price": bad}},
        "done",
    ]))
    try:
        result = host.agents["a"].run()
    finally:
        host.agents.close()
    modify = result.tool_results[1]
    price = host.get_order("1").limit_price
    assert "error" in modify and price == 50.0, f"modify accepted limit_price={bad}: {modify}; order limit now {price}"
