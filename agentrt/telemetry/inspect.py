"""Trace inspection behind ``agentrt traces list/show/warnings``: find runs, select traces, render them with rich.

A *run* is an output folder (under a traces root such as ``traces/``) that holds an
``agent_runs.parquet`` run index and/or ``traces/*.json`` trace files. Functions here
return plain data (for ``--json`` output and tests) or print to a ``rich`` console that
the caller passes in (``Console(file=io.StringIO())`` captures the text). rich is
imported inside the render functions.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentrt.telemetry.runindex import RUN_INDEX_FILENAME, read_run_index, row_from_trace
from agentrt.telemetry.traces import _safe_agent, read_trace
from agentrt.telemetry.warnings import severity_of

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "RunNotFoundError",
    "collect_warnings",
    "list_runs",
    "render_run",
    "render_warnings",
    "resolve_run",
    "select_traces",
]

_MAX_DEPTH = 3
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "note": "dim yellow"}


class RunNotFoundError(LookupError):
    """No run folder matches the requested name."""


# --------------------------------------------------------------------------- finding runs


def _trace_files(run_dir: Path) -> list[Path]:
    folder = run_dir / "traces"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))


def _is_run_dir(path: Path) -> bool:
    if (path / RUN_INDEX_FILENAME).is_file():
        return True
    folder = path / "traces"
    return folder.is_dir() and any(not p.name.startswith(".") for p in folder.glob("*.json"))


def _find_run_dirs(root: Path) -> list[Path]:
    found: list[Path] = []
    frontier = [(root, 0)]
    while frontier:
        folder, depth = frontier.pop()
        if _is_run_dir(folder):
            found.append(folder)
            continue  # a run's own sub-folders (traces/) are not runs
        if depth >= _MAX_DEPTH:
            continue
        try:
            children = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            continue
        frontier.extend((child, depth + 1) for child in children)
    return sorted(found)


def _run_name(run_dir: Path, root: Path) -> str:
    try:
        rel = run_dir.relative_to(root).as_posix()
    except ValueError:
        return run_dir.as_posix()
    return rel or "."


def resolve_run(traces_root: Path, run: str) -> Path:
    """Return the folder of run ``run``: a name relative to ``traces_root``, a path, or ``latest``.

    Raises ``RunNotFoundError`` naming the closest run names when nothing matches.
    """
    root = Path(traces_root)
    runs = _find_run_dirs(root) if root.is_dir() else []
    if run == "latest":
        if not runs:
            raise RunNotFoundError(f"no runs under {root}; run a backtest first (its output folder holds the traces)")
        return max(runs, key=lambda p: (_mtime(p), p.as_posix()))
    for candidate in (root / run, Path(run)):
        if candidate.is_dir() and _is_run_dir(candidate):
            return candidate
    names = [_run_name(p, root) for p in runs]
    close = difflib.get_close_matches(run, names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    available = f" Available runs: {', '.join(names[:10])}{' …' if len(names) > 10 else ''}." if names else ""
    raise RunNotFoundError(
        f"no run {run!r} under {root} (a run folder holds {RUN_INDEX_FILENAME} or traces/*.json).{hint}{available}"
    )


def _mtime(path: Path) -> float:
    stamps = [path.stat().st_mtime]
    index = path / RUN_INDEX_FILENAME
    if index.exists():
        stamps.append(index.stat().st_mtime)
    return max(stamps)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (_dt.datetime, _dt.date)) else str(value)


def _agent_rows(run_dir: Path) -> list[dict[str, Any]]:
    index = run_dir / RUN_INDEX_FILENAME
    if index.is_file():
        rows = read_run_index(index)
    else:
        rows = [row_from_trace(read_trace(p), trace_path=p.relative_to(run_dir)) for p in _trace_files(run_dir)]
    for row in rows:
        row["sim_time"] = _iso(row["sim_time"])
    return rows


def list_runs(traces_root: Path, run: str | None = None) -> list[dict[str, Any]]:
    """List runs under ``traces_root``, or with ``run`` given, that run's agent runs.

    Without ``run``: one dict per run folder, sorted by name, with ``run``, ``path``,
    ``n_agent_runs``, ``agents``, ``first_sim_time``, ``last_sim_time``, ``cache_hits``,
    ``n_warnings`` and ``cost_usd``. With ``run`` (a name, a path or ``latest``): one
    dict per agent run in ``RUN_INDEX_COLUMNS`` form (``sim_time`` as an ISO string),
    read from ``agent_runs.parquet`` or, failing that, from the trace files.
    """
    root = Path(traces_root)
    if run is not None:
        return _agent_rows(resolve_run(root, run))
    if not root.is_dir():
        return []
    out = []
    for run_dir in _find_run_dirs(root):
        rows = _agent_rows(run_dir)
        times = sorted(row["sim_time"] for row in rows)
        out.append(
            {
                "run": _run_name(run_dir, root),
                "path": run_dir.as_posix(),
                "n_agent_runs": len(rows),
                "agents": sorted({str(row["agent"]) for row in rows}),
                "first_sim_time": times[0] if times else None,
                "last_sim_time": times[-1] if times else None,
                "cache_hits": sum(1 for row in rows if row.get("cache_hit")),
                "n_warnings": sum(int(row.get("n_warnings") or 0) for row in rows),
                "cost_usd": round(sum(float(row.get("cost_usd") or 0.0) for row in rows), 6),
            }
        )
    return out


# --------------------------------------------------------------------------- selecting traces


def _split_trace_name(path: Path) -> tuple[str, str, str] | None:
    stem = path.stem
    first, sep, rest = stem.partition("_")
    agent, sep2, run_id = rest.rpartition("_")
    if not sep or not sep2 or len(first) != 15:
        return None
    return first, agent, run_id


def _parse_at(at: str) -> _dt.date | _dt.datetime:
    text = at.strip()
    try:
        if len(text) in (8, 10) and "T" not in text and " " not in text:
            return _dt.date.fromisoformat(text)
        return _dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"at={at!r} is not a date or date-time; use e.g. 2021-03-05 or 2021-03-05T16:00 (simulated time)"
        ) from exc


def select_traces(
    run_dir: Path, *, agent: str | None = None, at: str | None = None
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Yield ``(path, trace)`` for the run's traces in simulated-time order, filtered by agent and time.

    ``at`` is a date (every run on that simulated date, in the simulated time zone) or a
    date-time (runs at exactly that simulated time; a naive value is read in the trace's
    own time zone). File names are used to filter before any file is opened.
    """
    when = _parse_at(at) if at is not None else None
    file_agent_wanted = _safe_agent(agent) if agent is not None else None
    for path in _trace_files(Path(run_dir)):
        parts = _split_trace_name(path)
        if parts is not None:
            compact, file_agent, _run_id = parts
            if file_agent_wanted is not None and file_agent != file_agent_wanted:
                continue
            if isinstance(when, _dt.datetime):
                if when.tzinfo is None and compact != when.strftime("%Y%m%dT%H%M%S"):
                    continue
            elif when is not None and compact[:8] != when.strftime("%Y%m%d"):
                continue
        trace = read_trace(path)
        if agent is not None and trace.get("agent") != agent:
            continue
        if when is not None and not _matches_at(trace, when):
            continue
        yield path, trace


