"""`BacktestResult` and turning a finished run into frames, metrics and artifacts on disk."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class BacktestResult:
    """What a backtest returns. `stats` is the metrics mapping (total_return, sharpe, ...)."""

    strategy: str
    stats: dict[str, Any]
    trades: Any  # pandas DataFrame (event stream)
    equity: Any  # pandas Series: portfolio value per iteration
    stats_frame: Any  # pandas DataFrame: stats.csv
    output_dir: Path | None
    settings: dict
    iterations: int
    loop_seconds: float
    wall_seconds: float
    agent_summary: dict | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.stats

    def __repr__(self) -> str:
        tr = self.stats.get("total_return")
        shown = f"{tr:.2%}" if isinstance(tr, float) else "n/a"
        return (f"BacktestResult({self.strategy}: {self.iterations} iterations, total_return={shown}, "
                f"output_dir={self.output_dir})")


def _stats_frame(recorder, tz: str):
    import pandas as pd

    times = pd.DatetimeIndex(np.asarray(recorder.stat_times, dtype="datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    arr = np.asarray(recorder.stat_rows, dtype="float64").reshape(-1, 5)
    frame = pd.DataFrame({
        "datetime": times,
        "portfolio_value": arr[:, 0],
        "cash_adjusted_value": arr[:, 3],
        "cash": arr[:, 1],
        "positions_value": arr[:, 2],
        "return": arr[:, 4],
    })
    extras = recorder.extra_stats
    if any(extras):
        extra = pd.DataFrame([e or {} for e in extras])
        extra = extra[[c for c in extra.columns if c not in frame.columns]]
        frame = pd.concat([frame, extra], axis=1)
    return frame


def _benchmark_series(ctx, symbol: str | None, stats_frame):
    if not symbol:
        return None
    import pandas as pd

    data = ctx.data
    try:
        series = data.series(data.asset(symbol))
    except Exception as exc:  # noqa: BLE001 - a missing benchmark must not lose the run
        ctx.recorder.log(ctx.clock, f"benchmark {symbol!r} unavailable: {exc}", "warning")
        return None
    times = np.asarray(ctx.recorder.stat_times, dtype=np.int64)
    idx = np.searchsorted(series.end_ns, times, side="right") - 1
    ok = idx >= 0
    values = np.where(ok, series.close[np.maximum(idx, 0)], np.nan)
    # the datetime column is already tz-aware; `.values` on it drops the zone (deprecated in pandas 3.1)
    return pd.Series(values, index=pd.DatetimeIndex(stats_frame["datetime"]), name=symbol)


def build_result(strategy, ctx, loop, settings: dict, *, benchmark_asset, out_dir: Path | None, wall_start: float,
                 crashed, tearsheet: bool = True) -> BacktestResult:
    import pandas as pd

    from agentrt.reports import artifacts

    recorder, broker = ctx.recorder, ctx.broker
    tz = ctx.sessions.tz
    stats = _stats_frame(recorder, tz)
    trades = artifacts.trades_frame(artifacts.trade_rows(broker.events, strategy=strategy.name), tz=tz)
    bench = _benchmark_series(ctx, benchmark_asset, stats)
    if bench is not None:
        stats["benchmark"] = bench.values
    metrics: dict[str, Any] = {}
    if len(stats) >= 2:
        from agentrt.reports.metrics import compute_metrics

        metrics = compute_metrics(stats, trades, benchmark=bench, initial_value=settings.get("budget"))
    agent_summary = None
    services = ctx.agent_services
    if services is not None and hasattr(services, "summary"):
        agent_summary = services.summary()
        if agent_summary.get("runs"):
            replay = agent_summary.get("replay") or {}
            agent_summary["cache_hits"] = replay.get("hits", 0)
            agent_summary["misses"] = replay.get("misses", 0)
            agent_summary["models"] = sorted({str(r["model"]) for r in getattr(services, "run_rows", [])
                                              if r.get("model")})
        else:
            agent_summary = None
    equity = pd.Series(stats["portfolio_value"].values, index=stats["datetime"], name="portfolio_value")
    settings = dict(settings)
    settings["iterations"] = loop.iterations
    settings["crashed"] = None if crashed is None else f"{type(crashed).__name__}: {crashed}"
    result = BacktestResult(strategy=strategy.name, stats=metrics, trades=trades, equity=equity, stats_frame=stats,
                            output_dir=out_dir, settings=settings, iterations=loop.iterations,
                            loop_seconds=loop.loop_seconds, wall_seconds=0.0, agent_summary=agent_summary)
    if out_dir is not None:
        _write(result, ctx, recorder, bench, tearsheet=tearsheet and crashed is None)
    result.wall_seconds = time.time() - wall_start
    return result


def _write(result: BacktestResult, ctx, recorder, bench, *, tearsheet: bool) -> None:
    import json

    import pandas as pd

    from agentrt.reports import artifacts

    out = result.output_dir
    out.mkdir(parents=True, exist_ok=True)
    tz = ctx.sessions.tz
    files = result.files
    files["trades.csv"] = out / "trades.csv"
    trades_csv = result.trades.copy()
    trades_csv["time"] = [t.isoformat() if t is not pd.NaT and t is not None else "" for t in trades_csv["time"]]
    artifacts.write_frame_csv(trades_csv, files["trades.csv"])
    files["trades.parquet"] = out / "trades.parquet"
    artifacts.write_parquet(result.trades, files["trades.parquet"])
    stats = result.stats_frame.copy()
    stats["datetime"] = stats["datetime"].map(lambda t: t.isoformat())
    files["stats.csv"] = out / "stats.csv"
    artifacts.write_frame_csv(stats, files["stats.csv"])

    def _iso(ns_list):
        idx = pd.DatetimeIndex(np.asarray(ns_list, dtype="datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
        return [t.isoformat() for t in idx]

    ind = pd.DataFrame(recorder.indicators, columns=list(artifacts.INDICATOR_COLUMNS))
    ind["datetime"] = _iso(ind["datetime"].tolist()) if len(ind) else []
    files["indicators.csv"] = out / "indicators.csv"
    artifacts.write_frame_csv(ind, files["indicators.csv"])
    logs = pd.DataFrame(recorder.logs, columns=list(artifacts.LOG_COLUMNS))
    if len(logs):
        logs["datetime"] = _iso(logs["datetime"].tolist())
        logs["wall_time"] = pd.to_datetime(logs["wall_time"], unit="s", utc=True).map(lambda t: t.isoformat())
    files["logs.csv"] = out / "logs.csv"
    artifacts.write_frame_csv(logs, files["logs.csv"])
    settings = dict(result.settings)
    settings["metrics"] = result.stats
    if result.agent_summary is not None:
        settings["agents"] = result.agent_summary
    files["settings.json"] = out / "settings.json"
    artifacts.write_settings(settings, files["settings.json"])
    if result.stats:
        (out / "metrics.json").write_text(json.dumps(result.stats, indent=2, sort_keys=True, default=str) + "\n")
        files["metrics.json"] = out / "metrics.json"
    if tearsheet and len(result.stats_frame) >= 2:
        _write_html(result, ctx, ind, bench)


def _write_html(result: BacktestResult, ctx, indicators, bench) -> None:
    try:
        from agentrt.reports.tearsheet import write_tearsheet
    except ImportError:  # reports package without the HTML writers
        return
    out = result.output_dir
    result.files["tearsheet.html"] = write_tearsheet(
        out / "tearsheet.html", stats=result.stats_frame, metrics=result.stats, benchmark=bench,
        agent_summary=result.agent_summary, title=f"{result.strategy} tearsheet")
    try:
        from agentrt.reports.trades_html import write_trades_html
    except ImportError:
        return
    prices = {}
    traded = sorted(set(result.trades.loc[result.trades["event_kind"] == "trade", "symbol"].dropna()))
    start = result.stats_frame["datetime"].iloc[0]
    end = result.stats_frame["datetime"].iloc[-1]
    for sym in traded:
        try:
            series = ctx.data.series(ctx.data.asset(sym))
        except Exception:  # noqa: BLE001
            continue
        hi = series.visible_count(ctx.clock.now_ns)
        from agentrt.data.bars import Bars

        df = Bars(series, 0, hi).df
        prices[sym] = df.loc[(df.index >= start - _pad(df)) & (df.index <= end)]
    ind = indicators.copy()
    if len(ind):
        import pandas as pd

        ind["datetime"] = pd.to_datetime(ind["datetime"], utc=True).dt.tz_convert(ctx.sessions.tz)
    result.files["trades.html"] = write_trades_html(out / "trades.html", trades=result.trades, prices=prices,
                                                    indicators=ind, stats=result.stats_frame)


def _pad(df):
    import pandas as pd

    return pd.Timedelta(days=5)
