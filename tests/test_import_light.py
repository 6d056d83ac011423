"""`import agentrt` stays light: no agent, broker, MCP or database library is imported until used."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("google.adk", "litellm", "ccxt", "alpaca", "mcp", "duckdb")

PROBE = """
import json, sys
import agentrt
from agentrt import Strategy
assert Strategy.__name__ == "Strategy"
heavy = {heavy!r}
loaded = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy))
print(json.dumps(loaded))
"""


def _loaded_after(code: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_agentrt_and_strategy_loads_no_heavy_library():
    assert _loaded_after(PROBE.format(heavy=HEAVY)) == []


def test_the_probe_detects_a_heavy_import():
    # the same probe, with one heavy library imported on purpose, must report it
    code = PROBE.format(heavy=HEAVY).replace("import agentrt\n", "import agentrt\nimport duckdb\n", 1)
    assert "duckdb" in _loaded_after(code)
