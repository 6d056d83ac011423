"""Fixtures for the demo tests: `tools` and the fake APIs importable, no API keys from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
for folder in (REPO_ROOT, REPO_ROOT / "tests" / "tools"):  # `tools` package; fake_apis.py
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@pytest.fixture(autouse=True)
def no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Demos run offline unless a test sets a key (and never with a key from the developer's shell)."""
    for name in ("FRED_API_KEY", "FRED_API_BASE", "AGENTRT_MACRO_SOURCE", "ALPACA_API_KEY", "ALPACA_API_SECRET",
                 "ALPACA_DATA_URL", "GOOGLE_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
