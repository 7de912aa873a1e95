"""Hugging Face ``transformers.get_scheduler``: every curve of ``transformers/optimization.py``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register, set_field
from lrkit.schedules.checks import NONNEG, POSITIVE, RATIO, STEPS, Choice, Real, Steps

__all__ = ["HF_TYPES", "HFLambda"]


#: SchedulerType values that define a curve (reduce_lr_on_plateau and greedy react to metrics)
HF_TYPES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
)
_WSD_SHAPES = ("linear", "cosine", "1-sqrt")


@register("hf_lambda")
@dataclass(frozen=True)
class HFLambda(Schedule):
    """The multiplier of ``transformers.get_scheduler(name, ...)`` at step ``t``.

    Follows ``transformers/optimization.py`` (the ``_get_*_lr_lambda`` functions) term by term,
    including its quirks: the warm-up ``t / W`` trains the first update at LR 0; ``cosine``
    and ``cosine_with_min_lr`` climb back after ``training_steps`` (no clamp) and when
    ``num_cycles != 0.5``; ``linear`` clamps at 0. ``lr_init``/``lr_end`` are absolute LRs used
    only by ``polynomial`` (whose multiplier is ``lr / lr_init``).
    """

    name: str = "linear"
    warmup_steps: int = 0
    training_steps: int | None = None
    num_cycles: float = 0.5
    power: float = 1.0
    lr_init: float = 1.0
    lr_end: float = 1e-7
    timescale: float | None = None
    min_lr_rate: float = 0.0
    warmup_lr_rate: float | None = None
    num_stable_steps: int | None = None
    num_decay_steps: int | None = None
    warmup_type: str = "linear"
    decay_type: str = "cosine"

    _checks = {
        "name": Choice(HF_TYPES),
        "warmup_steps": STEPS,
        "training_steps": Steps(optional=True),
        "num_cycles": NONNEG,
        "power": POSITIVE,
        "lr_init": POSITIVE,
        "lr_end": NONNEG,
        "timescale": Real(low=0.0, low_open=True, optional=True),
        "min_lr_rate": RATIO,
        "warmup_lr_rate": Real(low=0.0, high=1.0, optional=True),
        "num_stable_steps": Steps(optional=True),
        "num_decay_steps": Steps(optional=True),
        "warmup_type": Choice(_WSD_SHAPES),
        "decay_type": Choice(_WSD_SHAPES),
    }

    def _validate(self) -> None:
        needs_total = self.name not in ("constant", "constant_with_warmup", "inverse_sqrt", "warmup_stable_decay")
        if needs_total and self.training_steps is None:
            raise ConfigError(
                f"hf {self.name!r} needs the number of training steps.",
                field="training_steps",
                fix="set max_steps (or epochs and steps per epoch).",
            )
        if self.name == "polynomial" and not self.lr_init > self.lr_end:
            raise ConfigError(
                f"lr_end ({self.lr_end:g}) must be smaller than the initial lr ({self.lr_init:g}).",
                field="lr_end",
                value=self.lr_end,
                fix="lower lr_end in lr_scheduler_kwargs (transformers raises the same error).",
            )
        if self.name == "warmup_stable_decay":
            if self.num_decay_steps is None:
                raise ConfigError(
                    "warmup_stable_decay needs num_decay_steps.",
                    field="num_decay_steps",
                    fix="add num_decay_steps to lr_scheduler_kwargs.",
                )
            if self.num_stable_steps is None:
                if self.training_steps is None:
                    raise ConfigError(
                        "warmup_stable_decay needs num_stable_steps or the number of training steps.",
                        field="num_stable_steps",
                        fix="add num_stable_steps to lr_scheduler_kwargs or set max_steps.",
                    )
                stable = self.training_steps - self.warmup_steps - self.num_decay_steps
                if stable < 0:
                    raise ConfigError(
                        f"warm-up ({self.warmup_steps}) plus decay ({self.num_decay_steps}) is longer than the run "
                        f"({self.training_steps}).",
                        field="num_decay_steps",
                        value=self.num_decay_steps,
                        fix="shorten the warm-up or num_decay_steps, or train longer.",
                    )
                set_field(self, "num_stable_steps", stable)

    def _warm(self, t: np.ndarray) -> np.ndarray:
        return t / float(max(1, self.warmup_steps))

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        # the curves that use n are refused without training_steps (see _validate)
        w, n, name = self.warmup_steps, self.training_steps or 0, self.name
        warm = t < w
        if name == "constant":
            return np.ones_like(t)
        if name == "constant_with_warmup":
            return np.where(warm, t / float(max(1.0, w)), 1.0)
        if name == "linear":
            rest = np.maximum(0.0, (n - t) / float(max(1, n - w)))
            return np.where(warm, self._warm(t), rest)
        if name in ("cosine", "cosine_with_min_lr"):
            p = (t - w) / float(max(1, n - w))
            f = 0.5 * (1.0 + np.cos(math.pi * float(self.num_cycles) * 2.0 * p))
            if name == "cosine_with_min_lr":
                f = f * (1 - self.min_lr_rate) + self.min_lr_rate
            return np.where(warm, self._warm(t), np.maximum(0.0, f))
        if name == "cosine_with_restarts":
            p = (t - w) / float(max(1, n - w))
            f = np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * ((float(self.num_cycles) * p) % 1.0))))
            return np.where(warm, self._warm(t), np.where(p >= 1.0, 0.0, f))
        if name == "polynomial":
            lr_range = self.lr_init - self.lr_end
            decay_steps = n - w
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = 1 - (t - w) / decay_steps if decay_steps else np.zeros_like(t)
                mid = (lr_range * np.maximum(pct, 0.0) ** self.power + self.lr_end) / self.lr_init
            return np.where(warm, self._warm(t), np.where(t > n, self.lr_end / self.lr_init, mid))
        if name == "inverse_sqrt":
            ts = self.timescale if self.timescale is not None else (w or 10_000)
            shift = ts - w
            with np.errstate(divide="ignore"):
                decay = 1.0 / np.sqrt(np.maximum(t + shift, 0.0) / ts)
            return np.where(warm, self._warm(t), decay)
        if name == "cosine_warmup_with_min_lr":
            if self.warmup_lr_rate is None:
                wv = (t + 1.0) / max(1.0, float(w))
            else:
                wr = float(self.warmup_lr_rate)
                wv = wr + (1.0 - wr) * t / max(1, w - 1)
            p = (t - w + 1.0) / max(1.0, float(n) - w)
            f = 0.5 * (1.0 + np.cos(math.pi * self.num_cycles * 2.0 * p))
            f = f * (1 - self.min_lr_rate) + self.min_lr_rate
            return np.where(warm, wv, np.maximum(0.0, f))
        # warmup_stable_decay
        r, s, d = self.min_lr_ratio_wsd, self.num_stable_steps or 0, self.num_decay_steps or 0
        pw = t / float(max(1, w))
        if self.warmup_type == "linear":
            fw = pw
        elif self.warmup_type == "cosine":
            fw = 0.5 * (1.0 - np.cos(math.pi * pw))
        else:
            fw = 1.0 - np.sqrt(np.maximum(1.0 - pw, 0.0))
        fw = np.maximum(0.0, fw * (1.0 - r) + r)
        pd = (t - w - s) / float(max(1, d))
        if self.decay_type == "linear":
            fd = 1.0 - pd
        elif self.decay_type == "cosine":
            fd = 0.5 * (1.0 + np.cos(math.pi * float(self.num_cycles) * 2.0 * pd))
        else:
            fd = 1.0 - np.sqrt(np.maximum(pd, 0.0))
        fd = np.maximum(0.0, fd * (1.0 - r) + r)
        return np.where(warm, fw, np.where(t < w + s, 1.0, np.where(t < w + s + d, fd, r)))

    @property
    def min_lr_ratio_wsd(self) -> float:
        return self.min_lr_rate

    @property
    def horizon(self) -> float | None:
        if self.name == "constant":
            return 0
        if self.name == "constant_with_warmup":
            return self.warmup_steps
        if self.name in ("linear", "polynomial", "cosine_with_restarts"):
            return max(self.training_steps or 0, self.warmup_steps)
        if self.name == "warmup_stable_decay":
            return self.warmup_steps + (self.num_stable_steps or 0) + (self.num_decay_steps or 0)
        return None

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = {self.warmup_steps}
        if self.training_steps is not None and self.name != "warmup_stable_decay":
            bs.add(self.training_steps)
        if self.name == "warmup_stable_decay":
            bs.add(self.warmup_steps + (self.num_stable_steps or 0))
            bs.add(self.warmup_steps + (self.num_stable_steps or 0) + (self.num_decay_steps or 0))
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))
