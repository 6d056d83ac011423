"""The telemetry package imports light and exposes its public names lazily."""

from __future__ import annotations

import subprocess
import sys

import agentrt.telemetry as telemetry


def test_importing_telemetry_and_span_helpers_loads_no_heavy_library() -> None:
    code = (
        "import sys, agentrt.telemetry, agentrt.telemetry.otel, agentrt.telemetry.warnings, "
        "agentrt.telemetry.traces, agentrt.telemetry.runindex, agentrt.telemetry.inspect\n"
        "from agentrt.telemetry.otel import agent_run_span\n"
        "import datetime\n"
        "with agent_run_span('a', 'scripted', datetime.datetime(2021, 3, 5)):\n"
        "    pass\n"
        "heavy = ('opentelemetry', 'pyarrow', 'duckdb', 'rich', 'pandas', 'numpy')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve_lazily() -> None:
    for name in telemetry.__all__:
        assert getattr(telemetry, name) is not None
    assert telemetry.write_trace.__module__ == "agentrt.telemetry.traces"


def test_warnings_module_re_exports_the_lookahead_walker() -> None:
    from agentrt.telemetry import lookahead
    from agentrt.telemetry.warnings import block_future_data, find_future_data

    assert find_future_data is lookahead.find_future_data
    assert block_future_data is lookahead.block_future_data
