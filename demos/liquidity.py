"""Liquidity: an agent moves between stocks (the S&P 500) and cash as money-supply growth runs ahead
of or behind the T-bill rate; cash earns that T-bill rate, booked as interest cash events.

The offline twin of the FAQ's M2 demo. The agent reads the money stock and the 3-month T-bill rate
with get_macro_series (tools/macro.py), which returns only values released by the simulated date:
offline the embedded quarterly M1 and T-bill series (1959-2009), online FRED's M2SL and TB3MS (set
FRED_API_KEY). SPX, the index in the sample data, stands in for an S&P 500 index fund.

    agentrt backtest demos/liquidity.py --start 2008-09-02 --end 2008-11-28
    FRED_API_KEY=... agentrt backtest demos/liquidity.py --data yahoo --param symbol=SPY \\
        --start 2020-01-02 --end 2021-12-31 --model gemini-2.5-flash
"""

import json
import math
import pathlib
import sys

if str(pathlib.Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the repo root, home of `tools`

from agentrt import FunctionModel, Strategy
from tools.macro import macro_source, macro_tools

SYSTEM_PROMPT = (
    "You split the portfolio between the stock index in the context and cash. Read the money stock "
    "(money_series) and the 3-month T-bill rate (TB3MS) with get_macro_series and compare money growth "
    "over the last year with the T-bill rate: growth more than 2 points above the rate means ample "
    "liquidity (hold 90% stocks), more than 2 points below means tight money (20%), otherwise 60%; "
    "trade only when the stock weight is more than 10 points off its target."
)


def liquidity_policy(request):
    """The offline stand-in for a model: the same tool calls and results, a fixed rule for the decision."""
    context = json.loads(request.prompt.split("Context (JSON): ", 1)[1].split("\n", 1)[0])
    symbol = context["symbol"]
    if request.step == 0:
        return [{"tool": "get_macro_series", "args": {"series_id": context["money_series"], "lookback": 13}},
                {"tool": "get_macro_series", "args": {"series_id": "TB3MS", "lookback": 1}},
                {"tool": "account_portfolio"}, {"tool": "account_positions"},
                {"tool": "market_last_price", "args": {"symbol": symbol}}]
    if request.step == 1:
        series = {r.value["series_id"]: r.value["observations"] for r in request.tool_results("get_macro_series")
                  if not r.is_error}
        money, rate = series.get(context["money_series"]), series.get("TB3MS")
        if not money or not rate:
            return "Money supply or T-bill data is not available yet; no trade."
        last = money[-1]
        year_ago = [o for o in money if o["date"] <= str(int(last["date"][:4]) - 1) + last["date"][4:]]
        if not year_ago:
            return "Less than a year of money-supply data is available; no trade."
        growth = (last["value"] / year_ago[-1]["value"] - 1) * 100
        impulse = growth - rate[-1]["value"]
        target = 0.9 if impulse > 2 else 0.2 if impulse < -2 else 0.6
        portfolio = request.tool_results("account_portfolio")[-1].value
        price = request.tool_results("market_last_price")[-1].value["price"]
        held = sum(p["quantity"] for p in request.tool_results("account_positions")[-1].value["positions"]
                   if p["symbol"] == symbol)
        weight = held * price / portfolio["portfolio_value"]
        view = (f"{context['money_series']} growth {growth:+.1f}% vs T-bill {rate[-1]['value']:.2f}% "
                f"(impulse {impulse:+.1f} pts): target {target:.0%} in {symbol}, now {weight:.0%}")
        quantity = math.floor(target * portfolio["portfolio_value"] / price) - held
        if abs(weight - target) <= 0.10 or quantity == 0:
            return view + "; within the band, no trade."
        if quantity > 0:
            quantity = min(quantity, math.floor(0.99 * portfolio["cash"] / price))
        side = "buy" if quantity > 0 else "sell"
        return {"tool": "orders_submit", "args": {"symbol": symbol, "quantity": abs(quantity), "side": side}}
    order = request.tool_results("orders_submit")[-1].value
    return f"Rebalanced toward the liquidity target: {order.get('side')} {order.get('quantity')} {symbol}."


class Liquidity(Strategy):
    parameters = {"model": None, "symbol": "SPX", "money_series": None, "rebalance_days": 5}

    def initialize(self):
        self.sleeptime = "1D"
        self.vars.money_series = self.parameters["money_series"] or ("M2SL" if macro_source() == "fred" else "M1SL")
        self.vars.tbill_rate = None  # percent, as last read by the agent
        self.vars.interest_paid_through = None
        self.vars.iteration = 0
        model = self.parameters["model"]
        if model is None:
            model = FunctionModel(liquidity_policy)
            self.log_message("liquidity runs on an offline policy model (rules, no LLM); "
                             "pass --model gemini-2.5-flash or openai/gpt-4.1-mini to use a real model")
        self.log_message(f"macro data source: {macro_source()} (money stock {self.vars.money_series})")
        self.agents.create("liquidity", model=model, system_prompt=SYSTEM_PROMPT, tools=macro_tools())

    def on_trading_iteration(self):
        if self.vars.iteration % self.parameters["rebalance_days"] == 0:
            context = {"symbol": self.parameters["symbol"], "money_series": self.vars.money_series}
            result = self.agents["liquidity"].run(context=context)
            for item in result.tool_results:  # the T-bill rate the agent read is what cash earns
                answer = item.get("result") or {}
                if item.get("name") == "get_macro_series" and answer.get("series_id") == "TB3MS" \
                        and answer.get("observations"):
                    self.vars.tbill_rate = answer["observations"][-1]["value"]
        self.vars.iteration += 1
        self.book_interest()

    def book_interest(self):
        """Credit interest on the cash balance at the T-bill rate, for the days since the last credit."""
        today = self.get_datetime().date()
        since = self.vars.interest_paid_through
        self.vars.interest_paid_through = today
        if since is None or self.vars.tbill_rate is None or self.cash <= 0:
            return
        amount = round(self.cash * self.vars.tbill_rate / 100 * (today - since).days / 365, 2)
        if amount > 0:
            self.adjust_cash(amount, f"interest on cash at {self.vars.tbill_rate:.2f}% (TB3MS)",
                             cash_event_type="interest")


if __name__ == "__main__":
    from agentrt import SampleData

    print(Liquidity.backtest(SampleData, "2008-09-02", "2008-11-28"))
