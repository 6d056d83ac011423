"""Point-in-time market data: binds a `DataSource` to a market calendar and a clock.

`MarketData` turns each asset's frame into a `BarSeries` (bar start/end instants from the
session table) once, then answers `history`, `last_price` and `quote` only from bars whose end
is at or before the clock. This is the only way strategies, agents and tools reach market data,
so look-ahead is impossible by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agentrt.calendars import Sessions
from agentrt.data.bars import Bars, BarSeries
from agentrt.data.base import DataError, DataSource, parse_timestep
from agentrt.domain.assets import Asset, AssetType, as_asset
from agentrt.domain.position import Quote

_NS_PER_DAY = 86_400 * 1_000_000_000


def bind_frame(asset: Asset, frame, sessions: Sessions, *, timestep: str) -> BarSeries:
    """Give every row of `frame` its start and end instants."""
    import pandas as pd

    if not frame.index.is_monotonic_increasing:
        # bars out of time order (a custom source): sort them, or counting the bars closed by
        # now (a bisect on their end times) could count a later bar
        frame = frame.sort_index(kind="stable")
    index = frame.index
    if timestep == "day":
        if index.tz is not None:
            # A daily row is labelled by its date: 2012-01-04 00:00+00:00 is the Jan 4 session (ccxt
            # candles and many exports stamp days at UTC midnight). Converting it to New York first
            # would relabel it Jan 3 and show it a session early. Keep the wall date when every
            # stamp is a midnight in its own zone; convert stamps that carry a time of day.
            if bool((index == index.normalize()).all()):
                index = index.tz_localize(None)
            else:
                index = index.tz_convert(sessions.tz).tz_localize(None)
        dates = index.normalize().values.astype("datetime64[D]")
        pos = np.searchsorted(sessions.dates, dates)
        pos_c = np.minimum(pos, len(sessions.dates) - 1)
        known = sessions.dates[pos_c] == dates
        if sessions.market == "24/7":
            start = dates.astype("datetime64[ns]").astype(np.int64)
            end = start + _NS_PER_DAY
        else:
            # rows on days the calendar does not know (rare data quirks) get 09:30-16:00 local
            local = pd.DatetimeIndex(dates.astype("datetime64[ns]"))
            fallback_open = (local + pd.Timedelta(hours=9, minutes=30)).tz_localize(sessions.tz).asi8
            fallback_close = (local + pd.Timedelta(hours=16)).tz_localize(sessions.tz).asi8
            start = np.where(known, sessions.opens[pos_c], fallback_open)
            end = np.where(known, sessions.closes[pos_c], fallback_close)
    else:
        if index.tz is None:
            index = index.tz_localize(sessions.tz)
        start = index.as_unit("ns").asi8.astype(np.int64)  # pandas 3 indexes are often in us, not ns
        if len(start) > 1:
            step = int(np.median(np.diff(start)))
        else:
            step = 60_000_000_000 if timestep == "minute" else 3_600_000_000_000
        end = start + step
    columns = [frame[c].values for c in ("open", "high", "low", "close", "volume")]
    return BarSeries(asset, timestep, sessions.tz, start, end, *columns)


class MarketData:
    """Point-in-time access to bars for one run (backtest or live replay)."""

    def __init__(self, source: DataSource, sessions: Sessions, clock) -> None:
        self.source = source
        self.sessions = sessions
        self.clock = clock
        self._series: dict[tuple[Asset, str], BarSeries] = {}
        self._by_symbol: dict[object, Asset] = {}
        self._fp_now = -1
        self._fp_json = ""
        self._fp_parts: tuple | None = None
        self._fp_timeline: tuple | None = None
        self._fp_covers: dict | None = None

    def rebind(self, sessions: Sessions) -> None:
        """Use ``sessions`` from now on: every series (and every fingerprint built from them) is
        rebuilt on next use."""
        self.sessions = sessions
        self._series.clear()
        self._fp_now = -1
        self._fp_json = ""
        self._fp_parts = None
        self._fp_timeline = None
        self._fp_covers = None

    # -- resolution -----------------------------------------------------------------------
    def asset(self, value: Asset | str) -> Asset:
        asset = self._by_symbol.get(value)
        if asset is None:
            asset = as_asset(value)
            self._by_symbol[value] = asset
        return asset

    def series(self, asset: Asset, timestep: str | None = None) -> BarSeries:
        """Bars of `asset` at `timestep` (default: the source's own timestep, so minute data works)."""
        key = (asset, timestep)
        series = self._series.get(key)
        if series is None:
            source = self.source
            route = getattr(source, "source_for", None)
            if route is not None:
                source = route(asset.asset_type.value)
            native = getattr(source, "timestep", "day")
            if timestep is None:
                timestep = native
                series = self._series.get((asset, native))
                if series is not None:
                    self._series[key] = series
                    return series
            if timestep != native:
                raise DataError(
                    f"{type(source).__name__} has {native} bars; asked for {timestep!r} bars of {asset.symbol}. "
                    f"Use timestep={native!r}."
                )
            # options are looked up by their full description, e.g. "SPY 2012-01-20 120 call"
            name = asset.symbol if asset.asset_type is not AssetType.OPTION else str(asset)
            frame = source.frame(name, timestep=timestep)
            series = bind_frame(asset, frame, self.sessions, timestep=timestep)
            self._series[key] = series
            self._series[(asset, timestep)] = series  # one series (and cursor) for None and its name
        return series

    def knows(self, value: Asset | str) -> bool:
        try:
            self.series(self.asset(value))
            return True
        except (DataError, KeyError):
            return False

    # -- point-in-time reads --------------------------------------------------------------
    def history(self, value: Asset | str, length: int, timestep: str | None = None) -> Bars:
        if length is None or int(length) < 1:
            raise DataError(f"length must be a positive number of bars, got {length!r}")
        ts = timestep if timestep is None or timestep in ("day", "minute", "hour") else parse_timestep(timestep)
        series = self.series(self.asset(value), ts)
        hi = series.visible_count(self.clock.now_ns)
        lo = hi - int(length)
        return Bars(series, lo if lo > 0 else 0, hi)

    def last_price(self, value: Asset | str) -> float | None:
        series = self.series(self.asset(value))
        hi = series.visible_count(self.clock.now_ns)
        return float(series.close[hi - 1]) if hi else None

    def quote(self, value: Asset | str) -> Quote:
        asset = self.asset(value)
        price = self.last_price(asset)
        return Quote(asset=asset, bid=price, ask=price, last=price, time=self.clock.now())

    def fingerprint_json(self) -> str:
        """What the data looks like up to now, for replay-cache keys, as canonical JSON text:
        ``{"bars": {symbol: digest of its visible bars}, "source": <source description>}``.

        An agent run answered from other data (a corrected CSV, unadjusted prices, another
        source) is then a cache miss ("data changed: AAPL"). Built from cached parts each bar:
        one bisect and one table look-up per symbol.
        """
        now = self.clock.now_ns
        if self._fp_now == now:
            return self._fp_json
        source, entries = self._fingerprint_parts()
        bars = ",".join(f'{name}:"{s.fingerprint(s.visible_count(now))}"' for name, s in entries)
        self._fp_json = text = f'{{"bars":{{{bars}}},"source":{source}}}'
        self._fp_now = now
        return text

    def _fingerprint_parts(self) -> tuple[str, list[tuple[str, BarSeries]]]:
        parts = self._fp_parts
        if parts is None:
            import json

            encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
            entries = []
            for sym in sorted(self.source.symbols()):
                try:
                    entries.append((encode(sym), self.series(self.asset(sym))))
                except (DataError, KeyError, ValueError):
                    continue
            parts = self._fp_parts = (encode(self.source.describe()), entries)
        return parts

    def fingerprint_static(self) -> bytes:
        """The parts of :meth:`fingerprint_json` fixed for the run (source, symbols), for replay probes."""
        source, entries = self._fingerprint_parts()
        return f'[{source},[{",".join(name for name, _ in entries)}]]'.encode()

    def probe_covers(self, asset: Asset) -> bool:
        """Whether ``last_price(asset)`` reads a series the fingerprint covers (for replay probes)."""
        covered = self._fp_covers
        if covered is None:
            covered = self._fp_covers = {}
        known = covered.get(asset)
        if known is None:
            _, entries = self._fingerprint_parts()
            try:
                series = self.series(self.asset(asset))
            except (DataError, KeyError, ValueError):
                known = False
            else:
                known = any(series is s for _, s in entries)
            covered[asset] = known
        return known

    def probe_timeline(self) -> tuple[list[int], list[int], list[int], Any]:
        """What :meth:`fingerprint_json` renders, as a timeline for replay probes
        (:mod:`agentrt.agents.probe`): ``(ends, sums, sums2, pack)``.

        Every bar of every fingerprinted symbol is one event at its end time; ``ends`` lists the
        event times in order, and ``sums[i]`` and ``sums2[i]`` are two wrapping 64-bit sums of
        the first ``i`` events' hashes (each bar's 64-bit row hash mixed with its symbol in two
        ways, so two sets of bars rarely give the same pair of sums). With ``i = bisect_right(ends, now)``,
        ``pack(now, i, sums[i], sums2[i])`` packs the data visible now in 32 bytes whatever the
        number of symbols: equal packs mean the same bars are visible in every symbol, hence
        the same fingerprint, and bars after ``now`` are not in it.
        """
        timeline = self._fp_timeline
        if timeline is None:
            import hashlib
            import struct

            from agentrt.data.bars import row_hashes

            _, entries = self._fingerprint_parts()
            ends = [np.zeros(0, dtype=np.int64)]
            lanes: tuple[list[np.ndarray], list[np.ndarray]] = ([np.zeros(0, dtype=np.uint64)],
                                                                 [np.zeros(0, dtype=np.uint64)])
            with np.errstate(over="ignore"):
                for name, series in entries:
                    digest = hashlib.sha256(name.encode()).digest()
                    rows = row_hashes(series)
                    ends.append(series.end_ns)
                    for lane, (salt, mix) in zip(lanes, ((digest[:8], 0x94D049BB133111EB),
                                                         (digest[8:16], 0xBF58476D1CE4E5B9)), strict=True):
                        h = rows ^ np.uint64(int.from_bytes(salt, "little"))
                        h *= np.uint64(mix)
                        h ^= h >> np.uint64(31)
                        h *= np.uint64(0x9E3779B97F4A7C15)
                        h ^= h >> np.uint64(29)
                        lane.append(h)
                all_ends = np.concatenate(ends)
                order = np.argsort(all_ends, kind="stable")
                sums = [np.concatenate([np.zeros(1, dtype=np.uint64),
                                        np.cumsum(np.concatenate(lane)[order], dtype=np.uint64)]).tolist()
                        for lane in lanes]
            timeline = self._fp_timeline = (all_ends[order].tolist(), sums[0], sums[1],
                                            struct.Struct("<qQQQ").pack)
        return timeline

    def coverage(self) -> tuple[str, str] | None:
        """First and last dates over every symbol the source lists (for range checks)."""
        first = last = None
        for sym in self.source.symbols():
            try:
                frame = self.source.frame(sym)
            except (DataError, KeyError):
                continue
            if len(frame.index) == 0:
                continue
            lo, hi = frame.index.min(), frame.index.max()  # a custom source's rows may be out of order
            first = lo if first is None or lo < first else first
            last = hi if last is None or hi > last else last
        if first is None:
            return None
        return str(first.date()), str(last.date())


def is_crypto(asset: Asset) -> bool:
    return asset.asset_type is AssetType.CRYPTO
