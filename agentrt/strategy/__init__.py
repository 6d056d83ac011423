"""The strategy layer: the `Strategy` base class users subclass, and its `Vars` state."""

from agentrt.strategy.strategy import Strategy, StrategyError
from agentrt.strategy.vars import Vars

__all__ = ["Strategy", "StrategyError", "Vars"]
