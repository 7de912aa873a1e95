"""DeepSpeed's own schedulers (``deepspeed/runtime/lr_schedules.py``): WarmupLR, WarmupDecayLR, WarmupCosineLR."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, REQUIRED, STEPS, Choice, FieldCheck, Flag, Real, Steps

__all__ = ["DEEPSPEED_TYPES", "DEEPSPEED_WARMUP_TYPES", "DeepSpeedLR", "DeepSpeedOneCycle", "DeepSpeedRangeTest"]

#: the scheduler types of DeepSpeed's config whose LR is a function of the step alone, drawn here
DEEPSPEED_TYPES = ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR")
#: DeepSpeed's warm-up shapes (any other value runs as ``log``, with a warning)
DEEPSPEED_WARMUP_TYPES = ("log", "linear")

#: the checks of the two arguments every DeepSpeed scheduler here shares: where it starts, and the
#: LR the optimizer holds when it is built (the first update's when it starts mid-run)
_RESUME_CHECKS: dict[str, FieldCheck] = {
    "last_batch_iteration": Steps(minimum=-1),
    "optimizer_lr": Real(low=0.0, optional=True),
}


def _need_optimizer_lr(kind: str, last: int, optimizer_lr: float | None) -> None:
    # DeepSpeed writes its LR at construction only when last_batch_iteration == -1; otherwise the
    # first update trains at whatever the optimizer holds, which only the caller knows
    if last != -1 and optimizer_lr is None:
        raise ConfigError(
            f"DeepSpeed's {kind} built with last_batch_iteration {last} writes no LR: the first update trains at "
            "the optimizer's LR, and optimizer_lr is not given.",
            field="optimizer_lr",
            value=None,
            fix="give optimizer_lr, the LR in the optimizer when the scheduler is built (in the unit of the other "
            "LRs), or leave last_batch_iteration at -1.",
        )


def _shift_horizon(horizon: float | None, shift: int) -> float | None:
    """A fresh scheduler's horizon on the clock of one entered ``shift`` updates in (update 0,
    the optimizer's own LR, stays its own point)."""
    if horizon is None or shift == 0:
        return horizon
    return max(horizon - shift, 1)


def _shift_starts(starts: list[int], shift: int, until: int | None) -> list[int]:
    return [b - shift for b in starts if b - shift >= 1 and (until is None or b - shift <= until)]


