"""The one PyTorch adapter: apply a schedule to an optimizer's parameter groups.

:class:`Scheduler` is a real ``torch.optim.lr_scheduler.LRScheduler``, so Hugging Face
Trainer, Lightning and NeMo RL (``policy.scheduler: [{name: lrkit.Scheduler, kwargs: ...}]``)
accept it. It computes nothing itself: the LR of group ``g`` before update ``k`` is

    lr_g(k) = max(base_lr_g * schedule_g(k) * controller_g, floor_g)

where ``base_lr_g`` is the group's LR when the scheduler was created, ``schedule_g`` the
group's schedule (a factor curve, peak usually 1.0), ``controller_g`` the optional feedback
scale (1.0 without one) and ``floor_g`` the absolute ``min_lr`` or ``min_lr_ratio * base_lr_g``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lrkit.errors import ConfigError, ResumeWarning
from lrkit.schedules.base import Schedule, as_schedule

__all__ = ["Scheduler", "Controller"]

_STATE_VERSION = 1
#: steps evaluated per vectorized call; per-step cost is then a list lookup
_CHUNK = 1024


@runtime_checkable
class Controller(Protocol):
    """A feedback controller (the only stateful part of lrkit): scales the schedule."""

    def update(self, metric: float) -> None: ...

    def factor(self, group: int) -> float: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...

    def to_dict(self) -> dict[str, Any]: ...


class _Table:
    """Values of one schedule, evaluated a block of steps at a time.

    Every value comes from the same vectorized evaluation, so a resumed run (which starts a
    block at another step) reads bitwise the same numbers as an uninterrupted one.
    """

    __slots__ = ("schedule", "start", "values")

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.start = 0
        self.values: list[float] = []

    def __call__(self, step: int) -> float:
        i = step - self.start
        if 0 <= i < len(self.values):
            return self.values[i]
        self.start = step
        self.values = self.schedule(np.arange(step, step + _CHUNK, dtype=np.float64)).tolist()
        return self.values[0]


def _per_group(name: str, value: Any, n: int, check) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != n:
            raise ConfigError(
                f"has {len(value)} entries but the optimizer has {n} parameter groups.",
                field=name,
                value=list(value),
                fix=f"give one value per group ({n}) or a single value for all.",
            )
        return [check(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return [check(name, value)] * n


def _nonneg(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
        raise ConfigError(f"must be a finite number >= 0, got {v!r}.", field=name, value=v, fix="use e.g. 1e-6.")
    return float(v)


def _ratio(name: str, v: Any) -> float:
    f = _nonneg(name, v)
    if f > 1:
        raise ConfigError(
            f"is a ratio of each group's base LR and must be <= 1, got {v!r}.",
            field=name,
            value=v,
            fix="use e.g. 0.1 for a floor at 10% of the base LR, or min_lr for an absolute floor.",
        )
    return f


def _float_lr(value: Any) -> float:
    return float(value.item()) if isinstance(value, torch.Tensor) else float(value)


class Scheduler(LRScheduler):
    """Drive an optimizer's learning rates from lrkit schedules.

    Args:
        optimizer: any ``torch.optim.Optimizer``. Each group's LR at construction (its
            ``initial_lr`` when resuming with ``last_epoch >= 0``) is its base LR.
        schedule: a :class:`~lrkit.schedules.Schedule`, its ``to_dict()`` form, or a family
            name. Its values are factors of each group's base LR.
        group_schedules: optional per-group schedules (``None`` entries use ``schedule``).
        min_lr: absolute floor, one value or one per group.
        min_lr_ratio: floor as a fraction of each group's base LR (exclusive with ``min_lr``).
        controller: a feedback controller (:mod:`lrkit.feedback`) or its dict form; it is fed
            by ``step(metric)`` and scales the schedule.
        last_epoch: torch's resume argument; prefer :meth:`load_state_dict`.

    Step semantics: after construction the groups hold ``lr(0)``, the LR of the first
    update; each ``step()`` (call it after ``optimizer.step()``) advances to the next. Skipped
    optimizer updates (AMP overflow) and micro-batches of gradient accumulation should not call
    ``step()``. Tensor LRs (``lr=torch.tensor(...)``, for ``torch.compile``d optimizers) are
    updated in place with ``fill_`` and never replaced by floats.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: Schedule | Mapping[str, Any] | str | None = None,
        *,
        group_schedules: Sequence[Schedule | Mapping[str, Any] | None] | None = None,
        min_lr: float | Sequence[float] | None = None,
        min_lr_ratio: float | Sequence[float] | None = None,
        controller: Controller | Mapping[str, Any] | None = None,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise ConfigError(
                f"expected a torch.optim.Optimizer, got {type(optimizer).__name__}.",
                field="optimizer",
                value=optimizer,
                fix="build the optimizer first, then Scheduler(optimizer, schedule).",
            )
        if schedule is None:
            raise ConfigError(
                "no schedule given.",
                field="schedule",
                fix="pass schedule=lrkit.schedules.warmup_cosine(total_steps, warmup_steps) or a dict such as "
                "{type: cosine, steps: 1000}.",
            )
        n = len(optimizer.param_groups)
        self.schedule = as_schedule(schedule)
        if group_schedules is not None:
            if not isinstance(group_schedules, Sequence) or len(group_schedules) != n:
                raise ConfigError(
                    f"needs one entry per parameter group ({n}).",
                    field="group_schedules",
                    value=group_schedules,
                    fix="give a list with a schedule (or null for the default) per group.",
                )
            self.group_schedules: list[Schedule | None] | None = [
                None if s is None else as_schedule(s, field=f"group_schedules[{i}]") for i, s in enumerate(group_schedules)
            ]
        else:
            self.group_schedules = None
        if min_lr is not None and min_lr_ratio is not None:
            raise ConfigError(
                "min_lr and min_lr_ratio are both set.",
                field="min_lr_ratio",
                value=min_lr_ratio,
                fix="keep min_lr (absolute) or min_lr_ratio (fraction of each group's base LR), not both.",
            )
        self.min_lr = _per_group("min_lr", min_lr, n, _nonneg)
        self.min_lr_ratio = _per_group("min_lr_ratio", min_lr_ratio, n, _ratio)
        self.controller = self._resolve_controller(controller)
        self._tables = self._make_tables(n)
        if not isinstance(last_epoch, int) or last_epoch < -1:
            raise ConfigError(f"must be an int >= -1, got {last_epoch!r}.", field="last_epoch", value=last_epoch)
        try:
            super().__init__(optimizer, last_epoch)
        except KeyError as err:
            raise ConfigError(
                f"resuming with last_epoch={last_epoch} but the optimizer has no 'initial_lr' ({err}).",
                field="last_epoch",
                value=last_epoch,
                fix="create the Scheduler with last_epoch=-1 and call load_state_dict(checkpoint) instead.",
            ) from None

    # -- construction helpers --------------------------------------------------------------
    @staticmethod
    def _resolve_controller(controller: Any) -> Controller | None:
        if controller is None or isinstance(controller, Controller):
            return controller
        if isinstance(controller, Mapping):
            from lrkit.feedback import controller_from_dict

            return controller_from_dict(controller)
        raise ConfigError(
            f"expected a feedback controller or its dict, got {type(controller).__name__}.",
            field="controller",
            value=controller,
            fix="pass lrkit.PlateauController(...) or {type: plateau, patience: 10}.",
        )

    def _make_tables(self, n: int) -> list[_Table]:
        shared = _Table(self.schedule)
        if self.group_schedules is None:
            return [shared] * n
        return [shared if s is None else _Table(s) for s in self.group_schedules]

    def _floors(self) -> list[float]:
        if self.min_lr is not None:
            return list(self.min_lr)
        if self.min_lr_ratio is not None:
            return [r * b for r, b in zip(self.min_lr_ratio, self.base_lrs, strict=True)]
        return [0.0] * len(self.base_lrs)

    # -- the LR -----------------------------------------------------------------------------
    @property
    def base_lrs(self) -> list[float]:
        return self._base_lrs

    @base_lrs.setter
    def base_lrs(self, values: Sequence[Any]) -> None:
        # torch hands in clones of tensor LRs; lrkit keeps plain floats (weights_only-safe state)
        self._base_lrs = [_float_lr(v) for v in values]
        self._floor_values = self._floors()

    def lrs_at(self, step: int) -> list[float]:
        """The LR of every group before update ``step`` (``step`` updates already taken)."""
        ctrl = self.controller
        out = []
        for g, (base, table, floor) in enumerate(zip(self._base_lrs, self._tables, self._floor_values, strict=True)):
            lr = base * table(step)
            if ctrl is not None:
                lr *= ctrl.factor(g)
            out.append(lr if lr >= floor else floor)
        return out

    def _apply(self) -> None:
        lrs = self.lrs_at(self.last_epoch)
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            current = group["lr"]
            if isinstance(current, torch.Tensor):
                current.fill_(lr)
            else:
                group["lr"] = lr
        self._last_lr = lrs

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """LRs for the current step (``last_epoch``), computed in closed form."""
        return self.lrs_at(max(self.last_epoch, 0))

    _get_closed_form_lr = get_lr

    def step(self, metric: Any = None) -> None:  # type: ignore[override]
        """Advance one optimizer update. ``metric`` (a loss or validation score) feeds the
        feedback controller, when there is one."""
        if metric is not None:
            if self.controller is None:
                raise ConfigError(
                    "step() got a metric, but this Scheduler has no feedback controller.",
                    field="metric",
                    value=metric,
                    fix="call step() without a metric, or create the Scheduler with controller=... "
                    "(e.g. {type: plateau}).",
                )
            self.controller.update(_float_lr(metric))
        self._step_count += 1
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        return list(self._last_lr)

    # -- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain data only (ints, floats, strings, lists, dicts): safe for
        ``torch.load(weights_only=True)``. The step count is the schedule's whole state."""
        return {
            "lrkit_state_version": _STATE_VERSION,
            "last_epoch": int(self.last_epoch),
            "_step_count": int(self._step_count),
            "base_lrs": list(self._base_lrs),
            "schedule": self.schedule.to_dict(),
            "group_schedules": None
            if self.group_schedules is None
            else [None if s is None else s.to_dict() for s in self.group_schedules],
            "min_lr": self.min_lr,
            "min_lr_ratio": self.min_lr_ratio,
            "controller": None if self.controller is None else self.controller.state_dict(),
            "_last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Continue from a checkpoint: same step, same base LRs, same controller state.

        The schedule is the one this scheduler was built with (the config is the source of
        truth); if the checkpoint was written under a different schedule, floors or base LRs,
        a :class:`~lrkit.ResumeWarning` says so. The groups' LRs are rewritten for the
        restored step, so an LR restored by ``optimizer.load_state_dict`` never lingers.
        """
        if not isinstance(state_dict, Mapping) or "last_epoch" not in state_dict:
            raise ConfigError(
                "not an lrkit Scheduler state (no 'last_epoch').",
                field="state_dict",
                fix="pass the dict returned by Scheduler.state_dict().",
            )
        if "lrkit_state_version" not in state_dict:
            raise ConfigError(
                "this checkpoint was written by another scheduler class, not lrkit.Scheduler.",
                field="state_dict",
                fix="start the schedule from its step: Scheduler(opt, schedule) then sched.last_epoch = step; "
                "sched.step() is not needed.",
            )
        saved = state_dict.get("schedule")
        if saved is not None and saved != self.schedule.to_dict():
            warnings.warn(
                f"the checkpoint's schedule {saved} differs from this scheduler's {self.schedule.to_dict()}; "
                "continuing with this scheduler's schedule at the checkpoint's step.",
                ResumeWarning,
                stacklevel=2,
            )
        base = [float(b) for b in state_dict.get("base_lrs", self._base_lrs)]
        if len(base) != len(self.optimizer.param_groups):
            raise ConfigError(
                f"the checkpoint has {len(base)} parameter groups, the optimizer has {len(self.optimizer.param_groups)}.",
                field="state_dict.base_lrs",
                value=base,
                fix="build the optimizer with the same parameter groups as the run that wrote the checkpoint.",
            )
        if base != self._base_lrs:
            warnings.warn(
                f"the checkpoint's base LRs {base} differ from the optimizer's {self._base_lrs}; "
                "using the checkpoint's, so the resumed run continues the same curve.",
                ResumeWarning,
                stacklevel=2,
            )
        for key in ("min_lr", "min_lr_ratio"):
            if key in state_dict and state_dict[key] != getattr(self, key):
                warnings.warn(
                    f"the checkpoint's {key} {state_dict[key]} differs from this scheduler's {getattr(self, key)}; "
                    "keeping this scheduler's.",
                    ResumeWarning,
                    stacklevel=2,
                )
        self.base_lrs = base
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict.get("_step_count", self.last_epoch + 1))
        ctrl_state = state_dict.get("controller")
        if self.controller is not None and ctrl_state is not None:
            self.controller.load_state_dict(ctrl_state)
        elif (self.controller is None) != (ctrl_state is None):
            warnings.warn(
                "the checkpoint and this scheduler disagree on having a feedback controller; "
                "its state is not restored.",
                ResumeWarning,
                stacklevel=2,
            )
        self._apply()

    def __repr__(self) -> str:
        return f"Scheduler(step={self.last_epoch}, schedule={self.schedule!r}, groups={len(self._base_lrs)})"
