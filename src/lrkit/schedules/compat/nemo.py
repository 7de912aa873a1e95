"""NeMo's ``nemo/core/optim/lr_scheduler.py`` policies."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, POSITIVE, REQUIRED, STEPS, Choice, Flag, Steps

__all__ = ["NEMO_POLICIES", "NemoLR", "NemoT5InverseSqrt"]


NEMO_POLICIES = (
    "WarmupPolicy",
    "WarmupHoldPolicy",
    "WarmupAnnealing",
    "CosineAnnealing",
    "InverseSquareRootAnnealing",
    "NoamAnnealing",
    "NoamHoldAnnealing",
    "PolynomialDecayAnnealing",
    "PolynomialHoldDecayAnnealing",
    "SquareAnnealing",
    "SquareRootAnnealing",
    "WarmupHoldAnnealLinear",
    "WarmupHoldAnnealOneMinusSquareRoot",
)
_HOLD_FAMILY = (
    "WarmupHoldPolicy",
    "PolynomialHoldDecayAnnealing",
    "NoamHoldAnnealing",
    "WarmupHoldAnnealLinear",
    "WarmupHoldAnnealOneMinusSquareRoot",
)
#: hold-family policies that anneal from the end of the hold ``H`` over ``max_steps - H``
_HOLD_ANNEAL = ("WarmupHoldAnnealLinear", "WarmupHoldAnnealOneMinusSquareRoot")


@register("nemo")
@dataclass(frozen=True)
class NemoLR(Schedule):
    """A NeMo ``optim.sched`` policy, as ``nemo/core/optim/lr_scheduler.py`` computes it.

    Values are factors of the optimizer's LR (``min_lr`` too). The step is the scheduler's
    ``last_epoch``. The warm-up of the Warmup* policies is ``(t + 1) / (W + 1)`` for ``t <= W``;
    past ``max_steps`` every policy but Noam returns ``min_lr``. ``CosineAnnealing`` with
    ``constant_steps > 0`` switches to Megatron's form: warm-up ``t / W`` (first update at 0),
    cosine over ``max_steps - W - constant_steps`` steps, then ``min_lr`` for the last
    ``constant_steps`` (a floor tail, not a hold at the peak). ``hold_steps`` here is NeMo's
    absolute end of the hold (its ``hold_steps`` argument plus the warm-up), 0 without a hold.
    """

    policy: str = "CosineAnnealing"
    max_steps: int = REQUIRED
    warmup_steps: int = 0
    hold_steps: int = 0
    constant_steps: int = 0
    min_lr: float = 0.0
    power: float = 1.0
    cycle: bool = False
    d_model: float = 1.0
    decay_rate: float = 0.5

    _checks = {
        "policy": Choice(NEMO_POLICIES),
        "max_steps": Steps(minimum=1),
        "warmup_steps": STEPS,
        "hold_steps": STEPS,
        "constant_steps": STEPS,
        "min_lr": NONNEG,
        "power": POSITIVE,
        "d_model": POSITIVE,
        "decay_rate": POSITIVE,
        "cycle": Flag(),
    }

    def _validate(self) -> None:
        p, w, m = self.policy, self.warmup_steps, self.max_steps
        if p in ("CosineAnnealing", "NoamAnnealing") and self.min_lr > 1.0:
            raise ConfigError(
                f"min_lr is {self.min_lr:g} times the optimizer's LR; NeMo refuses an initial LR below min_lr.",
                field="min_lr",
                value=self.min_lr,
                fix="lower min_lr below optim.lr.",
            )
        if p == "CosineAnnealing" and self.constant_steps > 0 and not self.min_lr < 1.0:
            raise ConfigError(
                "with constant_steps NeMo asserts the LR is above min_lr.",
                field="min_lr",
                value=self.min_lr,
                fix="lower min_lr below optim.lr.",
            )
        if p == "NoamHoldAnnealing" and w == 0:
            raise ConfigError(
                "NoamHoldAnnealing cannot be used without warm-up steps (NeMo raises).",
                field="warmup_steps",
                value=w,
                fix="set warmup_steps or warmup_ratio.",
            )
        # CosineAnnealing evaluates its decay only for warmup < step <= max_steps (and the
        # constant_steps form only up to warmup + decay): with no room for a decay NeMo runs the
        # warm-up and then min_lr, never dividing by zero; the reader reports it as an error finding
        if (
            p not in ("NoamAnnealing", "WarmupPolicy", "WarmupHoldPolicy", "SquareRootAnnealing", "CosineAnnealing")
            and p not in _HOLD_ANNEAL
            and m - w <= 0
        ):
            raise ConfigError(
                f"the warm-up ({w} steps) leaves no decay before max_steps ({m}); NeMo divides by zero.",
                field="warmup_steps",
                value=w,
                fix="use a warm-up shorter than max_steps.",
            )
        if p in _HOLD_ANNEAL and self.hold_steps == m:
            raise ConfigError(
                f"warm-up and hold end exactly at max_steps ({m}); NeMo divides by zero at that step.",
                field="hold_steps",
                value=self.hold_steps,
                fix="shorten the hold or the warm-up, or lengthen max_steps.",
            )
        if p == "PolynomialHoldDecayAnnealing" and m - max(w, self.hold_steps) <= 0:
            raise ConfigError(
                f"warm-up and hold reach max_steps ({m}); NeMo divides by zero.",
                field="hold_steps",
                value=self.hold_steps,
                fix="shorten the hold or the warm-up.",
            )

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        p, w, m, mn = self.policy, self.warmup_steps, self.max_steps, self.min_lr
        if p == "NoamAnnealing":
            return self._noam(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            main = self._main(t)
        if p == "CosineAnnealing":
            decay = m - (self.constant_steps + w)
            if self.constant_steps > 0:
                warm = t / w if w > 0 else np.zeros_like(t)
                out = np.where((t > w + decay) & (t <= m), mn, main)
            else:
                warm = (t + 1) / (w + 1)
                out = main
            out = np.where(t > m, mn, out)
            if w > 0:
                out = np.where(t <= w, warm, out)
            return out
        out = np.where(t > m, mn, main)
        if p in _HOLD_FAMILY:
            out = np.where((t >= w) & (t < self.hold_steps), 1.0, out)
        if w > 0:
            out = np.where(t <= w, (t + 1) / (w + 1), out)
        return out

    def _main(self, t: np.ndarray) -> np.ndarray:
        p, w, m, mn = self.policy, self.warmup_steps, self.max_steps, self.min_lr
        if p in ("WarmupPolicy", "WarmupHoldPolicy"):
            return np.ones_like(t)
        if p == "WarmupAnnealing":
            mult = (t - w) / (m - w)
            return mn + (1 - mult) * (1.0 - mn)
        if p == "CosineAnnealing":
            if self.constant_steps == 0:
                c = 0.5 * (1 + np.cos(math.pi * (t - w) / (m - w)))
                return (1.0 - mn) * c + mn
            decay = m - (self.constant_steps + w)
            ratio = (t - w) / float(decay)
            c = 0.5 * (np.cos(math.pi * ratio) + 1.0)
            return np.where(t > w + decay, mn, mn + c * (1.0 - mn))
        if p == "InverseSquareRootAnnealing":
            return 1.0 / ((t + 1) / (w + 1)) ** 0.5
        if p == "SquareAnnealing":
            ms = m - w
            return np.maximum(((ms - (t - w)) / ms) ** 2, mn)
        if p == "SquareRootAnnealing":
            return np.maximum(np.sqrt(np.maximum((m - t) / m, 0.0)), mn)
        if p == "PolynomialDecayAnnealing":
            return self._poly(t - w, m - w)
        if p == "PolynomialHoldDecayAnnealing":
            return self._poly(t - self.hold_steps, m - max(w, self.hold_steps))
        if p in _HOLD_ANNEAL:
            # from the end of the hold H (0 without a hold) to max_steps: linear to min_lr, or
            # 1 - sqrt(progress) floored at min_lr
            h = self.hold_steps
            progress = (t - h) / (m - h)
            if p == "WarmupHoldAnnealLinear":
                return 1.0 - (1.0 - mn) * progress
            return np.maximum(mn, 1.0 - np.sqrt(progress))
        # NoamHoldAnnealing
        hold = self.hold_steps - w if self.hold_steps > 0 else 0
        twd = max(1.0, w**self.decay_rate)
        thd = np.maximum(1.0, np.maximum(t - hold, 0.0) ** self.decay_rate)
        return np.maximum(twd / thd, mn)

    def _poly(self, step: np.ndarray, decay_steps: int) -> np.ndarray:
        if self.cycle:
            mult = np.where(step == 0, 1.0, np.ceil(step / decay_steps))
            ds = decay_steps * mult
            s = step
        else:
            ds = np.float64(decay_steps)
            s = np.minimum(step, decay_steps)
        pr = s / ds
        return (1.0 - self.min_lr) * np.power(np.maximum(1.0 - pr, 0.0), self.power) + self.min_lr

    def _noam(self, t: np.ndarray) -> np.ndarray:
        step = np.maximum(1.0, t)
        w = self.warmup_steps
        norm = self.d_model ** (-0.5)
        if w > 0:
            mult = norm * np.minimum(step ** (-0.5), step * (w ** (-1.5)))
        else:
            mult = norm * step ** (-0.5)
        return np.where(step > w, np.maximum(mult, self.min_lr), mult)

    @property
    def horizon(self) -> float | None:
        if self.policy == "NoamAnnealing":
            return None
        return self.max_steps + 1

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = {self.warmup_steps + 1 if self.warmup_steps else 0, self.max_steps + 1}
        if self.hold_steps:
            bs.add(self.hold_steps)
        if self.constant_steps:
            bs.add(self.max_steps - self.constant_steps + 1)
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))


@register("nemo_t5_inverse_sqrt")
@dataclass(frozen=True)
class NemoT5InverseSqrt(Schedule):
    """NeMo's ``T5InverseSquareRootAnnealing`` (on ``SquareRootConstantPolicy``), in absolute LRs
    divided by ``peak_lr``.

    For the scheduler's step ``t`` (``last_epoch``; PyTorch Lightning steps it after every update,
    so update ``t`` runs at step ``t``), with ``C = constant_steps`` and ``M = max_steps``, the LR is

    - ``1 / sqrt(C)`` for ``t <= C`` (tested first, so also past ``M`` when ``C >= M``);
    - ``1 / sqrt(t)`` for ``C < t <= M`` (no floor at ``min_lr``);
    - ``min_lr`` for ``t > M``.

    None of it depends on the optimizer's LR: NeMo writes these values into the parameter groups
    as they are. ``min_lr`` is an absolute LR; ``peak_lr`` is the unit of the values (1.0 draws
    absolute LRs; a reader passes the curve's largest LR to draw factors of it).
    """

    max_steps: int = REQUIRED
    constant_steps: float = REQUIRED
    min_lr: float = 0.0
    peak_lr: float = 1.0

    _checks = {"max_steps": STEPS, "constant_steps": POSITIVE, "min_lr": NONNEG, "peak_lr": POSITIVE}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        c, m = self.constant_steps, self.max_steps
        with np.errstate(divide="ignore"):  # t = 0 is always in the constant phase (C > 0)
            decay = 1.0 / np.sqrt(t)
        out = np.where(t <= c, 1.0 / math.sqrt(c), np.where(t > m, self.min_lr, decay))
        return out / self.peak_lr

    @property
    def horizon(self) -> float | None:
        return max(self.max_steps + 1, math.floor(self.constant_steps) + 1)

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = {math.floor(self.constant_steps) + 1, self.max_steps + 1}
        return sorted(b for b in bs if until is None or b <= until)
