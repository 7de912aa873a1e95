"""axolotl's own scheduler functions (``axolotl/utils/schedulers.py``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Nested, Schedule, register
from lrkit.schedules.checks import RATIO, REQUIRED, STEPS, Choice, Steps

__all__ = ["AXOLOTL_CURVES", "AxolotlLambda", "JaggedRestarts"]


#: axolotl curves that are not transformers' (chosen by lr_quadratic_warmup, cosine_min_lr_ratio,
#: cosine_constant_lr_ratio and lr_scheduler: rex)
AXOLOTL_CURVES = ("cosine_with_min_lr", "cosine_with_warmup_decay_constant", "cosine_with_quadratic_warmup", "rex")


@register("axolotl_lambda")
@dataclass(frozen=True)
class AxolotlLambda(Schedule):
    """The multiplier of axolotl's own schedulers at update ``t``, term by term.

    With ``W = warmup_steps``, ``N = training_steps``, ``m = min_lr_ratio``:

    - ``cosine_with_min_lr``: ``t / max(1, W)`` for ``t < W``, then
      ``(1 - m) * (1 + cos(pi * p)) / 2 + m`` with ``p = (t - W) / max(1, N - W)`` (not clamped:
      it climbs back after ``N``, as axolotl's lambda does);
    - ``cosine_with_warmup_decay_constant``: the same warm-up, then ``C = int(N * constant_lr_ratio)``,
      ``p = (min(t, C) - W) / max(1, C - W)`` and ``max(0, (1 - m) * (1 + cos(pi * p)) / 2) + m``:
      held at ``m`` from update ``C`` on;
    - ``cosine_with_quadratic_warmup``: ``(t / max(1, W)) ** 2`` for ``t < W``, then
      ``max(0, (1 + cos(pi * p)) / 2)`` (not clamped);
    - ``rex`` (``RexLR``): evaluated at ``s = t + 1`` because the scheduler steps once when it is
      built: ``s / W`` for ``1 <= s <= W``; ``m`` once ``s - W >= N - W``; else with
      ``z = (N - s) / (N - W)``: ``m + (1 - m) * z / (0.1 + 0.9 z)``.
    """

    name: str = "cosine_with_min_lr"
    warmup_steps: int = 0
    training_steps: int = REQUIRED
    min_lr_ratio: float = 0.0
    constant_lr_ratio: float = 1.0

    _checks = {
        "name": Choice(AXOLOTL_CURVES),
        "warmup_steps": STEPS,
        "training_steps": STEPS,
        "min_lr_ratio": RATIO,
        "constant_lr_ratio": RATIO,
    }

    def _validate(self) -> None:
        if self.name == "rex" and self.warmup_steps > self.training_steps:
            raise ConfigError(
                f"warm-up ({self.warmup_steps}) is longer than the run ({self.training_steps}); RexLR raises.",
                field="warmup_steps",
                value=self.warmup_steps,
                fix="shorten the warm-up or train longer.",
            )

    @property
    def constant_steps(self) -> int:
        return int(self.training_steps * self.constant_lr_ratio)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        w, n, m = self.warmup_steps, self.training_steps, self.min_lr_ratio
        if self.name == "rex":
            return self._rex(t + 1.0)
        warm = t < w
        if self.name == "cosine_with_quadratic_warmup":
            p = (t - w) / float(max(1, n - w))
            f = np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * 0.5 * 2.0 * p)))
            return np.where(warm, (t / float(max(1, w))) ** 2, f)
        if self.name == "cosine_with_min_lr":
            p = (t - w) / float(max(1, n - w))
            f = (1 - m) * (0.5 * (1.0 + np.cos(math.pi * p))) + m
        else:
            c = self.constant_steps
            p = (np.minimum(t, c) - w) / float(max(1, c - w))
            f = np.maximum(0.0, (1 - m) * 0.5 * (1.0 + np.cos(math.pi * 0.5 * 2.0 * p))) + m
        return np.where(warm, t / float(max(1, w)), f)

    def _rex(self, s: np.ndarray) -> np.ndarray:
        w, n, m = self.warmup_steps, self.training_steps, self.min_lr_ratio
        after, remaining = s - w, n - w
        out = np.full_like(s, m)
        if remaining > 0:
            live = (after < remaining) & (after != -1)
            z = (remaining - np.mod(after[live], remaining)) / remaining
            out[live] = m + (1.0 - m) * (z / (0.1 + 0.9 * z))
        if w > 0:
            warm = (s >= 1) & (s <= w)
            out[warm] = s[warm] / w
        return out

    @property
    def horizon(self) -> float | None:
        if self.name == "cosine_with_warmup_decay_constant":
            return max(self.constant_steps, self.warmup_steps)
        if self.name == "rex":
            return max(self.training_steps - 1, 0)
        return None

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = {self.warmup_steps, self.training_steps}
        if self.name == "cosine_with_warmup_decay_constant":
            bs = {self.warmup_steps, self.constant_steps}
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))


@register("jagged_restarts")
@dataclass(frozen=True)
class JaggedRestarts(Schedule):
    """axolotl's ``JaggedLRRestartScheduler`` (ReLoRA): ``schedule(t) * scale(t)``.

    With ``R = restart_steps``, ``W = warmup_steps``, ``A = anneal_steps``, ``q = t mod R``:
    ``scale = 1`` for ``t < R - A``; after that ``c = min(1, q / W)`` for ``q < W``,
    ``c = min(1, (R - q) / A)`` for ``q > R - A``, else ``c = 1``, and
    ``scale = c * (1 - min_scale) + min_scale``: every ``R`` updates the LR dips to ``min_scale``
    of the inner curve and warms back up over ``W`` updates. ``t`` is the wrapper's own step
    counter; axolotl builds it one step ahead of the trainer (put it in a ``Shift`` of 1).
    """

    schedule: Schedule = None  # type: ignore[assignment]
    restart_steps: int = 1
    warmup_steps: int = 10
    anneal_steps: int = 1
    min_scale: float = 0.001

    _checks = {
        "schedule": Nested("to restart"),
        "restart_steps": Steps(minimum=1),
        "warmup_steps": Steps(minimum=1),
        "anneal_steps": Steps(minimum=1),
        "min_scale": RATIO,
    }

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        r, w, a = self.restart_steps, self.warmup_steps, self.anneal_steps
        q = np.mod(t, r)
        c = np.where(q < w, np.minimum(1.0, q / w), np.where(q > r - a, np.minimum(1.0, (r - q) / a), 1.0))
        scale = np.where(t < r - a, 1.0, c * (1 - self.min_scale) + self.min_scale)
        return self.schedule._evaluate(t) * scale

    def phase_starts(self, until: int | None = None) -> list[int]:
        out = set(self.schedule.phase_starts(until))
        if until is not None:
            out.update(range(self.restart_steps, int(until) + 1, self.restart_steps))
        return sorted(b for b in out if b > 0)
