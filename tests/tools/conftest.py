"""Fixtures for the tool-pack tests: the repo root on sys.path (for `tools`) and local fake APIs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from fake_apis import RecordedApi, alpaca_news_handler, fred_handler  # noqa: E402


@pytest.fixture(autouse=True)
def no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start without any key from the developer's shell: offline unless a test sets one."""
    for name in ("FRED_API_KEY", "FRED_API_BASE", "AGENTRT_MACRO_SOURCE", "ALPACA_API_KEY", "ALPACA_API_SECRET",
                 "ALPACA_DATA_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fred_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordedApi]:
    """A local FRED replaying tests/tools/fixtures/fred_*.json, with FRED_API_KEY and FRED_API_BASE set."""
    with RecordedApi(fred_handler) as api:
        monkeypatch.setenv("FRED_API_KEY", "test-fred-key-0123456789abcdef")
        monkeypatch.setenv("FRED_API_BASE", api.url + "/fred")
        yield api


@pytest.fixture
def alpaca_news_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordedApi]:
    """A local Alpaca news API replaying tests/tools/fixtures/alpaca_news_*.json, with keys set."""
    with RecordedApi(alpaca_news_handler) as api:
        monkeypatch.setenv("ALPACA_API_KEY", "PKTEST0123456789")
        monkeypatch.setenv("ALPACA_API_SECRET", "test-secret-abcdefghijklmnop")
        monkeypatch.setenv("ALPACA_DATA_URL", api.url)
        yield api
