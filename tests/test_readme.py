"""The README's minimal strategy runs as written; its quick-start commands name files that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_minimal_strategy_runs(tmp_path):
    block = re.search(r"## A minimal strategy.*?```python\n(.*?)```", README, re.S).group(1)
    script = tmp_path / "buy_and_hold.py"
    script.write_text(block)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AGENTRT_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    total_return, out_dir = done.stdout.split()[-2:]
    assert float(total_return) > 0.5  # AAPL 2010-2012, bought with the whole budget on day one
    assert (Path(out_dir) / "trades.csv").exists()


def test_quick_start_commands_point_at_real_files():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick, re.S)
    assert len(commands) == 2
    assert "demos/hello_agent.py" in commands[0] and (ROOT / "demos" / "hello_agent.py").exists()
    assert commands[1].endswith(".venv/bin/python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci  # CI runs exactly the README's test command
