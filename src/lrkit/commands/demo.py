"""``lrkit demo``: the embedded default comparison, end to end, in a minute or two.

It trains the ``digits`` CNN under the seven default schedules (linear, cosine, step, cyclic,
adaptive, warmup-stable-decay, constant) at the peak LR the LR finder picks, three seeds each,
in one worker process per core, and writes ``./lrkit-out/report.html``. It is exactly
``lrkit compare`` with no arguments, so running it again (or ``lrkit compare``) resumes from the
stored results instead of training again.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lrkit.commands.common import bad_input, console, reflow_help

__all__ = ["register", "demo_command"]


def demo_command(
    output: Annotated[
        str, typer.Option("--output", "-o", help="Folder for results.sqlite and report.html.")
    ] = "lrkit-out",
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=0, help="Parallel trials (default: one per core).")
    ] = None,
    task: Annotated[str, typer.Option("--task", "-t", help="Embedded task: digits or charlm (slower).")] = "digits",
    steps: Annotated[
        int | None,
        typer.Option("--steps", "-n", min=1, help="Optimizer updates per trial (default: the task's full run)."),
    ] = None,
) -> None:
    """Compare the default schedules on an embedded task and write OUTPUT/report.html.

    The seven default schedules (linear, cosine, step, cyclic, adaptive, warmup-stable-decay,
    constant) train the task at the peak LR the LR finder picks, three seeds each: a minute or
    two on two cores (`--steps 50` for a quick look). It is `lrkit compare` with no other
    arguments, so running it again resumes from the stored results.

    Example:

        lrkit demo -o lrkit-out --workers 2
    """
    from lrkit.compare.core import DEFAULT_SEEDS, run_comparison
    from lrkit.compare.display import RichEvents, print_summary
    from lrkit.compare.spec import DEFAULT_SCHEDULES

    out = console()
    out.print(
        f"lrkit demo: which learning-rate schedule trains the {task} task best? "
        f"{len(DEFAULT_SCHEDULES)} schedules x {DEFAULT_SEEDS} seeds, each a real training run.",
        markup=False,
    )
    with bad_input():
        outcome = run_comparison(
            task=task, steps=steps, seeds=DEFAULT_SEEDS, workers=workers, out=output, events=RichEvents(out)
        )
    print_summary(out, outcome)
    out.print(
        f"Open {outcome.report} in a browser (no network needed). "
        "Next: `lrkit compare --help` to compare your own configs or your own task.",
        markup=False,
        soft_wrap=True,
    )
    if outcome.interrupted:
        raise typer.Exit(130)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``lrkit`` app."""
    app.command("demo", help=reflow_help(demo_command))(demo_command)