@register("deepspeed")
@dataclass(frozen=True)
class DeepSpeedLR(Schedule):
    """The LR of DeepSpeed's ``name`` scheduler for update ``t`` (``t`` updates already taken).

    DeepSpeed's engine builds the scheduler before training, which writes its value at iteration
    ``-1`` into the optimizer, and steps it after every optimizer update, so update ``t`` runs at
    the value of iteration ``i = t - 1``. With ``n = max(2, warmup_num_steps)`` (DeepSpeed's floor)
    and ``T = total_num_steps``, the warm-up fraction for ``0 <= i < n`` is
    ``g(i) = ln(i + 1) / ln(n)`` (``log``) or ``i / n`` (``linear``); values are in the unit of the
    LRs given (absolute LRs, or factors of a peak):

    - ``WarmupLR``: ``warmup_min_lr`` at ``t = 0``, then ``min + (max - min) * g(i)`` while
      ``i < n`` and ``warmup_max_lr`` after;
    - ``WarmupDecayLR``: the same warm-up, then ``min + (max - min) * max(0, (T - i) / max(1, T - n))``:
      a straight line to ``warmup_min_lr`` at ``i = T``, held there;
    - ``WarmupCosineLR`` (ratios of the optimizer's ``lr``): ``0`` at ``t = 0`` (its iteration ``-1``
      value), ``lr * (r0 + (1 - r0) * g(i))`` with ``r0 = warmup_min_ratio`` while ``i < n``, then
      ``lr * max(0, c + (1 - c) * (1 + cos(pi p)) / 2)`` with ``c = cos_min_ratio`` and
      ``p = min(1, (i - n + 1) / max(1, T - n))``: it holds ``lr * c`` from ``i = n - 1 + max(1, T - n)``
      (DeepSpeed 0.19.3 and later; earlier releases let the cosine climb back after ``T``).

    ``last_batch_iteration = L`` other than ``-1`` (a scheduler resumed mid-run) starts at iteration
    ``L``: DeepSpeed writes nothing at construction, so update ``0`` trains at ``optimizer_lr`` (the
    LR in the optimizer when the scheduler is built; ``lr`` for ``WarmupCosineLR``, whose ratios
    multiply it) and update ``t >= 1`` at iteration ``i = t + L`` (``t - 1`` when ``L = -1``).
    """

    name: str = "WarmupLR"
    warmup_min_lr: float = 0.0
    warmup_max_lr: float = 0.001
    warmup_num_steps: int = 1000
    warmup_type: str = "log"
    total_num_steps: int | None = None
    lr: float = 1.0
    warmup_min_ratio: float = 0.0
    cos_min_ratio: float = 0.0001
    last_batch_iteration: int = -1
    optimizer_lr: float | None = None

    _checks = {
        "name": Choice(DEEPSPEED_TYPES),
        "warmup_min_lr": NONNEG,
        "warmup_max_lr": NONNEG,
        "warmup_num_steps": STEPS,  # 0 runs as 2 up to DeepSpeed 0.19.2; later releases refuse it
        "warmup_type": Choice(DEEPSPEED_WARMUP_TYPES),
        "total_num_steps": Steps(optional=True),
        "lr": NONNEG,
        "warmup_min_ratio": Real(low=0.0),
        "cos_min_ratio": Real(low=0.0),
        **_RESUME_CHECKS,
    }

    def _validate(self) -> None:
        if self.name != "WarmupLR" and self.total_num_steps is None:
            raise ConfigError(
                f"DeepSpeed's {self.name} needs total_num_steps (its constructor has no default for it).",
                field="total_num_steps",
                fix="set scheduler.params.total_num_steps to the run's optimizer updates.",
            )
        if self.name == "WarmupCosineLR":
            if self.optimizer_lr is not None and self.optimizer_lr != self.lr:
                raise ConfigError(
                    f"WarmupCosineLR's optimizer LR is lr ({self.lr:g}); optimizer_lr {self.optimizer_lr:g} differs.",
                    field="optimizer_lr",
                    value=self.optimizer_lr,
                    fix="give the optimizer's LR as lr and leave optimizer_lr unset.",
                )
        else:
            _need_optimizer_lr(self.name, self.last_batch_iteration, self.optimizer_lr)

    @property
    def warmup_iterations(self) -> int:
        """The warm-up's length in iterations as DeepSpeed uses it: ``max(2, warmup_num_steps)``."""
        return max(2, self.warmup_num_steps)

    def cosine_ratio(self, i: np.ndarray | float, *, clamped: bool = True) -> np.ndarray:
        """``WarmupCosineLR``'s factor of ``lr`` after the warm-up, at iteration ``i``:
        ``max(0, c + (1 - c) * (1 + cos(pi p)) / 2)``, ``p = (i - n + 1) / max(1, T - n)``, clamped
        to ``p <= 1`` as DeepSpeed 0.19.3 and later do (``clamped=False``: earlier releases, whose
        cosine climbs back after ``T``; only for saying where they go)."""
        n, total = self.warmup_iterations, self.total_num_steps or 0
        p = (np.asarray(i, dtype=float) - n + 1) / max(1, total - n)
        if clamped:
            p = np.minimum(1.0, p)
        c = self.cos_min_ratio
        return np.maximum(0.0, c + (1.0 - c) * ((1 + np.cos(np.pi * p)) / 2))

    def _gamma(self, i: np.ndarray) -> np.ndarray:
        """The warm-up fraction at iteration ``i`` (``0 <= i < n``), as DeepSpeed computes it."""
        if self.warmup_type == "linear":
            return i / self.warmup_iterations
        return (1.0 / math.log(self.warmup_iterations)) * np.log(i + 1.0)

    def _first(self) -> float:
        """The LR of update 0: the iteration -1 value DeepSpeed writes when built with
        ``last_batch_iteration == -1``, else the optimizer's own."""
        cosine = self.name == "WarmupCosineLR"
        if self.last_batch_iteration == -1:
            return 0.0 if cosine else self.warmup_min_lr
        return self.lr if cosine else float(self.optimizer_lr or 0.0)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        i = np.maximum(t + self.last_batch_iteration, 0.0)
        n = self.warmup_iterations
        warm = i < n
        g = self._gamma(np.where(warm, i, 0.0))
        if self.name == "WarmupCosineLR":
            ratio = np.where(warm, self.warmup_min_ratio + g * (1.0 - self.warmup_min_ratio), self.cosine_ratio(i))
            return np.where(t < 1, self._first(), self.lr * ratio)
        if self.name == "WarmupDecayLR":
            total = self.total_num_steps or 0
            after = np.maximum(0.0, (total - i) / float(max(1.0, total - n)))
        else:
            after = np.ones_like(i)
        gamma = np.where(warm, g, after)
        value = self.warmup_min_lr + (self.warmup_max_lr - self.warmup_min_lr) * gamma
        return np.where(t < 1, self._first(), value)

    @property
    def _fresh_horizon(self) -> int:
        """The horizon of the same scheduler started from iteration -1."""
        n, total = self.warmup_iterations, self.total_num_steps or 0
        if self.name == "WarmupCosineLR":
            return n + max(1, total - n)
        if self.name == "WarmupDecayLR":
            return max(n, total) + 1
        return n + 1

    @property
    def horizon(self) -> float | None:
        return _shift_horizon(self._fresh_horizon, self.last_batch_iteration + 1)

    def phase_starts(self, until: int | None = None) -> list[int]:
        return _shift_starts(
            sorted({self.warmup_iterations + 1, self._fresh_horizon}), self.last_batch_iteration + 1, until
        )


