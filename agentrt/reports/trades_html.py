"""The trades page: fills, orders, indicators and cash events drawn on price and portfolio charts.

One self-contained ``trades.html`` (plotly.js inlined once, no network): a portfolio panel
(portfolio value, cash-adjusted value and cash, with deposit/withdrawal/interest/fee markers
and the ``add_line``/``add_marker`` series that belong to no asset), then one price chart
per symbol with buy/sell markers at fill time and price, unfilled orders (hidden until
toggled in the legend) and that symbol's indicators, then a table of FIFO round trips.
plotly is imported only when a page is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agentrt.reports import _frames, _html
from agentrt.reports._html import COLORS, esc, fmt_int, fmt_num, hover_esc, is_missing, sign_class
from agentrt.reports.metrics import DEFAULT_TZ, round_trips, to_datetimes

_FILL = _frames.FILL_STATUSES
_LIFECYCLE = _frames.LIFECYCLE_STATUSES
_CASH_STYLE = {
    "deposit": ("Deposit", "circle", "#16a34a"),
    "withdrawal": ("Withdrawal", "circle", "#dc2626"),
    "interest": ("Interest", "diamond", "#2563eb"),
    "fee": ("Fee", "x", "#ea580c"),
    "dividend": ("Dividend", "star", "#7c3aed"),
}
_OTHER_CASH_STYLE = ("Other cash event", "square", "#6b7280")
_MAX_TABLE_ROWS = 1000


def write_trades_html(
    path: str | Path,
    *,
    trades: pd.DataFrame | None,
    prices: Mapping[str, pd.DataFrame] | None,
    indicators: pd.DataFrame | None = None,
    stats: pd.DataFrame | None = None,
    title: str = "agentrt trades",
) -> Path:
    """Write ``trades.html``: a self-contained interactive page of trades on price charts.

    Args:
        path: the file to write (parent folders are created).
        trades: the trades event stream (``event_kind`` trade / cash_event rows).
        prices: symbol -> OHLCV frame (datetime index; ``open high low close volume``; a frame
            with only ``close`` is drawn as a line). A symbol that was traded but has no frame
            still gets a chart with its fills.
        indicators: ``add_line``/``add_marker`` rows (``datetime, kind, name, value, color,
            symbol, asset, detail_text``); rows whose ``asset`` is None go to the portfolio panel.
        stats: the stats frame, for the portfolio panel; None draws cash events at their amount.
        title: page title.

    Returns:
        The path written. The same inputs always produce byte-identical HTML.
    """
    import plotly.graph_objects as go  # noqa: F401  (fail early with a clear ImportError)

    prices = dict(prices or {})
    tz = _display_tz(stats, prices)
    events = _frames.trade_events(trades, tz)
    cash = _frames.cash_events(trades, tz)
    marks = _frames.indicator_rows(indicators, tz)
    fills = events[events["status"].isin(_FILL)]
    trips = round_trips(trades)

    used: set[str] = set()
    sections = [_header(title, events, fills, cash, stats, tz)]
    portfolio_marks = marks[marks["asset"].isna()]
    if stats is not None or len(cash) or len(portfolio_marks):
        figure = _portfolio_figure(stats, cash, portfolio_marks, tz)
        sections.append(_panel("Portfolio", figure, note=_portfolio_note(stats, cash)))
    for symbol in _symbols(fills, events, prices, marks):
        symbol_events = events[events["symbol"] == symbol]
        figure = _price_figure(
            symbol,
            prices.get(symbol),
            symbol_events,
            marks[marks["asset"] == symbol],
            tz,
            _html.slug(symbol, used=used, prefix="price-"),
        )
        sections.append(_panel(symbol, figure, note=_symbol_note(symbol_events, trips, symbol)))
    sections.append(_round_trips_section(trips, tz))
    document = _html.page(title=title, kind="trades", body="\n".join(sections))
    return _html.write_page(path, document)


def _display_tz(stats: pd.DataFrame | None, prices: Mapping[str, pd.DataFrame]) -> str:
    if stats is not None and "datetime" in stats.columns:
        tz = to_datetimes(stats["datetime"]).tz
        if tz is not None:
            return str(tz)
    for frame in prices.values():
        tz = getattr(frame.index, "tz", None)
        if tz is not None:
            return str(tz)
    return DEFAULT_TZ


def _symbols(
    fills: pd.DataFrame, events: pd.DataFrame, prices: Mapping[str, pd.DataFrame], marks: pd.DataFrame
) -> list[str]:
    traded = set(fills["symbol"]) | set(events["symbol"])
    others = (set(prices) | {a for a in marks["asset"] if not is_missing(a)}) - traded
    return sorted(traded) + sorted(others)


def _panel(title: str, content: str, *, note: str = "") -> str:
    note_html = f'<p class="note">{note}</p>' if note else ""
    return f'<section class="panel"><h2>{esc(title)}</h2>{note_html}{content}</section>'


def _header(title: str, events: pd.DataFrame, fills: pd.DataFrame, cash: pd.DataFrame, stats, tz: str) -> str:
    times = list(events["time"]) + list(cash["time"])
    if stats is not None and "datetime" in stats.columns and len(stats):
        stats_times = _html.local_times(stats["datetime"], tz)
        times += [stats_times.min(), stats_times.max()]
    span = f"{min(times):%Y-%m-%d} &rarr; {max(times):%Y-%m-%d} &middot; " if times else ""
    symbols = len(set(fills["symbol"]))
    return (
        f'<header class="page"><h1>{esc(title)}</h1><p class="sub">{span}{len(fills):,d} fills in {symbols:,d} '
        f"symbol{'s' if symbols != 1 else ''} &middot; {len(cash):,d} cash events &middot; "
        f"times in {esc(tz)}</p></header>"
    )


def _portfolio_note(stats, cash: pd.DataFrame) -> str:
    parts = []
    if stats is not None:
        parts.append("Portfolio value and cash-adjusted value (deposits and withdrawals removed).")
    if len(cash):
        counts = cash["kind"].replace("", "other").value_counts().sort_index()
        parts.append("Cash events: " + ", ".join(f"{esc(k)} {v}" for k, v in counts.items()) + ".")
    return " ".join(parts)


def _symbol_note(events: pd.DataFrame, trips: pd.DataFrame, symbol: str) -> str:
    if not len(events):
        return "No orders in this symbol."
    fills = events[events["status"].isin(_FILL)]
    buys = int(fills["side"].str.startswith("buy").sum())
    sells = int(fills["side"].str.startswith("sell").sum())
    unfilled = int((~events["status"].isin(_FILL | _LIFECYCLE)).sum())
    pnl = trips.loc[trips["symbol"] == symbol, "pnl"].sum() if len(trips) else 0.0
    css = sign_class(pnl)
    return (
        f"{len(fills):,d} fills ({buys} buys, {sells} sells) &middot; "
        f"fees {fmt_num(fills['fees'].fillna(0).sum())} &middot; "
        f'realised P&amp;L <span class="{css}">{fmt_num(pnl)}</span> &middot; '
        f"{unfilled} unfilled orders (toggle in legend)"
    )


def _portfolio_figure(stats, cash: pd.DataFrame, marks: pd.DataFrame, tz: str) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    lines = marks[marks["kind"] == "line"]
    markers = marks[marks["kind"] == "marker"]
    has_values = stats is not None and len(stats) > 0
    two_rows = has_values and len(lines) > 0
    fig = make_subplots(
        rows=2 if two_rows else 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.68, 0.32] if two_rows else None,
    )
    line_row = 2 if two_rows else 1

    times = pv = None
    if has_values:
        times = _html.local_times(stats["datetime"] if "datetime" in stats.columns else stats.index, tz)
        for column, name, style, visible in (
            ("portfolio_value", "Portfolio value", {"color": COLORS["raw"], "width": 1.5}, True),
            ("cash_adjusted_value", "Cash-adjusted value", {"color": COLORS["strategy"], "width": 2}, True),
            ("cash", "Cash", {"color": COLORS["cash"], "width": 1, "dash": "dot"}, "legendonly"),
        ):
            if column in stats.columns:
                fig.add_trace(
                    go.Scatter(
                        x=times,
                        y=pd.to_numeric(stats[column], errors="coerce").to_numpy(dtype=float),
                        name=name,
                        mode="lines",
                        line=style,
                        visible=visible,
                        hovertemplate=f"{name} %{{y:,.2f}}<extra></extra>",
                    ),
                    row=1,
                    col=1,
                )
        if "portfolio_value" in stats.columns:
            pv = pd.to_numeric(stats["portfolio_value"], errors="coerce").to_numpy(dtype=float)

    def value_at(when: pd.DatetimeIndex) -> np.ndarray:
        positions = np.searchsorted(times.to_numpy(), when.to_numpy(), side="right") - 1
        return pv[np.clip(positions, 0, len(pv) - 1)]

    for kind in sorted(cash["kind"].unique()) if len(cash) else []:
        group = cash[cash["kind"] == kind]
        label, symbol, color = _CASH_STYLE.get(kind, _OTHER_CASH_STYLE)
        label = label if kind in _CASH_STYLE else (kind.capitalize() or label)
        when = pd.DatetimeIndex(group["time"])
        y = value_at(when) if pv is not None else group["amount"].to_numpy(dtype=float)
        hover = [
            f"<b>{hover_esc(label)}</b> {fmt_num(row.amount)} ({hover_esc(row.direction or '?')})"
            f"{'<br>external cash flow' if row.external else ''}"
            f"{'<br>' + hover_esc(row.reason) if row.reason else ''}<br>{row.time:%Y-%m-%d %H:%M}"
            for row in group.itertuples(index=False)
        ]
        fig.add_trace(
            go.Scatter(
                x=when,
                y=y,
                name=label,
                mode="markers",
                text=hover,
                hovertemplate="%{text}<extra></extra>",
                marker={"symbol": symbol, "size": 12, "color": color, "line": {"color": "#0f172a", "width": 1}},
            ),
            row=1,
            col=1,
        )

    _add_lines(fig, lines, row=line_row)
    # A marker with a value goes on the indicator row when there is one; every other marker
    # sits on the portfolio-value curve (its value, if any, is in the hover text).
    for (name, symbol, color), group in _marker_groups(markers):
        has_value = group["value"].notna()
        parts = ((group[has_value], 2), (group[~has_value], 1)) if two_rows else ((group, 1),)
        for part, row in parts:
            if not len(part):
                continue
            when = pd.DatetimeIndex(part["datetime"])
            if row == 2:
                y = part["value"].to_numpy(dtype=float)
            elif pv is not None:
                y = value_at(when)
            else:
                y = np.nan_to_num(part["value"].to_numpy(dtype=float), nan=0.0)
            _add_markers(fig, name, symbol, color, part, when, y, row=row)

    layout = _html.base_layout(hovermode="closest", showlegend=True)
    fig.update_layout(**layout)
    fig.update_yaxes(title_text="value" if has_values else "cash event amount", tickformat=",.0f", row=1, col=1)
    if two_rows:
        fig.update_yaxes(title_text="indicators", row=2, col=1)
    return _html.figure_div(fig, "portfolio", height=560 if two_rows else 420)


def _price_figure(
    symbol: str, frame: pd.DataFrame | None, events: pd.DataFrame, marks: pd.DataFrame, tz: str, div_id: str
) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ohlc = _frames.ohlc(frame, tz)
    has_volume = ohlc is not None and "volume" in ohlc.columns and ohlc["volume"].notna().any()
    fig = make_subplots(
        rows=2 if has_volume else 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        row_heights=[0.8, 0.2] if has_volume else None,
    )
    if ohlc is not None:
        if {"open", "high", "low", "close"} <= set(ohlc.columns):
            fig.add_trace(
                go.Candlestick(
                    x=ohlc.index,
                    open=ohlc["open"],
                    high=ohlc["high"],
                    low=ohlc["low"],
                    close=ohlc["close"],
                    name=symbol,
                    increasing={"line": {"color": "#0f766e"}, "fillcolor": "#99f6e4"},
                    decreasing={"line": {"color": "#9f1239"}, "fillcolor": "#fecdd3"},
                ),
                row=1,
                col=1,
            )
        elif "close" in ohlc.columns:
            fig.add_trace(
                go.Scatter(
                    x=ohlc.index,
                    y=ohlc["close"],
                    name=f"{symbol} close",
                    mode="lines",
                    line={"color": "#334155", "width": 1.5},
                ),
                row=1,
                col=1,
            )
        if has_volume:
            fig.add_trace(
                go.Bar(
                    x=ohlc.index,
                    y=ohlc["volume"],
                    name="Volume",
                    marker={"color": "#cbd5e1"},
                    showlegend=False,
                    hovertemplate="volume %{y:,.0f}<extra></extra>",
                ),
                row=2,
                col=1,
            )
    _add_lines(fig, marks[marks["kind"] == "line"], row=1)
    for (name, marker_symbol, color), group in _marker_groups(marks[marks["kind"] == "marker"]):
        when = pd.DatetimeIndex(group["datetime"])
        y = group["value"].to_numpy(dtype=float)
        if ohlc is not None and "close" in ohlc.columns and not np.isfinite(y).all():
            positions = np.clip(
                np.searchsorted(ohlc.index.to_numpy(), when.to_numpy(), side="right") - 1, 0, len(ohlc) - 1
            )
            y = np.where(np.isfinite(y), y, ohlc["close"].to_numpy(dtype=float)[positions])
        _add_markers(fig, name, marker_symbol, color, group, when, y, row=1)

    fills = events[events["status"].isin(_FILL)]
    buys = fills[fills["side"].str.startswith("buy")]
    sells = fills[fills["side"].str.startswith("sell")]
    for part, label, marker_symbol, color in (
        (buys, "Buy", "triangle-up", COLORS["buy"]),
        (sells, "Sell", "triangle-down", COLORS["sell"]),
    ):
        if len(part):
            fig.add_trace(
                go.Scatter(
                    x=pd.DatetimeIndex(part["time"]),
                    y=part["price"],
                    name=label,
                    mode="markers",
                    text=[_trade_hover(row) for row in part.itertuples(index=False)],
                    hovertemplate="%{text}<extra></extra>",
                    marker={
                        "symbol": marker_symbol,
                        "size": 13,
                        "color": color,
                        "line": {"color": "#0f172a", "width": 1},
                    },
                ),
                row=1,
                col=1,
            )
    lifecycle = events[
        events["status"].isin(_LIFECYCLE | {"expired"}) & events["asset_type"].eq("option") & events["price"].notna()
    ]
    if len(lifecycle):
        fig.add_trace(
            go.Scatter(
                x=pd.DatetimeIndex(lifecycle["time"]),
                y=lifecycle["price"],
                name="Option lifecycle",
                mode="markers",
                text=[_trade_hover(row) for row in lifecycle.itertuples(index=False)],
                hovertemplate="%{text}<extra></extra>",
                marker={"symbol": "x", "size": 11, "color": "#7c3aed"},
            ),
            row=1,
            col=1,
        )
    unfilled = events[~events["status"].isin(_FILL | _LIFECYCLE) & events["price"].notna()]
    unfilled = unfilled[~(unfilled["status"].eq("expired") & unfilled["asset_type"].eq("option"))]
    if len(unfilled):
        fig.add_trace(
            go.Scatter(
                x=pd.DatetimeIndex(unfilled["time"]),
                y=unfilled["price"],
                name="Unfilled orders",
                mode="markers",
                visible="legendonly",
                text=[_trade_hover(row) for row in unfilled.itertuples(index=False)],
                hovertemplate="%{text}<extra></extra>",
                marker={"symbol": "circle-open", "size": 11, "color": COLORS["muted"], "line": {"width": 2}},
            ),
            row=1,
            col=1,
        )
    fig.update_layout(**_html.base_layout(hovermode="closest", showlegend=True))
    fig.update_xaxes(rangeslider={"visible": False})
    fig.update_yaxes(title_text="price", row=1, col=1)
    return _html.figure_div(fig, div_id, height=560 if has_volume else 460)


def _trade_hover(row: Any) -> str:
    side = (row.side or "?").upper().replace("_", " ")
    lines = [f"<b>{hover_esc(side)} {hover_esc(row.symbol)}</b> · {hover_esc(row.status.replace('_', ' '))}"]
    lines.append(f"qty {_quantity(row.quantity)} @ {fmt_num(row.price, digits=4)}")
    if not is_missing(row.multiplier) and float(row.multiplier) not in (0.0, 1.0):
        lines.append(f"multiplier {fmt_num(row.multiplier, digits=0)}")
    lines.append(f"fees {fmt_num(0.0 if is_missing(row.fees) else row.fees)}")
    lines.append(
        f"order {hover_esc(row.type or '?')}" + (f" · id {hover_esc(row.identifier)}" if row.identifier else "")
    )
    if row.reason:
        lines.append(f"reason: {hover_esc(_shorten(row.reason))}")
    lines.append(f"{row.time:%Y-%m-%d %H:%M}")
    return "<br>".join(lines)


def _quantity(value: Any) -> str:
    return fmt_num(value, digits=4).rstrip("0").rstrip(".") if not is_missing(value) else "?"


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_VALID_COLORS: dict[str, str | None] = {}
_VALID_SYMBOLS: dict[str, str] = {}


def _color(value: str) -> str | None:
    if not value:
        return None
    if value not in _VALID_COLORS:
        import plotly.graph_objects as go

        try:
            go.scatter.Line(color=value)
            _VALID_COLORS[value] = value
        except ValueError:
            _VALID_COLORS[value] = None
    return _VALID_COLORS[value]


def _marker_symbol(value: str) -> str:
    if not value:
        return "circle"
    if value not in _VALID_SYMBOLS:
        import plotly.graph_objects as go

        try:
            go.scatter.Marker(symbol=value)
            _VALID_SYMBOLS[value] = value
        except ValueError:
            _VALID_SYMBOLS[value] = "circle"
    return _VALID_SYMBOLS[value]


def _add_lines(fig: Any, lines: pd.DataFrame, *, row: int) -> None:
    import plotly.graph_objects as go

    for name in sorted(lines["name"].unique()) if len(lines) else []:
        group = lines[lines["name"] == name]
        colors = [c for c in group["color"] if c]
        color = _color(colors[0]) if colors else None
        fig.add_trace(
            go.Scatter(
                x=pd.DatetimeIndex(group["datetime"]),
                y=group["value"].to_numpy(dtype=float),
                name=hover_esc(name),
                mode="lines",
                line={"color": color, "width": 1.6},
                hovertemplate=f"{hover_esc(name)} %{{y:,.4g}}<extra></extra>",
            ),
            row=row,
            col=1,
        )


def _marker_groups(markers: pd.DataFrame) -> list[tuple[tuple[str, str, str], pd.DataFrame]]:
    if not len(markers):
        return []
    return [(key, group) for key, group in markers.groupby(["name", "symbol", "color"], sort=True)]


def _add_markers(
    fig: Any,
    name: str,
    symbol: str,
    color: str,
    group: pd.DataFrame,
    when: pd.DatetimeIndex,
    y: np.ndarray,
    *,
    row: int,
) -> None:
    import plotly.graph_objects as go

    sizes = group["size"].to_numpy(dtype=float)
    size = [float(s) if math.isfinite(s) and s > 0 else 12.0 for s in sizes]
    hover = [
        f"<b>{hover_esc(name)}</b>"
        + (f"<br>{hover_esc(_shorten(r.detail_text))}" if r.detail_text else "")
        + (f"<br>value {fmt_num(r.value, digits=4)}" if not is_missing(r.value) else "")
        + f"<br>{r.datetime:%Y-%m-%d %H:%M}"
        for r in group.itertuples(index=False)
    ]
    fig.add_trace(
        go.Scatter(
            x=when,
            y=y,
            name=hover_esc(name),
            mode="markers",
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            marker={
                "symbol": _marker_symbol(symbol),
                "size": size,
                "color": _color(color) or "#334155",
                "line": {"color": "#0f172a", "width": 1},
            },
        ),
        row=row,
        col=1,
    )


def _round_trips_section(trips: pd.DataFrame, tz: str) -> str:
    if not len(trips):
        return _panel("Round trips", "<p>No closed round trips.</p>")
    shown = trips.tail(_MAX_TABLE_ROWS).iloc[::-1]
    rows = []
    for trip in shown.itertuples(index=False):
        entry = _html.local_times([trip.entry_time], tz)[0]
        exit_ = _html.local_times([trip.exit_time], tz)[0]
        rows.append(
            f"<tr><td>{esc(trip.symbol)}</td><td>{esc(trip.direction)}</td><td>{entry:%Y-%m-%d %H:%M}</td>"
            f'<td>{exit_:%Y-%m-%d %H:%M}</td><td class="num">{_quantity(trip.quantity)}</td>'
            f'<td class="num">{fmt_num(trip.entry_price, digits=4)}</td>'
            f'<td class="num">{fmt_num(trip.exit_price, digits=4)}</td><td class="num">{fmt_num(trip.fees)}</td>'
            f'<td class="num {sign_class(trip.pnl)}">{fmt_num(trip.pnl)}</td></tr>'
        )
    wins = int((trips["pnl"] > 0).sum())
    note = (
        f"{len(trips):,d} round trips matched first in first out per instrument, newest first; "
        f"{wins} winners; total P&amp;L {fmt_num(trips['pnl'].sum())} after fees."
        + (f" Showing the latest {fmt_int(_MAX_TABLE_ROWS)}." if len(trips) > _MAX_TABLE_ROWS else "")
    )
    table = (
        '<div class="scroll"><table id="round-trips"><thead><tr><th>Symbol</th><th>Side</th><th>Entry</th><th>Exit</th>'
        '<th class="num">Qty</th><th class="num">Entry price</th><th class="num">Exit price</th>'
        '<th class="num">Fees</th>'
        f'<th class="num">P&amp;L</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )
    return _panel("Round trips", table, note=note)
