"""The one PyTorch adapter: apply a schedule to an optimizer's parameter groups.

:class:`Scheduler` is a real ``torch.optim.lr_scheduler.LRScheduler``, so Hugging Face
Trainer, Lightning and NeMo RL (``policy.scheduler: [{name: lrkit.Scheduler, kwargs: ...}]``)
accept it. It computes nothing itself: :func:`lrkit.lr_groups.compute_lrs` gives the LR of
group ``g`` before update ``k``,

    lr_g(k) = max(base_lr_g * schedule_g(k) * controller_g, floor_g)

where ``base_lr_g`` is the group's LR when the scheduler was created, ``schedule_g`` the
group's schedule (a factor curve, peak usually 1.0), ``controller_g`` the optional feedback
scale (1.0 without one) and ``floor_g`` the absolute ``min_lr`` or ``min_lr_ratio * base_lr_g``;
:func:`lrkit.lr_groups.write_lrs_at` writes it (a tensor LR in place). The scheduler only keeps
the step count, caches a block of steps' LRs (:class:`LRTable`) and handles checkpoints.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lrkit.errors import ConfigError, ResumeWarning, did_you_mean
from lrkit.feedback.base import metric_value
from lrkit.lr_groups import as_float_lr, compute_lrs, write_lrs_at
from lrkit.schedules.base import Schedule, as_schedule, current_names
from lrkit.schedules.checks import check_steps, parse_number

__all__ = ["Controller", "LRTable", "Scheduler"]

_STATE_VERSION = 1
#: LRs are tabulated a block of steps at a time (one vectorized schedule evaluation per
#: block); blocks start small, so a short run or a resume does not evaluate far ahead, and
#: double up to the largest size, so a long run pays one evaluation per this many steps.
_MIN_BLOCK = 64
_MAX_BLOCK = 4096
_KWARGS = ("schedule", "group_schedules", "min_lr", "min_lr_ratio", "controller", "last_epoch")


@runtime_checkable
class Controller(Protocol):
    """A feedback controller (the only stateful part of lrkit): scales the schedule.

    ``update(metric)`` feeds one metric, ``factor(g)`` is group ``g``'s scale. Optionally, a
    controller with ``set_reference_lrs(lrs)`` is told, before each ``update``, every group's
    LR without the controller (``base_lr * schedule`` at the step the decision applies to), so
    absolute thresholds such as ``PlateauController``'s ``min_lr``/``eps`` act on real LRs.
    """

    def update(self, metric: float) -> None: ...

    def factor(self, group: int) -> float: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...

    def to_dict(self) -> dict[str, Any]: ...


def _per_group(name: str, value: Any, n: int, check: Callable[[str, Any], float]) -> list[float] | None:
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
    return parse_number(name, v, low=0.0, fix="use e.g. 1e-6.")


def _ratio(name: str, v: Any) -> float:
    return parse_number(
        name,
        v,
        low=0.0,
        high=1.0,
        fix="a ratio of each group's base LR: use e.g. 0.1 for a floor at 10% of the base LR, "
        "or min_lr for an absolute floor.",
    )


def _reject_unknown(unknown: Mapping[str, Any]) -> None:
    if unknown:
        key = next(iter(unknown))
        raise ConfigError(
            f"unknown argument {key!r} for lrkit.Scheduler.{did_you_mean(key, _KWARGS)}",
            field=key,
            value=unknown[key],
            fix=f"lrkit.Scheduler takes: {', '.join(_KWARGS)}.",
        )


def _check_optimizer_and_schedule(optimizer: Any, schedule: Any) -> None:
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


def _resolve_group_schedules(
    group_schedules: Sequence[Schedule | Mapping[str, Any] | None] | None, n: int
) -> list[Schedule | None] | None:
    """One schedule (or ``None``: the default) per parameter group, or ``None`` when not given."""
    if group_schedules is None:
        return None
    if not isinstance(group_schedules, Sequence) or len(group_schedules) != n:
        raise ConfigError(
            f"needs one entry per parameter group ({n}).",
            field="group_schedules",
            value=group_schedules,
            fix="give a list with a schedule (or null for the default) per group.",
        )
    return [None if s is None else as_schedule(s, field=f"group_schedules[{i}]") for i, s in enumerate(group_schedules)]


def _resolve_floors(
    min_lr: float | Sequence[float] | None, min_lr_ratio: float | Sequence[float] | None, n: int
) -> tuple[list[float] | None, list[float] | None]:
    """``(min_lr, min_lr_ratio)`` per group; at most one of them is set."""
    if min_lr is not None and min_lr_ratio is not None:
        raise ConfigError(
            "min_lr and min_lr_ratio are both set.",
            field="min_lr_ratio",
            value=min_lr_ratio,
            fix="keep min_lr (absolute) or min_lr_ratio (fraction of each group's base LR), not both.",
        )
    return _per_group("min_lr", min_lr, n, _nonneg), _per_group("min_lr_ratio", min_lr_ratio, n, _ratio)


def _check_last_epoch(last_epoch: Any) -> None:
    if not isinstance(last_epoch, int) or last_epoch < -1:
        raise ConfigError(
            f"must be an int >= -1, got {last_epoch!r}.",
            field="last_epoch",
            value=last_epoch,
            fix="leave it at -1 and resume with load_state_dict(checkpoint).",
        )


def _check_state_kind(state_dict: Any) -> None:
    """Refuse what is not an lrkit Scheduler state (before reading any of it)."""
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
            fix="build lrkit.Scheduler(optimizer, schedule) and call sched.step(<updates already taken>) once: "
            "an int argument jumps to that step.",
        )


class LRTable:
    """A cache of the LRs of consecutive steps: one list of floats per group (``columns[g][k]``).

    ``compute(steps)`` (a float64 array of steps -> an array of shape ``(groups, steps)``) fills
    a block of steps at a time. Blocks start small, so a short run or a resume does not evaluate
    far ahead, and double up to the largest size, so a long run pays one evaluation per that
    many steps. One flat list of floats per group, not one row per step: floats are not tracked
    by the garbage collector, so a block adds a handful of containers, not thousands (per-step
    rows cost more to build than the steps they served, and rows of lists made Python run full
    collections in a torch process).
    """

    __slots__ = ("_block", "columns", "compute", "size", "start")

    def __init__(self, compute: Callable[[np.ndarray], np.ndarray]) -> None:
        self.compute = compute
        self.start = 0  # the step of index 0
        self.size = 0  # steps held; 0 means empty
        self.columns: list[list[float]] = []
        self._block = _MIN_BLOCK // 2

    def clear(self) -> None:
        """Forget the LRs (their inputs changed); the next block starts small again."""
        self.size = 0
        self._block = _MIN_BLOCK // 2

    def index(self, step: int) -> int:
        """The index of ``step`` in :attr:`columns`, tabulating a block from ``step`` if it is not held."""
        i = step - self.start
        if 0 <= i < self.size:
            return i
        self._block = n = min(self._block * 2, _MAX_BLOCK)
        self.columns = self.compute(np.arange(step, step + n, dtype=np.float64)).tolist()
        self.start, self.size = step, n
        return 0

    def row(self, step: int) -> list[float]:
        """Every group's LR at ``step``."""
        i = self.index(step)
        return [column[i] for column in self.columns]


