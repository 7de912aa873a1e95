"""The :class:`Task` contract and the registry of embedded tasks.

A task is everything a comparison needs to train one model under one schedule: a model
factory, an optimizer factory, an endless stream of batches, a loss and a held-out evaluation.
Every factory takes the trial's seed, so the same seed gives the same run.

Importing this module does not import torch: the embedded tasks are built on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from lrkit.errors import ConfigError, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch.optim import Optimizer

__all__ = ["Task", "task_names", "get_task", "load_entry", "resolve_task", "describe_tasks"]


@dataclass(frozen=True)
class Task:
    """A small training problem a comparison runs under each schedule.

    Attributes:
        name: short identifier (``"digits"``), shown in reports.
        description: one line on what is trained on what data.
        make_model: ``seed -> torch.nn.Module``, a freshly initialised model.
        make_optimizer: ``(model, peak_lr) -> torch.optim.Optimizer`` whose every parameter
            group starts at ``peak_lr``; the schedule then multiplies it (a factor curve).
        batches: ``seed -> iterator`` of batches, endless and deterministic for a seed.
        loss_fn: ``(model, batch) -> scalar tensor`` to minimise (one optimizer update each).
        evaluate: ``model -> float``, the held-out loss (lower is better), computed without
            gradients on data the batches never show.
        default_steps: optimizer updates of a full run.
    """

    name: str
    description: str
    make_model: Callable[[int], torch.nn.Module]
    make_optimizer: Callable[[torch.nn.Module, float], Optimizer]
    batches: Callable[[int], Iterator[Any]]
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor]
    evaluate: Callable[[torch.nn.Module], float]
    default_steps: int


#: embedded task name -> (module, builder function, one-line description)
_BUILTIN: dict[str, tuple[str, str, str]] = {
    "digits": (
        "lrkit.tasks.digits",
        "make_task",
        "CNN classifier on scikit-learn's bundled 8x8 handwritten digits (SGD with Nesterov momentum)",
    ),
    "charlm": (
        "lrkit.tasks.charlm",
        "make_task",
        "character-level transformer language model on Python standard-library source (AdamW)",
    ),
}


def task_names() -> list[str]:
    """Names of the embedded tasks, sorted."""
    return sorted(_BUILTIN)


def describe_tasks() -> dict[str, str]:
    """Embedded task name -> one-line description (no torch import)."""
    return {name: _BUILTIN[name][2] for name in task_names()}


@cache
def get_task(name: str) -> Task:
    """The embedded task called ``name``; a :class:`ConfigError` with a suggestion if none."""
    if not isinstance(name, str) or name not in _BUILTIN:
        raise ConfigError(
            f"unknown task {name!r}.{did_you_mean(str(name), _BUILTIN)}",
            field="task",
            value=name,
            fix=f"use one of: {', '.join(task_names())}, or --entry module:function for your own task.",
        )
    module, func, _ = _BUILTIN[name]
    task = getattr(importlib.import_module(module), func)()
    return _check_task(task, f"embedded task {name!r}")


def load_entry(entry: str) -> Task:
    """Import ``module:function`` and call the function (no arguments); it must return a
    :class:`Task` (or an object with the same attributes).

    Raises :class:`ConfigError` when the spec is malformed, the module does not import, the
    function is missing or raises, or the result is not a task.
    """
    from lrkit.entry import call_entry

    task = call_entry(entry, returns="an lrkit Task", example="mypkg.tasks:make_task", accept=Task)
    return _check_task(task, entry)


_CALLABLES = ("make_model", "make_optimizer", "batches", "loss_fn", "evaluate")


def _check_task(task: Any, where: str) -> Task:
    missing = [a for a in (*_CALLABLES, "default_steps") if not hasattr(task, a)]
    if missing:
        raise ConfigError(
            f"{where} returned a {type(task).__name__}, not a Task (missing: {', '.join(missing)}).",
            field="entry",
            value=where,
            fix="return lrkit.tasks.Task(name=..., description=..., make_model=..., make_optimizer=..., "
            "batches=..., loss_fn=..., evaluate=..., default_steps=...).",
        )
    not_callable = [a for a in _CALLABLES if not callable(getattr(task, a))]
    if not_callable:
        raise ConfigError(
            f"{where}: these task fields must be functions: {', '.join(not_callable)}.",
            field="entry",
            value=where,
            fix="see docs/compare.md for what each field takes and returns.",
        )
    steps = task.default_steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(
            f"{where}: default_steps must be an int >= 1, got {steps!r}.",
            field="entry",
            value=steps,
            fix="set default_steps to the number of optimizer updates of a full run.",
        )
    if isinstance(task, Task):
        return task
    return Task(
        name=str(getattr(task, "name", where)),
        description=str(getattr(task, "description", "")),
        make_model=task.make_model,
        make_optimizer=task.make_optimizer,
        batches=task.batches,
        loss_fn=task.loss_fn,
        evaluate=task.evaluate,
        default_steps=steps,
    )


@cache
def resolve_task(ref: str) -> Task:
    """A task from a reference: an embedded name, or ``module:function`` for a user task.

    Worker processes call this with the reference string, so tasks never need pickling.
    """
    if isinstance(ref, str) and ":" in ref:
        return load_entry(ref)
    return get_task(ref)
