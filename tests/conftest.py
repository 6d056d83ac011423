"""Test-suite setup for agentrt: the network latch, offline env defaults, and shared backtest factories.

The latch is installed when pytest configures itself (so imports during collection are covered too)
and stays for the whole session: any socket connection to a non-loopback address raises
`RuntimeError("agentrt tests: network access to HOST:PORT blocked ...")`. Local fake servers must
bind 127.0.0.1.

Factories: this module is also registered as `testkit`, so test modules write
`from testkit import make_bars, run, scripted` (several `conftest` modules exist in the tree, so
`from conftest import ...` would be ambiguous):
- `make_frame(rows, dates)` / `make_bars(rows, dates, symbol=...)`: explicit OHLC rows on given dates
  (default: consecutive NYSE sessions from 2012-01-03) as a DataFrame / `PandasData`.
- `run(strategy_cls, data, start, end, **kw)`: a quiet in-memory backtest (no files written).
- `run_to(out_dir, strategy_cls, data, start, end, **kw)`: the same, writing the output folder.
- `scripted(steps, **attrs)`: a Strategy subclass that runs `steps[i](self)` at iteration i and
  keeps its instance on the class (`Cls.instance`) for inspection after the run.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.modules.setdefault("testkit", sys.modules[__name__])

# --------------------------------------------------------------------------------------------------
# network latch
# --------------------------------------------------------------------------------------------------
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_ORIGINAL: dict[str, Any] = {}
_SESSION_CACHE_DIR: str | None = None


def _is_loopback_host(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip().lower()
    if text in _LOOPBACK_NAMES:
        return True
    text = text.strip("[]").split("%", 1)[0]  # "[::1]", "fe80::1%eth0"
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False  # a host name other than localhost: never resolved, always blocked
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _check_destination(family: int, address: object) -> None:
    if family == getattr(socket, "AF_UNIX", object()):
        return
    if isinstance(address, tuple) and address:
        host, port = address[0], address[1] if len(address) > 1 else "?"
        if _is_loopback_host(host):
            return
        where = f"{host}:{port}"
    else:
        where = repr(address)
    raise RuntimeError(
        f"agentrt tests: network access to {where} blocked "
        "(tests may only connect to 127.0.0.1/::1; use a local fake server or recorded responses)")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check_destination(self.family, address)
    return _ORIGINAL["connect"](self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check_destination(self.family, address)
    return _ORIGINAL["connect_ex"](self, address)


def _guarded_create_connection(address, *args: Any, **kwargs: Any) -> socket.socket:
    # checked before the name is resolved, so a blocked host never even causes a DNS query
    _check_destination(socket.AF_INET, tuple(address))
    return _ORIGINAL["create_connection"](address, *args, **kwargs)


def install_network_latch() -> None:
    """Patch socket connects so only loopback and AF_UNIX destinations work (idempotent)."""
    if socket.socket.connect is _guarded_connect:
        return
    _ORIGINAL.setdefault("connect", socket.socket.connect)
    _ORIGINAL.setdefault("connect_ex", socket.socket.connect_ex)
    _ORIGINAL.setdefault("create_connection", socket.create_connection)
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.create_connection = _guarded_create_connection  # type: ignore[assignment]


def uninstall_network_latch() -> None:
    if not _ORIGINAL:
        return
    socket.socket.connect = _ORIGINAL["connect"]  # type: ignore[method-assign]
    socket.socket.connect_ex = _ORIGINAL["connect_ex"]  # type: ignore[method-assign]
    socket.create_connection = _ORIGINAL["create_connection"]  # type: ignore[assignment]


def pytest_configure(config: pytest.Config) -> None:
    global _SESSION_CACHE_DIR
    # before anything imports litellm / google-auth (they would fetch a price map / probe metadata)
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ["GOOGLE_API_USE_CLIENT_CERTIFICATE"] = "false"
    _SESSION_CACHE_DIR = tempfile.mkdtemp(prefix="agentrt-tests-cache-")
    os.environ["AGENTRT_CACHE_DIR"] = _SESSION_CACHE_DIR  # tests never touch ~/.cache/agentrt
    install_network_latch()


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall_network_latch()
    if _SESSION_CACHE_DIR:
        shutil.rmtree(_SESSION_CACHE_DIR, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def network_latch() -> None:
    """Keeps the latch in place for every test (re-installs it if something swapped socket methods)."""
    install_network_latch()


# --------------------------------------------------------------------------------------------------
# bar factories
# --------------------------------------------------------------------------------------------------
DEFAULT_START = "2012-01-03"  # a Tuesday; 2012-01-03..01-06 then 01-09.. are NYSE sessions


def nyse_sessions(start: str, count: int) -> list[str]:
    """`count` consecutive NYSE session dates from `start` (inclusive), as YYYY-MM-DD."""
    import numpy as np

    from agentrt.calendars import sessions

    s = sessions("NYSE")
    i = int(np.searchsorted(s.dates, np.datetime64(start, "D")))
    return [str(d) for d in s.dates[i:i + count]]


def make_frame(rows: Sequence[Sequence[float]], dates: Sequence[str] | None = None, *,
               start: str = DEFAULT_START, freq: str | None = None):
    """A bar DataFrame from explicit rows `(open, high, low, close[, volume])`.

    `dates` gives one date (or timestamp) per row; by default rows go on consecutive NYSE sessions
    from `start`; with `freq` (e.g. "1min", "30min", "1D") they go on a regular range from `start`.
    """
    import pandas as pd

    rows = [tuple(r) for r in rows]
    if dates is None:
        if freq is not None:
            index = pd.date_range(start, periods=len(rows), freq=freq)
        else:
            index = pd.DatetimeIndex(nyse_sessions(start, len(rows)))
    else:
        index = pd.DatetimeIndex(list(dates))
    if len(index) != len(rows):
        raise ValueError(f"{len(rows)} rows but {len(index)} dates")
    return pd.DataFrame(
        {
            "open": [float(r[0]) for r in rows],
            "high": [float(r[1]) for r in rows],
            "low": [float(r[2]) for r in rows],
            "close": [float(r[3]) for r in rows],
            "volume": [float(r[4]) if len(r) > 4 else 1_000.0 for r in rows],
        },
        index=index,
    )


def make_bars(rows: Sequence[Sequence[float]] | Mapping[str, Sequence[Sequence[float]]],
              dates: Sequence[str] | None = None, *, symbol: str = "TEST", start: str = DEFAULT_START,
              freq: str | None = None, timestep: str = "day"):
    """A `PandasData` from explicit OHLC rows; pass `{symbol: rows}` for several assets on the same dates."""
    from agentrt.data.sources import PandasData

    table = rows if isinstance(rows, Mapping) else {symbol: rows}
    frames = {sym: make_frame(r, dates, start=start, freq=freq) for sym, r in table.items()}
    return PandasData(frames, timestep=timestep)


# --------------------------------------------------------------------------------------------------
# running backtests
# --------------------------------------------------------------------------------------------------
def run(strategy_cls: type, data: Any, start: Any, end: Any, **kw: Any):
    """A quiet backtest that writes nothing; returns the `BacktestResult`."""
    kw.setdefault("show_progress", False)
    kw.setdefault("write_outputs", False)
    kw.setdefault("quiet", True)
    return strategy_cls.backtest(data, start, end, **kw)


def run_to(out_dir: Path, strategy_cls: type, data: Any, start: Any, end: Any, **kw: Any):
    """A quiet backtest writing its output folder under `out_dir` (no HTML unless `tearsheet=True`)."""
    kw.setdefault("tearsheet", False)
    return run(strategy_cls, data, start, end, write_outputs=True, output_dir=out_dir, **kw)


def scripted(steps: Mapping[int, Callable[[Any], Any]] | None = None, *, name: str = "Scripted",
             **attrs: Any) -> type:
    """A Strategy subclass that calls `steps[i](self)` on its i-th iteration (0-based).

    The running instance is kept as `Cls.instance`; `self.vars.seen` collects whatever steps
    append. `init=fn` runs `fn(self)` at the end of `initialize()`; other keyword arguments become
    class attributes (hooks such as `on_filled_order`, `sleeptime`, `parameters`...).
    """
    from agentrt.strategy.strategy import Strategy

    table = dict(steps or {})

    def initialize(self: Strategy) -> None:
        type(self).instance = self
        self.vars.seen = []
        self.vars.i = 0
        init = attrs.get("init")
        if init is not None:
            init(self)

    def on_trading_iteration(self: Strategy) -> None:
        step = table.get(self.vars.i)
        self.vars.i += 1
        if step is not None:
            step(self)

    body: dict[str, Any] = {"initialize": initialize, "on_trading_iteration": on_trading_iteration,
                            "instance": None, "__module__": __name__}
    body.update({k: v for k, v in attrs.items() if k != "init"})
    return type(name, (Strategy,), body)


def buy(symbol: str, qty: float, **kw: Any) -> Callable[[Any], Any]:
    """A step that submits a buy order and remembers it in `self.vars.orders`."""
    return _order_step(symbol, qty, "buy", **kw)


def sell(symbol: str, qty: float, **kw: Any) -> Callable[[Any], Any]:
    """A step that submits a sell order and remembers it in `self.vars.orders`."""
    return _order_step(symbol, qty, "sell", **kw)


def _order_step(symbol: str, qty: float, side: str, **kw: Any) -> Callable[[Any], Any]:
    def step(self: Any) -> None:
        order = self.submit_order(self.create_order(symbol, qty, side, **kw))
        orders = self.vars.get("orders") or []
        orders.append(order)
        self.vars.orders = orders

    return step


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty temporary folder (a stray default `./traces` lands there, not in the repo)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def clean_backtest_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No BACKTESTING_* overrides leak in from the developer's shell."""
    for name in ("BACKTESTING_START", "BACKTESTING_END", "BACKTESTING_BUDGET", "BACKTESTING_DATA_SOURCE",
                 "BACKTESTING_PARAMETERS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
