"""With allow_short=True a short sale still needs margin: a $100k account cannot short $100M."""
from testkit import make_bars, run, scripted

FLAT = (100.0, 100.0, 100.0, 100.0)


def test_short_sale_without_any_margin_is_rejected():
    def short(self):
        self.vars.order = self.submit_order(self.create_order("TEST", 1_000_000, "sell"))

    cls = scripted({0: short})
    run(cls, make_bars([FLAT, FLAT, FLAT]), "2012-01-03", "2012-01-05", allow_short=True, budget=100_000)
    order = cls.instance.vars.order
    assert order.status.value == "rejected", (
        f"shorted {order.filled_quantity:g} x 100 = $100M on $100k cash: status {order.status.value}")
