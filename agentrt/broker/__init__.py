"""Brokers: the `Broker` protocol, the simulated broker, and live adapters (imported lazily)."""
