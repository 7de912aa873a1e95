"""The guide's functions and classes, on the schedule algebra, with its bugs fixed.

They stay importable from ``lrkit`` because their users import them from there. Each is a thin
wrapper over the current API -- a :class:`lrkit.Scheduler` built from a schedule of
:mod:`lrkit.schedules` -- and its docstring names the equivalent call; new code should make
that call directly. (The guide's ``AdaptiveLearningRate`` is :mod:`lrkit.feedback.guide`.)

- the first update never runs at LR 0 (lrkit warm-up: ``(k + 1) / warmup_steps``);
- cosine never rises again past ``total_steps`` (it holds the floor);
- ``total_steps == warmup_steps`` is not a division by zero (the decay phase has no steps);
- ``min_lr`` holds during warm-up too (the floor is applied to every step);
- ``debug_lr_schedule`` previews the LRs a scheduler will produce (the guide's loop read
  ``get_lr()`` without ever stepping, so it printed one LR ``total_steps`` times).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch.optim import Optimizer

from lrkit.errors import ConfigError
from lrkit.scheduler import Scheduler
from lrkit.schedules import Cyclic, StepDecay, warmup_cosine, warmup_linear
from lrkit.schedules.base import check_arguments, check_real, check_steps

__all__ = [
    "linear_warmup_decay_schedule",
    "cosine_annealing_schedule",
    "step_decay_schedule",
    "CyclicalLearningRate",
    "debug_lr_schedule",
]


@check_arguments
def linear_warmup_decay_schedule(
    optimizer: Optimizer,
    total_steps: int,
    warmup_steps: int = 1000,
    *,
    min_lr_ratio: float = 0.0,
) -> Scheduler:
    """Linear warm-up over ``warmup_steps``, then linear decay to ``min_lr_ratio * base_lr``
    at ``total_steps``; the floor afterwards and during warm-up.

    Thin wrapper: ``Scheduler(optimizer, warmup_linear(total_steps, warmup_steps,
    min_ratio=min_lr_ratio), min_lr_ratio=min_lr_ratio)``."""
    return Scheduler(
        optimizer, warmup_linear(total_steps, warmup_steps, min_ratio=min_lr_ratio), min_lr_ratio=min_lr_ratio
    )


@check_arguments
def cosine_annealing_schedule(
    optimizer: Optimizer,
    total_steps: int,
    warmup_steps: int = 1000,
    *,
    min_lr: float | None = None,
    min_lr_ratio: float | None = None,
) -> Scheduler:
    """Linear warm-up, then cosine from each group's base LR down to ``min_lr`` (absolute) or
    ``min_lr_ratio * base_lr`` at ``total_steps``; the floor afterwards and during warm-up.

    Thin wrapper: ``Scheduler(optimizer, warmup_cosine(total_steps, warmup_steps, min_ratio=r),
    min_lr_ratio=r)``; with an absolute ``min_lr``, one such schedule per group (each with its
    own ratio ``min_lr / base_lr``) and ``min_lr`` as the floor."""
    if min_lr is not None and min_lr_ratio is not None:
        raise ConfigError("min_lr and min_lr_ratio are both set.", field="min_lr_ratio", fix="keep one of them.")
    if min_lr is None:
        ratio = 0.0 if min_lr_ratio is None else min_lr_ratio
        return Scheduler(optimizer, warmup_cosine(total_steps, warmup_steps, min_ratio=ratio), min_lr_ratio=ratio)
    floor = check_real("min_lr", min_lr, low=0.0)
    if not isinstance(optimizer, Optimizer):  # read below before Scheduler could say so
        raise ConfigError(
            f"expected a torch.optim.Optimizer, got {type(optimizer).__name__}.",
            field="optimizer",
            value=optimizer,
            fix="build the optimizer first, then cosine_annealing_schedule(optimizer, total_steps).",
        )
    per_group = []
    for i, group in enumerate(optimizer.param_groups):
        base = float(group["lr"])
        if floor > base:
            raise ConfigError(
                f"min_lr {floor:g} is above parameter group {i}'s LR {base:g}.",
                field="min_lr",
                value=floor,
                fix="use a min_lr below every group's LR.",
            )
        per_group.append(warmup_cosine(total_steps, warmup_steps, min_ratio=floor / base if base else 0.0))
    return Scheduler(optimizer, per_group[0], group_schedules=per_group, min_lr=floor)


@check_arguments
def step_decay_schedule(optimizer: Optimizer, decay_steps: int, decay_rate: float = 0.1) -> Scheduler:
    """Multiply every group's LR by ``decay_rate`` every ``decay_steps`` updates.

    Thin wrapper: ``Scheduler(optimizer, StepDecay(step_size=decay_steps, gamma=decay_rate))``."""
    return Scheduler(optimizer, StepDecay(start=1.0, step_size=decay_steps, gamma=decay_rate))


class CyclicalLearningRate(Scheduler):
    """The guide's triangular cyclical LR: every group goes ``base_lr -> max_lr -> base_lr``
    over ``2 * step_size`` updates, starting at ``base_lr``. Call ``step()`` after each
    ``optimizer.step()``.

    Thin wrapper: a :class:`lrkit.Scheduler` of ``Cyclic(init=base_lr, peak=max_lr,
    step_size_up=step_size)`` whose values are absolute LRs (every group's base LR is 1)."""

    @check_arguments
    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float = 1e-4,
        max_lr: float = 1e-3,
        step_size: int = 2000,
    ) -> None:
        base_lr = check_real("base_lr", base_lr, low=0.0)
        max_lr = check_real("max_lr", max_lr, low=0.0, low_open=True)
        step_size = check_steps("step_size", step_size, minimum=1)
        if base_lr > max_lr:
            raise ConfigError(
                f"base_lr {base_lr:g} is above max_lr {max_lr:g}.",
                field="base_lr",
                value=base_lr,
                fix="swap them: base_lr is the bottom of the cycle.",
            )
        self.base_lr, self.max_lr, self.step_size = base_lr, max_lr, step_size
        super().__init__(optimizer, Cyclic(init=base_lr, peak=max_lr, step_size_up=step_size))
        # The guide sets every group to the same absolute LR: the schedule holds absolute
        # values, so each group's base is 1 (whatever LR the optimizer was built with).
        self.base_lrs = [1.0] * len(optimizer.param_groups)
        self._apply()


