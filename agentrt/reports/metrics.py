"""Performance metrics of a backtest, computed on the cash-adjusted equity curve.

Every return-based number uses ``stats["cash_adjusted_value"]`` (the equity with external
deposits and withdrawals removed), so moving money in or out of the account is never
counted as performance. Conventions follow empyrical (sample standard deviation, Sharpe
and Sortino annualised with ``sqrt(periods_per_year)``, CAGR over ``n_returns /
periods_per_year`` years, alpha compounded to a year); ``docs/metrics.md`` gives every
formula. Pure numpy/pandas and deterministic.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

METRICS_VERSION = 1
"""Version of the key set returned by :func:`compute_metrics`; bump when keys change."""

METRIC_KEYS: tuple[str, ...] = (
    "metrics_version",
    "start",
    "end",
    "periods_per_year",
    "risk_free_rate",
    "initial_value",
    "final_value",
    "final_cash_adjusted_value",
    "net_external_cash_flow",
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "max_drawdown_duration_days",
    "win_rate",
    "profit_factor",
    "avg_win",
    "avg_loss",
    "num_trades",
    "num_fills",
    "exposure_time",
    "benchmark_return",
    "alpha",
    "beta",
)
"""Keys of the :func:`compute_metrics` result, in display order."""

ROUND_TRIP_COLUMNS: tuple[str, ...] = (
    "symbol",
    "asset_type",
    "direction",
    "entry_time",
    "exit_time",
    "quantity",
    "entry_price",
    "exit_price",
    "multiplier",
    "fees",
    "pnl",
)
"""Columns of the :func:`round_trips` frame."""

DEFAULT_TZ = "America/New_York"
_FILL_STATUSES = frozenset({"fill", "filled", "partial_fill", "partially_filled"})
# Option lifecycle rows close whatever is still open in that contract.
_SETTLE_AT_PRICE = frozenset({"cash_settled"})
_SETTLE_AT_ZERO = frozenset({"assigned", "exercised", "expired"})
# Optional columns that tell two option contracts on the same underlying apart.
_CONTRACT_COLUMNS = ("expiration", "strike", "right")
_EPS = 1e-12


def infer_periods_per_year(index: Iterable[object]) -> int:
    """Guess how many bars make a year from the spacing of ``index`` (datetimes).

    Daily bars give 252 (365 when more than 10 % of bars fall on weekends, as for
    crypto); weekly 52; monthly 12; quarterly 4; yearly 1. Intraday bars give the
    median number of bars per calendar day times 252 (or 365 for 7-day markets).
    Fewer than two timestamps give 252.
    """
    times = to_datetimes(list(index) if not isinstance(index, pd.Index) else index)
    times = times.dropna().sort_values().unique()
    if len(times) < 2:
        return 252
    deltas = pd.Series(times[1:] - times[:-1])
    median = deltas.median()
    weekend_share = float(np.mean(times.day_of_week >= 5))
    days_per_year = 365 if weekend_share > 0.10 else 252
    if median < pd.Timedelta(hours=20):
        bars_per_day = pd.Series(1, index=times).groupby(times.normalize()).size().median()
        return round(float(bars_per_day) * days_per_year)
    days = median / pd.Timedelta(days=1)
    if days <= 4:
        return days_per_year
    if days <= 10:
        return 52
    if days <= 45:
        return 12
    if days <= 120:
        return 4
    return 1


def compute_metrics(
    stats: pd.DataFrame,
    trades: pd.DataFrame | None,
    *,
    benchmark: pd.Series | None = None,
    periods_per_year: float | None = None,
    risk_free_rate: float = 0.0,
    initial_value: float | None = None,
) -> dict[str, float | int | str | None]:
    """Compute the performance metrics of one backtest.

    Args:
        stats: one row per iteration with ``datetime`` (tz-aware; the index is used when the
            column is absent), ``cash_adjusted_value``, ``portfolio_value`` and
            ``positions_value``; other columns are ignored.
        trades: the trades event stream (``event_kind`` trade / cash_event rows) or None.
        benchmark: benchmark prices indexed by datetimes, for ``alpha``, ``beta`` and
            ``benchmark_return``; None leaves those None.
        periods_per_year: bars per year used to annualise; None infers it from the
            ``datetime`` spacing with :func:`infer_periods_per_year` (252 for daily bars).
        initial_value: the account value before the first row (the backtest's budget). The first
            stats row is recorded after the first iteration, so fills and fees of that iteration
            (e.g. with ``fill_at="close"``) are only measured against this starting value.
        risk_free_rate: annual risk-free rate (0.02 = 2 %), converted to a per-bar rate
            ``(1 + rf) ** (1 / periods_per_year) - 1`` for Sharpe, Sortino and alpha.

    Returns:
        A dict with exactly :data:`METRIC_KEYS`. Fractions are plain fractions (0.12 = 12 %),
        money is in account currency, ``start``/``end`` are ISO-8601 strings. A metric that
        is undefined for the data (e.g. Sharpe of a flat curve, profit factor without a
        losing trade) is None, never NaN or infinity.
    """
    equity = _cash_adjusted_equity(stats)
    if initial_value is not None and float(initial_value) > 0 and float(initial_value) != float(equity.iloc[0]):
        equity = pd.concat([pd.Series([float(initial_value)], index=equity.index[:1]), equity])
    ppy = float(periods_per_year) if periods_per_year is not None else float(infer_periods_per_year(equity.index))
    if not ppy > 0:
        raise ValueError(f"periods_per_year must be > 0, got {periods_per_year!r}; pass e.g. 252 for daily bars")
    rf_per_bar = (1.0 + float(risk_free_rate)) ** (1.0 / ppy) - 1.0

    values = equity.to_numpy(dtype=float)
    returns = values[1:] / values[:-1] - 1.0
    excess = returns - rf_per_bar
    n = len(returns)

    total_return = values[-1] / values[0] - 1.0
    cagr = _cagr(values[-1] / values[0], n, ppy)
    volatility = float(np.std(returns, ddof=1) * math.sqrt(ppy)) if n >= 2 else None
    sharpe = _ratio(float(np.mean(excess)), float(np.std(excess, ddof=1))) if n >= 2 else None
    sharpe = sharpe * math.sqrt(ppy) if sharpe is not None else None
    sortino = None
    if n >= 2:
        downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2))) * math.sqrt(ppy)
        sortino = _ratio(float(np.mean(excess)) * ppy, downside)
    max_dd = float(np.min(values / np.maximum.accumulate(values) - 1.0))
    calmar = _ratio(cagr, abs(max_dd)) if cagr is not None else None

    trips = round_trips(trades)
    pnl = trips["pnl"].to_numpy(dtype=float)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]

    alpha, beta, bench_return = _alpha_beta(equity, benchmark, ppy, rf_per_bar)

    result: dict[str, float | int | str | None] = {
        "metrics_version": METRICS_VERSION,
        "start": equity.index[0].isoformat(),
        "end": equity.index[-1].isoformat(),
        "periods_per_year": ppy,
        "risk_free_rate": float(risk_free_rate),
        "initial_value": float(values[0]),
        "final_value": _final(stats, "portfolio_value"),
        "final_cash_adjusted_value": float(values[-1]),
        "net_external_cash_flow": _net_external_cash_flow(trades),
        "total_return": float(total_return),
        "cagr": cagr,
        "volatility": volatility,
        "sharpe": sharpe,
        "sortino": sortino,
        "calmar": calmar,
        "max_drawdown": max_dd,
        "max_drawdown_duration_days": _max_drawdown_duration_days(equity),
        "win_rate": len(wins) / len(pnl) if len(pnl) else None,
        "profit_factor": _ratio(float(wins.sum()), float(-losses.sum())) if len(pnl) else None,
        "avg_win": float(wins.mean()) if len(wins) else None,
        "avg_loss": float(losses.mean()) if len(losses) else None,
        "num_trades": len(pnl),
        "num_fills": _num_fills(trades),
        "exposure_time": _exposure(stats),
        "benchmark_return": bench_return,
        "alpha": alpha,
        "beta": beta,
    }
    return {key: _clean(result[key]) for key in METRIC_KEYS}


@dataclass(slots=True)
class _Lot:
    time: pd.Timestamp
    quantity: float  # signed: + long, - short
    price: float
    fee_per_unit: float
    multiplier: float


def round_trips(trades: pd.DataFrame | None) -> pd.DataFrame:
    """Match fills into closed round trips, first in first out, per instrument.

    An instrument is ``(symbol, asset_type)`` plus ``expiration``/``strike``/``right`` when
    those columns exist. Rows used: ``event_kind == "trade"`` with status ``fill`` or
    ``partial_fill`` (each row's ``quantity`` is what that event filled); ``cash_settled``
    closes the open position at its price, ``assigned``/``exercised``/``expired`` close an open
    *option* position at 0 (an expired order on a flat instrument is ignored). Sides starting
    with ``buy`` add, sides starting with ``sell`` subtract; a fill larger than the open
    position closes it and opens the rest in the other direction.

    Every order that reduces a position yields one round trip (consecutive partial fills with
    the same ``identifier`` are merged): the quantity it closes against the oldest open lots,
    ``pnl = sum((exit - entry) * qty * multiplier * sign) - fees`` where ``fees`` is the closing
    fills' fees plus the pro-rata share of the entry fills' fees. Prices are quantity-weighted.

    Returns:
        A frame with :data:`ROUND_TRIP_COLUMNS`, one row per closing order, in exit order.
    """
    rows: list[dict[str, object]] = []
    fills = _position_events(trades)
    books: dict[tuple[object, ...], deque[_Lot]] = {}
    last_trip: dict[tuple[object, ...], tuple[str, int]] = {}
    for event in fills.itertuples(index=False):
        key = tuple(getattr(event, column) for column in event._fields if column.startswith("key_"))
        book = books.setdefault(key, deque())
        status = event.status
        multiplier = event.multiplier
        if status in _FILL_STATUSES:
            sign = event.sign
            quantity = event.quantity
            price = event.price
        else:  # lifecycle: close everything left
            open_qty = sum(lot.quantity for lot in book)
            if abs(open_qty) < _EPS:
                continue
            sign = -1.0 if open_qty > 0 else 1.0
            quantity = abs(open_qty) if not event.quantity > 0 else min(event.quantity, abs(open_qty))
            price = event.price if status in _SETTLE_AT_PRICE and math.isfinite(event.price) else 0.0
        if not quantity > 0:
            continue
        fee_per_unit = event.fees / quantity
        remaining = quantity
        closed = 0.0
        gross = 0.0
        fees = 0.0
        entry_notional = 0.0
        entry_time = None
        direction = None
        while remaining > _EPS and book and (book[0].quantity > 0) != (sign > 0):
            lot = book[0]
            take = min(remaining, abs(lot.quantity))
            lot_sign = 1.0 if lot.quantity > 0 else -1.0
            gross += (price - lot.price) * take * lot.multiplier * lot_sign
            fees += lot.fee_per_unit * take
            entry_notional += lot.price * take
            entry_time = lot.time if entry_time is None else entry_time
            direction = "long" if lot_sign > 0 else "short"
            closed += take
            remaining -= take
            lot.quantity -= take * lot_sign
            if abs(lot.quantity) < _EPS:
                book.popleft()
        if closed > 0:
            fees += fee_per_unit * closed
            previous = last_trip.get(key)
            if previous is not None and event.order_id and previous[0] == event.order_id:
                # Another partial fill of the same closing order: extend its round trip.
                trip = rows[previous[1]]
                total = trip["quantity"] + closed
                trip["entry_price"] = (trip["entry_price"] * trip["quantity"] + entry_notional) / total
                trip["exit_price"] = (trip["exit_price"] * trip["quantity"] + price * closed) / total
                trip["quantity"] = total
                trip["exit_time"] = event.time
                trip["fees"] += fees
                trip["pnl"] += gross - fees
            else:
                last_trip[key] = (event.order_id, len(rows))
                rows.append(
                    {
                        "symbol": event.symbol,
                        "asset_type": event.asset_type,
                        "direction": direction,
                        "entry_time": entry_time,
                        "exit_time": event.time,
                        "quantity": closed,
                        "entry_price": entry_notional / closed,
                        "exit_price": price,
                        "multiplier": multiplier,
                        "fees": fees,
                        "pnl": gross - fees,
                    }
                )
        else:
            last_trip.pop(key, None)
        if remaining > _EPS and status in _FILL_STATUSES:
            book.append(_Lot(event.time, sign * remaining, price, fee_per_unit, multiplier))
    return pd.DataFrame(rows, columns=list(ROUND_TRIP_COLUMNS))


def _position_events(trades: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["time", "symbol", "asset_type", "status", "sign", "quantity", "price", "fees", "multiplier"]
    if trades is None or len(trades) == 0:
        return pd.DataFrame(columns=columns)
    _require_columns(trades, ("time", "symbol", "side", "status", "price", "quantity"), what="trades")
    # Plain Python over column lists: trade streams are short, and pandas string ops on small
    # frames cost milliseconds of fixed overhead per backtest.
    n = len(trades)

    def col(name: str, default: object = None) -> list:
        return trades[name].tolist() if name in trades.columns else [default] * n

    def low(value: object) -> str:
        return "" if _missing(value) else str(value).strip().lower()

    kinds, statuses, types, sides = col("event_kind", "trade"), col("status"), col("asset_type", "stock"), col("side")
    times, symbols, ids = col("time"), col("symbol"), col("identifier", "")
    qtys, prices, fees, mults = col("quantity"), col("price"), col("fees", 0.0), col("multiplier", 1.0)
    contract = [col(c, "") for c in _CONTRACT_COLUMNS]
    rows = []
    for i in range(n):
        if low(kinds[i]) != "trade":
            continue
        status = low(statuses[i])
        asset_type = low(types[i]) or "stock"
        is_fill = status in _FILL_STATUSES
        if not (is_fill or status in _SETTLE_AT_PRICE or (status in _SETTLE_AT_ZERO and asset_type == "option")):
            continue
        side = low(sides[i])
        sign = 1.0 if side.startswith("buy") else -1.0 if side.startswith("sell") else math.nan
        if is_fill and math.isnan(sign):
            raise ValueError(
                f"trades row at {times[i]} for {symbols[i]!r} is a fill with side {sides[i]!r}; "
                "expected a side starting with 'buy' or 'sell' (buy, sell, buy_to_cover, sell_short)"
            )
        price = _number(prices[i])
        if is_fill and not math.isfinite(price):
            raise ValueError(
                f"trades fill at {times[i]} for {symbols[i]!r} has no price; every fill row needs a "
                "finite 'price' (the fill price)"
            )
        mult = _number(mults[i], 1.0)
        row = {
            "time": times[i],
            "symbol": None if _missing(symbols[i]) else str(symbols[i]),
            "order_id": "" if _missing(ids[i]) else str(ids[i]),
            "asset_type": asset_type,
            "status": status,
            "sign": sign,
            "quantity": abs(_number(qtys[i])),
            "price": price,
            "fees": _number(fees[i], 0.0),
            "multiplier": mult if mult else 1.0,
            "key_0": None if _missing(symbols[i]) else str(symbols[i]),
            "key_1": asset_type,
        }
        for number, values in enumerate(contract, start=2):
            row[f"key_{number}"] = "" if _missing(values[i]) else str(values[i])
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows)
    out["time"] = to_datetimes(out["time"])
    return out.sort_values("time", kind="mergesort").reset_index(drop=True)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _number(value: object, default: float = math.nan) -> float:
    if _missing(value):
        return default
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def to_datetimes(values: object, tz: str = DEFAULT_TZ) -> pd.DatetimeIndex:
    """Parse datetimes, including ISO strings with mixed UTC offsets (EST/EDT), as one index.

    Strings with differing offsets (as read back from a CSV) are converted to ``tz``;
    naive values stay naive.
    """
    try:
        return pd.DatetimeIndex(pd.to_datetime(values))
    except (ValueError, TypeError):
        return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).tz_convert(tz)


def _cash_adjusted_equity(stats: pd.DataFrame) -> pd.Series:
    if stats is None or len(stats) == 0:
        raise ValueError("stats is empty; compute_metrics needs at least one row with a cash_adjusted_value")
    _require_columns(stats, ("cash_adjusted_value",), what="stats")
    times = _stats_times(stats)
    values = pd.to_numeric(stats["cash_adjusted_value"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"stats.cash_adjusted_value is missing or not a number at {times[int(np.argmax(bad))]}; "
            "every stats row needs a finite cash_adjusted_value (fill it before computing metrics)"
        )
    if values[0] <= 0:
        raise ValueError(f"stats.cash_adjusted_value starts at {values[0]!r}; expected a positive starting budget")
    return pd.Series(values, index=times, name="cash_adjusted_value")


def _stats_times(stats: pd.DataFrame) -> pd.DatetimeIndex:
    if "datetime" in stats.columns:
        times = to_datetimes(stats["datetime"])
    elif isinstance(stats.index, pd.DatetimeIndex):
        times = stats.index
    else:
        raise ValueError("stats has no 'datetime' column and no DatetimeIndex; add the bar time as a 'datetime' column")
    if times.tz is None:
        times = times.tz_localize(DEFAULT_TZ)
    return times


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], *, what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {missing}; it has {list(frame.columns)}")


def _cagr(growth: float, n_returns: int, ppy: float) -> float | None:
    if n_returns == 0:
        return None
    if growth <= 0:
        return -1.0
    return float(growth ** (ppy / n_returns) - 1.0)


def _ratio(numerator: float, denominator: float) -> float | None:
    if not math.isfinite(numerator) or not math.isfinite(denominator) or abs(denominator) < _EPS:
        return None
    return float(numerator / denominator)


def _max_drawdown_duration_days(equity: pd.Series) -> float:
    values = equity.to_numpy(dtype=float)
    prior_peak = np.concatenate(([-np.inf], np.maximum.accumulate(values)[:-1]))
    is_peak = values >= prior_peak
    positions = np.arange(len(values))
    last_peak = np.maximum.accumulate(np.where(is_peak, positions, 0))
    # Wall-clock (local) times, so a daylight-saving switch does not add or remove an hour.
    local = equity.index.tz_localize(None) if equity.index.tz is not None else equity.index
    seconds = (local - local[0]).total_seconds().to_numpy()
    # Underwater bars count to themselves; a recovering bar counts to the peak it recovers.
    underwater = seconds - seconds[last_peak]
    recovering = np.zeros_like(seconds)
    if len(values) > 1:
        recovered = is_peak[1:] & ~is_peak[:-1]
        recovering[1:] = np.where(recovered, seconds[1:] - seconds[last_peak[:-1]], 0.0)
    return float(max(underwater.max(), recovering.max()) / 86400.0)


def _alpha_beta(
    equity: pd.Series, benchmark: pd.Series | None, ppy: float, rf_per_bar: float
) -> tuple[float | None, float | None, float | None]:
    levels = _aligned_levels(equity, benchmark, ppy)
    if levels is None or len(levels) < 2:
        return None, None, None
    bench_return = float(levels["benchmark"].iloc[-1] / levels["benchmark"].iloc[0] - 1.0)
    returns = levels.pct_change().iloc[1:]
    if len(returns) < 2:
        return None, None, bench_return
    x = returns["benchmark"].to_numpy(dtype=float) - rf_per_bar
    y = returns["strategy"].to_numpy(dtype=float) - rf_per_bar
    x_centered = x - x.mean()
    variance = float(np.mean(x_centered**2))
    if variance < 1e-30:
        return None, None, bench_return
    beta = float(np.mean(x_centered * (y - y.mean())) / variance)
    alpha_per_bar = float(y.mean() - beta * x.mean())
    alpha = (1.0 + alpha_per_bar) ** ppy - 1.0 if alpha_per_bar > -1.0 else -1.0
    return float(alpha), beta, bench_return


def _aligned_levels(equity: pd.Series, benchmark: pd.Series | None, ppy: float) -> pd.DataFrame | None:
    """Strategy and benchmark levels on common dates (daily or coarser) or bar times (intraday)."""
    if benchmark is None or len(benchmark) == 0:
        return None
    bench = pd.Series(
        pd.to_numeric(pd.Series(benchmark).to_numpy(), errors="coerce"),
        index=to_datetimes(benchmark.index, str(equity.index.tz)),
    )
    bench = bench[np.isfinite(bench.to_numpy(dtype=float))]
    tz = equity.index.tz
    if ppy <= 366:
        # Date-stamped benchmarks (every timestamp at midnight, e.g. UTC midnight for a trading
        # day) keep their own calendar date; timed ones are converted to the stats time zone.
        own = bench.index.tz_localize(None) if bench.index.tz is not None else bench.index
        if bench.index.tz is not None and not (own == own.normalize()).all():
            own = bench.index.tz_convert(tz).tz_localize(None)
        bench = bench.groupby(own.normalize()).last()
        strat = equity.groupby(equity.index.tz_localize(None).normalize()).last()
        levels = pd.concat({"strategy": strat, "benchmark": bench}, axis=1, join="inner")
    else:
        bench.index = bench.index.tz_localize(tz) if bench.index.tz is None else bench.index.tz_convert(tz)
        bench = bench.sort_index()
        bench = bench[~bench.index.duplicated(keep="last")]
        eq = equity[~equity.index.duplicated(keep="last")]
        aligned = bench.reindex(bench.index.union(eq.index)).ffill().reindex(eq.index)
        levels = pd.DataFrame({"strategy": eq, "benchmark": aligned}).dropna()
    levels = levels[levels["benchmark"] > 0]
    return levels


def _exposure(stats: pd.DataFrame) -> float | None:
    if "positions_value" not in stats.columns:
        return None
    positions = pd.to_numeric(stats["positions_value"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return float(np.mean(positions != 0.0))


def _final(stats: pd.DataFrame, column: str) -> float | None:
    if column not in stats.columns:
        return None
    value = pd.to_numeric(stats[column], errors="coerce").iloc[-1]
    return float(value) if pd.notna(value) else None


def _num_fills(trades: pd.DataFrame | None) -> int:
    if trades is None or len(trades) == 0 or "status" not in trades.columns:
        return 0
    frame = trades
    if "event_kind" in frame.columns:
        frame = frame[frame["event_kind"].astype("string").str.lower().eq("trade").fillna(False)]
    return int(frame["status"].astype("string").str.strip().str.lower().isin(_FILL_STATUSES).fillna(False).sum())


def _net_external_cash_flow(trades: pd.DataFrame | None) -> float:
    """Deposits minus withdrawals flagged ``is_external_cash_flow``."""
    needed = ("event_kind", "cash_event_amount", "is_external_cash_flow")
    if trades is None or len(trades) == 0 or any(column not in trades.columns for column in needed):
        return 0.0
    frame = trades[trades["event_kind"].astype("string").str.lower().eq("cash_event").fillna(False)]
    external = frame["is_external_cash_flow"].map(_truthy).astype(bool)
    frame = frame[external]
    amount = pd.to_numeric(frame["cash_event_amount"], errors="coerce").fillna(0.0)
    if "cash_event_direction" in frame.columns:
        direction = frame["cash_event_direction"].astype("string").str.lower()
        signed = np.where(
            direction.eq("out").fillna(False),
            -amount.abs(),
            np.where(direction.eq("in").fillna(False), amount.abs(), amount),
        )
    else:
        signed = amount.to_numpy()
    return float(np.sum(signed))


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def _clean(value: object) -> float | int | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None
