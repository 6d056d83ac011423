"""Concrete data sources: embedded `SampleData`, in-memory `PandasData`, `CsvData`, `ParquetData`."""

from __future__ import annotations

from pathlib import Path

from agentrt.data.base import DataError, DataSource, UnknownSymbolError, parse_timestep

_REQUIRED = ("open", "high", "low", "close")


def _normalise_frame(df, *, what: str):
    """Lower-case OHLCV columns, a sorted unique DatetimeIndex, no missing prices."""
    import pandas as pd

    frame = df.copy()
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    if not isinstance(frame.index, pd.DatetimeIndex):
        for col in ("datetime", "date", "timestamp", "time"):
            if col in frame.columns:
                frame = frame.set_index(pd.to_datetime(frame.pop(col)))
                break
        else:
            raise DataError(
                f"{what}: no datetime index or 'date'/'datetime' column; columns are {list(frame.columns)}"
            )
    if "adj_close" in frame.columns and "close" not in frame.columns:
        frame["close"] = frame["adj_close"]
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(f"{what}: missing column(s) {missing}; expected open, high, low, close[, volume]")
    if "volume" not in frame.columns:
        frame["volume"] = 0.0
    frame = frame[["open", "high", "low", "close", "volume"]].astype("float64")
    bad = frame[["open", "high", "low", "close"]].isna().any(axis=1)
    if bad.any():
        first = frame.index[bad.values.argmax()]
        raise DataError(
            f"{what}: {int(bad.sum())} row(s) with missing prices (first at {first}); "
            "drop them with df.dropna() or fill them before passing the frame"
        )
    frame["volume"] = frame["volume"].fillna(0.0)
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise DataError(f"{what}: duplicate timestamp {dup}; keep one row per bar (df[~df.index.duplicated()])")
    return frame


class PandasData(DataSource):
    """Bars you already have: `PandasData({"AAPL": df, ...}, timestep="day")`."""

    name = "pandas"

    def __init__(self, frames: dict, *, timestep: str = "day") -> None:
        if not frames:
            raise DataError("PandasData needs at least one {symbol: DataFrame} entry")
        self.timestep = parse_timestep(timestep)
        self._frames = {str(k).upper(): _normalise_frame(v, what=f"PandasData[{k!r}]") for k, v in frames.items()}

    def symbols(self) -> list[str]:
        return sorted(self._frames)

    def frame(self, symbol: str, *, timestep: str = "day"):
        key = symbol.upper()
        if key not in self._frames:
            raise UnknownSymbolError(symbol, self.name, self.symbols())
        return self._frames[key]


class CsvData(PandasData):
    """CSV files: a folder of `<SYMBOL>.csv` files, one file with a `symbol` column, or `{symbol: path}`."""

    name = "csv"

    def __init__(self, path: str | Path | dict, *, timestep: str = "day") -> None:
        super().__init__(_load_files(path, reader="csv"), timestep=timestep)
        self._path = str(path)

    def describe(self) -> dict:
        return {"name": self.name, "path": self._path, "timestep": self.timestep}


class ParquetData(PandasData):
    """Parquet files, laid out like `CsvData`."""

    name = "parquet"

    def __init__(self, path: str | Path | dict, *, timestep: str = "day") -> None:
        super().__init__(_load_files(path, reader="parquet"), timestep=timestep)
        self._path = str(path)

    def describe(self) -> dict:
        return {"name": self.name, "path": self._path, "timestep": self.timestep}


def _load_files(path, *, reader: str) -> dict:
    import pandas as pd

    read = pd.read_csv if reader == "csv" else pd.read_parquet
    suffixes = {".csv", ".gz"} if reader == "csv" else {".parquet", ".pq"}
    if isinstance(path, dict):
        items = {k: Path(v) for k, v in path.items()}
    else:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataError(f"{reader} data path {str(p)!r} does not exist; pass a file or a folder of files")
        if p.is_dir():
            items = {f.name.split(".")[0]: f for f in sorted(p.iterdir()) if f.suffix.lower() in suffixes}
            if not items:
                raise DataError(f"no {reader} files in {str(p)!r}; expected files named like AAPL.{reader}")
        else:
            df = read(p)
            cols = {c.lower(): c for c in df.columns}
            if "symbol" in cols or "ticker" in cols:
                col = cols.get("symbol") or cols["ticker"]
                return {str(sym): g.drop(columns=[col]) for sym, g in df.groupby(col, sort=True)}
            items = {p.name.split(".")[0]: p}
    return {sym: read(f) for sym, f in items.items()}


class SampleData(DataSource):
    """Real daily bars shipped in the package, no network: AAPL, MSFT, IBM, GOOG 2000-03-01..2013-03-01
    (split- and dividend-adjusted by default; `SampleData(adjusted=False)` for raw prices) and the
    S&P 500 index as `SPX` (1999..2018). Provenance and licences: agentrt/data/_embedded/README.md.
    """

    name = "sample"

    def __init__(self, *, adjusted: bool = True) -> None:
        self.adjusted = adjusted
        self._frames: dict | None = None

    def _load(self) -> dict:
        if self._frames is None:
            from agentrt.data import embedded

            frames = dict(embedded.load_sample_stocks(adjusted=self.adjusted))
            frames[embedded.BENCHMARK_SYMBOL] = embedded.load_spx()
            self._frames = frames
        return self._frames

    def symbols(self) -> list[str]:
        return sorted(self._load())

    def frame(self, symbol: str, *, timestep: str = "day"):
        if parse_timestep(timestep) != "day":
            raise DataError(f"SampleData has daily bars only; asked for {timestep!r} bars of {symbol}")
        frames = self._load()
        key = symbol.upper()
        if key not in frames:
            raise UnknownSymbolError(symbol, "SampleData", sorted(frames))
        return frames[key]

    def describe(self) -> dict:
        return {"name": self.name, "adjusted": self.adjusted, "timestep": "day"}


PandasDataBacktesting = PandasData  # LumiBot's name for the same source
