"""Hello agent: the smallest agent strategy. Once a day an agent looks at AAPL and the account and
keeps about half of the portfolio in AAPL.

Runs offline with no key (the agent is played by a small rule-based policy that calls the same
tools a model would) or on a real model:

    agentrt backtest demos/hello_agent.py --start 2012-06-01 --end 2012-08-31
    agentrt backtest demos/hello_agent.py --start 2012-06-01 --end 2012-08-31 --model gemini-2.5-flash
"""

import math

from agentrt import FunctionModel, Strategy

SYSTEM_PROMPT = (
    "You keep about half of the portfolio in AAPL and the rest in cash. "
    "Check the portfolio, the AAPL position and the AAPL price; if AAPL is below 40% or above 60% "
    "of the portfolio value, trade whole shares back to 50%, otherwise do nothing."
)


def hello_policy(request):
    """The offline stand-in for a model: reads the same tool results a model would get, decides by rule."""
    if request.step == 0:
        return [{"tool": "account_portfolio"}, {"tool": "account_positions"},
                {"tool": "market_last_price", "args": {"symbol": "AAPL"}}]
    if request.step == 1:
        portfolio = request.tool_results("account_portfolio")[-1].value
        positions = request.tool_results("account_positions")[-1].value["positions"]
        price = request.tool_results("market_last_price")[-1].value["price"]
        held = sum(p["quantity"] for p in positions if p["symbol"] == "AAPL")
        weight = held * price / portfolio["portfolio_value"]
        target = math.floor(0.5 * portfolio["portfolio_value"] / price)
        if 0.4 <= weight <= 0.6 or target == held:
            return f"AAPL is {weight:.0%} of the portfolio at {price:.2f}; within 40-60%, no trade."
        side = "buy" if target > held else "sell"
        return {"tool": "orders_submit", "args": {"symbol": "AAPL", "quantity": abs(target - held), "side": side}}
    order = request.tool_results("orders_submit")[-1].value
    return f"AAPL was off its 50% target; placed a market {order.get('side')} of {order.get('quantity')} shares."


class HelloAgent(Strategy):
    parameters = {"model": None}

    def initialize(self):
        self.sleeptime = "1D"
        model = self.parameters["model"]
        if model is None:
            model = FunctionModel(hello_policy)
            self.log_message("hello_agent runs on an offline policy model (rules, no LLM); "
                             "pass --model gemini-2.5-flash or openai/gpt-4.1-mini to use a real model")
        self.agents.create("hello", model=model, system_prompt=SYSTEM_PROMPT)

    def on_trading_iteration(self):
        self.agents["hello"].run()


if __name__ == "__main__":
    from agentrt import SampleData

    print(HelloAgent.backtest(SampleData, "2012-06-01", "2012-08-31"))