class Scheduler(LRScheduler):
    """Drive an optimizer's learning rates from lrkit schedules.

    Args:
        optimizer: any ``torch.optim.Optimizer``. Each group's base LR is its
            ``initial_lr``: its LR at construction, unless an earlier scheduler on the same
            optimizer already recorded one (torch's convention, which ``SequentialLR`` needs).
        schedule: a :class:`~lrkit.schedules.Schedule`, its ``to_dict()`` form, or the bare
            name ``"constant"``. Its values are factors of each group's base LR.
        group_schedules: optional per-group schedules (``None`` entries use ``schedule``).
        min_lr: absolute floor, one value or one per group.
        min_lr_ratio: floor as a fraction of each group's base LR (exclusive with ``min_lr``).
        controller: a feedback controller (:mod:`lrkit.feedback`) or its dict form; it is fed
            by ``step(metric)`` and scales the schedule.
        last_epoch: torch's resume argument; prefer :meth:`load_state_dict`.

    Step semantics: after construction the groups hold ``lr(0)``, the LR of the first
    update; each ``step()`` (call it after ``optimizer.step()``) advances to the next. Skipped
    optimizer updates (AMP overflow) and micro-batches of gradient accumulation should not call
    ``step()``. ``step(metric)`` with a float or tensor feeds the controller; ``step(k)`` with
    an ``int`` is torch's ``epoch`` argument and jumps to step ``k`` (``SequentialLR`` calls
    ``step(0)`` at a milestone). Tensor LRs (``lr=torch.tensor(...)``, for ``torch.compile``d
    optimizers) are updated in place with ``fill_`` and never replaced by floats.
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
        **unknown: Any,
    ) -> None:
        _reject_unknown(unknown)
        _check_optimizer_and_schedule(optimizer, schedule)
        n = len(optimizer.param_groups)
        self.schedule = as_schedule(schedule)
        self.group_schedules: list[Schedule | None] | None = _resolve_group_schedules(group_schedules, n)
        self.min_lr, self.min_lr_ratio = _resolve_floors(min_lr, min_lr_ratio, n)
        self.controller = self._resolve_controller(controller)
        self._init_tables(n)
        _check_last_epoch(last_epoch)
        try:
            super().__init__(optimizer, last_epoch)
        except KeyError as err:
            raise ConfigError(
                f"resuming with last_epoch={last_epoch} but the optimizer has no 'initial_lr' ({err}).",
                field="last_epoch",
                value=last_epoch,
                fix="create the Scheduler with last_epoch=-1 and call load_state_dict(checkpoint) instead.",
            ) from None

    def _init_tables(self, n: int) -> None:
        """The per-group schedules resolved once, and the empty LR caches the step path reads."""
        self._group_schedule_list = [
            self.schedule if self.group_schedules is None or s is None else s
            for s in (self.group_schedules or [None] * n)
        ]
        # the LRs with the floor and the controller's factors (None without a controller)
        self._factors: list[float] | None = None
        self._table = LRTable(self._compute)
        # base_lr * schedule(k) alone: the reference LRs a controller is told
        self._reference = LRTable(lambda steps: compute_lrs(steps, self._base_lrs, self._group_schedule_list))
        # what the groups were last set to: index _last_index of the table columns _last_columns
        # (two references per step, no list: see _last_lr)
        self._last_columns: Sequence[Sequence[float]] = ()
        self._last_index = 0

    # -- construction helpers --------------------------------------------------------------
    @staticmethod
    def _resolve_controller(controller: Any) -> Controller | None:
        if controller is None or isinstance(controller, Controller):
            return controller
        if isinstance(controller, Mapping):
            from lrkit.feedback import controller_from_dict

            try:
                return controller_from_dict(controller)
            except ConfigError as err:
                raise err.at("controller") from None
        raise ConfigError(
            f"expected a feedback controller or its dict, got {type(controller).__name__}.",
            field="controller",
            value=controller,
            fix="pass lrkit.PlateauController(...) or {type: plateau, patience: 10}.",
        )

    def _floors(self) -> list[float]:
        if self.min_lr is not None:
            # a group created at LR 0 is frozen on purpose; a floor must not start training it
            return [m if b > 0 else 0.0 for m, b in zip(self.min_lr, self._base_lrs, strict=True)]
        if self.min_lr_ratio is not None:
            return [r * b for r, b in zip(self.min_lr_ratio, self.base_lrs, strict=True)]
        return [0.0] * len(self.base_lrs)

    # -- the LR -----------------------------------------------------------------------------
    @property  # type: ignore[override]  # lrkit keeps plain floats where torch allows tensors
    def base_lrs(self) -> list[float]:
        return self._base_lrs

    @base_lrs.setter
    def base_lrs(self, values: Sequence[Any]) -> None:
        # torch hands in clones of tensor LRs; lrkit keeps plain floats (weights_only-safe state)
        self._base_lrs = [as_float_lr(v) for v in values]
        self._floor_values = self._floors()
        self._table.clear()  # the tabulated LRs were for the old base LRs
        self._reference.clear()

    def _compute(self, steps: np.ndarray) -> np.ndarray:
        return compute_lrs(steps, self._base_lrs, self._group_schedule_list, self._factors, self._floor_values)

    def _index(self, step: int) -> int:
        """``step``'s index in ``self._table.columns``, under the controller's current factors."""
        ctrl = self.controller
        if ctrl is not None:
            # the table holds the LRs under the controller's current factors; new factors, new table
            factors = [ctrl.factor(g) for g in range(len(self._base_lrs))]
            if factors != self._factors:
                self._factors = factors
                self._table.clear()
        return self._table.index(step)

    def _lrs(self, step: int) -> list[float]:
        i = self._index(step)
        return [column[i] for column in self._table.columns]

    def lrs_at(self, step: int) -> list[float]:
        """The LR of every group before update ``step`` (``step`` updates already taken):
        ``max(base_lr * schedule(step) * controller_factor, floor)``."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
            raise ConfigError(
                f"must be a whole number of updates >= 0, got {step!r}.",
                field="step",
                value=step,
                fix="pass the number of optimizer updates already taken.",
            )
        return self._lrs(int(step))

    def _apply(self) -> None:
        """Write the LRs of the current step (``last_epoch``) into the groups."""
        i = self._last_index = self._index(self.last_epoch)
        columns = self._last_columns = self._table.columns
        write_lrs_at(self.optimizer.param_groups, columns, i)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """LRs for the current step (``last_epoch``), computed in closed form."""
        return self.lrs_at(max(self.last_epoch, 0))

    _get_closed_form_lr = get_lr

    def step(self, metric: Any = None) -> None:
        """Advance one optimizer update and set every group's LR for the next one.

        ``metric`` (a loss or validation score) feeds the feedback controller, when there is
        one. Without a controller a plain ``int`` is torch's ``epoch`` argument instead:
        ``SequentialLR`` calls ``step(0)`` on the scheduler whose milestone was just reached,
        and that restarts this schedule at its own step 0. With a controller every number is
        a metric, so an integer score is never mistaken for a jump in the schedule.
        """
        if metric is not None:
            if metric.__class__ is int and self.controller is None:
                return self._restart_at(metric)
            if self.controller is None:
                raise ConfigError(
                    "step() got a metric, but this Scheduler has no feedback controller.",
                    field="metric",
                    value=metric,
                    fix="call step() without a metric, or create the Scheduler with controller=... "
                    "(e.g. {type: plateau}).",
                )
            ctrl = self.controller
            reference = getattr(ctrl, "set_reference_lrs", None)
            if reference is not None:
                # the LRs the decision applies to, without the controller: base_lr * schedule(k + 1)
                reference(self._reference.row(self.last_epoch + 1))
            ctrl.update(metric_value(metric))
        self._step_count += 1
        k = self.last_epoch = self.last_epoch + 1
        # The hot path (no controller, step tabulated): LRTable.index's hit inlined (a method call
        # would cost as much as the rest of the step), then one write per group; no list is built.
        table = self._table
        i = k - table.start
        if self.controller is not None or not 0 <= i < table.size:
            i = self._index(k)
        self._last_index = i
        columns = self._last_columns = table.columns
        write_lrs_at(self.optimizer.param_groups, columns, i)

    def _restart_at(self, epoch: int) -> None:
        if epoch < 0:
            raise ConfigError(
                f"step(epoch) needs an epoch >= 0, got {epoch}.",
                field="epoch",
                value=epoch,
                fix="call step() without arguments; lrkit counts the updates itself.",
            )
        self._step_count += 1
        self.last_epoch = epoch
        self._apply()

    @property  # type: ignore[override]  # floats, where torch allows tensors
    def _last_lr(self) -> list[float]:
        """The LRs the groups were last set to (torch's attribute, built when read)."""
        i = self._last_index
        return [column[i] for column in self._last_columns]

    @_last_lr.setter
    def _last_lr(self, lrs: Sequence[Any]) -> None:
        self._last_columns, self._last_index = [[as_float_lr(lr)] for lr in lrs], 0

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        """The LRs the groups were last set to (floats)."""
        return self._last_lr

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
            "_last_lr": self._last_lr,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Continue from a checkpoint: same step, same base LRs, same controller state.

        The schedule is the one this scheduler was built with (the config is the source of
        truth); if the checkpoint was written under a different schedule, floors or base LRs,
        a :class:`~lrkit.ResumeWarning` says so. The groups' LRs are rewritten for the
        restored step, so an LR restored by ``optimizer.load_state_dict`` (or the LR of a new
        config) never lingers for an update -- unless another scheduler set them after this
        one did (a ``SequentialLR`` that has moved past this piece, or one that has not reached
        it): then they are left to it.
        """
        _check_state_kind(state_dict)
        self._warn_schedule_changes(state_dict)
        base, last_epoch, step_count = self._read_resume_point(state_dict)
        self._warn_base_and_floor_changes(base, state_dict)
        # who set the groups' LRs last: this scheduler (they hold what it set at construction,
        # or what it had set when the checkpoint was written) or someone else
        ours = self._groups_hold(self._last_lr) or self._groups_hold(state_dict.get("_last_lr"))
        self.base_lrs = base
        self.last_epoch = last_epoch
        self._step_count = step_count
        self._restore_controller(state_dict.get("controller"))
        # Inside SequentialLR a piece not yet reached sits at last_epoch -1: it has no LR to set.
        if self.last_epoch >= 0 and ours:
            self._apply()

    # the ResumeWarnings below use stacklevel=3: they point at the caller of load_state_dict
    def _warn_schedule_changes(self, state_dict: Mapping[str, Any]) -> None:
        saved = state_dict.get("schedule")
        if saved is not None and current_names(saved) != self.schedule.to_dict():
            warnings.warn(
                f"the checkpoint's schedule {saved} differs from this scheduler's {self.schedule.to_dict()}; "
                "continuing with this scheduler's schedule at the checkpoint's step.",
                ResumeWarning,
                stacklevel=3,
            )
        if "group_schedules" in state_dict:
            mine = (
                None
                if self.group_schedules is None
                else [None if g is None else g.to_dict() for g in self.group_schedules]
            )
            if current_names(state_dict["group_schedules"]) != mine:
                warnings.warn(
                    f"the checkpoint's per-group schedules {state_dict['group_schedules']} differ from this "
                    f"scheduler's {mine}; continuing with this scheduler's at the checkpoint's step.",
                    ResumeWarning,
                    stacklevel=3,
                )

    def _read_resume_point(self, state_dict: Mapping[str, Any]) -> tuple[list[float], int, int]:
        """The checkpoint's ``(base_lrs, last_epoch, _step_count)``, validated against this optimizer."""
        saved_base = state_dict.get("base_lrs", self._base_lrs)
        if isinstance(saved_base, str) or not isinstance(saved_base, Sequence):
            raise ConfigError(
                f"must be a list with one LR per parameter group, got {saved_base!r}.",
                field="state_dict.base_lrs",
                value=saved_base,
                fix="pass the dict returned by Scheduler.state_dict() unchanged.",
            )
        base = [_nonneg(f"state_dict.base_lrs[{i}]", b) for i, b in enumerate(saved_base)]
        last_epoch = check_steps("state_dict.last_epoch", state_dict["last_epoch"], minimum=-1)
        step_count = check_steps("state_dict._step_count", state_dict.get("_step_count", last_epoch + 1))
        if len(base) != len(self.optimizer.param_groups):
            raise ConfigError(
                f"the checkpoint has {len(base)} parameter groups, "
                f"the optimizer has {len(self.optimizer.param_groups)}.",
                field="state_dict.base_lrs",
                value=base,
                fix="build the optimizer with the same parameter groups as the run that wrote the checkpoint.",
            )
        return base, last_epoch, step_count

    def _warn_base_and_floor_changes(self, base: list[float], state_dict: Mapping[str, Any]) -> None:
        if base != self._base_lrs:
            warnings.warn(
                f"the checkpoint's base LRs {base} differ from the optimizer's {self._base_lrs}; "
                "using the checkpoint's, so the resumed run continues the same curve.",
                ResumeWarning,
                stacklevel=3,
            )
        for key in ("min_lr", "min_lr_ratio"):
            if key in state_dict and state_dict[key] != getattr(self, key):
                warnings.warn(
                    f"the checkpoint's {key} {state_dict[key]} differs from this scheduler's {getattr(self, key)}; "
                    "keeping this scheduler's.",
                    ResumeWarning,
                    stacklevel=3,
                )

    def _restore_controller(self, ctrl_state: Any) -> None:
        if self.controller is not None and ctrl_state is not None:
            self.controller.load_state_dict(ctrl_state)
        elif (self.controller is None) != (ctrl_state is None):
            warnings.warn(
                "the checkpoint and this scheduler disagree on having a feedback controller; "
                "its state is not restored.",
                ResumeWarning,
                stacklevel=3,
            )

    def _groups_hold(self, lrs: Any) -> bool:
        """Whether every group's LR is ``lrs`` (to float32 precision: tensor LRs may be float32)."""
        groups = self.optimizer.param_groups
        if not isinstance(lrs, Sequence) or len(lrs) != len(groups):
            return False
        try:
            return all(
                math.isclose(as_float_lr(g["lr"]), float(v), rel_tol=1e-6, abs_tol=1e-30)
                for g, v in zip(groups, lrs, strict=True)
            )
        except (TypeError, ValueError):
            return False

    def __repr__(self) -> str:
        return f"Scheduler(step={self.last_epoch}, schedule={self.schedule!r}, groups={len(self._base_lrs)})"
