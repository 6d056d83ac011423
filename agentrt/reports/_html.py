"""Shared shell of the report pages: CSS, the single plotly.js embed, figure divs and formatting.

Pages are self-contained: plotly.js is inlined once in ``<head>``, every figure is a
``<div>`` with a fixed id plus a small ``Plotly.newPlot`` script, and nothing is loaded
from the network (no CDN, no web fonts). Output is deterministic for the same inputs.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

REPORT_FORMAT_VERSION = 1
"""Written into each page as ``<meta name="agentrt-report" content="<kind>/<version>">``."""

PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

COLORS = {
    "strategy": "#2563eb",
    "raw": "#94a3b8",
    "benchmark": "#f59e0b",
    "drawdown": "#dc2626",
    "buy": "#16a34a",
    "sell": "#dc2626",
    "muted": "#6b7280",
    "cash": "#0d9488",
}

FONT_STACK = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

CSS = """
:root { --bg:#f5f7fb; --panel:#ffffff; --ink:#0f172a; --muted:#64748b; --line:#e2e8f0;
        --pos:#15803d; --neg:#b91c1c; --accent:#2563eb; }
* { box-sizing: border-box; }
html, body { margin:0; padding:0; background:var(--bg); color:var(--ink);
        font-family: __FONT__; font-size:14px; line-height:1.45; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 48px; }
header.page { display:flex; flex-wrap:wrap; align-items:baseline; justify-content:space-between;
        gap:8px 24px; border-bottom:1px solid var(--line); padding-bottom:14px; margin-bottom:18px; }
header.page h1 { font-size:24px; margin:0; font-weight:650; letter-spacing:-0.01em; }
header.page .sub { color:var(--muted); margin:0; }
h2 { font-size:16px; margin:0 0 10px; font-weight:600; }
h3 { font-size:13px; margin:0 0 8px; font-weight:600; color:var(--muted);
        text-transform:uppercase; letter-spacing:0.04em; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:10px;
        padding:16px 18px 10px; margin-bottom:18px; box-shadow:0 1px 2px rgba(15,23,42,0.04); }
.panel .note { color:var(--muted); font-size:12.5px; margin:-4px 0 8px; }
.grid2 { display:grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap:18px; }
@media (max-width: 980px) { .grid2 { grid-template-columns: minmax(0, 1fr); } }
.grid2 > .panel { margin-bottom:0; min-width:0; }
.grid2 + .panel, .grid2 + .grid2 { margin-top:18px; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap:12px;
        margin-bottom:18px; }
.card { background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.card .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:0.04em; }
.card .value { font-size:22px; font-weight:650; margin-top:2px; font-variant-numeric: tabular-nums; }
.card .hint { color:var(--muted); font-size:12px; }
.pos { color:var(--pos); } .neg { color:var(--neg); }
.tables { display:grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap:8px 24px; }
table { border-collapse:collapse; width:100%; font-variant-numeric: tabular-nums; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
td.num, th.num { text-align:right; white-space:nowrap; }
td:first-child { white-space:nowrap; }
table.narrow { width:auto; min-width:360px; }
thead th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase;
        letter-spacing:0.03em; border-bottom:1px solid #cbd5e1; }
tbody tr:hover { background:#f8fafc; }
abbr[title] { text-decoration:none; border-bottom:1px dotted #94a3b8; cursor:help; }
.scroll { max-height:420px; overflow:auto; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px;
        background:#fef3c7; color:#92400e; margin:0 6px 6px 0; }
.badge.ok { background:#dcfce7; color:#166534; }
footer { color:var(--muted); font-size:12px; margin-top:28px; text-align:center; }
.plot { width:100%; }
""".replace("__FONT__", FONT_STACK)


def plotly_js() -> str:
    """The full plotly.js bundle shipped with the installed plotly package (no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def page(*, title: str, kind: str, body: str) -> str:
    """A complete HTML document with the CSS and plotly.js embedded exactly once."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="agentrt">\n'
        f'<meta name="agentrt-report" content="{esc(kind)}/{REPORT_FORMAT_VERSION}">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n"
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>\n'
        f'<script type="text/javascript">{plotly_js()}</script>\n'
        "</head>\n<body>\n<main>\n"
        f"{body}\n"
        # Charts drawn while the page was still being parsed may have measured a
        # provisional width; fit them to their final containers once everything loaded.
        '<script type="text/javascript">window.addEventListener("load", function () {'
        ' document.querySelectorAll(".js-plotly-plot").forEach(function (d) { Plotly.Plots.resize(d); }); });'
        "</script>\n"
        "<footer>Generated by agentrt &middot; self-contained page, works offline &middot; "
        "charts are interactive (drag to zoom, double-click to reset, click legend items to toggle)</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def figure_div(fig: Any, div_id: str, *, height: int) -> str:
    """The figure as a fixed-id ``<div>`` plus its ``Plotly.newPlot`` call (no plotly.js)."""
    fig.update_layout(height=height)
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config=PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{height}px",
    )


def base_layout(**overrides: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "font": {"family": FONT_STACK, "size": 12, "color": "#0f172a"},
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.01, "xanchor": "left", "x": 0},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
    layout.update(overrides)
    return layout


def write_page(path: str | Path, document: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(document, encoding="utf-8", newline="\n")
    return target


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def hover_esc(value: object) -> str:
    """Escape text for plotly hover labels, which decode only a few named entities."""
    return html.escape("" if value is None else str(value), quote=False).replace('"', "&#34;").replace("'", "&#39;")


def slug(value: object, *, used: set[str] | None = None, prefix: str = "") -> str:
    """A stable, unique HTML id from a name (``used`` collects ids already taken)."""
    base = prefix + (re.sub(r"[^A-Za-z0-9_-]+", "-", str(value)).strip("-").lower() or "x")
    candidate, number = base, 2
    while used is not None and candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    if used is not None:
        used.add(candidate)
    return candidate


def is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def local_times(values: Any, tz: str | None) -> pd.DatetimeIndex:
    """Datetimes as naive wall-clock times in ``tz`` (plotly.js ignores UTC offsets)."""
    from agentrt.reports.metrics import DEFAULT_TZ, to_datetimes

    times = to_datetimes(values, tz or DEFAULT_TZ)
    if times.tz is not None:
        if tz is not None:
            times = times.tz_convert(tz)
        times = times.tz_localize(None)
    return times


def fmt_pct(value: object, *, signed: bool = False, digits: int = 2) -> str:
    if not _finite(value):
        return "—"
    return f"{float(value) * 100:+,.{digits}f}%" if signed else f"{float(value) * 100:,.{digits}f}%"


def fmt_num(value: object, *, digits: int = 2) -> str:
    if not _finite(value):
        return "—"
    return f"{float(value):,.{digits}f}"


def fmt_int(value: object) -> str:
    if not _finite(value):
        return "—"
    return f"{round(float(value)):,d}"


def sign_class(value: object) -> str:
    if not _finite(value) or float(value) == 0:
        return ""
    return "pos" if float(value) > 0 else "neg"


def _finite(value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