def _matches_at(trace: Mapping[str, Any], when: _dt.date | _dt.datetime) -> bool:
    try:
        sim_time = _dt.datetime.fromisoformat(str(trace.get("sim_time")))
    except ValueError:
        return False
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            return sim_time.replace(tzinfo=None) == when
        return sim_time == when
    return sim_time.date() == when


# --------------------------------------------------------------------------- rendering


def _short(value: Any, max_chars: int) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
        except (TypeError, ValueError):
            text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _arguments(arguments: Any, max_chars: int) -> str:
    if isinstance(arguments, Mapping):
        inner = ", ".join(
            f"{key}={_short(json.dumps(value, ensure_ascii=False) if isinstance(value, str) else value, 60)}"
            for key, value in arguments.items()
        )
    elif arguments in (None, "", [], {}):
        inner = ""
    else:
        inner = _short(arguments, max_chars)
    return inner if len(inner) <= max_chars else inner[: max_chars - 1] + "…"


def _warning_line(warning: Mapping[str, Any]) -> str:
    from rich.markup import escape

    code = str(warning.get("code", ""))
    style = _SEVERITY_STYLE.get(severity_of(code), "yellow")
    return f"[{style}]⚠ {escape(code)}[/]: [{style}]{escape(str(warning.get('message', '')))}[/]"


