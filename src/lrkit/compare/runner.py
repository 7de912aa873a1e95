"""One trial: train a task's model under one schedule, record every step, evaluate.

The LR of every update comes from :class:`lrkit.Scheduler` driving the task's optimizer with
the trial's factor schedule (and feedback controller); the runner never computes an LR. It
records the LR the optimizer actually used for each update (``param_groups[0]["lr"]`` before
``optimizer.step()``), the training loss of that update, and the held-out metric every
``eval_every`` updates and after the last one.

A trial ends in one of three states:

- ``ok``: all updates ran; ``eval`` is the final held-out metric;
- ``diverged``: a training loss was not finite or exceeded ``diverge_factor`` times the first
  one; the run stops there and the reason names the step and the loss;
- ``failed``: the task raised (the reason is the exception, with the step when training had
  started); the curves recorded so far are kept.

Whatever happens, :func:`run_trial` returns a result and never raises, so a comparison goes on.
"""

from __future__ import annotations

import math
import os
import platform
import random
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lrkit.compare.spec import TrialSpec
from lrkit.scheduler import Scheduler
from lrkit.tasks import resolve_task

__all__ = ["run_trial", "ProgressFn", "seed_everything", "PROGRESS_UPDATES"]

#: progress reports per trial (every steps // PROGRESS_UPDATES updates)
PROGRESS_UPDATES = 20

ProgressFn = Callable[[str, int, float], None]


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global generators (tasks should also use their own)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _where() -> str:
    return f"{platform.node()}:{os.getpid()}"


@dataclass
class _Record:
    """What a trial has recorded so far: kept as it is when the trial fails midway."""

    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    evals: list[list[float]] = field(default_factory=list)
    status: str = "ok"
    reason: str = ""
    final_eval: float | None = None
    train_s: float = 0.0
    eval_s: float = 0.0
    step: int = -1  # the update under way (-1: before training)
    taken: int = 0  # updates completed


def run_trial(spec: TrialSpec | Mapping[str, Any], progress: ProgressFn | None = None) -> dict[str, Any]:
    """Run one trial and return its result as plain data (see the module docstring).

    Keys: ``key``, ``status`` (ok|diverged|failed), ``reason``, ``eval``, ``final_loss`` (mean
    training loss of the last 10% of recorded updates), ``steps_done`` (updates taken), ``lrs``, ``losses``,
    ``evals`` (list of ``[step, value]``), ``wall_s`` (the whole call), ``train_s`` (the update
    loop, evaluations excluded), ``eval_s``, ``worker`` (``host:pid``).
    """
    t_start = time.perf_counter()
    if not isinstance(spec, TrialSpec):
        spec = TrialSpec.from_plain(spec)
    key = spec.key()
    rec = _Record()
    try:
        _train(spec, key, rec, progress)
    except Exception as err:  # a trial that raises is recorded, never fatal to the comparison
        rec.status = "failed"
        rec.reason = _failure_reason(err, rec.step)
    return _result(key, spec, rec, t_start)


def _train(spec: TrialSpec, key: str, rec: _Record, progress: ProgressFn | None) -> None:
    """Build the task, run its updates under the Scheduler into ``rec``, and evaluate the end."""
    task = resolve_task(spec.task)
    seed_everything(spec.seed)
    model = task.make_model(spec.seed)
    model.train()
    optimizer = task.make_optimizer(model, spec.lr)
    scheduler = Scheduler(optimizer, spec.schedule, controller=spec.controller)
    batches = task.batches(spec.seed)
    use_metric = scheduler.controller is not None
    every = spec.eval_every if spec.eval_every > 0 else spec.steps
    report_every = max(1, spec.steps // PROGRESS_UPDATES)
    limit = math.inf
    for step in range(spec.steps):
        rec.step = step
        t0 = time.perf_counter()
        lr = float(optimizer.param_groups[0]["lr"])
        batch = next(batches)
        loss = task.loss_fn(model, batch)
        value = float(loss.detach())
        rec.lrs.append(lr)
        rec.losses.append(value)
        if step == 0 and math.isfinite(value):
            limit = spec.diverge_factor * abs(value) if value != 0 else math.inf
        reason = _divergence(step, value, lr, limit, rec.losses[0], spec.diverge_factor)
        if reason:
            rec.status, rec.reason = "diverged", reason
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step(value if use_metric else None)
        rec.train_s += time.perf_counter() - t0
        done = rec.taken = step + 1
        if done % every == 0 or done == spec.steps:
            t1 = time.perf_counter()
            rec.evals.append([done, float(task.evaluate(model))])
            rec.eval_s += time.perf_counter() - t1
        if progress is not None and (done % report_every == 0 or done == spec.steps):
            progress(key, done, value)
    if rec.status == "ok":
        evals = rec.evals
        rec.final_eval = evals[-1][1] if evals and evals[-1][0] == spec.steps else float(task.evaluate(model))
        if not math.isfinite(rec.final_eval):
            rec.status, rec.reason = "diverged", f"held-out metric is {rec.final_eval} after the last update"


def _divergence(step: int, value: float, lr: float, limit: float, first_loss: float, factor: float) -> str:
    """Why the training loss ``value`` at ``step`` ends the trial ('' when it does not)."""
    if not math.isfinite(value):
        return f"training loss is {value} at step {step} (lr {lr:.3g})"
    if step > 0 and value > limit:
        return (
            f"training loss {value:.4g} at step {step} is over {factor:g}x the first "
            f"loss {first_loss:.4g} (lr {lr:.3g})"
        )
    return ""


def _failure_reason(err: Exception, step: int) -> str:
    """The exception, the step it was raised at, and the innermost frame's file and line."""
    frame = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
    at = f" at step {step}" if step >= 0 else " before training"
    loc = f" ({os.path.basename(frame.filename)}:{frame.lineno})" if frame else ""
    return f"{type(err).__name__}: {err}{at}{loc}"


def _result(key: str, spec: TrialSpec, rec: _Record, t_start: float) -> dict[str, Any]:
    tail = rec.losses[-max(1, len(rec.losses) // 10) :] if rec.losses else []
    finite_tail = [v for v in tail if math.isfinite(v)]
    return {
        "key": key,
        "spec": spec.to_dict(),
        "status": rec.status,
        "reason": rec.reason,
        "eval": rec.final_eval,
        "final_loss": float(np.mean(finite_tail)) if finite_tail else None,
        "steps_done": rec.taken,
        "lrs": rec.lrs,
        "losses": rec.losses,
        "evals": rec.evals,
        "train_s": rec.train_s,
        "eval_s": rec.eval_s,
        "wall_s": time.perf_counter() - t_start,
        "worker": _where(),
    }
