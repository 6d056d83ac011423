"""Momentum allocator: an agent ranks AAPL, MSFT, IBM and GOOG by trailing return, computed with
DuckDB over point-in-time price tables, and rotates into the strongest names.

Every day the agent loads each stock's recent bars (market_load_history_table), ranks them with
one SQL query (duckdb_query), sells what dropped out of the top, and buys the leaders with the
cash it has. Offline (no key) a rule-based policy plays the model through the same tools:

    agentrt backtest demos/momentum_allocator.py --start 2012-06-01 --end 2012-08-31
    agentrt backtest demos/momentum_allocator.py --start 2012-06-01 --end 2012-08-31 --param top_n=1
    agentrt backtest demos/momentum_allocator.py --start 2012-06-01 --end 2012-08-31 --model openai/gpt-4.1-mini
"""

import json
import math

from agentrt import FunctionModel, Strategy

SYSTEM_PROMPT = (
    "You run a momentum rotation over the stocks listed in the context. Load each one's last "
    "lookback_days daily bars, rank them with one duckdb_query by return over that window, and hold "
    "the top_n names with positive momentum at equal weight; sell holdings that fall out of the top "
    "top_n + 1 or turn negative, and buy leaders you do not hold with the cash available now."
)


def momentum_policy(request):
    """The offline stand-in for a model: the same tool calls and results, a fixed rule for the decision."""
    context = json.loads(request.prompt.split("Context (JSON): ", 1)[1].split("\n", 1)[0])
    universe, top_n = context["universe"], context["top_n"]
    if request.step == 0:
        loads = [{"tool": "market_load_history_table",
                  "args": {"symbol": s, "length": context["lookback_days"] + 1}} for s in universe]
        return loads + [{"tool": "account_portfolio"}, {"tool": "account_positions"}]
    if request.step == 1:
        tables = [r.value for r in request.tool_results("market_load_history_table") if not r.is_error]
        sql = " UNION ALL ".join(
            f"SELECT '{t['symbol']}' AS symbol, arg_max(close, datetime) / arg_min(close, datetime) - 1 AS momentum "
            f"FROM {t['table']}" for t in tables)
        return {"tool": "duckdb_query", "args": {"sql": f"SELECT * FROM ({sql}) ORDER BY momentum DESC"}}
    if request.step == 2:
        ranked = request.tool_results("duckdb_query")[-1].value["rows"]
        prices = {t.value["symbol"]: t.value["last_close"] for t in request.tool_results("market_load_history_table")
                  if not t.is_error}
        portfolio = request.tool_results("account_portfolio")[-1].value
        held = {p["symbol"]: p["quantity"] for p in request.tool_results("account_positions")[-1].value["positions"]}
        order = [row[0] for row in ranked if row[1] is not None and row[1] > 0]
        keep = set(order[: top_n + 1])
        orders = [{"tool": "orders_submit", "args": {"symbol": s, "quantity": q, "side": "sell"}}
                  for s, q in held.items() if s not in keep]
        cash = portfolio["cash"] - 0.02 * portfolio["portfolio_value"]
        for symbol in order[:top_n]:
            if symbol in held or len(held) - len(orders) >= top_n:
                continue
            quantity = math.floor(min(cash, portfolio["portfolio_value"] / top_n) / prices[symbol])
            if quantity > 0:
                orders.append({"tool": "orders_submit",
                               "args": {"symbol": symbol, "quantity": quantity, "side": "buy"}})
                cash -= quantity * prices[symbol]
                held[symbol] = quantity
        ranking = ", ".join(f"{row[0]} {row[1]:+.1%}" for row in ranked if row[1] is not None)
        if not orders:
            return f"Momentum ranking: {ranking}. Holdings already follow the ranking; no trade."
        return orders
    placed = [c for m in request.messages for c in m.tool_calls if c.name == "orders_submit"]
    moves = ", ".join(f"{c.args['side']} {c.args['quantity']} {c.args['symbol']}" for c in placed)
    return f"Rotated toward the momentum leaders: {moves}."


class MomentumAllocator(Strategy):
    parameters = {"model": None, "universe": ["AAPL", "MSFT", "IBM", "GOOG"], "top_n": 2, "lookback_days": 60}

    def initialize(self):
        self.sleeptime = "1D"
        model = self.parameters["model"]
        if model is None:
            model = FunctionModel(momentum_policy)
            self.log_message("momentum_allocator runs on an offline policy model (rules, no LLM); "
                             "pass --model gemini-2.5-flash or openai/gpt-4.1-mini to use a real model")
        self.agents.create("momentum", model=model, system_prompt=SYSTEM_PROMPT)

    def on_trading_iteration(self):
        context = {k: self.parameters[k] for k in ("universe", "top_n", "lookback_days")}
        self.agents["momentum"].run(context=context)


if __name__ == "__main__":
    from agentrt import SampleData

    print(MomentumAllocator.backtest(SampleData, "2012-06-01", "2012-08-31"))