def _cache_label(hit: Any) -> str:
    return "[green]cache hit[/]" if hit else "[dim]cache miss[/]"


def _trace_tree(trace: Mapping[str, Any], max_chars: int) -> Any:
    from rich.markup import escape
    from rich.tree import Tree

    usage = trace.get("usage") or {}
    cache = trace.get("cache") or {}
    header = (
        f"[bold]{escape(str(trace.get('sim_time')))}[/]  agent [bold cyan]{escape(str(trace.get('agent')))}[/]"
        f"  model [magenta]{escape(str(trace.get('model')))}[/]  {_cache_label(cache.get('hit'))}"
        f"  {float(trace.get('wall_time_ms') or 0):.0f} ms  ${float(trace.get('cost_usd') or 0):.4f}"
        f"  tokens {int(usage.get('input_tokens') or 0)}→{int(usage.get('output_tokens') or 0)}"
    )
    tree = Tree(header)
    inputs = trace.get("inputs") or {}
    if inputs.get("task"):
        tree.add(f"[dim]task:[/] {escape(_short(inputs['task'], max_chars))}")
    if inputs.get("context"):
        tree.add(f"[dim]context:[/] {escape(_short(inputs['context'], max_chars))}")

    steps: list[tuple[int, int, str, Mapping[str, Any]]] = []
    for order, call in enumerate(trace.get("model_calls") or []):
        steps.append((int(call.get("index", order)), 0, "model", call))
    for order, call in enumerate(trace.get("tool_calls") or []):
        steps.append((int(call.get("index", order)), 1, "tool", call))
    for index, _kind_order, kind, call in sorted(steps, key=lambda s: (s[0], s[1])):
        if kind == "model":
            node = tree.add(
                f"[blue]model call #{index}[/]  {int(call.get('input_tokens') or 0)}→"
                f"{int(call.get('output_tokens') or 0)} tokens  {float(call.get('latency_ms') or 0):.0f} ms"
                + ("  [green](cached)[/]" if call.get("cache_hit") else "")
            )
            if call.get("response") not in (None, "", {}, []):
                node.add(f"[dim]→[/] {escape(_short(call['response'], max_chars))}")
        else:
            name = escape(str(call.get("name")))
            node = tree.add(
                f"[bold green]tool #{index} {name}[/]({escape(_arguments(call.get('arguments'), max_chars))})"
                f"  {float(call.get('duration_ms') or 0):.0f} ms"
                + (f"  [dim]{escape(str(call.get('kind')))}[/]" if call.get("kind") else "")
                + ("  [green](cached)[/]" if call.get("cache_hit") else "")
            )
            if call.get("error"):
                node.add(f"[bold red]error:[/] [red]{escape(_short(call['error'], max_chars))}[/]")
            else:
                node.add(f"[dim]→[/] {escape(_short(call.get('result'), max_chars))}")
            for warning in call.get("warnings") or []:
                if isinstance(warning, Mapping):
                    node.add(_warning_line(warning))
                else:
                    node.add(_warning_line({"code": str(warning), "message": ""}))

    decision = trace.get("decision") or {}
    if decision.get("summary") or decision.get("text"):
        tree.add(f"[bold]decision:[/] {escape(_short(decision.get('summary') or decision.get('text'), max_chars))}")
    orders = trace.get("orders") or []
    if orders:
        node = tree.add(f"[bold]orders ({len(orders)})[/]")
        for order in orders:
            node.add(escape(_short(order, max_chars)))
    warnings = trace.get("warnings") or []
    if warnings:
        node = tree.add(f"[bold red]warnings ({len(warnings)})[/]")
        for warning in warnings:
            node.add(_warning_line(warning if isinstance(warning, Mapping) else {"code": str(warning)}))
    return tree


def _console(console: Console | None) -> Console:
    if console is not None:
        return console
    from rich.console import Console as RichConsole

    return RichConsole()


