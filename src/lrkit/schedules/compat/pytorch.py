"""torch's ``CosineAnnealingLR`` closed form (and Hugging Face's cosine lambdas): a cosine that
climbs back after its half period."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, POSITIVE, REQUIRED, Real

__all__ = ["PeriodicCosine"]


@register("periodic_cosine")
@dataclass(frozen=True)
class PeriodicCosine(Schedule):
    """``end + (peak - end) * (1 + cos(pi * 2 * cycles * (t + offset) / steps)) / 2`` for every ``t``.

    With ``cycles=0.5`` and ``offset=0`` this is torch's ``CosineAnnealingLR(T_max=steps)``
    (its closed form, which the recursive form follows): it reaches ``end`` at ``steps`` and then
    climbs back to ``peak`` at ``2 * steps``, and so on. Hugging Face's ``cosine`` and
    ``cosine_with_min_lr`` lambdas are the same curve behind their warm-up.
    """

    peak: float = 1.0
    steps: float = REQUIRED
    end: float = 0.0
    cycles: float = 0.5
    offset: float = 0.0

    _checks = {"peak": NONNEG, "steps": POSITIVE, "end": NONNEG, "cycles": NONNEG, "offset": Real()}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        p = (t + self.offset) / self.steps if self.offset else t / self.steps
        c = 0.5 * (1.0 + np.cos(math.pi * self.cycles * 2.0 * p))
        return self.end + (self.peak - self.end) * c

    def phase_starts(self, until: int | None = None) -> list[int]:
        if until is None or self.cycles == 0:
            return []
        half = self.steps / (2.0 * self.cycles)
        out: list[int] = []
        k = 1
        while k * half - self.offset <= until and len(out) < 10_000:
            b = math.ceil(k * half - self.offset)
            if b > 0:
                out.append(b)
            k += 1
        return out
