"""Engines: the backtest loop and the live loop — the only code that knows which one is running."""