def render_run(
    run_dir: Path,
    *,
    agent: str | None = None,
    at: str | None = None,
    console: Console | None = None,
    limit: int | None = 20,
    max_chars: int = 200,
) -> int:
    """Print a timeline of agent runs in ``run_dir`` and return how many were shown.

    Each run shows simulated time, agent, model, cache hit, latency, cost, tokens, the
    task, every model call and tool call in step order (arguments and truncated result or
    error), the decision, the orders and the warnings (errors red, warnings yellow).
    Filter with ``agent`` and ``at`` (see :func:`select_traces`); at most ``limit`` runs
    are printed (None for all). Prints a hint and returns 0 when nothing matches.
    """
    out = _console(console)
    run_dir = Path(run_dir)
    shown = 0
    skipped = 0
    for _path, trace in select_traces(run_dir, agent=agent, at=at):
        if limit is not None and shown >= limit:
            skipped += 1
            continue
        out.print(_trace_tree(trace, max_chars))
        shown += 1
    if skipped:
        out.print(f"[dim]… {skipped} more agent run(s) not shown; narrow with agent=/at= or raise the limit[/]")
    if shown == 0:
        from rich.markup import escape

        dates = sorted({p.name[:8] for p in _trace_files(run_dir)})
        filters = ", ".join(f"{k}={v}" for k, v in (("agent", agent), ("at", at)) if v is not None)
        hint = ""
        if dates:
            sample = [f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in dates[:5]]
            hint = f"; simulated dates with traces: {', '.join(sample)}{' …' if len(dates) > 5 else ''}"
        matching = f" match {escape(filters)}" if filters else ""
        out.print(f"[yellow]no agent run traces in {escape(str(run_dir))}{matching}{escape(hint)}[/]")
    return shown


def collect_warnings(run_dir: Path) -> list[dict[str, Any]]:
    """Return every warning of a run, one dict each, in simulated-time order.

    Keys: ``sim_time, agent, run_id, code, severity, message, details, trace_path``. Read
    from the trace files (top-level ``warnings``, which include tool-call warnings); when a
    run has no trace files, from the run index (codes only, empty messages).
    """
    run_dir = Path(run_dir)
    out: list[dict[str, Any]] = []
    files = _trace_files(run_dir)
    if files:
        for path in files:
            trace = read_trace(path)
            for warning in trace.get("warnings") or []:
                code = str(warning.get("code", ""))
                out.append(
                    {
                        "sim_time": str(trace.get("sim_time")),
                        "agent": str(trace.get("agent")),
                        "run_id": str(trace.get("run_id")),
                        "code": code,
                        "severity": severity_of(code),
                        "message": str(warning.get("message", "")),
                        "details": dict(warning.get("details") or {}),
                        "trace_path": path.relative_to(run_dir).as_posix(),
                    }
                )
        return out
    if (run_dir / RUN_INDEX_FILENAME).is_file():
        for row in _agent_rows(run_dir):
            for code in row.get("warnings") or []:
                out.append(
                    {
                        "sim_time": row["sim_time"],
                        "agent": row["agent"],
                        "run_id": "",
                        "code": code,
                        "severity": severity_of(code),
                        "message": "",
                        "details": {},
                        "trace_path": row.get("trace_path", ""),
                    }
                )
    return out


def render_warnings(run_dir: Path, console: Console | None = None) -> int:
    """Print a table of a run's warnings and a count per code; return the number of warnings."""
    from rich.markup import escape
    from rich.table import Table

    out = _console(console)
    warnings = collect_warnings(run_dir)
    if not warnings:
        out.print(f"[green]no warnings in {escape(str(run_dir))}[/]")
        return 0
    table = Table(title=f"warnings in {escape(str(run_dir))}", show_lines=False)
    table.add_column("sim time", no_wrap=True)
    table.add_column("agent")
    table.add_column("code", no_wrap=True)
    table.add_column("message")
    for warning in warnings:
        style = _SEVERITY_STYLE.get(warning["severity"], "yellow")
        table.add_row(
            escape(warning["sim_time"]),
            escape(warning["agent"]),
            f"[{style}]{escape(warning['code'])}[/]",
            f"[{style}]{escape(warning['message'])}[/]",
        )
    out.print(table)
    counts = Counter(w["code"] for w in warnings)
    summary = ", ".join(
        f"[{_SEVERITY_STYLE.get(severity_of(code), 'yellow')}]{escape(code)}[/] × {n}"
        for code, n in counts.most_common()
    )
    out.print(f"{len(warnings)} warning(s): {summary}")
    return len(warnings)
