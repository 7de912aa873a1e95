"""Schedule findings read from the logged LR column itself (not from a config):

- **warm-up never ends**: the LR is at its maximum at the last logged step and still rising
  (over 1% above its value at 80% of the log), having started below half of it;
- **LR at 0**: the LR is exactly 0 at logged steps other than the first and the last (an update
  at LR 0 changes nothing);
- **decay ends early**: the LR reached (within 1% of the range) a floor of at most 1/1000 of its
  peak before 80% of the run and stayed there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lrkit.diagnosis.formatting import at_step, fmt_lr, fmt_step, nice_steps, step_count
from lrkit.findings import Finding

__all__ = ["find_lr_log_issues", "find_warmup_never_ends"]


@dataclass(frozen=True)
class _LRColumn:
    """The finite, non-negative logged LRs ``v`` at steps ``s`` of a log running from step
    ``first`` to ``last``, with the points (other than the first and last) where the LR is 0."""

    s: np.ndarray
    v: np.ndarray
    first: int
    last: int
    unit: str

    @property
    def run(self) -> int:
        return max(self.last - self.first + 1, 1)

    @property
    def peak(self) -> float:
        return float(self.v.max())

    @property
    def zero(self) -> np.ndarray:
        return np.nonzero(self.v[1:-1] == 0)[0] + 1


def find_lr_log_issues(steps: np.ndarray, lrs: np.ndarray | None, *, unit: str = "step") -> list[Finding]:
    """The schedule bugs the logged LR column shows (see the module docstring); ``unit`` is what
    a step of the log counts (``"step"`` or ``"epoch"``), for the messages."""
    if lrs is None:
        return []
    m = np.isfinite(lrs)
    s, v = steps[m], lrs[m]
    if v.size < 4 or np.any(v < 0) or v.max() <= 0:
        return []
    col = _LRColumn(s=s, v=v, first=int(steps[0]), last=int(steps[-1]), unit=unit)
    return [f for rule in _RULES if (f := rule(col)) is not None]


def find_warmup_never_ends(
    steps: np.ndarray, lrs: np.ndarray, *, unit: str = "step", min_points: int = 4
) -> list[Finding]:
    """The "warm-up never ended" finding alone, on a logged LR column of at least ``min_points``
    finite values (a short log's two or three rows show a warm-up still rising as plainly as a
    long one; the other rules need the column's shape)."""
    m = np.isfinite(lrs)
    s, v = steps[m], lrs[m]
    if v.size < min_points or np.any(v < 0) or v.max() <= 0:
        return []
    f = _warmup_never_ends(_LRColumn(s=s, v=v, first=int(steps[0]), last=int(steps[-1]), unit=unit))
    return [] if f is None else [f]


def _warmup_never_ends(col: _LRColumn) -> Finding | None:
    v, last, peak = col.v, col.last, col.peak
    i80 = int(0.8 * (v.size - 1))
    if not (v[-1] >= 0.999 * peak and v[-1] > 1.01 * v[i80] and v[0] < 0.5 * peak):
        return None
    monotone = bool(np.all(np.diff(v) >= -1e-12 * peak))
    warm = nice_steps(max(1, 0.05 * (last + 1)))
    what = "the warm-up never ended" if monotone else "the LR is still rising at the end"
    return Finding(
        rule="warmup-never-ends",
        severity="warning",
        message=(
            f"Schedule: {what}: the logged LR rises from {fmt_lr(float(v[0]))} to {fmt_lr(float(v[-1]))} at the "
            f"last {col.unit} ({fmt_step(last)}), so the run never trained at its peak nor decayed."
        ),
        fix=(
            f"make the warm-up 5-10% of the run (about {step_count(warm, col.unit)} for these {fmt_step(last + 1)}), "
            "then decay to the end; check that the scheduler's total steps (max_steps, num_train_epochs x "
            "steps per epoch) match the run and that warmup_steps is not longer than it."
        ),
        evidence={
            "start_step": int(col.s[0]),
            "end_step": last,
            "lr_first": float(v[0]),
            "lr_last": float(v[-1]),
            "suggested_warmup_steps": warm,
        },
        source="diagnose",
    )


def _lr_zero(col: _LRColumn) -> Finding | None:
    zero = col.zero
    if not zero.size:
        return None
    a, b = int(col.s[zero[0]]), int(col.s[zero[-1]])
    return Finding(
        rule="lr-zero",
        severity="warning",
        message=(
            f"Schedule: the LR is 0 at {zero.size:,} logged {col.unit}s ({fmt_step(a)}-{fmt_step(b)}): those "
            "updates change nothing."
        ),
        fix="end the decay at the run's last step (scheduler total steps = run length) or set a floor "
        "(min_lr about 1-10% of the peak).",
        evidence={"start_step": a, "end_step": b, "points": int(zero.size)},
        source="diagnose",
    )


def _decay_ends_early(col: _LRColumn) -> Finding | None:
    s, v, peak = col.s, col.v, col.peak
    floor = float(v.min())
    if floor > 1e-3 * peak:
        return None
    # the first point from which the LR stays at its floor
    tail = np.nonzero(~(v <= floor + 0.01 * (peak - floor)))[0]
    j = int(tail[-1]) + 1 if tail.size else 0
    zero = col.zero
    if not (int(np.argmax(v)) < j < v.size and int(s[j]) - col.first < 0.8 * col.run):
        return None
    if zero.size and s[j] >= s[zero[0]]:
        return None  # the LR at 0 is its own finding
    return Finding(
        rule="decay-ends-early",
        severity="warning",
        message=(
            f"Schedule: the decay ended at {at_step(int(s[j]), col.unit)} ({(int(s[j]) - col.first) / col.run:.0%} "
            f"of the run); the last {step_count(col.last - int(s[j]), col.unit)} ran at {fmt_lr(floor)}."
        ),
        fix="make the decay as long as the run (cosine/linear over total_steps = the run length).",
        evidence={"start_step": int(s[j]), "end_step": col.last, "lr_floor": floor},
        source="diagnose",
    )


#: the rules, in the order their findings are listed
_RULES: tuple[Callable[[_LRColumn], Finding | None], ...] = (_warmup_never_ends, _lr_zero, _decay_ends_early)
