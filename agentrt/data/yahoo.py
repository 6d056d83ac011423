"""`YahooData`: daily bars from Yahoo Finance through yfinance, cached as Parquet per symbol.

Bars are fetched once per symbol for a wide window and cached in
`<cache dir>/yahoo/<SYMBOL>-<adjusted|raw>.parquet` (cache dir: `AGENTRT_CACHE_DIR` or
~/.cache/agentrt), so reruns and CI need no network once the cache is warm. Prices are split- and
dividend-adjusted by default (`auto_adjust`), like `SampleData`.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable
from pathlib import Path

from agentrt.data.base import DataError, DataSource, UnknownSymbolError, parse_timestep
from agentrt.data.sources import _normalise_frame

Fetcher = Callable[[str, _dt.date, _dt.date, bool], "object"]


def _yfinance_fetch(symbol: str, start: _dt.date, end: _dt.date, adjusted: bool):
    try:
        import yfinance as yf
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise DataError("YahooData needs yfinance: pip install yfinance") from exc
    frame = yf.Ticker(symbol).history(start=str(start), end=str(end + _dt.timedelta(days=1)), interval="1d",
                                      auto_adjust=adjusted, actions=False)
    return frame


class YahooData(DataSource):
    """Yahoo Finance daily bars (needs network on first use of a symbol; cached afterwards)."""

    name = "yahoo"

    def __init__(self, *, adjusted: bool = True, cache_dir: str | Path | None = None,
                 start: str | _dt.date = "1990-01-01", end: str | _dt.date | None = None,
                 fetcher: Fetcher | None = None) -> None:
        from agentrt.calendars import cache_dir as default_cache

        self.adjusted = adjusted
        self._dir = Path(cache_dir) if cache_dir is not None else default_cache() / "yahoo"
        self._start = _dt.date.fromisoformat(str(start))
        self._end = _dt.date.fromisoformat(str(end)) if end else None
        self._fetch = fetcher or _yfinance_fetch
        self._frames: dict[str, object] = {}
        self._missing: set[str] = set()

    def _path(self, symbol: str) -> Path:
        return self._dir / f"{symbol}-{'adjusted' if self.adjusted else 'raw'}.parquet"

    def symbols(self) -> list[str]:
        cached = {p.name.rsplit("-", 1)[0] for p in self._dir.glob("*.parquet")} if self._dir.exists() else set()
        return sorted(cached | set(self._frames))

    def frame(self, symbol: str, *, timestep: str = "day"):
        if parse_timestep(timestep) != "day":
            raise DataError(f"YahooData serves daily bars; asked for {timestep!r} bars of {symbol}")
        key = symbol.upper()
        if key in self._frames:
            return self._frames[key]
        if key in self._missing:
            raise UnknownSymbolError(symbol, "YahooData", self.symbols())
        path = self._path(key)
        if path.exists():
            import pandas as pd

            frame = pd.read_parquet(path)
        else:
            end = self._end or _dt.date.today()
            try:
                raw = self._fetch(key, self._start, end, self.adjusted)
            except DataError:
                raise
            except Exception as exc:  # noqa: BLE001 - network, HTTP, parsing: all become a clear error
                raise DataError(
                    f"could not download {key} from Yahoo Finance ({type(exc).__name__}: {exc}); check the "
                    f"symbol and your connection, or put bars in {path} (Parquet, columns open..volume)") from exc
            if raw is None or len(raw) == 0:
                self._missing.add(key)
                raise UnknownSymbolError(symbol, "YahooData (no bars returned)", self.symbols())
            frame = _normalise_frame(raw, what=f"YahooData[{key}]")
            if frame.index.tz is not None:
                frame.index = frame.index.tz_localize(None)
            frame.index = frame.index.normalize()
            frame.index.name = "date"
            self._store(path, frame)
        self._frames[key] = frame
        return frame

    def _store(self, path: Path, frame) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            frame.to_parquet(tmp)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs a re-download

    def describe(self) -> dict:
        return {"name": self.name, "adjusted": self.adjusted, "cache_dir": str(self._dir), "timestep": "day"}


YahooDataBacktesting = YahooData  # LumiBot's name for the same source
