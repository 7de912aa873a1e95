"""``lrkit diagnose LOG``: read a training log, classify the loss curve, say what to change.

Reads lrkit's CSV/JSONL logs, any CSV/JSONL/JSON with a step and a loss column, and
TensorBoard event files (a folder or one file). With ``--schedule CONFIG`` the LR at each
moment comes from that config's schedule when the log has no LR column, and the advice names
its warm-up. ``-`` reads the log from standard input. Exit codes: 0 healthy or converged, 1 a
problem was found, 2 bad input (one line on stderr; a JSON object on stdout with ``--json``).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from lrkit.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, bad_input, out_console, reflow_help
from lrkit.errors import ConfigError

__all__ = ["diagnose_command", "register"]

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_VERDICT_STYLE = {
    "healthy": "bold green",
    "converged": "bold green",
    "diverging": "bold red",
    "stuck": "bold red",
    "spikes": "bold red",
}


def diagnose_command(
    log: Annotated[
        str,
        typer.Argument(
            help="Training log: CSV, JSONL, JSON (trainer_state.json) or a TensorBoard folder/event file; - reads "
            "standard input."
        ),
    ],
    schedule: Annotated[
        str | None, typer.Option("--schedule", "-s", help="The run's schedule config (any supported format).")
    ] = None,
    total_steps: Annotated[
        int | None, typer.Option("--total-steps", "-n", min=1, help="Run length for the schedule config.")
    ] = None,
    step_col: Annotated[str | None, typer.Option("--step-col", help="Column holding the optimizer step.")] = None,
    loss_col: Annotated[str | None, typer.Option("--loss-col", help="Column holding the training loss.")] = None,
    lr_col: Annotated[str | None, typer.Option("--lr-col", help="Column holding the learning rate.")] = None,
    eval_col: Annotated[
        str | None, typer.Option("--eval-col", help="Column holding the evaluation (validation) loss.")
    ] = None,
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="csv, tsv, jsonl, json or tensorboard (default: from the name).")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Also draw loss (trend, eval loss) and LR over steps, findings marked, to this image."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")] = False,
) -> None:
    """Classify a training run's loss curve (healthy, converged, diverging, stuck, overfitting,
    spikes, oscillating, schedule, plateau, slow) with the evidence and concrete advice for the
    LR schedule.

    Exit code 0 when healthy or converged, 1 when a problem was found, 2 when the log or config
    cannot be read (with --json, the error is a JSON object on standard output).

    Example:

        lrkit diagnose runs/exp1/lrkit.csv --schedule configs/run.yaml
    """
    from lrkit.diagnosis import diagnose_log
    from lrkit.monitor.readers import read_log

    guard = _json_errors if as_json else bad_input
    with guard():
        run = read_log(log, step_col=step_col, loss_col=loss_col, lr_col=lr_col, eval_col=eval_col, format=log_format)
    cfg = None if schedule is None else _read_schedule(log, schedule, total_steps, guard)
    with guard(log):
        result = diagnose_log(run, schedule=cfg)
    image: Path | None = None
    if plot is not None:
        with guard(str(plot)):
            image = _plot(log, run, cfg, result, plot)
    if as_json:
        payload: dict[str, Any] = {
            "log": log,
            "schedule": schedule,
            "plot": str(image) if image is not None else None,
            "columns": result.summary.get("columns"),
            "notes": result.summary.get("notes", list(run.notes)),
            **result.to_dict(),
        }
        typer.echo(json.dumps(_plain(payload), indent=2, allow_nan=False))
    else:
        _print(log, run, result, schedule)
        if image is not None:
            out_console().print(Text(f"plot written to {image}", style="dim"))
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _read_schedule(log: str, schedule: str, total_steps: int | None, guard: Any) -> Any:
    """The run's config (``--schedule``), read under the command's error guard."""
    from lrkit.commands.common import read_config

    with guard(schedule):
        if log == "-" and schedule == "-":
            raise ConfigError(
                "the log and the schedule cannot both come from standard input.",
                field="schedule",
                fix="give the schedule config as a file.",
            )
        return read_config(schedule, total_steps=total_steps)


def _plot(log: str, run: Any, cfg: Any, result: Any, plot: Path) -> Path:
    """``--plot``: the diagnosis drawn, with the schedule's LR curve when the log has no LR column."""
    import numpy as np

    from lrkit.monitor.plots import plot_diagnosis

    lr_curve = None
    if run.lr_col is None and cfg is not None:
        xs = np.arange(int(run.steps[0]), int(run.steps[-1]) + 1)
        lr_curve = (xs, np.asarray(cfg.lr_schedule(xs), dtype=float))
    spans = [(sp, f.rule) for f in result.findings if f.severity != "info" and (sp := _span(f.evidence))]
    title = f"{Path(log).name if log != '-' else 'stdin'}: {result.verdict}"
    return plot_diagnosis(run, plot, spans=spans, lr_curve=lr_curve, title=title)


