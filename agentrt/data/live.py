"""Live market data: feeds (Alpaca, CCXT, a replayed history) behind the point-in-time `MarketData` interface.

A *feed* knows how to ask one provider for bars and quotes. `LiveMarketData` wraps a feed for
one live run and answers exactly what a strategy asks of `MarketData` in a backtest (`asset`,
`history`, `last_price`, `quote`, `knows`, `series`), with the same guarantee: nothing it returns
is stamped after the clock. A bar is visible only once its end has passed, so a provider's
in-progress bar is dropped; a quote stamped after now (clock skew) is clamped to now.

Credentials and retries shared with the live brokers are in `agentrt.data.connect` (re-exported here).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from agentrt.clock import ns_to_datetime
from agentrt.data.connect import (  # noqa: F401 - re-exported: brokers and tests import them from here
    ALPACA_VARIABLES,
    CredentialsError,
    LiveConnectionError,
    LiveDataError,
    RetryPolicy,
    alpaca_credentials,
    call_with_retry,
    credentials_rejected,
    exchange_credentials,
    exchange_variables,
    is_transient,
    load_env_file,
    _status_code,
)
from agentrt.data.bars import Bars, BarSeries
from agentrt.data.base import DataError, DataSource, parse_timestep
from agentrt.domain.assets import Asset, AssetType, as_asset
from agentrt.domain.position import Quote

__all__ = [
    "AlpacaFeed", "CCXTFeed", "CredentialsError", "LiveConnectionError", "LiveDataError", "LiveFeed",
    "LiveMarketData", "ReplayFeed", "RetryPolicy", "alpaca_credentials", "call_with_retry",
    "credentials_rejected", "exchange_credentials", "feed_from_spec", "is_transient", "load_env_file",
    "make_exchange",
]

log = logging.getLogger("agentrt.live")
T = TypeVar("T")

_STEP_NS = {"minute": 60_000_000_000, "hour": 3_600_000_000_000, "day": 86_400_000_000_000}
_NS_PER_DAY = 86_400_000_000_000


# ---- feeds --------------------------------------------------------------------------------
class LiveFeed:
    """A provider of live bars and quotes. Subclasses implement `bars`, `quote` and `knows`.

    `bars` may return in-progress bars and bars stamped after now; `LiveMarketData` removes them.
    """

    name = "live"
    timestep = "day"
    """The bar size `get_historical_prices` uses when the strategy names none."""
    default_quote: str | None = None
    default_asset_type = AssetType.STOCK
    """What a bare symbol string means ("AAPL" is a stock; on a crypto exchange "BTC" is crypto)."""
    is_replay = False

    def bind(self, sessions, clock) -> None:
        """Called by the engine before the run (replay feeds need the calendar and the clock)."""
        self.sessions = sessions
        self.clock = clock

    def bars(self, asset: Asset, timestep: str, *, length: int, now_ns: int) -> BarSeries:
        raise NotImplementedError

    def quote(self, asset: Asset, *, now_ns: int) -> Quote | None:
        raise NotImplementedError

    def knows(self, asset: Asset) -> bool:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name}

    def close(self) -> None:
        """Release connections (optional)."""


def _frame_to_series(asset: Asset, frame, sessions, timestep: str) -> BarSeries:
    """Bind a provider frame (index = bar start, tz-aware) to bar start/end instants."""
    from agentrt.data.feed import bind_frame

    if len(frame) == 0:
        empty_i = np.empty(0, dtype=np.int64)
        empty_f = np.empty(0, dtype=np.float64)
        return BarSeries(asset, timestep, sessions.tz, empty_i, empty_i, empty_f, empty_f, empty_f, empty_f, empty_f)
    if timestep == "day":
        return bind_frame(asset, frame, sessions, timestep="day")
    start = frame.index.asi8.astype(np.int64)
    end = start + _STEP_NS[timestep]
    return BarSeries(asset, timestep, sessions.tz, start, end, frame["open"].values, frame["high"].values,
                     frame["low"].values, frame["close"].values, frame["volume"].values)


class ReplayFeed(LiveFeed):
    """Recorded daily bars served as if live: for paper runs and tests without a network.

    At clock time t it shows the bars that closed by t; its quote is the open of the session in
    progress (known from the open on) or else the last close. Run it with an accelerated clock
    (`agentrt live --data sample --start 2012-01-03 --speed 3600`) to watch days pass in seconds.
    """

    name = "replay"
    is_replay = True

    def __init__(self, source: DataSource | str = "sample") -> None:
        from agentrt.data.routing import resolve_data_source

        self.source = resolve_data_source(source)
        self.timestep = getattr(self.source, "timestep", "day")
        self._md = None

    def bind(self, sessions, clock) -> None:
        from agentrt.data.feed import MarketData

        super().bind(sessions, clock)
        self._md = MarketData(self.source, sessions, clock)

    def _full(self, asset: Asset, timestep: str = "day") -> BarSeries:
        if self._md is None:
            raise LiveDataError("ReplayFeed is not bound to a calendar yet; the live engine binds it at start")
        return self._md.series(asset, timestep)

    def bars(self, asset: Asset, timestep: str, *, length: int, now_ns: int) -> BarSeries:
        full = self._full(asset, timestep)
        hi = full.visible_count(now_ns)
        lo = max(0, hi - int(length))
        return _slice_series(full, lo, hi)

    def quote(self, asset: Asset, *, now_ns: int) -> Quote | None:
        s = self._full(asset)
        k = s.visible_count(now_ns)
        if k < len(s) and int(s.start_ns[k]) <= now_ns:
            price, at = float(s.open[k]), int(s.start_ns[k])
        elif k:
            price, at = float(s.close[k - 1]), int(s.end_ns[k - 1])
        else:
            return None
        return Quote(asset=asset, bid=price, ask=price, last=price, time=ns_to_datetime(at, self.clock.tz))

    def knows(self, asset: Asset) -> bool:
        try:
            self._full(asset)
            return True
        except (DataError, KeyError):
            return False

    def describe(self) -> dict:
        return {"name": self.name, "source": self.source.describe()}


def _slice_series(s: BarSeries, lo: int, hi: int) -> BarSeries:
    return BarSeries(s.asset, s.timestep, s.tz, s.start_ns[lo:hi], s.end_ns[lo:hi], s.open[lo:hi], s.high[lo:hi],
                     s.low[lo:hi], s.close[lo:hi], s.volume[lo:hi])


class AlpacaFeed(LiveFeed):
    """US stock bars and quotes from Alpaca market data (alpaca-py `StockHistoricalDataClient`).

    Credentials as for `AlpacaBroker`; `feed="iex"` works with free accounts ("sip" needs a
    subscription). `url_override` points the client elsewhere (a proxy, or a test server).
    """

    name = "alpaca"
    default_quote = "USD"

    def __init__(self, api_key: str | None = None, secret_key: str | None = None, *, feed: str = "iex",
                 adjustment: str = "all", url_override: str | None = None, retry: RetryPolicy | None = None,
                 client: Any = None) -> None:
        self._key, self._secret = api_key, secret_key
        self.feed = feed
        self.adjustment = adjustment
        self.url_override = url_override
        self.retry = retry or RetryPolicy()
        self._client = client
        self._lock = threading.Lock()
        self._known: dict[Asset, bool] = {}

    @property
    def client(self):
        if self._client is None:
            from alpaca.data.historical.stock import StockHistoricalDataClient

            key, secret = (self._key, self._secret) if self._key and self._secret else alpaca_credentials()
            self._client = StockHistoricalDataClient(key, secret, url_override=self.url_override)
        return self._client

    def _call(self, fn: Callable[[], T], what: str) -> T:
        try:
            with self._lock:
                return call_with_retry(fn, what=f"Alpaca market data: {what}", policy=self.retry)
        except Exception as exc:
            if credentials_rejected(exc):
                raise CredentialsError(
                    f"Alpaca rejected the market-data credentials (HTTP {_status_code(exc)}): check "
                    f"{ALPACA_VARIABLES}") from exc
            raise

    def bars(self, asset: Asset, timestep: str, *, length: int, now_ns: int) -> BarSeries:
        import pandas as pd
        from alpaca.common.enums import Sort
        from alpaca.data.enums import Adjustment, DataFeed
        from alpaca.data.requests import StockBarsRequest
        from alpaca.data.timeframe import TimeFrame

        tf = {"day": TimeFrame.Day, "hour": TimeFrame.Hour, "minute": TimeFrame.Minute}[timestep]
        now = ns_to_datetime(now_ns, _dt.timezone.utc)
        days = {"day": length * 1.6 + 7, "hour": length / 6 * 1.6 + 5, "minute": length / 390 * 1.6 + 4}[timestep]
        request = StockBarsRequest(symbol_or_symbols=asset.symbol, timeframe=tf, start=now - _dt.timedelta(days=days),
                                   end=now, limit=int(length) + 1, sort=Sort.DESC, feed=DataFeed(self.feed),
                                   adjustment=Adjustment(self.adjustment))
        barset = self._call(lambda: self.client.get_stock_bars(request), f"{length} {timestep} bars of {asset.symbol}")
        rows = barset.data.get(asset.symbol, []) if hasattr(barset, "data") else barset.get(asset.symbol, [])
        frame = pd.DataFrame(
            {"open": [float(b.open) for b in rows], "high": [float(b.high) for b in rows],
             "low": [float(b.low) for b in rows], "close": [float(b.close) for b in rows],
             "volume": [float(b.volume) for b in rows]},
            index=pd.DatetimeIndex([pd.Timestamp(b.timestamp) for b in rows], name="datetime"),
        ).sort_index()
        if len(frame) and frame.index.tz is None:
            frame.index = frame.index.tz_localize("UTC")
        return _frame_to_series(asset, frame, self.sessions, timestep)

    def quote(self, asset: Asset, *, now_ns: int) -> Quote | None:
        from alpaca.data.enums import DataFeed
        from alpaca.data.requests import StockLatestQuoteRequest, StockLatestTradeRequest

        feed = DataFeed(self.feed)
        trades = self._call(lambda: self.client.get_stock_latest_trade(
            StockLatestTradeRequest(symbol_or_symbols=asset.symbol, feed=feed)), f"latest trade of {asset.symbol}")
        quotes = self._call(lambda: self.client.get_stock_latest_quote(
            StockLatestQuoteRequest(symbol_or_symbols=asset.symbol, feed=feed)), f"latest quote of {asset.symbol}")
        trade, quote = trades.get(asset.symbol), quotes.get(asset.symbol)
        if trade is None and quote is None:
            return None
        bid = float(quote.bid_price) if quote is not None and quote.bid_price else None
        ask = float(quote.ask_price) if quote is not None and quote.ask_price else None
        last = float(trade.price) if trade is not None else None
        stamps = [x.timestamp for x in (trade, quote) if x is not None and getattr(x, "timestamp", None)]
        return Quote(asset=asset, bid=bid, ask=ask, last=last, time=max(stamps) if stamps else None)

    def knows(self, asset: Asset) -> bool:
        if asset.asset_type not in (AssetType.STOCK, AssetType.INDEX):
            return False
        known = self._known.get(asset)
        if known is None:
            try:
                known = self.quote(asset, now_ns=0) is not None
            except CredentialsError:
                raise
            except Exception as exc:  # noqa: BLE001 - an unknown symbol answers 4xx
                if isinstance(exc, LiveConnectionError):
                    raise
                known = False
            self._known[asset] = known
        return known

    def describe(self) -> dict:
        return {"name": self.name, "feed": self.feed, "adjustment": self.adjustment}


_SPOT_ONLY = {"binance": {"fetchMarkets": {"types": ["spot"]}}, "binanceus": {"fetchMarkets": {"types": ["spot"]}}}


def make_exchange(exchange_id: str, *, sandbox: bool = False, credentials: dict | None = None,
                  url_override: str | None = None, config: dict | None = None):
    """A ccxt exchange object: sandbox/testnet URLs when asked, spot markets, rate limiting on.

    `url_override` ("http://127.0.0.1:8080") replaces the scheme and host of every API URL (for a
    proxy or a local test server) after sandbox mode was applied.
    """
    import ccxt

    key = exchange_id.strip().lower()
    if key not in ccxt.exchanges:
        import difflib

        hint = difflib.get_close_matches(key, ccxt.exchanges, n=1)
        raise ValueError(f"unknown ccxt exchange {exchange_id!r}." + (f" Did you mean {hint[0]!r}?" if hint else "")
                         + " See ccxt.exchanges for the list")
    options = {"defaultType": "spot", **_SPOT_ONLY.get(key, {})}
    settings: dict[str, Any] = {"enableRateLimit": True, "options": options}
    if config:
        settings.update({k: v for k, v in config.items() if k != "options"})
        options.update(config.get("options", {}))
    if credentials:
        settings.update(credentials)
    exchange = getattr(ccxt, key)(settings)
    if sandbox:
        if not exchange.urls.get("test"):
            raise ValueError(f"{key} has no sandbox/testnet in ccxt; choose an exchange with one (e.g. binance, "
                             "bybit, okx) or trade with --broker paper")
        exchange.set_sandbox_mode(True)
    if url_override:
        base = url_override.rstrip("/")

        def _swap(value):
            if isinstance(value, str):
                return re.sub(r"^https?://[^/]+", base, value)
            if isinstance(value, dict):
                return {k: _swap(v) for k, v in value.items()}
            return value

        exchange.urls["api"] = _swap(exchange.urls["api"])
    return exchange


class CCXTFeed(LiveFeed):
    """Crypto bars (`fetch_ohlcv`) and tickers (`fetch_ticker`) from any ccxt exchange.

    Public market data needs no keys. `default_quote` completes a bare crypto asset
    (`Asset("BTC", asset_type="crypto")` -> BTC/USDT).
    """

    name = "ccxt"
    default_asset_type = AssetType.CRYPTO

    def __init__(self, exchange: str | Any, *, sandbox: bool = False, default_quote: str = "USDT",
                 url_override: str | None = None, retry: RetryPolicy | None = None) -> None:
        self._exchange = exchange if not isinstance(exchange, str) else None
        self.exchange_id = exchange if isinstance(exchange, str) else exchange.id
        self.sandbox = sandbox
        self.default_quote = default_quote
        self.url_override = url_override
        self.retry = retry or RetryPolicy()
        self.lock = threading.RLock()
        self._markets_loaded = False

    @property
    def exchange(self):
        if self._exchange is None:
            self._exchange = make_exchange(self.exchange_id, sandbox=self.sandbox, url_override=self.url_override)
        return self._exchange

    def symbol(self, asset: Asset) -> str:
        return f"{asset.symbol}/{asset.quote or self.default_quote}"

    def call(self, fn: Callable[[], T], what: str) -> T:
        """Run one exchange call under the feed's lock with retries (shared with `CCXTBroker`)."""
        try:
            with self.lock:
                return call_with_retry(fn, what=f"{self.exchange_id}: {what}", policy=self.retry)
        except Exception as exc:
            if credentials_rejected(exc):
                key_var, secret_var, _ = exchange_variables(self.exchange_id)
                raise CredentialsError(f"{self.exchange_id} rejected the API credentials ({type(exc).__name__}: "
                                       f"{exc}); check {key_var} / {secret_var}"
                                       + (" (sandbox keys differ from live keys)" if self.sandbox else "")) from exc
            raise

    def load_markets(self) -> dict:
        if not self._markets_loaded:
            self.call(lambda: self.exchange.load_markets(), "load markets")
            self._markets_loaded = True
        return self.exchange.markets

    def bars(self, asset: Asset, timestep: str, *, length: int, now_ns: int) -> BarSeries:
        import pandas as pd

        tf = {"day": "1d", "hour": "1h", "minute": "1m"}[timestep]
        self.load_markets()
        since_ms = (now_ns - (int(length) + 1) * _STEP_NS[timestep]) // 1_000_000
        rows = self.call(lambda: self.exchange.fetch_ohlcv(self.symbol(asset), tf, since=since_ms,
                                                           limit=int(length) + 1),
                         f"{length} {tf} candles of {self.symbol(asset)}")
        rows = [r for r in rows if r and r[1] is not None]
        frame = pd.DataFrame(
            {"open": [float(r[1]) for r in rows], "high": [float(r[2]) for r in rows],
             "low": [float(r[3]) for r in rows], "close": [float(r[4]) for r in rows],
             "volume": [float(r[5] or 0.0) for r in rows]},
            index=pd.DatetimeIndex(pd.to_datetime([int(r[0]) for r in rows], unit="ms", utc=True), name="datetime"),
        ).sort_index()
        return _frame_to_series(asset, frame, self.sessions, timestep)

    def quote(self, asset: Asset, *, now_ns: int) -> Quote | None:
        self.load_markets()
        t = self.call(lambda: self.exchange.fetch_ticker(self.symbol(asset)), f"ticker of {self.symbol(asset)}")
        last = t.get("last") if t.get("last") is not None else t.get("close")
        stamp = t.get("timestamp")
        when = ns_to_datetime(int(stamp) * 1_000_000, _dt.timezone.utc) if stamp else None
        return Quote(asset=asset, bid=_num(t.get("bid")), ask=_num(t.get("ask")), last=_num(last), time=when)

    def knows(self, asset: Asset) -> bool:
        if asset.asset_type not in (AssetType.CRYPTO, AssetType.FOREX):
            return False
        return self.symbol(asset) in self.load_markets()

    def describe(self) -> dict:
        return {"name": self.name, "exchange": self.exchange_id, "sandbox": self.sandbox}


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


