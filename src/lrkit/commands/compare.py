"""``lrkit compare``: train a task under several schedules and report which converges best.

Exit codes: 0 the comparison ran (failed or diverged trials are recorded, not fatal), 1 no
trial finished ok, 2 bad input (one line on stderr), 130 interrupted (finished trials are kept;
the same command resumes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lrkit.commands.common import EXIT_FINDINGS, bad_input, console, err_console, reflow_help

if TYPE_CHECKING:
    from rich.console import Console

    from lrkit.compare.core import ComparisonOutcome as Outcome

__all__ = ["register", "compare_command"]

EXIT_INTERRUPTED = 130

Schedules = Annotated[
    list[str] | None,
    typer.Option(
        "--schedule",
        "-s",
        help="A schedule to compare (repeatable): a preset (linear, cosine, step, cyclic, adaptive, wsd, constant, "
        "one_cycle), a config file, or an inline mapping '{type: cosine, steps: 500}'; LABEL=SPEC names it. "
        "Default: the seven presets except one_cycle.",
    ),
]


def compare_command(
    task: Annotated[str | None, typer.Option("--task", "-t", help="Embedded task: digits (default) or charlm.")] = None,
    entry: Annotated[
        str | None,
        typer.Option("--entry", "-e", help="Your task: module:function returning an lrkit.tasks.Task."),
    ] = None,
    schedule: Schedules = None,
    lr: Annotated[
        list[float] | None,
        typer.Option("--lr", help="Peak LR for every schedule (repeatable: each is a separate configuration)."),
    ] = None,
    find_lr: Annotated[
        bool,
        typer.Option(
            "--find-lr",
            help="Use the LR finder's suggestion for every schedule, config files included (the default for "
            "presets when --lr is not given).",
        ),
    ] = False,
    steps: Annotated[
        int | None, typer.Option("--steps", "-n", min=1, help="Optimizer updates per trial (default: the task's).")
    ] = None,
    seeds: Annotated[int, typer.Option("--seeds", "-k", min=1, help="Seeds per (schedule, LR).")] = 3,
    backend: Annotated[str, typer.Option("--backend", "-b", help="local (worker processes) or ray.")] = "local",
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=0, help="Parallel trials (default: one per core; 0: in this process)."),
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Existing Ray cluster (e.g. ray://head:10001); implies --backend ray."),
    ] = None,
    ray_runtime_env: Annotated[
        str | None,
        typer.Option(
            "--ray-runtime-env",
            help='Ray runtime_env as JSON for the trials, e.g. \'{"working_dir": ".", "pip": ["lrkit"]}\'.',
        ),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="Folder for results.sqlite and report.html.")
    ] = "lrkit-out",
    report_only: Annotated[
        bool, typer.Option("--report-only", help="Re-write the report of the comparison in -o DIR; train nothing.")
    ] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Run failed trials again on resume.")] = False,
    diverge_factor: Annotated[
        float,
        typer.Option("--diverge-factor", help="A trial diverged when its loss exceeds this many times the first."),
    ] = 4.0,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout (progress goes to stderr).")
    ] = False,
) -> None:
    """Train a task under several schedules and report which converges best.

    Each schedule x peak LR x seed is a real training run. Every step goes to
    OUTPUT/results.sqlite (the same command resumes); OUTPUT/report.html shows the winner.

    Example:

        lrkit compare --task charlm -s cosine -s wsd -s mine=run.yaml --lr 3e-3 --seeds 3 -o cmp
    """
    from lrkit.compare.display import RichEvents

    out = err_console() if json_out else console()
    with bad_input():
        if report_only:
            from lrkit.compare.core import report_comparison

            outcome = report_comparison(output)
        else:
            from lrkit.compare.core import run_comparison

            outcome = run_comparison(
                task=task,
                entry=entry,
                schedules=schedule,
                lrs=lr,
                find_lr=find_lr or None,
                steps=steps,
                seeds=seeds,
                backend=_backend(backend, ray_address, ray_runtime_env),
                workers=workers,
                ray_address=ray_address,
                ray_runtime_env=_runtime_env(ray_runtime_env),
                out=output,
                retry_failed=retry_failed,
                diverge_factor=diverge_factor,
                events=RichEvents(out),
            )
    _show(out, outcome, json_out)
    _exit_for(outcome)


def _backend(backend: str, ray_address: str | None, ray_runtime_env: str | None) -> str:
    """A Ray address or runtime_env implies the ray backend unless another one was named."""
    return "ray" if (ray_address or ray_runtime_env) and backend == "local" else backend


def _show(out: Console, outcome: Outcome, json_out: bool) -> None:
    if json_out:
        import json

        from lrkit.compare.display import outcome_to_dict

        typer.echo(json.dumps(outcome_to_dict(outcome), indent=2))
    else:
        from lrkit.compare.display import print_summary

        print_summary(out, outcome)


def _exit_for(outcome: Outcome) -> None:
    """130 when interrupted (the same command resumes), 1 when no trial finished ok."""
    if outcome.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if outcome.summary.verdict.winner is None:
        raise typer.Exit(EXIT_FINDINGS)


def _runtime_env(text: str | None) -> dict | None:
    if text is None:
        return None
    import json

    from lrkit.errors import ConfigError

    try:
        env = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"is not JSON ({err.msg} at column {err.colno}).",
            field="ray_runtime_env",
            value=text,
            fix='write e.g. \'{"working_dir": "."}\'.',
        ) from None
    if not isinstance(env, dict):
        raise ConfigError(
            "must be a JSON object.", field="ray_runtime_env", value=text, fix='e.g. \'{"working_dir": "."}\'.'
        )
    return env


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the ``lrkit`` app."""
    app.command("compare", help=reflow_help(compare_command))(compare_command)
