"""Primitive schedule families.

Every family is a frozen dataclass; ``t`` below is the step (optimizer updates already
taken). Values are whatever unit you give them: factors of a peak (the default ``1.0``) when
the schedule drives :class:`lrkit.Scheduler`, absolute learning rates otherwise. Every
family with a finite end holds its last value from then on: nothing rises again past the end.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, POSITIVE, REQUIRED, STEPS, Choice, Each, Real, Steps, parse_number

__all__ = [
    "Constant",
    "Linear",
    "Cosine",
    "StepDecay",
    "MultiStep",
    "Exponential",
    "Polynomial",
    "InverseSqrt",
    "PiecewiseConstant",
    "WarmupStableDecay",
    "COOLDOWN_SHAPES",
    "cooldown_coefficient",
]


def _progress(t: np.ndarray, steps: int) -> np.ndarray:
    """``min(t / steps, 1)``, with a zero-length phase already complete."""
    if steps == 0:
        return np.ones_like(t)
    return np.minimum(t / steps, 1.0)


@register("constant")
@dataclass(frozen=True)
class Constant(Schedule):
    """``value`` at every step."""

    value: float = 1.0

    _checks = {"value": NONNEG}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        return np.full_like(t, self.value)

    @property
    def horizon(self) -> float | None:
        return 0


@register("linear")
@dataclass(frozen=True)
class Linear(Schedule):
    """Straight line from ``start`` (step 0) to ``end`` (step ``steps``), then ``end``.

    ``v(t) = (1 - p) * start + p * end`` with ``p = min(t, steps) / steps``. Serves as a warm-up
    (``start < end``) or a linear decay (``start > end``).
    """

    start: float = 1.0
    end: float = 0.0
    steps: int = REQUIRED

    _checks = {"start": NONNEG, "end": NONNEG, "steps": STEPS}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        # (1 - p) * start + p * end is exact at both ends (start + (end - start) * p can miss end)
        p = _progress(t, self.steps)
        return (1.0 - p) * self.start + p * self.end

    @property
    def horizon(self) -> float | None:
        return self.steps

    def phase_starts(self, until: int | None = None) -> list[int]:
        return [self.steps] if until is None or self.steps <= until else []


@register("cosine")
@dataclass(frozen=True)
class Cosine(Schedule):
    """Half a cosine from ``peak`` to the floor ``end`` over ``steps``, then ``end``.

    ``v(t) = end + (peak - end) * (1 + cos(pi * min(t, steps) / steps)) / 2``. Unlike
    torch's recursive ``CosineAnnealingLR`` it never climbs back after ``steps``.
    """

    peak: float = 1.0
    steps: int = REQUIRED
    end: float = 0.0

    _checks = {"peak": NONNEG, "steps": STEPS, "end": NONNEG}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        p = _progress(t, self.steps)
        return self.end + (self.peak - self.end) * 0.5 * (1.0 + np.cos(np.pi * p))

    @property
    def horizon(self) -> float | None:
        return self.steps

    def phase_starts(self, until: int | None = None) -> list[int]:
        return [self.steps] if until is None or self.steps <= until else []


@register("step")
@dataclass(frozen=True)
class StepDecay(Schedule):
    """``start * gamma ** floor(t / step_size)``: multiply by ``gamma`` every ``step_size``.

    ``start`` was called ``value`` (still accepted, with a DeprecationWarning).
    """

    start: float = 1.0
    step_size: int = 1
    gamma: float = 0.1

    _checks = {"start": NONNEG, "step_size": Steps(minimum=1), "gamma": NONNEG}
    _renamed = {"value": "start"}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        return self.start * self.gamma ** np.floor(t / self.step_size)

    def phase_starts(self, until: int | None = None) -> list[int]:
        if until is None:
            return []
        return list(range(self.step_size, int(until) + 1, self.step_size))


@register("multistep")
@dataclass(frozen=True)
class MultiStep(Schedule):
    """``start * gamma ** (number of milestones <= t)``.

    The value changes *at* a milestone: update ``m`` already runs at the decayed value, as
    with torch's ``MultiStepLR``. A milestone listed twice decays twice there (torch does
    the same); milestones must not decrease. ``start`` was called ``value`` (still accepted).
    """

    start: float = 1.0
    milestones: tuple[int, ...] = ()
    gamma: float = 0.1

    _checks = {"start": NONNEG, "gamma": NONNEG, "milestones": Each(STEPS, "a list of steps")}
    _renamed = {"value": "start"}

    def _validate(self) -> None:
        ms = self.milestones
        if any(b < a for a, b in itertools.pairwise(ms)):
            raise ConfigError(
                f"must be in increasing order, got {list(ms)}.",
                field="milestones",
                value=list(ms),
                fix=f"sort them: {sorted(ms)}.",
            )

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        n = np.searchsorted(np.asarray(self.milestones, dtype=np.float64), t, side="right")
        return self.start * self.gamma ** n.astype(np.float64)

    @property
    def horizon(self) -> float | None:
        return self.milestones[-1] if self.milestones else 0

    def phase_starts(self, until: int | None = None) -> list[int]:
        return [m for m in self.milestones if until is None or m <= until]


@register("exponential")
@dataclass(frozen=True)
class Exponential(Schedule):
    """``clip(start * gamma ** (t / decay_steps), min_value, max_value)``.

    ``decay_steps=1`` is torch's ``ExponentialLR`` (multiply by ``gamma`` every step); a
    larger ``decay_steps`` spreads one factor of ``gamma`` over that many steps (optax's
    ``exponential_decay`` without staircase). ``gamma > 1`` grows (an LR range test's ramp);
    give it a ``max_value`` so it stays finite. ``min_value``/``max_value`` are clamps;
    ``start`` was called ``value`` (still accepted).
    """

    start: float = 1.0
    gamma: float = 0.99
    decay_steps: int = 1
    min_value: float = 0.0
    max_value: float | None = None

    _renamed = {"value": "start"}
    _checks = {
        "start": NONNEG,
        "gamma": POSITIVE,
        "decay_steps": Steps(minimum=1),
        "min_value": NONNEG,
        "max_value": Real(optional=True),
    }

    def _validate(self) -> None:
        if self.max_value is not None:
            parse_number("max_value", self.max_value, low=self.min_value)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        e = t if self.decay_steps == 1 else t / self.decay_steps
        if self.start == 0.0:
            return np.zeros_like(t)
        with np.errstate(over="ignore", under="ignore"):
            v = self.start * self.gamma**e
        if self.min_value > 0:
            v = np.maximum(v, self.min_value)
        if self.max_value is not None:
            v = np.minimum(v, self.max_value)
        return v

    @property
    def horizon(self) -> float | None:
        if self.gamma == 1.0 or self.start == 0.0:
            return 0
        return None


@register("polynomial")
@dataclass(frozen=True)
class Polynomial(Schedule):
    """``end + (start - end) * (1 - min(t, steps) / steps) ** power``, then ``end``."""

    start: float = 1.0
    end: float = 0.0
    steps: int = REQUIRED
    power: float = 1.0

    _checks = {"start": NONNEG, "end": NONNEG, "steps": STEPS, "power": POSITIVE}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        return self.end + (self.start - self.end) * (1.0 - _progress(t, self.steps)) ** self.power

    @property
    def horizon(self) -> float | None:
        return self.steps

    def phase_starts(self, until: int | None = None) -> list[int]:
        return [self.steps] if until is None or self.steps <= until else []


@register("inverse_sqrt")
@dataclass(frozen=True)
class InverseSqrt(Schedule):
    """``max(peak / sqrt(1 + t / timescale), min_value)``.

    Put behind a warm-up of ``W`` steps with ``timescale=W`` this is Megatron's and fairseq's
    ``peak * sqrt(W / step)`` (and Noam's decay half); Hugging Face's ``timescale`` is the same.
    """

    peak: float = 1.0
    timescale: float = 1.0
    min_value: float = 0.0

    _checks = {"peak": NONNEG, "timescale": POSITIVE, "min_value": NONNEG}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # a tiny timescale: t / timescale -> inf, the value -> 0
            v = self.peak / np.sqrt(1.0 + t / self.timescale)
        return np.maximum(v, self.min_value) if self.min_value > 0 else v


@register("piecewise_constant")
@dataclass(frozen=True)
class PiecewiseConstant(Schedule):
    """``values[i]`` for ``boundaries[i-1] <= t < boundaries[i]`` (``len(values) ==
    len(boundaries) + 1``)."""

    boundaries: tuple[int, ...] = ()
    values: tuple[float, ...] = (1.0,)

    _checks = {"boundaries": Each(Steps(minimum=1)), "values": Each(NONNEG)}

    def _validate(self) -> None:
        b, v = self.boundaries, self.values
        if any(y <= x for x, y in itertools.pairwise(b)):
            raise ConfigError(
                f"must be strictly increasing, got {list(b)}.",
                field="boundaries",
                value=list(b),
                fix="sort the boundaries and remove duplicates.",
            )
        if len(v) != len(b) + 1:
            raise ConfigError(
                f"needs one more value than boundaries: {len(b)} boundaries, {len(v)} values.",
                field="values",
                value=list(v),
                fix=f"give {len(b) + 1} values (one before the first boundary, one after each).",
            )

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), t, side="right")
        return np.asarray(self.values, dtype=np.float64)[idx]

    @property
    def horizon(self) -> float | None:
        return self.boundaries[-1] if self.boundaries else 0

    def phase_starts(self, until: int | None = None) -> list[int]:
        return [b for b in self.boundaries if until is None or b <= until]


#: cool-down shapes of warmup-stable-decay, as functions of the cool-down progress p in [0, 1]
COOLDOWN_SHAPES = ("linear", "cosine", "1-sqrt", "exponential", "square")


def cooldown_coefficient(shape: str, p: np.ndarray) -> np.ndarray:
    """Fraction of the way from the floor to the peak, 1 at ``p=0`` and 0 at ``p=1``.

    - ``linear``: ``1 - p``
    - ``cosine``: ``(1 + cos(pi p)) / 2``
    - ``1-sqrt``: ``1 - sqrt(p)`` (Hägele et al. 2024; Megatron's ``minus_sqrt``)
    - ``exponential``: ``2 * 0.5**p - 1`` (Megatron's WSD ``exponential``)
    - ``square``: ``1 - p**2``
    """
    if shape == "linear":
        return 1.0 - p
    if shape == "cosine":
        return 0.5 * (1.0 + np.cos(np.pi * p))
    if shape == "1-sqrt":
        return 1.0 - np.sqrt(p)
    if shape == "exponential":
        return 2.0 * 0.5**p - 1.0
    if shape == "square":
        return 1.0 - p * p
    raise ConfigError(f"unknown cool-down shape {shape!r}.", field="decay_shape", value=shape)


@register("wsd")
@dataclass(frozen=True)
class WarmupStableDecay(Schedule):
    """Warm-up, a long stable phase at ``peak``, then a cool-down to ``end``.

    - warm-up (``t < W``): ``init + (peak - init) * min((t + 1) / W, 1)`` -- lrkit's warm-up, whose
      first update is never at 0 and whose last warm-up update reaches ``peak``;
    - stable (``W <= t < W + S``): ``peak``;
    - cool-down (``p = (t - W - S) / D`` clipped to [0, 1]):
      ``c(p) * peak + (1 - c(p)) * end`` with ``c`` from :func:`cooldown_coefficient`; then ``end``.
    """

    peak: float = 1.0
    warmup_steps: int = 0
    stable_steps: int = 0
    decay_steps: int = REQUIRED
    end: float = 0.0
    decay_shape: str = "linear"
    init: float = 0.0

    _checks = {
        "peak": NONNEG,
        "warmup_steps": STEPS,
        "stable_steps": STEPS,
        "decay_steps": STEPS,
        "end": NONNEG,
        "init": NONNEG,
        "decay_shape": Choice(COOLDOWN_SHAPES, aliases={"minus_sqrt": "1-sqrt", "sqrt": "1-sqrt"}),
    }

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        w, s = self.warmup_steps, self.stable_steps
        if self.decay_steps == 0:
            # a cool-down of no steps is complete from its start, and not before it
            p = (t >= w + s).astype(np.float64)
        else:
            p = _progress(np.maximum(t - w - s, 0.0), self.decay_steps)
        c = cooldown_coefficient(self.decay_shape, p)
        # two products: exactly peak through the stable phase and exactly end after the decay
        out = c * self.peak + (1.0 - c) * self.end
        if w:
            warm = t < w
            f = np.minimum((t + 1.0) / w, 1.0)
            out = np.where(warm, (1.0 - f) * self.init + f * self.peak, out)
        return out

    @property
    def horizon(self) -> float | None:
        return self.warmup_steps + self.stable_steps + self.decay_steps

    def phase_starts(self, until: int | None = None) -> list[int]:
        w, s, d = self.warmup_steps, self.stable_steps, self.decay_steps
        bs = sorted({b for b in (w, w + s, w + s + d) if b > 0})
        return [b for b in bs if until is None or b <= until]
