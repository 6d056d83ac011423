"""Market and economic data sources for agentrt: protocols, adapters and embedded sample data."""
