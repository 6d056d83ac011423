"""agentrt: a runtime in which LLM agents trade, backtested bar by bar and run live unchanged.

The public API is re-exported lazily so that `import agentrt` stays light: nothing heavy
(pandas, ADK, LiteLLM, MCP, brokers) is imported until used.
"""

from __future__ import annotations

import importlib
from typing import Any

from agentrt._env import ensure_offline_safe_env

__version__ = "0.1.0"

# LiteLLM and google-auth reach the network at import unless told otherwise; set the safe
# defaults as soon as agentrt is imported (a value the user set is kept).
ensure_offline_safe_env()

_EXPORTS = {
    "Strategy": "agentrt.strategy.strategy",
    "StrategyError": "agentrt.strategy.strategy",
    "Asset": "agentrt.domain.assets",
    "AssetType": "agentrt.domain.assets",
    "Order": "agentrt.domain.orders",
    "Position": "agentrt.domain.position",
    "TradingFee": "agentrt.domain.fees",
    "SampleData": "agentrt.data.sources",
    "PandasData": "agentrt.data.sources",
    "CsvData": "agentrt.data.sources",
    "ParquetData": "agentrt.data.sources",
    "YahooData": "agentrt.data.yahoo",
    # LumiBot spellings, so a LumiBot strategy runs after changing only its imports
    "YahooDataBacktesting": "agentrt.data.yahoo",
    "PandasDataBacktesting": "agentrt.data.sources",
    "BacktestResult": "agentrt.engine.result",
    "BacktestError": "agentrt.engine.backtest",
    "StrategyCrash": "agentrt.engine.backtest",
    "agent_tool": "agentrt.agents.tool",
    "MCPServer": "agentrt.agents.mcp",
    "ScriptedModel": "agentrt.agents.models",
    "FunctionModel": "agentrt.agents.models",
    "AgentRunResult": "agentrt.agents.result",
    "Trader": "agentrt.engine.live",
    "AcceleratedClock": "agentrt.clock",
    "PaperBroker": "agentrt.broker.paper",
    "AlpacaBroker": "agentrt.broker.alpaca",
    "CCXTBroker": "agentrt.broker.ccxt",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentrt' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
