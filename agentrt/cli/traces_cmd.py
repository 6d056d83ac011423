"""`agentrt traces list|show|warnings|query`: inspect the agent traces of backtest and live runs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

traces_app = typer.Typer(help="Inspect agent traces: what each agent saw, called, decided and cost.",
                         no_args_is_help=True)

_ROOT = typer.Option(Path("traces"), "--root", help="Folder holding run folders (default: ./traces).")


def _resolve(root: Path, run: str) -> Path:
    from agentrt.cli.main import _fail
    from agentrt.telemetry.inspect import RunNotFoundError, resolve_run

    try:
        return resolve_run(root, run)
    except RunNotFoundError as exc:
        _fail(str(exc))


@traces_app.command("list")
def list_cmd(run: str = typer.Argument(None, help="A run folder name, a path or 'latest'."), root: Path = _ROOT,
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List runs; with RUN, list that run's agent runs."""
    from rich.console import Console
    from rich.table import Table

    from agentrt.cli.main import _fail
    from agentrt.telemetry.inspect import RunNotFoundError, list_runs

    try:
        rows = list_runs(root, run)
    except RunNotFoundError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    console = Console()
    if not rows:
        console.print(f"no runs under {root}" if run is None else "no agent runs in that run")
        return
    if run is None:
        table = Table("run", "agent runs", "agents", "sim time", "cache hits", "warnings", "cost $")
        for r in rows:
            span = f"{(r['first_sim_time'] or '')[:10]} .. {(r['last_sim_time'] or '')[:10]}"
            table.add_row(r["run"], str(r["n_agent_runs"]), ", ".join(r["agents"]), span, str(r["cache_hits"]),
                          str(r["n_warnings"]), f"{r['cost_usd']:.4f}")
    else:
        table = Table("sim time", "agent", "model", "cache", "tools", "orders", "tokens", "warnings", "summary")
        for r in rows:
            table.add_row(str(r["sim_time"])[:19], str(r["agent"]), str(r["model"]),
                          "hit" if r.get("cache_hit") else "miss", ", ".join(r.get("tools_called") or []),
                          str(r.get("orders", 0)), f"{r.get('input_tokens', 0)}/{r.get('output_tokens', 0)}",
                          ", ".join(r.get("warnings") or []), str(r.get("summary") or "")[:60])
    console.print(table)


@traces_app.command("show")
def show(run: str = typer.Argument(..., help="A run folder name, a path or 'latest'."), root: Path = _ROOT,
         agent: str = typer.Option(None, help="Only this agent."),
         at: str = typer.Option(None, help="Only runs at this simulated date or datetime."),
         limit: int = typer.Option(20, help="At most this many agent runs."),
         max_chars: int = typer.Option(200, help="Truncate results to this many characters.")) -> None:
    """Timeline of agent runs: inputs, model and tool calls, decision, orders, warnings."""
    from agentrt.telemetry.inspect import render_run

    render_run(_resolve(root, run), agent=agent, at=at, limit=limit, max_chars=max_chars)


@traces_app.command("warnings")
def warnings(run: str = typer.Argument(..., help="A run folder name, a path or 'latest'."), root: Path = _ROOT) -> None:
    """Every warning of a run (look-ahead, tool errors, orders without evidence, ...)."""
    from agentrt.telemetry.inspect import render_warnings

    render_warnings(_resolve(root, run))


@traces_app.command("query")
def query(run: str = typer.Argument(..., help="A run folder name, a path or 'latest'."),
          sql: str = typer.Argument(..., help="SQL over the view `runs` (agent_runs.parquet)."),
          root: Path = _ROOT) -> None:
    """Query a run's agent_runs.parquet with DuckDB, e.g. "select agent, count(*) from runs group by 1"."""
    from agentrt.cli.main import _fail
    from agentrt.telemetry.runindex import RUN_INDEX_FILENAME, query_run_index

    path = _resolve(root, run) / RUN_INDEX_FILENAME
    if not path.exists():
        _fail(f"{path} does not exist: this run has no agent run index")
    try:
        rows = query_run_index(path, sql)
    except Exception as exc:  # noqa: BLE001 - duckdb parser/binder errors are user input errors
        _fail(f"query failed: {exc}")
    typer.echo(json.dumps(rows, indent=2, default=str))


def register(app: typer.Typer) -> None:
    app.add_typer(traces_app, name="traces")