# ---- the strategy-facing view ------------------------------------------------------------
class _Cached:
    __slots__ = ("series", "length", "due_ns")

    def __init__(self, series: BarSeries, length: int, due_ns: int) -> None:
        self.series, self.length, self.due_ns = series, length, due_ns


class LiveMarketData:
    """Point-in-time market data for one live run, backed by a `LiveFeed`.

    Same interface as `MarketData`. Bars are fetched on demand and cached until the next bar
    is due to close; quotes are cached for `quote_ttl_seconds` of clock time (an agent reading
    the price five times in one decision costs one request).
    """

    def __init__(self, feed: LiveFeed, *, quote_ttl_seconds: float = 1.0, retry_missing_seconds: float = 15.0,
                 default_length: int = 250) -> None:
        self.feed = feed
        self.source = feed
        self.quote_ttl_ns = int(quote_ttl_seconds * 1e9)
        self.retry_missing_ns = int(retry_missing_seconds * 1e9)
        self.default_length = default_length
        self.sessions = None
        self.clock = None
        self._bars: dict[tuple[Asset, str], _Cached] = {}
        self._quotes: dict[Asset, tuple[int, Quote | None]] = {}
        self._by_symbol: dict[object, Asset] = {}
        self._known: dict[Asset, bool] = {}
        self._lock = threading.RLock()

    def bind(self, sessions, clock) -> None:
        """Attach the run's calendar and clock (the engine calls this once)."""
        self.sessions = sessions
        self.clock = clock
        self.feed.bind(sessions, clock)

    # -- resolution -----------------------------------------------------------------------
    def asset(self, value: Asset | str) -> Asset:
        asset = self._by_symbol.get(value)
        if asset is None:
            if isinstance(value, str) and "/" not in value and self.feed.default_asset_type is AssetType.CRYPTO:
                asset = Asset(value, asset_type=AssetType.CRYPTO)
            else:
                asset = as_asset(value)
            quote = self.feed.default_quote
            if asset.asset_type is AssetType.CRYPTO and asset.quote is None and quote and quote != "USD":
                asset = Asset(asset.symbol, asset_type=AssetType.CRYPTO, quote=quote)
            self._by_symbol[value] = asset
        return asset

    def knows(self, value: Asset | str) -> bool:
        asset = self.asset(value)
        known = self._known.get(asset)
        if known is None:
            known = bool(self.feed.knows(asset))
            self._known[asset] = known
        return known

    # -- bars -------------------------------------------------------------------------------
    def series(self, asset: Asset, timestep: str | None = None, *, length: int | None = None) -> BarSeries:
        """Closed bars only (the last one ended at or before now); `timestep` defaults to the feed's."""
        if timestep is None:
            timestep = self.feed.timestep
        ts = timestep if timestep in _STEP_NS else parse_timestep(timestep)
        want = int(length or self.default_length)
        now = self.clock.now_ns
        key = (asset, ts)
        with self._lock:
            cached = self._bars.get(key)
            if cached is not None and cached.length >= want and now < cached.due_ns:
                return _visible(cached.series, now)
            if not self.knows(asset):
                raise LiveDataError(f"{self.feed.name} has no data for {asset}; check the symbol "
                                    f"(and, for crypto, the quote currency: {asset.symbol}/QUOTE)")
            raw = self.feed.bars(asset, ts, length=max(want, cached.length if cached else 0), now_ns=now)
            series = _visible(raw, now)
            self._bars[key] = _Cached(series, max(want, cached.length if cached else 0), self._due(series, ts, now))
            return series

    def _due(self, series: BarSeries, timestep: str, now: int) -> int:
        """When a newer closed bar can exist: the next bar's end, or soon if the latest is overdue."""
        if timestep == "day":
            closes = self.sessions.closes
            k = int(np.searchsorted(closes, now, side="right"))  # first close after now
            last_due = int(closes[k - 1]) if k else 0  # the latest close that has passed
            nxt = int(closes[k]) if k < len(closes) else now + _NS_PER_DAY
        else:
            step = _STEP_NS[timestep]
            last_due = now - now % step
            nxt = last_due + step
        have = int(series.end_ns[-1]) if len(series) else 0
        if have < last_due:  # the provider has not published the bar that should exist: ask again soon
            return now + self.retry_missing_ns
        return nxt

    def history(self, value: Asset | str, length: int, timestep: str | None = None) -> Bars:
        if length is None or int(length) < 1:
            raise DataError(f"length must be a positive number of bars, got {length!r}")
        series = self.series(self.asset(value), timestep, length=int(length))
        hi = len(series)
        return Bars(series, max(0, hi - int(length)), hi)

    # -- prices -----------------------------------------------------------------------------
    def quote(self, value: Asset | str) -> Quote:
        asset = self.asset(value)
        now = self.clock.now_ns
        with self._lock:
            cached = self._quotes.get(asset)
            if cached is not None and now - cached[0] < self.quote_ttl_ns:
                q = cached[1]
            else:
                q = self.feed.quote(asset, now_ns=now) if self.knows(asset) else None
                self._quotes[asset] = (now, q)
        now_dt = self.clock.now()
        if q is None:
            return Quote(asset=asset, bid=None, ask=None, last=None, time=now_dt)
        when = q.time
        if when is None or when > now_dt:
            when = now_dt  # never stamp a quote after the clock (provider clock skew)
        elif when.tzinfo is not None:
            when = when.astimezone(now_dt.tzinfo)
        return Quote(asset=asset, bid=q.bid, ask=q.ask, last=q.last, time=when)

    def last_price(self, value: Asset | str) -> float | None:
        q = self.quote(value)
        if q.last is not None:
            return q.last
        if q.bid is not None and q.ask is not None:
            return (q.bid + q.ask) / 2
        return None

    def coverage(self) -> None:
        return None