@register("deepspeed_onecycle")
@dataclass(frozen=True)
class DeepSpeedOneCycle(Schedule):
    """DeepSpeed's ``OneCycle`` LR for update ``t`` (its batch iteration ``b = t``: the constructor
    writes ``cycle_min_lr``, the value at ``b = 0``, and the engine steps it after every update).

    With ``F = cycle_first_step_size``, ``S = cycle_second_step_size`` (``F`` when unset) and
    ``C = F + S``, for ``t < C + 1``: ``x = 1 + b / C - floor(1 + b / C)``, the scale is ``x / (F / C)``
    while ``x <= F / C`` (rising) and ``(x - 1) / (F / C - 1)`` after (falling); a stair count ``s > 0``
    of that half quantises it to ``floor(pos) / s`` with ``pos = (b mod C) * s / F`` rising or
    ``(C - b mod C) * s / S`` falling (DeepSpeed 0.19.5's stairs); the LR is
    ``min + (max - min) * scale``. After the cycle (``d = t - C``): ``min / (1 + decay_lr_rate * d /
    decay_step_size)``, or ``min`` when either is 0. Momentum cycling does not change the LR.
    """

    cycle_min_lr: float = REQUIRED
    cycle_max_lr: float = REQUIRED
    decay_lr_rate: float = 0.0
    cycle_first_step_size: float = 2000.0
    cycle_second_step_size: float | None = None
    cycle_first_stair_count: int = 0
    cycle_second_stair_count: int | None = None
    decay_step_size: float = 0.0
    last_batch_iteration: int = -1
    optimizer_lr: float | None = None

    _checks = {
        "cycle_min_lr": NONNEG,
        "cycle_max_lr": NONNEG,
        "decay_lr_rate": NONNEG,
        "cycle_first_step_size": Real(low=0.0, low_open=True),
        "cycle_second_step_size": Real(low=0.0, optional=True),
        "cycle_first_stair_count": STEPS,
        "cycle_second_stair_count": Steps(optional=True),
        "decay_step_size": NONNEG,
        **_RESUME_CHECKS,
    }

    def _validate(self) -> None:
        _need_optimizer_lr("OneCycle", self.last_batch_iteration, self.optimizer_lr)

    @property
    def _sizes(self) -> tuple[float, float, float]:
        first = float(self.cycle_first_step_size)
        second = first if self.cycle_second_step_size is None else float(self.cycle_second_step_size)
        return first, second, first + second

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        fresh = self._fresh(t + (self.last_batch_iteration + 1))
        if self.last_batch_iteration == -1:
            return fresh
        return np.where(t < 1, float(self.optimizer_lr or 0.0), fresh)

    def _fresh(self, t: np.ndarray) -> np.ndarray:
        """The curve of the scheduler started from iteration -1."""
        first, second, total = self._sizes
        ratio = first / total
        b = t
        x = 1.0 + b / total - np.floor(1 + b / total)
        rising = x <= ratio
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(rising, x / ratio, (x - 1) / (ratio - 1))
            stairs_up = self.cycle_first_stair_count
            stairs_down = stairs_up if self.cycle_second_stair_count is None else self.cycle_second_stair_count
            if stairs_up > 0 or stairs_down > 0:
                ci = np.mod(b, total)
                up = ci <= first
                pos = np.where(up, ci * stairs_up / first, (total - ci) * stairs_down / (second or 1.0))
                count = np.where(rising, stairs_up, stairs_down)
                stepped = np.floor(pos) / np.where(count > 0, count, 1)
                scale = np.where(count > 0, stepped, scale)
        cycle = self.cycle_min_lr + (self.cycle_max_lr - self.cycle_min_lr) * scale
        skip = math.isclose(self.decay_step_size, 0) or math.isclose(self.decay_lr_rate, 0)
        if skip:
            decay = np.full_like(t, self.cycle_min_lr)
        else:
            # before the cycle ends the factor may be 0 (0 / 0 with a floor of 0); that value is unused
            with np.errstate(divide="ignore", invalid="ignore"):
                decay = self.cycle_min_lr / (1 + self.decay_lr_rate * ((t - total) / self.decay_step_size))
        return np.where(t - 1 < total, cycle, decay)

    @property
    def horizon(self) -> float | None:
        skip = math.isclose(self.decay_step_size, 0) or math.isclose(self.decay_lr_rate, 0)
        return _shift_horizon(math.floor(self._sizes[2]) + 1 if skip else None, self.last_batch_iteration + 1)

    def phase_starts(self, until: int | None = None) -> list[int]:
        first, _, total = self._sizes
        bs = sorted({math.ceil(first), math.floor(total) + 1})
        return _shift_starts(bs, self.last_batch_iteration + 1, until)


