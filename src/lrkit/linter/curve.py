"""The resolved curve: a schedule's absolute LRs on a grid of steps, in one vectorized call.

Every step is evaluated when that is affordable; a million-step run (or a schedule written in
Python, evaluated one step at a time) is sampled densely, keeping every phase boundary and its
neighbours. :func:`warmup_from_curve` reads a warm-up off the values when the structure has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from lrkit.linter.structure import contains
from lrkit.schedules import Schedule, SchedulerInterface

__all__ = ["Curve", "evaluate_curve", "warmup_from_curve"]

#: evaluate every step up to this many; sample beyond (keeps million-step previews cheap)
_FULL_EVAL_LIMIT = 4_000_000

_SAMPLED_POINTS = 1_000_000

#: schedules written in Python are evaluated one step at a time; sample them more sparsely
_PYTHON_EVAL_LIMIT = 20_000


@dataclass(frozen=True)
class Curve:
    """Absolute LRs of a schedule on a grid of steps, evaluated in one vectorized call.

    ``steps`` is sorted and starts at 0; it covers ``[0, length)`` -- every step when that is
    affordable, otherwise a dense sample that keeps every phase boundary and its neighbours.
    ``weights[i]`` is the number of updates step ``steps[i]`` stands for (all ones on a full
    grid), so ``sum(values * weights)`` over the run is the area under the LR curve.
    """

    steps: np.ndarray
    values: np.ndarray
    weights: np.ndarray
    total: int

    @property
    def full(self) -> bool:
        return bool(self.steps.size == 0 or self.steps[-1] + 1 == self.steps.size)

    def run_mask(self) -> np.ndarray:
        """Grid points inside the run (steps ``0 .. total - 1``)."""
        return self.steps < self.total

    def run_values(self) -> np.ndarray:
        return self.values[self.run_mask()]

    def value_at(self, schedule: Schedule, scale: float, step: int) -> float:
        """The LR at ``step`` (from the grid when it is there, else from the algebra)."""
        i = int(np.searchsorted(self.steps, step))
        if i < self.steps.size and self.steps[i] == step:
            return float(self.values[i])
        return scale * float(schedule(int(step)))


def _grid(
    schedule: Schedule, length: int, extra: Iterable[int] = (), max_points: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Steps to evaluate over ``[0, length)`` and the number of updates each stands for."""
    limit = _PYTHON_EVAL_LIMIT if contains(schedule, (SchedulerInterface,)) else _FULL_EVAL_LIMIT
    if max_points is not None:
        limit = min(limit, max_points)
    if length <= limit:
        steps = np.arange(length, dtype=np.int64)
        return steps, np.ones(length)
    points = min(limit, _SAMPLED_POINTS)
    keys = [0, length - 1]
    try:
        starts = schedule.phase_starts(length - 1)
    except Exception:  # a user schedule's phase_starts must not break a preview
        starts = []
    if len(starts) <= 10_000:
        for b in starts:
            keys += [b - 1, b, b + 1]
    for b in extra:
        keys += [b - 1, b, b + 1]
    steps = np.unique(
        np.concatenate([np.linspace(0, length - 1, points).round().astype(np.int64), np.asarray(keys, dtype=np.int64)])
    )
    steps = steps[(steps >= 0) & (steps < length)]
    # each point stands for the updates up to the next point
    weights = np.diff(np.append(steps, length)).astype(np.float64)
    return steps, weights


def sample_steps(schedule: Schedule, length: int) -> np.ndarray:
    """The steps of ``[0, length)`` at which a curve is checked: all of them up to a few million
    updates, beyond that a sample that keeps every phase boundary of ``schedule`` and its
    neighbours (so a comparison of two curves never allocates one entry per update of a 1e12-step run)."""
    return _grid(schedule, max(int(length), 1))[0]


def evaluate_curve(
    schedule: Schedule,
    *,
    total: int,
    scale: float = 1.0,
    length: int | None = None,
    extra: Iterable[int] = (),
    max_points: int | None = None,
) -> Curve:
    """Evaluate ``scale * schedule`` over ``[0, length)`` (default: the run, ``[0, total)``)
    in one vectorized call; beyond ``max_points`` steps (and always beyond a few million) on a
    sample that keeps every phase boundary, its neighbours and the steps in ``extra``."""
    length = max(int(length if length is not None else total), 1)
    steps, weights = _grid(schedule, length, extra, max_points)
    values = scale * np.asarray(schedule(steps), dtype=np.float64)
    # the weights of the last run point must not spill past the run
    if steps.size:
        run = steps < total
        if run.any() and not run.all():
            last = int(np.flatnonzero(run)[-1])
            weights = weights.copy()
            weights[last] = total - steps[last]
    return Curve(steps=steps, values=values, weights=weights, total=int(total))


def warmup_from_curve(values: np.ndarray, peak: float) -> int:
    """Updates until the curve first reaches its peak, when it gets there by rising."""
    if values.size == 0 or peak <= 0 or values[0] >= peak * (1 - 1e-9):
        return 0
    i = int(np.argmax(values >= peak * (1 - 1e-9)))
    head = values[: i + 1]
    if np.all(np.diff(head) >= -1e-12 * peak):
        return i + 1 if values[0] > 0 else i
    return 0
