"""`agentrt cache stats|verify|merge|clear`: inspect and maintain the replay cache."""

from __future__ import annotations

from pathlib import Path

import typer

cache_app = typer.Typer(help="Inspect and maintain the replay cache (one SQLite file per cache folder).",
                        no_args_is_help=True)

_DIR = typer.Option(None, "--cache-dir", help="Cache folder (default: AGENTRT_CACHE_DIR or ~/.cache/agentrt).")


def _open(cache_dir: Path | None):
    from agentrt.cli.main import _fail
    from agentrt.replay.store import ReplayStore, ReplayStoreError

    try:
        return ReplayStore(cache_dir)
    except ReplayStoreError as exc:
        _fail(str(exc))


@cache_app.command("stats")
def stats(cache_dir: Path = _DIR, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Entries by agent and by model/tool, size on disk, oldest and newest."""
    import json

    from rich.console import Console
    from rich.table import Table

    with _open(cache_dir) as store:
        info = store.stats()
    if as_json:
        typer.echo(json.dumps(info, indent=2, sort_keys=True, default=str))
        return
    console = Console()
    console.print(f"cache: [bold]{info['path']}[/]  ({info['size_bytes']:,} bytes, schema v{info['schema_version']})")
    runs, calls = info["runs"], info["calls"]
    table = Table("agent", "runs", title=f"agent runs: {runs['total']:,}")
    for agent, count in sorted(runs["by_agent"].items()):
        table.add_row(agent, f"{count:,}")
    console.print(table)
    ctable = Table("kind", "calls", title=f"model and tool calls: {calls['total']:,}")
    for kind, count in sorted(calls["by_kind"].items()):
        ctable.add_row(kind, f"{count:,}")
    console.print(ctable)
    console.print(f"runs recorded {runs['oldest'] or '-'} .. {runs['newest'] or '-'}; "
                  f"probes (warm-rerun index): {runs.get('probes', 0):,}; quarantined rows: {info['quarantined']}")


@cache_app.command("verify")
def verify(cache_dir: Path = _DIR,
           no_quarantine: bool = typer.Option(False, "--no-quarantine", help="Report only; move nothing.")) -> None:
    """Recompute every hash; report corrupt rows and move them to the quarantine table."""
    with _open(cache_dir) as store:
        report = store.verify(quarantine=not no_quarantine)
    typer.echo(f"checked {report.checked_runs:,} runs, {report.checked_calls:,} calls and "
               f"{report.checked_probes:,} probes in {report.path}")
    typer.echo(f"sqlite integrity: {report.integrity}")
    for problem in report.problems:
        typer.echo(f"  corrupt {problem.table} row {problem.key}: {problem.reason}")
    if report.problems:
        typer.echo(f"{len(report.problems)} corrupt row(s); {report.quarantined} moved to quarantine")
        raise typer.Exit(1)
    typer.echo("ok: every key and value hash verified")


@cache_app.command("merge")
def merge(other: Path = typer.Argument(..., help="Another replay.sqlite (or the folder holding it)."),
          cache_dir: Path = _DIR) -> None:
    """Copy the entries of another cache that this one lacks (content-addressed union)."""
    from agentrt.cli.main import _fail
    from agentrt.replay.store import ReplayStoreError

    with _open(cache_dir) as store:
        try:
            report = store.merge(other)
        except ReplayStoreError as exc:
            _fail(str(exc))
    typer.echo(f"merged {report.source}: {report.runs_added:,} runs and {report.calls_added:,} calls added, "
               f"{report.runs_identical + report.calls_identical:,} already present; "
               f"{report.probes_added:,} probes indexed")
    for conflict in report.conflicts:
        typer.echo(f"  conflict in {conflict.table} {conflict.key}: kept the local value")
    for problem in report.invalid:
        typer.echo(f"  skipped corrupt {problem.table} row {problem.key}: {problem.reason}")


@cache_app.command("clear")
def clear(cache_dir: Path = _DIR,
          agent: str = typer.Option(None, help="Only this agent's runs."),
          before: str = typer.Option(None, help="Only entries with a simulated time before this date."),
          yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete cached entries (all, one agent's, or those before a simulated date)."""
    what = "every cached run and call" if not (agent or before) else "matching entries"
    if not yes and not typer.confirm(f"delete {what}?", default=False):
        raise typer.Exit(1)
    with _open(cache_dir) as store:
        removed = store.clear(agent=agent, before=before)
    typer.echo(f"deleted {removed:,} entries")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