@register("deepspeed_range_test")
@dataclass(frozen=True)
class DeepSpeedRangeTest(Schedule):
    """DeepSpeed's ``LRRangeTest`` LR for update ``t``:
    ``lr_range_test_min_lr * (1 + lr_range_test_step_rate * t / lr_range_test_step_size)``
    (``floor(t / step_size)`` with ``lr_range_test_staircase``); it grows without end.
    ``last_batch_iteration = L`` other than ``-1`` (resumed mid-run): update 0 trains at
    ``optimizer_lr`` (DeepSpeed writes no LR when built), update ``t >= 1`` at ``t + L + 1``."""

    lr_range_test_min_lr: float = 1e-3
    lr_range_test_step_size: int = 2000
    lr_range_test_step_rate: float = 1.0
    lr_range_test_staircase: bool = False
    last_batch_iteration: int = -1
    optimizer_lr: float | None = None

    _checks = {
        "lr_range_test_min_lr": NONNEG,
        "lr_range_test_step_size": Steps(minimum=1),
        "lr_range_test_step_rate": NONNEG,
        "lr_range_test_staircase": Flag(),
        **_RESUME_CHECKS,
    }

    def _validate(self) -> None:
        _need_optimizer_lr("LRRangeTest", self.last_batch_iteration, self.optimizer_lr)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        interval = (t + (self.last_batch_iteration + 1)) / self.lr_range_test_step_size
        if self.lr_range_test_staircase:
            interval = np.floor(interval)
        fresh = self.lr_range_test_min_lr * (1 + self.lr_range_test_step_rate * interval)
        if self.last_batch_iteration == -1:
            return fresh
        return np.where(t < 1, float(self.optimizer_lr or 0.0), fresh)
