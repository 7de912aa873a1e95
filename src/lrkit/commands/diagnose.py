"""``lrkit diagnose LOG``: read a training log, classify the loss curve, say what to change.

Reads lrkit's CSV/JSONL logs, any CSV/JSONL/JSON with a step and a loss column, and
TensorBoard event files (a folder or one file). With ``--schedule CONFIG`` the LR at each
moment comes from that config's schedule when the log has no LR column, and the advice names
its warm-up. Exit codes: 0 healthy, 1 a problem was found, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from lrkit.commands.common import EXIT_FINDINGS, bad_input, out_console, reflow_help

__all__ = ["register", "diagnose_command"]

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_VERDICT_STYLE = {"healthy": "bold green", "diverging": "bold red", "spikes": "bold red"}


def diagnose_command(
    log: Annotated[str, typer.Argument(help="Training log: CSV, JSONL, JSON (trainer_state.json) or a TensorBoard folder/event file.")],
    schedule: Annotated[
        str | None, typer.Option("--schedule", "-s", help="The run's schedule config (any supported format).")
    ] = None,
    total_steps: Annotated[
        int | None, typer.Option("--total-steps", "-n", min=1, help="Run length for the schedule config.")
    ] = None,
    step_col: Annotated[str | None, typer.Option("--step-col", help="Column holding the optimizer step.")] = None,
    loss_col: Annotated[str | None, typer.Option("--loss-col", help="Column holding the training loss.")] = None,
    lr_col: Annotated[str | None, typer.Option("--lr-col", help="Column holding the learning rate.")] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="csv, tsv, jsonl, json or tensorboard (default: from the name).")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also write loss and LR over steps, findings marked, to this image.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")] = False,
) -> None:
    """Classify a training run's loss curve (healthy, diverging, spikes, oscillating, plateau,
    slow) with the evidence and concrete advice for the LR schedule.

    Exit code 0 when healthy, 1 when a problem was found, 2 when the log or config cannot be read.

    Example:

        lrkit diagnose runs/exp1/lrkit.csv --schedule configs/run.yaml
    """
    from lrkit.diagnosis import diagnose
    from lrkit.monitor.readers import read_log

    with bad_input():
        run = read_log(log, step_col=step_col, loss_col=loss_col, lr_col=lr_col, format=log_format)
    cfg = None
    if schedule is not None:
        from lrkit.commands.common import read_config

        with bad_input(schedule):
            cfg = read_config(schedule, total_steps=total_steps)
    with bad_input(log):
        steps, losses, lrs = run.loss_curve()
        result = diagnose(steps, losses, lrs, schedule=cfg)
    if plot is not None:
        from lrkit.monitor.plots import plot_lr_and_loss

        marks = [(_mark_step(f.evidence), f.rule) for f in result.findings if f.severity != "info"]
        with bad_input(str(plot)):
            plot_lr_and_loss(run, plot, marks=[(s, r) for s, r in marks if s is not None],
                             title=f"{Path(log).name}: {result.verdict}")
    if as_json:
        payload: dict[str, Any] = {
            "log": log,
            "schedule": schedule,
            "columns": {"step": run.step_col, "loss": run.loss_col, "lr": run.lr_col},
            "notes": list(run.notes),
            **result.to_dict(),
        }
        typer.echo(json.dumps(_plain(payload), indent=2, allow_nan=False))
    else:
        _print(log, run, result, schedule)
    if not result.healthy:
        raise typer.Exit(EXIT_FINDINGS)


def _plain(obj: Any) -> Any:
    """JSON-safe: NaN/inf become null (strict JSON has no NaN), numpy scalars plain numbers."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _mark_step(ev: dict[str, Any]) -> int | None:
    for key in ("onset_step", "peak_step", "start_step"):
        if ev.get(key) is not None:
            return int(ev[key])
    return None


def _print(log: str, run: Any, result: Any, schedule: str | None) -> None:
    from lrkit.diagnosis import fmt_lr, fmt_step

    out = out_console()
    s = result.summary
    head = (
        f"{log}: {s['points']:,} points, steps {fmt_step(s['first_step'])}-{fmt_step(s['last_step'])}, "
        f"loss {s['first_loss']:.4g} -> {s['last_loss']:.4g}"
    )
    if "best_loss" in s:
        head += f" (best {s['best_loss']:.4g})"
    out.print(Text(head, style="bold"))
    lr_src = (
        f"LR from column {run.lr_col!r}"
        if run.lr_col
        else (f"LR from {schedule}" if schedule else "LR unknown (no LR column; pass --schedule CONFIG)")
    )
    extra = f", warm-up {fmt_step(s['warmup_steps'])} steps" if s.get("warmup_steps") else ""
    peak = f", peak {fmt_lr(s['lr_peak'])}" if s.get("lr_peak") else ""
    out.print(Text(f"{lr_src}{peak}{extra}; schedule looks {s['schedule_kind']}", style="dim"))
    for note in run.notes:
        out.print(Text(f"note: {note}", style="dim"))
    out.print(Text.assemble(("verdict: ", "bold"), (result.verdict, _VERDICT_STYLE.get(result.verdict, "bold yellow"))))
    for f in result.findings:
        line = Text()
        line.append(f"  {f.severity:<7} ", style=_STYLE[f.severity])
        line.append(f"{f.rule}: ", style="bold")
        line.append(f.message)
        out.print(line)
        if f.fix:
            out.print(Text(f"          fix: {f.fix}"))
    if result.suggested_lr is not None:
        out.print(Text(f"suggested peak LR: {fmt_lr(result.suggested_lr)}", style="bold"))


def register(app: typer.Typer) -> None:
    """Add ``diagnose`` to the ``lrkit`` app."""
    app.command("diagnose", help=reflow_help(diagnose_command))(diagnose_command)
