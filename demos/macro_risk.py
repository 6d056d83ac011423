"""Macro risk: an agent sets the stock/cash split from the rates and inflation regime, reading the
Treasury curve and core CPI through an MCP server.

The agent's macro data comes from tools/market_mcp.py, an MCP server started as a subprocess over
stdio (the demo of agentrt's MCPServer). Every MCP tool takes as_of, the simulated datetime, and
answers only with data published by then. An inverted curve or core inflation above 3% is a
risk-off regime (20% stocks), a steep curve with inflation under 2.5% risk-on (90%), anything
else neutral (60%). SPX, the index in the sample data, stands in for an S&P 500 index fund.

    agentrt backtest demos/macro_risk.py --start 2007-01-02 --end 2007-03-30
    agentrt backtest demos/macro_risk.py --start 2007-01-02 --end 2007-03-30 --model gemini-2.5-flash
"""

import json
import math
import os
import pathlib
import sys

from agentrt import FunctionModel, MCPServer, Strategy

REPO_ROOT = str(pathlib.Path(__file__).resolve().parents[1])  # home of the `tools` package
# one spelling of this interpreter (`agentrt` runs as .../python3, `python demo.py` as .../python), so
# the MCP server's identity, part of the replay-cache key, is the same whichever way the demo starts
PYTHON = str(pathlib.Path(sys.executable).with_name("python"))
PYTHON = PYTHON if os.path.exists(PYTHON) else sys.executable

SYSTEM_PROMPT = (
    "You set how much of the portfolio sits in the stock index named in the context, from the macro "
    "regime. Call the market MCP tools treasury_curve and inflation with as_of set to the simulated "
    "datetime exactly as given in your task: an inverted curve (10y-3m spread below 0) or core inflation "
    "above 3% is risk-off (20% stocks), a 10y-3m spread above 1 point with inflation below 2.5% is "
    "risk-on (90%), anything else neutral (60%); trade only when the weight is more than 10 points off."
)


def macro_risk_policy(request):
    """The offline stand-in for a model: the same tool calls and results, a fixed rule for the decision."""
    context = json.loads(request.prompt.split("Context (JSON): ", 1)[1].split("\n", 1)[0])
    as_of = request.prompt.split("Simulated datetime: ", 1)[1].split("\n", 1)[0].strip()
    symbol = context["symbol"]
    if request.step == 0:
        return [{"tool": "treasury_curve", "args": {"as_of": as_of}},
                {"tool": "inflation", "args": {"as_of": as_of, "months": 12}},
                {"tool": "account_portfolio"}, {"tool": "account_positions"},
                {"tool": "market_last_price", "args": {"symbol": symbol}}]
    if request.step == 1:
        curve = request.tool_results("treasury_curve")[-1]
        inflation = request.tool_results("inflation")[-1]
        if curve.is_error or inflation.is_error or "spread_10y_3m_pct" not in curve.value \
                or "inflation_pct" not in inflation.value:
            return "The Treasury curve or core inflation is not available at this date; no trade."
        spread, core = curve.value["spread_10y_3m_pct"], inflation.value["inflation_pct"]
        if spread < 0 or core > 3.0:
            regime, target = "risk-off", 0.2
        elif spread > 1.0 and core < 2.5:
            regime, target = "risk-on", 0.9
        else:
            regime, target = "neutral", 0.6
        portfolio = request.tool_results("account_portfolio")[-1].value
        price = request.tool_results("market_last_price")[-1].value["price"]
        held = sum(p["quantity"] for p in request.tool_results("account_positions")[-1].value["positions"]
                   if p["symbol"] == symbol)
        weight = held * price / portfolio["portfolio_value"]
        view = (f"10y-3m spread {spread:+.2f} pts, core CPI {core:.2f}% y/y: {regime}, "
                f"target {target:.0%} in {symbol}, now {weight:.0%}")
        quantity = math.floor(target * portfolio["portfolio_value"] / price) - held
        if abs(weight - target) <= 0.10 or quantity == 0:
            return view + "; within the band, no trade."
        if quantity > 0:
            quantity = min(quantity, math.floor(0.99 * portfolio["cash"] / price))
        side = "buy" if quantity > 0 else "sell"
        return {"tool": "orders_submit", "args": {"symbol": symbol, "quantity": abs(quantity), "side": side}}
    order = request.tool_results("orders_submit")[-1].value
    return f"Moved toward the macro regime's target: {order.get('side')} {order.get('quantity')} {symbol}."


class MacroRisk(Strategy):
    parameters = {"model": None, "symbol": "SPX", "rebalance_days": 5}

    def initialize(self):
        self.sleeptime = "1D"
        self.vars.iteration = 0
        model = self.parameters["model"]
        if model is None:
            model = FunctionModel(macro_risk_policy)
            self.log_message("macro_risk runs on an offline policy model (rules, no LLM); "
                             "pass --model gemini-2.5-flash or openai/gpt-4.1-mini to use a real model")
        market = MCPServer(
            name="market", command=PYTHON, args=["-m", "tools.market_mcp", "--transport", "stdio"],
            transport="stdio",
            env={"PYTHONPATH": os.pathsep.join(p for p in (REPO_ROOT, os.environ.get("PYTHONPATH")) if p)},
        )
        self.agents.create("macro", model=model, system_prompt=SYSTEM_PROMPT, mcp_servers=[market])

    def on_trading_iteration(self):
        if self.vars.iteration % self.parameters["rebalance_days"] == 0:
            self.agents["macro"].run(context={"symbol": self.parameters["symbol"]})
        self.vars.iteration += 1


if __name__ == "__main__":
    from agentrt import SampleData

    print(MacroRisk.backtest(SampleData, "2007-01-02", "2007-03-30"))
