"""The tearsheet page: equity vs benchmark, drawdown, monthly returns, rolling Sharpe, metrics, agents.

One self-contained ``tearsheet.html`` (plotly.js inlined once, no network) built from the
engine's ``stats`` frame and the :func:`agentrt.reports.metrics.compute_metrics` dict.
plotly is imported only when a page is written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agentrt.reports import _html
from agentrt.reports._html import COLORS, esc, fmt_int, fmt_num, fmt_pct, sign_class
from agentrt.reports.metrics import (
    DEFAULT_TZ,
    _aligned_levels,
    _cash_adjusted_equity,
    compute_metrics,
    infer_periods_per_year,
)

ROLLING_WINDOW = 63
"""Bars in the rolling-Sharpe window (about three months of daily bars)."""

# "benchmark" is the benchmark price the engine copies into stats, not a user stat.
_STANDARD_STATS = {
    "datetime",
    "portfolio_value",
    "cash_adjusted_value",
    "cash",
    "positions_value",
    "return",
    "benchmark",
}
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# (key, label, format, definition) per group; formats: pct, spct, ratio, money, int, days, text.
_METRIC_GROUPS: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    (
        "Returns",
        (
            ("total_return", "Total return", "spct", "Cash-adjusted end value / start value - 1"),
            ("cagr", "CAGR", "spct", "Compound annual growth rate over n_returns / periods_per_year years"),
            ("benchmark_return", "Benchmark return", "spct", "Benchmark price change over the common dates"),
            (
                "alpha",
                "Alpha (annual)",
                "spct",
                "OLS intercept of strategy on benchmark excess returns, compounded to a year",
            ),
            ("beta", "Beta", "ratio", "OLS slope of strategy on benchmark excess returns"),
        ),
    ),
    (
        "Risk",
        (
            ("volatility", "Volatility (annual)", "pct", "Sample std of per-bar returns x sqrt(periods_per_year)"),
            ("sharpe", "Sharpe", "ratio", "Mean excess return / sample std x sqrt(periods_per_year)"),
            ("sortino", "Sortino", "ratio", "Annualised mean excess return / annualised downside deviation"),
            ("calmar", "Calmar", "ratio", "CAGR / |max drawdown|"),
            ("max_drawdown", "Max drawdown", "pct", "Largest fall from a running peak of the cash-adjusted value"),
            (
                "max_drawdown_duration_days",
                "Longest drawdown",
                "days",
                "Calendar days from a peak to its recovery (or the end)",
            ),
        ),
    ),
    (
        "Trading",
        (
            ("num_trades", "Round trips", "int", "Closed positions, matched first in first out per instrument"),
            ("num_fills", "Fills", "int", "Fill and partial-fill rows in the trades stream"),
            ("win_rate", "Win rate", "pct", "Round trips with P&L > 0 / all round trips"),
            ("profit_factor", "Profit factor", "ratio", "Gross profit of winners / gross loss of losers"),
            ("avg_win", "Average win", "money", "Mean P&L of winning round trips, after fees"),
            ("avg_loss", "Average loss", "money", "Mean P&L of losing round trips, after fees"),
            ("exposure_time", "Exposure", "pct", "Share of bars with a non-zero positions value"),
        ),
    ),
    (
        "Account",
        (
            ("initial_value", "Initial value", "money", "Cash-adjusted value at the first bar"),
            ("final_value", "Final value (raw)", "money", "Raw portfolio value at the last bar"),
            (
                "final_cash_adjusted_value",
                "Final cash-adjusted",
                "money",
                "Portfolio value without external cash flows",
            ),
            ("net_external_cash_flow", "Net deposits", "money", "Deposits minus withdrawals (external cash flows)"),
            ("start", "Start", "text", "First bar"),
            ("end", "End", "text", "Last bar"),
            ("periods_per_year", "Bars per year", "int", "Annualisation factor"),
            ("risk_free_rate", "Risk-free rate", "pct", "Annual risk-free rate used in Sharpe, Sortino and alpha"),
        ),
    ),
)


def write_tearsheet(
    path: str | Path,
    *,
    stats: pd.DataFrame,
    metrics: Mapping[str, Any] | None,
    benchmark: pd.Series | None = None,
    agent_summary: Mapping[str, Any] | None = None,
    title: str = "agentrt backtest",
) -> Path:
    """Write ``tearsheet.html``: a self-contained interactive performance report.

    Args:
        path: the file to write (parent folders are created).
        stats: the per-iteration stats frame (``datetime``, ``portfolio_value``,
            ``cash_adjusted_value``, ... plus any ``trace_stats()`` columns, which get a chart).
        metrics: the :func:`~agentrt.reports.metrics.compute_metrics` dict; None computes it
            from ``stats`` and ``benchmark`` (without trade metrics).
        benchmark: benchmark prices indexed by datetimes, drawn rebased to the strategy's start.
        agent_summary: optional agent totals (``runs``, ``cache_hits``, ``model_calls``,
            ``input_tokens``, ``output_tokens``, ``cost_usd``, ``warnings`` {kind: count},
            ``by_agent`` {name: {...}}); adds an "Agents" section.
        title: page title.

    Returns:
        The path written. The same inputs always produce byte-identical HTML.
    """
    import plotly.graph_objects as go  # noqa: F401  (fail early with a clear ImportError)

    equity = _cash_adjusted_equity(stats)
    if metrics is None:
        metrics = compute_metrics(stats, None, benchmark=benchmark)
    ppy = float(metrics.get("periods_per_year") or infer_periods_per_year(equity.index))
    rf = float(metrics.get("risk_free_rate") or 0.0)
    tz = str(equity.index.tz) if equity.index.tz is not None else DEFAULT_TZ
    times = _html.local_times(equity.index, tz)
    raw = (
        pd.to_numeric(stats["portfolio_value"], errors="coerce").to_numpy(dtype=float)
        if "portfolio_value" in stats.columns
        else None
    )
    bench_levels = _aligned_levels(equity, benchmark, ppy) if benchmark is not None else None
    if bench_levels is not None and len(bench_levels) < 2:
        bench_levels = None

    sections = [
        _header(title, metrics, len(equity)),
        _cards(metrics, has_benchmark=bench_levels is not None),
        _panel(
            "Equity",
            _equity_figure(times, equity, raw, bench_levels, ppy, tz),
            note="Cash-adjusted value removes deposits and withdrawals; the benchmark is rebased to the same start.",
        ),
        _panel(
            "Drawdown", _drawdown_figure(times, equity), note="Fall of the cash-adjusted value from its running peak."
        ),
        _panel(
            "Monthly returns",
            _monthly_figure(equity, tz),
            note="Cash-adjusted return per calendar month; the year's return is beside each year.",
        ),
    ]
    rolling = _panel(
        f"Rolling Sharpe ({_window(len(equity))} bars)",
        _rolling_sharpe_figure(times, equity, bench_levels, ppy, rf, tz),
        note=f"Annualised with {fmt_int(ppy)} bars per year; risk-free rate {fmt_pct(rf)}.",
    )
    custom = _custom_stats_figure(stats, times)
    if custom:
        custom_panel = _panel(
            "Strategy stats (trace_stats)", custom, note="Numeric columns the strategy added to stats."
        )
        sections.append(f'<div class="grid2">{rolling}{custom_panel}</div>')
    else:
        sections.append(rolling)
    sections.append(_metrics_section(metrics))
    if agent_summary is not None:
        sections.append(_agents_section(agent_summary))
    document = _html.page(title=title, kind="tearsheet", body="\n".join(sections))
    return _html.write_page(path, document)


def _header(title: str, metrics: Mapping[str, Any], n_bars: int) -> str:
    start, end = str(metrics.get("start") or "")[:10], str(metrics.get("end") or "")[:10]
    return (
        f'<header class="page"><h1>{esc(title)}</h1>'
        f'<p class="sub">{esc(start)} &rarr; {esc(end)} &middot; {n_bars:,d} bars &middot; tearsheet</p></header>'
    )


def _cards(metrics: Mapping[str, Any], *, has_benchmark: bool) -> str:
    def card(label: str, value: str, css: str = "", hint: str = "") -> str:
        hint_html = f'<div class="hint">{hint}</div>' if hint else ""
        return (
            f'<div class="card"><div class="label">{esc(label)}</div>'
            f'<div class="value {css}">{value}</div>{hint_html}</div>'
        )

    total = metrics.get("total_return")
    bench = metrics.get("benchmark_return")
    cards = [
        card(
            "Total return",
            fmt_pct(total, signed=True),
            sign_class(total),
            f"benchmark {fmt_pct(bench, signed=True)}" if has_benchmark else "",
        ),
        card("CAGR", fmt_pct(metrics.get("cagr"), signed=True), sign_class(metrics.get("cagr"))),
        card("Sharpe", fmt_num(metrics.get("sharpe")), "", f"Sortino {fmt_num(metrics.get('sortino'))}"),
        card(
            "Max drawdown",
            fmt_pct(metrics.get("max_drawdown")),
            "neg" if (metrics.get("max_drawdown") or 0) < 0 else "",
            f"{fmt_int(metrics.get('max_drawdown_duration_days'))} days longest",
        ),
        card("Volatility", fmt_pct(metrics.get("volatility")), "", "annualised"),
        card(
            "Win rate",
            fmt_pct(metrics.get("win_rate"), digits=1),
            "",
            f"{fmt_int(metrics.get('num_trades'))} round trips",
        ),
    ]
    if has_benchmark:
        cards.append(
            card(
                "Alpha",
                fmt_pct(metrics.get("alpha"), signed=True),
                sign_class(metrics.get("alpha")),
                f"beta {fmt_num(metrics.get('beta'))}, annualised",
            )
        )
    return '<section class="cards">' + "".join(cards) + "</section>"


def _panel(title: str, content: str, *, note: str = "") -> str:
    note_html = f'<p class="note">{esc(note)}</p>' if note else ""
    return f'<section class="panel"><h2>{esc(title)}</h2>{note_html}{content}</section>'


def _equity_figure(times, equity: pd.Series, raw, bench_levels: pd.DataFrame | None, ppy: float, tz: str) -> str:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=times,
            y=equity.to_numpy(),
            name="Cash-adjusted value",
            mode="lines",
            line={"color": COLORS["strategy"], "width": 2},
            hovertemplate="%{y:,.2f}",
        )
    )
    if raw is not None:
        fig.add_trace(
            go.Scatter(
                x=times,
                y=raw,
                name="Portfolio value (raw)",
                mode="lines",
                line={"color": COLORS["raw"], "width": 1.5, "dash": "dot"},
                hovertemplate="%{y:,.2f}",
            )
        )
    if bench_levels is not None:
        levels = bench_levels["benchmark"]
        # Rebase so the benchmark starts at the strategy's cash-adjusted value on the first common bar.
        rebased = levels / levels.iloc[0] * float(bench_levels["strategy"].iloc[0])
        x = _level_times(levels.index, times, tz, ppy)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=rebased.to_numpy(),
                name="Benchmark (rebased)",
                mode="lines",
                line={"color": COLORS["benchmark"], "width": 1.5},
                hovertemplate="%{y:,.2f}",
            )
        )
    fig.update_layout(**_html.base_layout(yaxis={"title": "value", "tickformat": ",.0f"}))
    return _html.figure_div(fig, "equity", height=420)


def _level_times(index: pd.Index, times: pd.DatetimeIndex, tz: str, ppy: float) -> pd.DatetimeIndex:
    """Plot times of benchmark levels aligned by :func:`_aligned_levels`."""
    if ppy > 366:
        return _html.local_times(index, tz)
    # Daily keys are naive dates: draw each at the strategy's last bar of that date.
    last_bar = pd.Series(times, index=times.normalize()).groupby(level=0).last()
    return pd.DatetimeIndex(last_bar.reindex(pd.DatetimeIndex(index)).to_numpy())


def _drawdown_figure(times, equity: pd.Series) -> str:
    import plotly.graph_objects as go

    values = equity.to_numpy(dtype=float)
    drawdown = values / np.maximum.accumulate(values) - 1.0
    fig = go.Figure(
        go.Scatter(
            x=times,
            y=drawdown,
            name="Drawdown",
            mode="lines",
            fill="tozeroy",
            line={"color": COLORS["drawdown"], "width": 1},
            fillcolor="rgba(220,38,38,0.18)",
            hovertemplate="%{y:.2%}",
        )
    )
    tickformat = ".0%" if drawdown.min() < -0.05 else ".1%"
    fig.update_layout(**_html.base_layout(yaxis={"title": "drawdown", "tickformat": tickformat}, showlegend=False))
    return _html.figure_div(fig, "drawdown", height=260)


def monthly_returns(equity: pd.Series, tz: str | None = None) -> pd.DataFrame:
    """Years x months table of cash-adjusted returns (the first month starts at the first bar)."""
    local = pd.Series(equity.to_numpy(dtype=float), index=_html.local_times(equity.index, tz))
    month_end = local.groupby([local.index.year, local.index.month]).last()
    previous = month_end.shift(1)
    previous.iloc[0] = float(local.iloc[0])
    returns = month_end / previous - 1.0
    table = returns.unstack()
    table.index.name, table.columns.name = "year", "month"
    return table.reindex(columns=range(1, 13))


def _monthly_figure(equity: pd.Series, tz: str) -> str:
    import plotly.graph_objects as go

    table = monthly_returns(equity, tz)
    local = pd.Series(equity.to_numpy(dtype=float), index=_html.local_times(equity.index, tz))
    year_end = local.groupby(local.index.year).last()
    year_start = year_end.shift(1)
    year_start.iloc[0] = float(local.iloc[0])
    yearly = year_end / year_start - 1.0
    labels = [f"{year}  {fmt_pct(yearly.get(year), signed=True, digits=1)}" for year in table.index]
    z = table.to_numpy(dtype=float) * 100.0
    text = [[("" if math.isnan(v) else f"{v:+.1f}%") for v in row] for row in z]
    limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=_MONTHS,
            y=labels,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 12},
            colorscale=[[0.0, "#b91c1c"], [0.5, "#f8fafc"], [1.0, "#15803d"]],
            zmid=0.0,
            zmin=-limit,
            zmax=limit,
            xgap=2,
            ygap=2,
            showscale=False,
            hovertemplate="%{y} %{x}: %{z:+.2f}%<extra></extra>",
        )
    )
    fig.update_layout(
        **_html.base_layout(
            hovermode="closest",
            yaxis={"autorange": "reversed", "type": "category"},
            xaxis={"type": "category"},
            margin={"l": 110, "r": 10, "t": 34, "b": 30},
        )
    )
    return _html.figure_div(fig, "monthly-returns", height=max(220, 74 + 46 * len(labels)))


def _window(n_bars: int) -> int:
    return ROLLING_WINDOW if n_bars > 2 * ROLLING_WINDOW else max(2, n_bars // 3)


def _rolling_sharpe(returns: pd.Series, window: int, ppy: float, rf_per_bar: float) -> pd.Series:
    excess = returns - rf_per_bar
    std = excess.rolling(window).std(ddof=1)
    return (excess.rolling(window).mean() / std.where(std > 1e-12)) * math.sqrt(ppy)


def _rolling_sharpe_figure(
    times, equity: pd.Series, bench_levels: pd.DataFrame | None, ppy: float, rf: float, tz: str
) -> str:
    import plotly.graph_objects as go

    window = _window(len(equity))
    rf_per_bar = (1.0 + rf) ** (1.0 / ppy) - 1.0
    returns = pd.Series(equity.to_numpy(dtype=float), index=times).pct_change()
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=times,
            y=_rolling_sharpe(returns, window, ppy, rf_per_bar).to_numpy(),
            name="Strategy",
            mode="lines",
            line={"color": COLORS["strategy"], "width": 1.8},
            hovertemplate="%{y:.2f}",
        )
    )
    if bench_levels is not None and len(bench_levels) > window:
        bench = bench_levels["benchmark"]
        bench_returns = pd.Series(
            bench.to_numpy(dtype=float), index=_level_times(bench.index, times, tz, ppy)
        ).pct_change()
        fig.add_trace(
            go.Scatter(
                x=bench_returns.index,
                y=_rolling_sharpe(bench_returns, window, ppy, rf_per_bar).to_numpy(),
                name="Benchmark",
                mode="lines",
                line={"color": COLORS["benchmark"], "width": 1.2},
                hovertemplate="%{y:.2f}",
            )
        )
    fig.add_hline(y=0.0, line={"color": "#94a3b8", "width": 1})
    fig.update_layout(**_html.base_layout(yaxis={"title": "Sharpe", "zeroline": False}))
    return _html.figure_div(fig, "rolling-sharpe", height=320)


def _custom_stats_figure(stats: pd.DataFrame, times) -> str:
    import plotly.graph_objects as go

    columns = [
        column
        for column in stats.columns
        if column not in _STANDARD_STATS
        and pd.api.types.is_numeric_dtype(stats[column])
        and not pd.api.types.is_bool_dtype(stats[column])
    ][:12]
    if not columns:
        return ""
    fig = go.Figure()
    for column in columns:
        fig.add_trace(
            go.Scatter(
                x=times,
                y=pd.to_numeric(stats[column], errors="coerce").to_numpy(dtype=float),
                name=_html.hover_esc(column),
                mode="lines",
                line={"width": 1.5},
            )
        )
    fig.update_layout(**_html.base_layout(showlegend=True))
    return _html.figure_div(fig, "trace-stats", height=320)


def _format_metric(value: Any, kind: str) -> str:
    if kind == "pct":
        return fmt_pct(value)
    if kind == "spct":
        return fmt_pct(value, signed=True)
    if kind == "ratio":
        return fmt_num(value)
    if kind == "money":
        return fmt_num(value)
    if kind == "int":
        return fmt_int(value)
    if kind == "days":
        return f"{fmt_num(value, digits=0)} days" if value is not None else "—"
    text = str(value) if value is not None else "—"
    return text.replace("T", " ")[:16] if kind == "text" else text


def _format_other(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_num(value, digits=4)
    return "—" if value is None else str(value)


def _metrics_section(metrics: Mapping[str, Any]) -> str:
    shown: set[str] = {"metrics_version"}
    tables = []
    for group, rows in _METRIC_GROUPS:
        body = []
        for key, label, kind, definition in rows:
            if key not in metrics:
                continue
            shown.add(key)
            value = metrics[key]
            css = sign_class(value) if kind == "spct" else ""
            body.append(
                f'<tr><td><abbr title="{esc(definition)}">{esc(label)}</abbr></td>'
                f'<td class="num {css}" data-metric="{esc(key)}">{esc(_format_metric(value, kind))}</td></tr>'
            )
        if body:
            tables.append(f"<div><h3>{esc(group)}</h3><table><tbody>{''.join(body)}</tbody></table></div>")
    extra = [key for key in metrics if key not in shown]
    if extra:
        body = [
            f'<tr><td>{esc(key)}</td><td class="num" data-metric="{esc(key)}">'
            f"{esc(_format_other(metrics[key]))}</td></tr>"
            for key in extra
        ]
        tables.append(f"<div><h3>Other</h3><table><tbody>{''.join(body)}</tbody></table></div>")
    return _panel(
        "Metrics",
        f'<div class="tables" id="metrics-table">{"".join(tables)}</div>',
        note="Computed on the cash-adjusted value; hover a name for its definition (docs/metrics.md has the formulas).",
    )


_AGENT_FIELDS = (
    ("runs", "Runs", "int"),
    ("cache_hits", "Cache hits", "int"),
    ("model_calls", "Model calls", "int"),
    ("input_tokens", "Input tokens", "int"),
    ("output_tokens", "Output tokens", "int"),
    ("cost_usd", "Cost (USD)", "usd"),
)


def _agent_value(value: Any, kind: str) -> str:
    if kind == "usd":
        return "—" if value is None else f"${fmt_num(value, digits=4)}"
    return fmt_int(value)


def _agents_section(summary: Mapping[str, Any]) -> str:
    runs, hits = summary.get("runs"), summary.get("cache_hits")
    hit_rate = (
        (float(hits) / float(runs))
        if isinstance(runs, (int, float)) and runs and isinstance(hits, (int, float))
        else None
    )
    cards = []
    for key, label, kind in _AGENT_FIELDS:
        hint = (
            f'<div class="hint">{fmt_pct(hit_rate, digits=1)} hit rate</div>'
            if key == "cache_hits" and hit_rate is not None
            else ""
        )
        cards.append(
            f'<div class="card"><div class="label">{esc(label)}</div>'
            f'<div class="value" data-agent="{esc(key)}">{esc(_agent_value(summary.get(key), kind))}</div>{hint}</div>'
        )
    parts = ['<div class="cards">' + "".join(cards) + "</div>"]

    warnings = summary.get("warnings") or {}
    if isinstance(warnings, Mapping) and warnings:
        rows = "".join(
            f'<tr><td>{esc(kind)}</td><td class="num">{esc(fmt_int(count))}</td></tr>'
            for kind, count in sorted(warnings.items(), key=lambda item: (-_as_float(item[1]), str(item[0])))
        )
        parts.append(
            f'<div><h3>Warnings by kind</h3><table id="agent-warnings" class="narrow"><thead><tr><th>Kind</th>'
            f'<th class="num">Count</th></tr></thead><tbody>{rows}</tbody></table></div>'
        )
    else:
        parts.append('<p><span class="badge ok">no warnings</span></p>')

    by_agent = summary.get("by_agent") or {}
    if isinstance(by_agent, Mapping) and by_agent:
        keys = [
            key for key, _, _ in _AGENT_FIELDS if any(isinstance(v, Mapping) and key in v for v in by_agent.values())
        ]
        head = "".join(f'<th class="num">{esc(label)}</th>' for key, label, _ in _AGENT_FIELDS if key in keys)
        rows = []
        for name in sorted(by_agent, key=str):
            values = by_agent[name] if isinstance(by_agent[name], Mapping) else {}
            cells = "".join(
                f'<td class="num">{esc(_agent_value(values.get(key), kind))}</td>'
                for key, _, kind in _AGENT_FIELDS
                if key in keys
            )
            rows.append(f"<tr><td>{esc(name)}</td>{cells}</tr>")
        parts.append(
            f'<div style="margin-top:14px"><h3>By agent</h3><div class="scroll"><table id="agent-breakdown">'
            f"<thead><tr><th>Agent</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></div>"
        )
    return f'<section class="panel" id="agents"><h2>Agents</h2>{"".join(parts)}</section>'


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