@contextlib.contextmanager
def _json_errors(where: str | None = None) -> Iterator[None]:
    """:func:`bad_input` for --json: the error as one JSON object on standard output, exit 2."""
    from lrkit.commands.common import _describe
    from lrkit.errors import ConfigError as _ConfigError

    try:
        yield
    except typer.Exit:
        raise
    except Exception as err:
        line = _describe(err)
        if line is None:
            raise
        payload = {
            "error": line if not where or line.startswith(str(where)) else f"{where}: {line}",
            "field": getattr(err, "field", None) if isinstance(err, _ConfigError) else None,
            "fix": getattr(err, "fix", None) if isinstance(err, _ConfigError) else None,
            "exit_code": EXIT_BAD_INPUT,
        }
        typer.echo(json.dumps(_plain(payload), indent=2))
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _span(ev: dict[str, Any]) -> tuple[int, int] | None:
    """The steps a finding covers (a single step when it has one)."""
    a = next(
        (ev[k] for k in ("start_step", "onset_step", "peak_step", "nonfinite_step") if ev.get(k) is not None), None
    )
    if a is None:
        return None
    b = next((ev[k] for k in ("end_step", "peak_step") if ev.get(k) is not None), a)
    return int(a), int(max(a, b))


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


def _print(log: str, run: Any, result: Any, schedule: str | None) -> None:
    from lrkit.diagnosis.formatting import at_step, fmt_lr, step_count, step_range

    out = out_console()
    s = result.summary
    unit = s.get("step_unit", "step")
    # one start and one end loss for the run: the levels every finding quotes
    name = log if log != "-" else "<stdin>"
    head = (
        f"{name}: {s['points']:,} points, {step_range(s['first_step'], s['last_step'], unit)}, "
        f"loss {s['start_loss']:.4g} -> {s['end_loss']:.4g}"
    )
    if "best_loss" in s:
        head += f" (best {s['best_loss']:.4g})"
    if s.get("best_eval_loss") is not None:
        head += f"; eval loss best {s['best_eval_loss']:.4g} at {at_step(s['best_eval_step'], unit)}"
    out.print(Text(head, style="bold"))
    cols = s.get("columns") or {}
    lr_src = (
        f"LR from column {run.lr_col!r}"
        if run.lr_col
        else (f"LR from {schedule}" if schedule else "LR unknown (no LR column; pass --schedule CONFIG)")
    )
    extra = f", warm-up {step_count(s['warmup_steps'], unit)}" if s.get("warmup_steps") else ""
    peak = f", peak {fmt_lr(s['lr_peak'])}" if s.get("lr_peak") else ""
    used = f"loss from column {cols.get('loss')!r}" + (f", eval loss from {cols['eval']!r}" if cols.get("eval") else "")
    out.print(Text(f"{used}; {lr_src}{peak}{extra}; schedule looks {s['schedule_kind']}", style="dim"))
    for note in s.get("notes", run.notes):
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
