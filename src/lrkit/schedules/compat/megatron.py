"""Megatron-LM / Megatron-core ``OptimizerParamScheduler.get_lr``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, POSITIVE, REQUIRED, Choice, Real, parse_number

__all__ = ["MEGATRON_STYLES", "MegatronLR"]


MEGATRON_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
_MEGATRON_WSD = ("linear", "cosine", "exponential", "minus_sqrt")


@register("megatron")
@dataclass(frozen=True)
class MegatronLR(Schedule):
    """Megatron's ``OptimizerParamScheduler.get_lr`` (megatron/core/optimizer_param_scheduler.py).

    ``n = t * increment`` is Megatron's ``num_steps`` after ``t`` updates (``increment`` is the
    global batch size in sample-based runs, where every count below is in samples; 1 otherwise).

    - warm-up (``W > 0`` and ``n <= W``): ``init + (max - init) * n / W`` -- with ``init = 0``
      the first update trains at LR 0 and the peak is reached at update ``W``;
    - ``constant``: ``max``;
    - ``n > D`` (``D = decay_steps``, warm-up included): ``min``;
    - ``inverse-square-root``: ``max(min, max * sqrt(max(W, 1)) / sqrt(max(n, 1)))`` (and ``min``
      as soon as ``n > D``: a cliff);
    - otherwise ``r = (n - W) / (D - W)``, ``min + c(r) * (max - min)`` with ``c`` linear
      ``1 - r``, cosine ``(1 + cos(pi r)) / 2`` or WSD: 1 until ``D - wsd_decay_steps``, then
      the WSD shape of the WSD progress.
    """

    style: str = "cosine"
    max_lr: float = 1.0
    min_lr: float = 0.0
    init_lr: float = 0.0
    warmup_steps: float = 0.0
    decay_steps: float = REQUIRED
    wsd_decay_steps: float | None = None
    wsd_style: str = "exponential"
    increment: float = 1.0

    _checks = {
        "style": Choice(MEGATRON_STYLES),
        "max_lr": NONNEG,
        "min_lr": NONNEG,
        "init_lr": NONNEG,
        "warmup_steps": NONNEG,
        "decay_steps": NONNEG,
        "wsd_style": Choice(_MEGATRON_WSD),
        "increment": POSITIVE,
        "wsd_decay_steps": Real(low=0.0, optional=True),
    }

    def _validate(self) -> None:
        if self.style == "WSD":
            if self.wsd_decay_steps is None:
                raise ConfigError(
                    "the WSD decay style needs the length of its decay.",
                    field="wsd_decay_steps",
                    fix="set lr_wsd_decay_iters (or lr_wsd_decay_samples).",
                )
            parse_number("wsd_decay_steps", self.wsd_decay_steps, low=0.0, low_open=True)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        n = t * self.increment if self.increment != 1.0 else t
        w, d = self.warmup_steps, self.decay_steps
        mx, mn = self.max_lr, self.min_lr
        if self.style == "constant":
            out = np.full_like(n, mx)
        elif self.style == "inverse-square-root":
            ws = max(w, 1.0)
            out = np.maximum(mn, mx * ws**0.5 / np.maximum(n, 1.0) ** 0.5)
            out = np.where(n > d, mn, out)
        else:
            span = d - w
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.clip((n - w) / span, 0.0, 1.0) if span > 0 else np.ones_like(n)
            if self.style == "linear":
                coeff = 1.0 - r
            elif self.style == "cosine":
                coeff = 0.5 * (np.cos(math.pi * r) + 1.0)
            else:
                wsd = float(self.wsd_decay_steps)  # type: ignore[arg-type]
                start = d - wsd
                wr = np.clip((n - start) / wsd, 0.0, None)
                if self.wsd_style == "linear":
                    c = 1.0 - wr
                elif self.wsd_style == "cosine":
                    c = 0.5 * (np.cos(math.pi * wr) + 1.0)
                elif self.wsd_style == "exponential":
                    c = 2.0 * np.power(0.5, wr) - 1.0
                else:
                    c = 1.0 - np.sqrt(wr)
                coeff = np.where(n <= start, 1.0, c)
            out = mn + coeff * (mx - mn)
            out = np.where(n > d, mn, out)
        if w > 0:
            out = np.where(n <= w, self.init_lr + (mx - self.init_lr) * n / w, out)
        return out

    @property
    def horizon(self) -> float | None:
        if self.style == "constant":
            return math.floor(self.warmup_steps / self.increment) + 1 if self.warmup_steps else 0
        return math.floor(max(self.decay_steps, self.warmup_steps) / self.increment) + 1

    def phase_starts(self, until: int | None = None) -> list[int]:
        inc = self.increment
        bs = set()
        if self.warmup_steps > 0:
            bs.add(math.ceil(self.warmup_steps / inc))
        if self.style != "constant":
            bs.add(math.floor(self.decay_steps / inc) + 1)
            if self.style == "WSD" and self.wsd_decay_steps is not None:
                bs.add(math.ceil((self.decay_steps - self.wsd_decay_steps) / inc))
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))
