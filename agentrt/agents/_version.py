"""Version of the agent runtime's observable behaviour (part of every replay-cache key)."""

RUNTIME_VERSION = "agentrt-agents/2"
"""Bump when a change in the runtime (built-in tools, prompt layout, tool-result format)
changes what a model would see, so that cached runs recorded before it are not served."""