@check_arguments
def debug_lr_schedule(target: Any, total_steps: int, *, every: int = 1000, group: int = 0) -> np.ndarray:
    """The LR of ``group`` for each of ``total_steps`` updates, printing every ``every`` steps.

    ``target`` is an :class:`lrkit.Scheduler` (its LRs are previewed from the schedule
    algebra at each step; the scheduler itself is not advanced), a
    :class:`~lrkit.schedules.Schedule`, or a config (path or dict, read with
    :func:`lrkit.load_schedule`). For the full picture -- key steps, a sparkline, the linter --
    use ``lrkit show CONFIG``.
    """
    total = check_steps("total_steps", total_steps, minimum=1)
    every = check_steps("every", every, minimum=1)
    if isinstance(target, Scheduler):
        n = len(target.optimizer.param_groups)
        if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < n:
            raise ConfigError(
                f"the optimizer has {n} parameter groups, there is no group {group}.",
                field="group",
                value=group,
                fix=f"use a group index from 0 to {n - 1}.",
            )
        lrs = np.array([target.lrs_at(k)[group] for k in range(total)])
    else:
        from lrkit.schedules import Schedule

        if not isinstance(target, Schedule):
            from lrkit.config import load_schedule

            target = load_schedule(target, total_steps=total)
        lrs = np.asarray(target(np.arange(total)), dtype=np.float64)
    for k in range(0, total, every):
        print(f"Step {k}: LR = {lrs[k]:.2e}")
    return lrs
