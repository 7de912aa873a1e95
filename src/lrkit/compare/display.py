"""Terminal output of a comparison: rich live progress while it runs, a summary table after.

On a terminal the progress is a live display (one bar for the comparison, one per running
trial with its latest loss); elsewhere (CI logs, pipes) it prints one line per finished trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from lrkit.compare.core import ComparisonOutcome, Events
from lrkit.compare.spec import TrialSpec
from lrkit.compare.stats import fmt_lr

__all__ = ["RichEvents", "print_summary", "outcome_to_dict"]

_STATUS_STYLE = {"ok": "green", "diverged": "yellow", "failed": "red"}


def _name(spec: TrialSpec) -> str:
    return f"{spec.label} @ {fmt_lr(spec.lr)} seed {spec.seed}"


class RichEvents(Events):
    """Live progress on ``console`` (a bar per running trial when it is a terminal)."""

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        self.live = console.is_terminal if live is None else live
        self.bar: Progress | None = None
        self.overall: TaskID | None = None
        self.rows: dict[str, TaskID] = {}

    def finder(self, message: str) -> None:
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def planned(self, plan: Mapping[str, Any], todo: Sequence[TrialSpec], reused: int) -> None:
        n_sched = len(plan["schedules"])
        total = len(todo) + reused
        line = (
            f"Comparing {n_sched} schedule{'s' if n_sched != 1 else ''} on {plan.get('task_name', plan['task'])}: "
            f"{total} trials of {plan['steps']} updates ({plan['backend']})"
        )
        if reused:
            line += f"; {reused} already in the results store, {len(todo)} to run"
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)
        if self.live and todo:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=30),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self.bar.start()
            self.overall = self.bar.add_task("[bold]trials", total=len(todo))

    def started(self, spec: TrialSpec) -> None:
        if self.bar is not None and spec.key() not in self.rows:
            self.rows[spec.key()] = self.bar.add_task(f"  {_name(spec)}", total=spec.steps)

    def progress(self, spec: TrialSpec, step: int, loss: float) -> None:
        if self.bar is None:
            return
        row = self.rows.get(spec.key())
        if row is None:
            self.started(spec)
            row = self.rows[spec.key()]
        self.bar.update(row, completed=step, description=f"  {_name(spec)}  loss {loss:.4g}")

    def finished(self, spec: TrialSpec, result: Mapping[str, Any]) -> None:
        status = result["status"]
        ev = result.get("eval")
        what = f"held-out loss {ev:.4f}" if ev is not None and math.isfinite(ev) else result.get("reason", "")
        line = f"[{_STATUS_STYLE[status]}]{status:>8}[/] {_name(spec)}: {what} ({result.get('wall_s', 0):.1f} s)"
        if status != "ok" and ev is None:
            line = f"[{_STATUS_STYLE[status]}]{status:>8}[/] {_name(spec)}: {result.get('reason', '')}"
        if self.bar is not None:
            row = self.rows.pop(spec.key(), None)
            if row is not None:
                self.bar.remove_task(row)
            self.bar.advance(self.overall)  # type: ignore[arg-type]
            self.bar.console.print(line, highlight=False)
        else:
            self.console.print(line, highlight=False)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def print_summary(console: Console, outcome: ComparisonOutcome) -> None:
    """The ranked table, the verdict and where the report is."""
    summary = outcome.summary
    winner = summary.verdict.winner
    table = Table(
        title=f"{outcome.plan.get('task_name', '')}: final held-out loss (lower is better)", title_justify="left"
    )
    table.add_column("#", justify="right")
    table.add_column("schedule")
    table.add_column("peak LR", justify="right")
    table.add_column("held-out loss", justify="right")
    table.add_column("vs winner (paired)")
    table.add_column("seeds")
    for i, c in enumerate(summary.configs, 1):
        mean = c.eval_mean
        score = "-" if mean is None else f"{mean:.4f}" + (f" ± {c.eval_std:.4f}" if len(c.evals) > 1 else "")
        vs = summary.vs_winner.get(c.id)
        versus = "winner" if c is winner else (vs.text if vs else "-")
        style = "bold" if c is winner else ("dim" if c.n_ok == 0 else "")
        table.add_row(str(i), c.label, fmt_lr(c.lr), score, versus, c.status_text, style=style)
    console.print(table)
    console.print(f"[bold]Verdict[/] ({summary.verdict.confidence}): {summary.verdict.sentence}", highlight=False)
    bad = [(c, s) for c in summary.configs for s in sorted(c.statuses) if c.statuses[s] != "ok"]
    for c, s in bad[:5]:
        console.print(f"  {c.statuses[s]}: {c.label} @ {fmt_lr(c.lr)} seed {s}: {c.reasons.get(s, '')}", markup=False)
    if len(bad) > 5:
        console.print(f"  ... and {len(bad) - 5} more (see the report)", markup=False)
    if outcome.interrupted:
        console.print(
            "[yellow]Interrupted.[/] Finished trials are saved; run the same command again to resume.", highlight=False
        )
    console.print(f"Report: {outcome.report.resolve()}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"Results: {(outcome.folder / 'results.sqlite').resolve()}", markup=False, soft_wrap=True)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def outcome_to_dict(outcome: ComparisonOutcome) -> dict[str, Any]:
    """The summary as plain JSON-ready data (``lrkit compare --json``)."""
    summary = outcome.summary
    v = summary.verdict
    plan = outcome.plan

    def paired(p: Any) -> dict[str, Any] | None:
        if p is None:
            return None
        return {"n": p.n, "mean_diff": _num(p.mean_diff), "wins": p.wins, "p_value": _num(p.p_value)}

    return {
        "task": plan.get("task"),
        "steps": plan.get("steps"),
        "seeds": plan.get("seeds"),
        "metric": summary.metric,
        "report": str(outcome.report.resolve()),
        "results": str((outcome.folder / "results.sqlite").resolve()),
        "ran": outcome.ran,
        "reused": outcome.reused,
        "interrupted": outcome.interrupted,
        "verdict": {
            "winner": None if v.winner is None else {"label": v.winner.label, "lr": v.winner.lr},
            "runner_up": None if v.runner_up is None else {"label": v.runner_up.label, "lr": v.runner_up.lr},
            "confidence": v.confidence,
            "versus_runner_up": paired(v.versus),
            "sentence": v.sentence,
        },
        "configs": [
            {
                "rank": i,
                "label": c.label,
                "lr": c.lr,
                "eval_mean": _num(c.eval_mean),
                "eval_std": _num(c.eval_std),
                "final_loss_mean": _num(c.loss_mean),
                "evals": {str(k): _num(x) for k, x in sorted(c.evals.items())},
                "statuses": {str(k): x for k, x in sorted(c.statuses.items())},
                "reasons": {str(k): x for k, x in sorted(c.reasons.items())},
                "vs_winner": paired(summary.vs_winner.get(c.id)),
            }
            for i, c in enumerate(summary.configs, 1)
        ],
    }