def _visible(series: BarSeries, now_ns: int) -> BarSeries:
    hi = series.visible_count(now_ns)
    return series if hi == len(series) else _slice_series(series, 0, hi)


def feed_from_spec(spec: LiveFeed | DataSource | str | None, *, sandbox: bool = False) -> LiveFeed:
    """A feed from a name: "alpaca", "ccxt:<exchange>", "sample" (replayed embedded bars),
    "replay:<source>" (e.g. "replay:csv:bars.csv"), a `LiveFeed`, or a `DataSource` (replayed)."""
    if isinstance(spec, LiveFeed):
        return spec
    if isinstance(spec, DataSource):
        return ReplayFeed(spec)
    if spec is None:
        raise LiveDataError("choose where live quotes come from: data='alpaca' (ALPACA_API_KEY/SECRET), "
                            "'ccxt:<exchange>' (public crypto data) or 'sample' (embedded bars replayed)")
    text = str(spec).strip()
    kind, _, arg = text.partition(":")
    kind = kind.lower()
    if kind == "alpaca":
        return AlpacaFeed()
    if kind == "ccxt":
        if not arg:
            raise LiveDataError("ccxt data needs an exchange id, e.g. 'ccxt:binance'")
        return CCXTFeed(arg, sandbox=sandbox)
    if kind == "replay":
        return ReplayFeed(arg or "sample")
    if kind in ("sample", "csv", "parquet", "yahoo"):
        return ReplayFeed(text)
    raise LiveDataError(f"unknown live data {text!r}; use 'alpaca', 'ccxt:<exchange>', 'sample' or 'replay:<source>'")
