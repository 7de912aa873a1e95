"""``lrkit find``: run an LR range test on an embedded task or on your own model.

``--task NAME`` uses an embedded task (``lrkit.tasks``: data that ships with installed
packages, no download); ``--entry module:function`` calls your function, which returns
``(model, optimizer, data, loss_fn)``, ``(model, optimizer, data, loss_fn, val_data)`` (held-out
batches that judge the confirmation trials) or an lrkit ``Task``. Prints the suggested peak LR,
its range and the trials, writes the loss-vs-LR plot. Exit codes: 0 done, 2 bad input (one line
on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lrkit.commands.common import BadInput, bad_input, out_console, reflow_help
from lrkit.errors import ConfigError
from lrkit.plot import IMAGE_SUFFIXES

__all__ = ["register", "find_command", "load_finder_entry"]


def load_finder_entry(entry: str) -> tuple[Any, ...]:
    """Import ``module:function``, call it (no arguments) and return
    ``(model, optimizer, data, loss_fn)`` or ``(model, optimizer, data, loss_fn, val_data)``; a
    returned lrkit ``Task`` is turned into the 4-tuple (seed 0, optimizer at LR 1.0 -- the ramp
    sets the LRs). ConfigError for anything wrong."""
    from lrkit.compare.core import _task_ref
    from lrkit.entry import call_entry

    # the one place that makes `module:function` importable from the current folder (as compare does)
    _task_ref(None, entry)
    out = call_entry(entry, returns="(model, optimizer, data, loss_fn)", example="mypkg.train:finder_setup")
    if all(hasattr(out, a) for a in ("make_model", "make_optimizer", "batches", "loss_fn")):
        return _from_task(out)
    if not isinstance(out, tuple | list) or len(out) not in (4, 5):
        raise ConfigError(
            f"{entry}() returned {type(out).__name__}, not (model, optimizer, data, loss_fn).",
            field="entry",
            value=entry,
            fix="return a 4-tuple: the nn.Module, its optimizer, an iterable of batches, loss_fn(model, batch)"
            " (and held-out batches as a fifth item, for val_data).",
        )
    return tuple(out)


def _from_task(task: Any) -> tuple[Any, Any, Any, Any]:
    model = task.make_model(0)
    optimizer = task.make_optimizer(model, 1.0)
    return model, optimizer, task.batches(0), task.loss_fn


def find_command(
    task: Annotated[
        str | None, typer.Option("--task", "-t", help="Embedded task (lrkit.tasks), e.g. digits or charlm.")
    ] = None,
    entry: Annotated[
        str | None,
        typer.Option("--entry", "-e", help="module:function returning (model, optimizer, data, loss_fn)."),
    ] = None,
    start_lr: Annotated[float, typer.Option("--start-lr", help="First LR of the ramp.")] = 1e-7,
    end_lr: Annotated[float, typer.Option("--end-lr", help="Last LR of the ramp.")] = 10.0,
    steps: Annotated[int, typer.Option("--steps", "-n", help="Optimizer updates of the ramp.")] = 100,
    mode: Annotated[str, typer.Option("--mode", help="exp (evenly spaced in log LR) or linear.")] = "exp",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the loss-vs-LR plot here (.png, .svg, .pdf).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of text.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the embedded task's model and data.")] = 0,
    max_evals: Annotated[
        int | None,
        typer.Option(
            "--max-evals",
            help="Most loss evaluations in all (range test, zoom pass, trials); default 3 x --steps.",
        ),
    ] = None,
    trials: Annotated[
        bool, typer.Option("--trials/--no-trials", help="Confirm the suggestion with short trials.")
    ] = True,
) -> None:
    """LR range test: ramp the LR, watch the loss, suggest a peak LR for a warm-up + decay run.

    The model and optimizer are restored afterwards. Example:

        lrkit find --task digits --steps 150 -o finder.png
    """
    import torch

    from lrkit.finder import find_lr

    with bad_input():
        if (task is None) == (entry is None):
            raise BadInput(
                "give exactly one of --task NAME or --entry module:function. Fix: e.g. lrkit find --task digits"
            )
        # checked before the test runs, not when the plot is written after it
        if output is not None and output.suffix.lower() not in IMAGE_SUFFIXES:
            raise BadInput(
                f"--output: {output}: unsupported image type {output.suffix or '(none)'!r}. "
                "Fix: end the name in .png, .svg or .pdf."
            )
        val_data = None
        if entry is not None:
            got = load_finder_entry(entry)
            model, optimizer, data, loss_fn = got[:4]
            val_data = got[4] if len(got) == 5 else None
            label = entry
        else:
            from lrkit.tasks import get_task

            t = get_task(task)
            torch.manual_seed(seed)
            model = t.make_model(seed)
            optimizer = t.make_optimizer(model, 1.0)
            data, loss_fn, label = t.batches(seed), t.loss_fn, f"task {t.name}"
        if not isinstance(model, torch.nn.Module) or not isinstance(optimizer, torch.optim.Optimizer):
            raise ConfigError(
                f"{label} gave a {type(model).__name__} and a {type(optimizer).__name__}.",
                field="entry",
                fix="return an nn.Module and a torch.optim.Optimizer built on its parameters.",
            )
        search = dict(val_data=val_data, max_evals=max_evals, trials=trials)
        result = _run(find_lr, model, optimizer, data, loss_fn, start_lr, end_lr, steps, mode, search, quiet=as_json)
        if output is not None:
            result.plot(output, title=f"LR range test: {label}")
    if as_json:
        d = result.to_dict()
        d["source"] = label
        if output is not None:
            d["plot"] = str(output)
        typer.echo(json.dumps(d))
        return
    con = out_console()
    low, high = result.range
    con.print(f"LR range test on {label}: {len(result.lrs)} of {steps} updates, stopped: {result.stopped_reason}")
    for t in result.trials:
        score = "diverged" if t.diverged else f"{t.score:.4g}"
        con.print(f"trial: peak {t.lr:.3g}, {t.steps} updates, {t.judged_by} loss {score}")
    if result.suggestion is None:
        con.print("suggestion: none")
    else:
        con.print(f"suggestion: {result.suggestion:.3g}  (peak LR of a warm-up + decay schedule)")
        con.print(f"range: {low:.3g} .. {high:.3g}  (confidence: {result.confidence}, from: {result.method})")
        con.print(f"loss evaluations: {result.loss_evaluations} of {result.max_evals}")
        if len(result.group_ratios) > 1:
            per = ", ".join(f"{v:.3g}" for v in result.suggestions_per_group if v is not None)
            con.print(f"per parameter group: {per}")
    for note in result.notes:
        con.print(f"note: {note}")
    if output is not None:
        con.print(f"plot: {output}")


def _run(find_lr, model, optimizer, data, loss_fn, start_lr, end_lr, steps, mode, search, *, quiet: bool):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lrkit.commands.common import err_console

    kwargs = dict(start_lr=start_lr, end_lr=end_lr, num_steps=steps, mode=mode, **search)
    if quiet:
        return find_lr(model, optimizer, data, loss_fn, **kwargs)
    with Progress(
        TextColumn("range test"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("lr {task.fields[lr]}  loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
    ) as bar:
        tid = bar.add_task("find", total=steps, lr="-", loss="-")

        def progress(done: int, total: int, lr: float, loss: float) -> None:
            bar.update(tid, completed=done, lr=f"{lr:.2e}", loss=f"{loss:.4g}")

        return find_lr(model, optimizer, data, loss_fn, progress=progress, **kwargs)


def register(app: typer.Typer) -> None:
    """Add ``find`` to the ``lrkit`` app."""
    app.command("find", help=reflow_help(find_command))(find_command)
