"""DeepSpeed's own schedulers (``deepspeed/runtime/lr_schedules.py``): WarmupLR, WarmupDecayLR, WarmupCosineLR."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, STEPS, Choice, Real, Steps

__all__ = ["DEEPSPEED_TYPES", "DEEPSPEED_WARMUP_TYPES", "DeepSpeedLR"]

#: the scheduler types of DeepSpeed's config whose LR is a function of the step alone, drawn here
DEEPSPEED_TYPES = ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR")
#: DeepSpeed's warm-up shapes (any other value runs as ``log``, with a warning)
DEEPSPEED_WARMUP_TYPES = ("log", "linear")


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
    }

    def _validate(self) -> None:
        if self.name != "WarmupLR" and self.total_num_steps is None:
            raise ConfigError(
                f"DeepSpeed's {self.name} needs total_num_steps (its constructor has no default for it).",
                field="total_num_steps",
                fix="set scheduler.params.total_num_steps to the run's optimizer updates.",
            )

    @property
    def _n(self) -> int:
        return max(2, self.warmup_num_steps)

    def _gamma(self, i: np.ndarray) -> np.ndarray:
        """The warm-up fraction at iteration ``i`` (``0 <= i < n``), as DeepSpeed computes it."""
        if self.warmup_type == "linear":
            return i / self._n
        return (1.0 / math.log(self._n)) * np.log(i + 1.0)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        i = np.maximum(t - 1.0, 0.0)
        n = self._n
        warm = i < n
        g = self._gamma(np.where(warm, i, 0.0))
        if self.name == "WarmupCosineLR":
            total = self.total_num_steps or 0
            p = np.minimum(1.0, (i - n + 1) / max(1, total - n))
            cosine = np.maximum(0.0, self.cos_min_ratio + (1.0 - self.cos_min_ratio) * ((1 + np.cos(np.pi * p)) / 2))
            ratio = np.where(warm, self.warmup_min_ratio + g * (1.0 - self.warmup_min_ratio), cosine)
            return np.where(t < 1, 0.0, self.lr * ratio)
        if self.name == "WarmupDecayLR":
            total = self.total_num_steps or 0
            after = np.maximum(0.0, (total - i) / float(max(1.0, total - n)))
        else:
            after = np.ones_like(i)
        gamma = np.where(warm, g, after)
        value = self.warmup_min_lr + (self.warmup_max_lr - self.warmup_min_lr) * gamma
        return np.where(t < 1, self.warmup_min_lr, value)

    @property
    def horizon(self) -> float | None:
        n, total = self._n, self.total_num_steps or 0
        if self.name == "WarmupCosineLR":
            return n + max(1, total - n)
        if self.name == "WarmupDecayLR":
            return max(n, total) + 1
        return n + 1

    def phase_starts(self, until: int | None = None) -> list[int]:
        h = self.horizon
        assert h is not None
        bs = sorted({self._n + 1, int(h)})
        return [b for b in bs if until is None or b <= until]
