"""News sentiment: an agent reads each stock's recent headlines and buys on clearly good news, sells
on clearly bad news.

The news comes from the Alpaca news API through get_news (tools/news.py), which returns only
articles published by the simulated time; it needs ALPACA_API_KEY and ALPACA_API_SECRET (a free
paper account gives them). agentrt ships no offline news, so without the key this demo stops with
that message. Alpaca's news archive starts in 2015, after the sample data ends, so run it on
Yahoo prices:

    ALPACA_API_KEY=... ALPACA_API_SECRET=... agentrt backtest demos/news_sentiment.py \\
        --data yahoo --start 2024-01-02 --end 2024-03-28
    ... the same with --model gemini-2.5-flash to let a real model judge the headlines

Without --model the headlines are scored by a keyword policy (no LLM) that reads the same tool
results a model would get.
"""

import json
import math
import os
import pathlib
import sys

if str(pathlib.Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # the repo root, home of `tools`

from agentrt import FunctionModel, Strategy, StrategyError
from tools.news import news_tools

SYSTEM_PROMPT = (
    "You trade the stocks in the context on news. Read each one's recent headlines with get_news and "
    "judge whether the news flow is clearly positive, clearly negative or mixed; buy about 1/N of the "
    "portfolio (N = number of stocks) on clearly positive news if you hold none, sell the whole "
    "position on clearly negative news, and otherwise hold."
)


def news_policy(request):
    """The offline stand-in for a model: the same tool calls and results, a keyword score for the judgement."""
    context = json.loads(request.prompt.split("Context (JSON): ", 1)[1].split("\n", 1)[0])
    symbols = context["symbols"]
    if request.step == 0:
        return ([{"tool": "get_news", "args": {"symbol": s, "limit": 10, "days": 3}} for s in symbols]
                + [{"tool": "market_last_price", "args": {"symbol": s}} for s in symbols]
                + [{"tool": "account_portfolio"}, {"tool": "account_positions"}])
    if request.step == 1:
        good = {"beat", "beats", "record", "surge", "surges", "upgrade", "upgraded", "raises", "strong",
                "jumps", "rally", "tops", "soars", "wins", "bullish"}
        bad = {"miss", "misses", "downgrade", "downgraded", "cut", "cuts", "lawsuit", "falls", "drop",
               "weak", "probe", "recall", "slump", "plunges", "bearish", "warns"}
        scores = {}
        for result in request.tool_results("get_news"):
            if result.is_error:
                continue
            words = " ".join(f"{a['headline']} {a['summary']}" for a in result.value["articles"]).lower()
            tokens = [w.strip(".,:;!?'\"()") for w in words.split()]
            scores[result.value["symbol"]] = sum(t in good for t in tokens) - sum(t in bad for t in tokens)
        prices = {r.value["symbol"]: r.value["price"] for r in request.tool_results("market_last_price")
                  if not r.is_error}
        portfolio = request.tool_results("account_portfolio")[-1].value
        held = {p["symbol"]: p["quantity"] for p in request.tool_results("account_positions")[-1].value["positions"]}
        orders, cash = [], portfolio["cash"]
        for symbol, score in sorted(scores.items()):
            if score <= -2 and held.get(symbol):
                orders.append({"tool": "orders_submit", "args": {"symbol": symbol, "quantity": held[symbol],
                                                                  "side": "sell"}})
            elif score >= 2 and not held.get(symbol) and symbol in prices:
                quantity = math.floor(min(cash * 0.99, portfolio["portfolio_value"] / len(symbols)) / prices[symbol])
                if quantity > 0:
                    orders.append({"tool": "orders_submit", "args": {"symbol": symbol, "quantity": quantity,
                                                                      "side": "buy"}})
                    cash -= quantity * prices[symbol]
        view = ", ".join(f"{s} {v:+d}" for s, v in sorted(scores.items())) or "no news read"
        return orders or f"News scores: {view}; nothing clearly positive to buy or negative to sell."
    placed = [c for m in request.messages for c in m.tool_calls if c.name == "orders_submit"]
    return "Traded on the news: " + ", ".join(f"{c.args['side']} {c.args['quantity']} {c.args['symbol']}"
                                              for c in placed) + "."


class NewsSentiment(Strategy):
    parameters = {"model": None, "symbols": ["AAPL", "MSFT"]}

    def initialize(self):
        missing = [name for name in ("ALPACA_API_KEY", "ALPACA_API_SECRET") if not os.environ.get(name)]
        if missing:
            raise StrategyError(
                f"news_sentiment reads news from the Alpaca news API: set {' and '.join(missing)} "
                "(agentrt ships no offline news). The other demos run without any key."
            )
        self.sleeptime = "1D"
        model = self.parameters["model"]
        if model is None:
            model = FunctionModel(news_policy)
            self.log_message("news_sentiment runs on an offline policy model (keyword scores, no LLM); "
                             "pass --model gemini-2.5-flash or openai/gpt-4.1-mini to use a real model")
        self.agents.create("news", model=model, system_prompt=SYSTEM_PROMPT, tools=news_tools())

    def on_trading_iteration(self):
        self.agents["news"].run(context={"symbols": self.parameters["symbols"]})


if __name__ == "__main__":
    from agentrt import YahooData

    print(NewsSentiment.backtest(YahooData, "2024-01-02", "2024-03-28"))
