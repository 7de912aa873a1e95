"""Schedules that go up as well as down: one-cycle, cyclical and cosine with warm restarts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, POSITIVE, REQUIRED, Choice, Flag, Real, Steps

__all__ = ["OneCycle", "Cyclic", "CosineRestarts"]


def _anneal(kind: str, start: float, end: float, pct: np.ndarray) -> np.ndarray:
    if kind == "cos":
        return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1.0)
    return (end - start) * pct + start


@register("one_cycle")
@dataclass(frozen=True)
class OneCycle(Schedule):
    """Smith's one-cycle policy, the same curve as torch's ``OneCycleLR``.

    ``initial = peak / div_factor``, ``final = initial / final_div_factor``.
    Two phases: ``initial -> peak`` until step ``pct_start * steps - 1``, then
    ``peak -> final`` until ``steps - 1``. With ``three_phase`` the second phase
    returns to ``initial`` by ``2 * pct_start * steps - 2`` and a third anneals to
    ``final``. ``anneal`` is ``"cos"`` or ``"linear"``. Past ``steps - 1`` the value
    stays at ``final`` (torch raises instead). ``pct_start=0`` starts in the decay, as torch
    does; refused, as torch refuses, only a ``pct_start`` that puts a step in a phase of zero
    length (``pct_start * steps == 1``, or a last phase starting at ``steps - 1``). ``peak``/``steps`` were called
    ``max_value``/``total_steps`` (torch's ``max_lr``/``total_steps``; still accepted).
    """

    peak: float = 1.0
    steps: int = REQUIRED
    pct_start: float = 0.3
    anneal: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False

    _renamed = {"max_value": "peak", "total_steps": "steps"}
    _checks = {
        "peak": NONNEG,
        "steps": Steps(minimum=1),
        "pct_start": Real(low=0.0, high=1.0),
        "anneal": Choice(("cos", "linear")),
        "div_factor": POSITIVE,
        "final_div_factor": POSITIVE,
        "three_phase": Flag(),
    }

    def _validate(self) -> None:
        # torch divides by (end - start) of the phase a step falls in, for steps 0..steps (a loop
        # calls scheduler.step() after its last update too). A phase no step reaches may be empty
        # or reversed (pct_start=0 starts in the decay); two are reached with zero length: a warm-up
        # ending at step 0, and a last phase starting at steps - 1 (reached by the final step())
        ends = [e for e, _, _ in self._phase_ends()]
        if ends[0] == 0.0 or ends[-2] == ends[-1]:
            what = "the warm-up phase end at step 0" if ends[0] == 0.0 else "the last phase have no steps"
            raise ConfigError(
                f"makes {what} (steps={self.steps}); torch's OneCycleLR divides by zero there.",
                field="pct_start",
                value=self.pct_start,
                fix="use a pct_start that gives each phase a step (pct_start=0 is allowed: it starts in the decay).",
            )

    def _phase_ends(self) -> list[tuple[float, float, float]]:
        initial = self.peak / self.div_factor
        final = initial / self.final_div_factor
        n = self.steps
        if self.three_phase:
            return [
                (float(self.pct_start * n) - 1, initial, self.peak),
                (float(2 * self.pct_start * n) - 2, self.peak, initial),
                (n - 1.0, initial, final),
            ]
        return [
            (float(self.pct_start * n) - 1, initial, self.peak),
            (n - 1.0, self.peak, final),
        ]

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        phases = self._phase_ends()
        t = np.minimum(t, self.steps - 1.0)
        out = np.empty_like(t)
        start_step = 0.0
        done = np.zeros(t.shape, dtype=bool)
        for i, (end_step, lo, hi) in enumerate(phases):
            mask = ~done if i == len(phases) - 1 else (~done & (t <= end_step))
            pct = (t[mask] - start_step) / (end_step - start_step)
            out[mask] = _anneal(self.anneal, lo, hi, pct)
            done |= mask
            start_step = end_step
        return out

    @property
    def horizon(self) -> float | None:
        return self.steps - 1

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = [math.ceil(e) for e, _, _ in self._phase_ends()]
        return [b for b in bs if b > 0 and (until is None or b <= until)]


@register("cyclic")
@dataclass(frozen=True)
class Cyclic(Schedule):
    """Cyclical learning rate (Smith 2017), the same curve as torch's ``CyclicLR``.

    A cycle rises from ``init`` to ``peak`` over ``step_size_up`` steps and falls back
    over ``step_size_down`` (default: ``step_size_up``): with ``x`` the position in the cycle
    and ``scale(x)`` the triangle from 0 up to 1 and back, the value is
    ``init + (peak - init) * scale(x) * amp``, ``amp`` set by ``mode``: ``triangular`` (1),
    ``triangular2`` (halved each cycle) or ``exp_range`` (``gamma ** t``). ``t = 0`` is at
    ``init``. ``init``/``peak`` were called ``base``/``max_value`` (torch's
    ``base_lr``/``max_lr``; still accepted).
    """

    init: float = 0.1
    peak: float = 1.0
    step_size_up: int = 2000
    step_size_down: int | None = None
    mode: str = "triangular"
    gamma: float = 1.0

    _renamed = {"base": "init", "max_value": "peak"}
    _checks = {
        "init": NONNEG,
        "peak": NONNEG,
        "step_size_up": Steps(minimum=1),
        "step_size_down": Steps(minimum=1, optional=True),
        "mode": Choice(("triangular", "triangular2", "exp_range")),
        "gamma": POSITIVE,
    }

    @property
    def cycle_steps(self) -> int:
        return self.step_size_up + (self.step_size_down or self.step_size_up)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        total = float(self.cycle_steps)
        ratio = self.step_size_up / total
        cycle = np.floor(1.0 + t / total)
        x = 1.0 + t / total - cycle
        scale = np.where(x <= ratio, x / ratio, (x - 1.0) / (ratio - 1.0))
        height = (self.peak - self.init) * scale
        if self.mode == "triangular":
            return self.init + height
        if self.mode == "triangular2":
            return self.init + height * 0.5 ** (cycle - 1.0)  # exact powers of two, as torch
        return self.init + height * self.gamma**t

    def phase_starts(self, until: int | None = None) -> list[int]:
        if until is None:
            return []
        return list(range(self.cycle_steps, int(until) + 1, self.cycle_steps))


@register("cosine_restarts")
@dataclass(frozen=True)
class CosineRestarts(Schedule):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    Cycle ``i`` lasts ``period * period_mult ** i`` steps and anneals from
    ``peak * peak_decay ** i`` to ``end``. After ``max_cycles`` cycles (when given) the value
    stays at ``end``. ``period_mult=1, peak_decay=1`` is torch's
    ``CosineAnnealingWarmRestarts``; ``peak_decay``/``max_cycles`` are timm's
    ``cycle_decay``/``cycle_limit``.
    """

    peak: float = 1.0
    period: int = 1000
    period_mult: float = 1.0
    end: float = 0.0
    peak_decay: float = 1.0
    max_cycles: int | None = None

    _checks = {
        "peak": NONNEG,
        "period": Steps(minimum=1),
        "period_mult": Real(low=1.0),
        "end": NONNEG,
        "peak_decay": NONNEG,
        "max_cycles": Steps(minimum=1, optional=True),
    }

    def _cycle_start(self, i: np.ndarray) -> np.ndarray:
        if self.period_mult == 1.0:
            return self.period * i
        return self.period * (self.period_mult**i - 1.0) / (self.period_mult - 1.0)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        m = self.period_mult
        if m == 1.0:
            i = np.floor(t / self.period)
        else:
            i = np.floor(np.log(t / self.period * (m - 1.0) + 1.0) / math.log(m))
            # the log can land a hair off an exact cycle start; settle it on the integers
            i = np.where(self._cycle_start(i + 1.0) <= t, i + 1.0, i)
            i = np.where(self._cycle_start(i) > t, i - 1.0, i)
        t_cur = t - self._cycle_start(i)
        t_i = self.period * m**i
        top = self.peak * self.peak_decay**i
        out = self.end + (top - self.end) * 0.5 * (1.0 + np.cos(np.pi * t_cur / t_i))
        if self.max_cycles is not None:
            out = np.where(i >= self.max_cycles, self.end, out)
        return out

    @property
    def horizon(self) -> float | None:
        if self.max_cycles is None:
            return None
        return float(self._cycle_start(np.float64(self.max_cycles)))

    def phase_starts(self, until: int | None = None) -> list[int]:
        out: list[int] = []
        limit = until if until is not None else (self.horizon or 0)
        i = 1
        while True:
            if self.max_cycles is not None and i > self.max_cycles:
                break
            b = round(float(self._cycle_start(np.float64(i))))
            if b > limit or len(out) > 10_000:
                break
            out.append(b)
            i += 1
        return out
