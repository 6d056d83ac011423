"""The end-of-backtest summary: metrics table, agent/replay figures and the output folder."""

from __future__ import annotations

_PERCENT = {"total_return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure_time", "alpha",
            "benchmark_return"}
_ROWS = ("total_return", "cagr", "volatility", "sharpe", "sortino", "calmar", "max_drawdown",
         "max_drawdown_duration_days", "win_rate", "profit_factor", "avg_win", "avg_loss", "num_trades",
         "exposure_time", "benchmark_return", "alpha", "beta", "final_value")


def format_metric(key: str, value) -> str:
    if value is None:
        return "—"
    if key in _PERCENT:
        return f"{value:.2%}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def print_summary(result, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"{result.strategy}: {result.settings.get('start')} → {result.settings.get('end')}",
                  show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in _ROWS:
        if key in result.stats:
            table.add_row(key.replace("_", " "), format_metric(key, result.stats[key]))
    table.add_row("iterations", f"{result.iterations:,}")
    rate = result.iterations / result.loop_seconds if result.loop_seconds else 0
    table.add_row("loop speed", f"{rate:,.0f} bars/s")
    console.print(table)
    agents = result.agent_summary
    if agents and agents.get("runs"):
        replay = agents.get("replay") or {}
        at = Table(title="agents", show_header=True, header_style="bold")
        for col in ("runs", "cache hits", "misses", "model calls", "tool calls", "tokens in/out", "cost $", "warnings"):
            at.add_column(col, justify="right")
        warnings = agents.get("warnings") or {}
        at.add_row(str(agents.get("runs", 0)), str(replay.get("hits", 0)), str(replay.get("misses", 0)),
                   str(agents.get("model_calls", 0)), str(agents.get("tool_calls", 0)),
                   f"{agents.get('input_tokens', 0):,}/{agents.get('output_tokens', 0):,}",
                   f"{agents.get('cost_usd', 0.0):.4f}",
                   ", ".join(f"{k}={v}" for k, v in sorted(warnings.items())) or "none")
        console.print(at)
        if replay:
            console.print(f"replay cache ({agents.get('replay_mode')}): {replay.get('hits', 0)} hits, "
                          f"{replay.get('misses', 0)} misses; model calls {replay.get('model_calls_made', 0)} made, "
                          f"{replay.get('model_calls_reused', 0)} reused; saved {replay.get('tokens_saved', 0):,} "
                          f"tokens, ${replay.get('cost_saved_usd', 0.0):.4f}", highlight=False)
            for reason, count in (replay.get("misses_by_reason") or {}).items():
                console.print(f"  [yellow]miss[/] {reason}: {count}", highlight=False)
        offline = [m for m in agents.get("models", []) if _is_offline(m)]
        if offline:
            console.print(f"[bold yellow]note:[/] agents ran on offline model(s) {', '.join(offline)} "
                          "(no LLM was called); pass --model to use a real one", highlight=False)
    if result.output_dir is not None:
        console.print(f"output: [bold]{result.output_dir}[/]")


def _is_offline(model: str) -> bool:
    return model.startswith(("FunctionModel", "ScriptedModel", "function", "scripted"))
