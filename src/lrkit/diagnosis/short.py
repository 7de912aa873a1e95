"""A log too short to read a curve from (2 to ``MIN_POINTS - 1`` finite training losses).

A short fine-tune logged once per epoch, or with ``logging_steps`` near the run's length, has
three or four rows. Their shape (plateaus, spikes, slow convergence) cannot be judged, but a few
facts stand out as clearly on three points as on three hundred, and only those are read:

* **the warm-up never ended**: the logged LR rises at every row up to the last (the same
  finding as on a long log);
* **overfitting**: at least three eval losses, the last at least ``MIN_RISE`` (5%) above the
  best, which is not the last, while the training loss fell after the best eval by
  ``TRAIN_FALL`` (3%) -- one epoch's rise is all a three-epoch run can show;
* **diverging**: the training loss ended at least :data:`SHORT_ABOVE_START` (1.5x) above its
  first value (a long log's 1.2x, raised: nothing here measures the noise).

Every short log also gets an ``info`` note that its curve was not judged. No other rule runs.
"""

from __future__ import annotations

import numpy as np

from lrkit.diagnosis.advice import fix_lower_peak
from lrkit.diagnosis.formatting import step_count
from lrkit.diagnosis.lr_context import LRInUse
from lrkit.diagnosis.lr_log import find_warmup_never_ends
from lrkit.diagnosis.overfit import MIN_RISE, TRAIN_FALL, overfitting_finding
from lrkit.findings import Finding

__all__ = ["SHORT_ABOVE_START", "find_short_log"]

#: a short log's training loss ended this many times above its first value: diverging
SHORT_ABOVE_START = 1.5


def find_short_log(
    s: np.ndarray, y: np.ndarray, lr_arr: np.ndarray | None, es: np.ndarray, ey: np.ndarray, lr: LRInUse
) -> list[Finding]:
    """The findings of a short log (see the module docstring); ``y`` is finite."""
    found: list[Finding] = []
    if lr_arr is not None:
        found += find_warmup_never_ends(s, lr_arr, unit=lr.unit, min_points=2)
    over = _overfitting(s, y, es, ey, lr.unit)
    if over is not None:
        found.append(over)
    elif y[0] > 0 and y[-1] >= SHORT_ABOVE_START * y[0]:
        found.append(_rose(s, y, lr))
    found.append(
        Finding(
            rule="short-log",
            severity="info",
            message=(
                f"Only {s.size} logged points: too few to judge the curve's shape (plateaus, spikes, slow "
                "convergence); only the LR column, the eval loss and the end against the start were read."
            ),
            fix="log the training loss more often (e.g. logging_steps of 1-5% of the run) for a full diagnosis.",
            evidence={"points": int(s.size)},
            source="diagnose",
        )
    )
    return found


def _overfitting(s: np.ndarray, y: np.ndarray, es: np.ndarray, ey: np.ndarray, unit: str) -> Finding | None:
    m = np.isfinite(ey)
    es, ey = es[m], ey[m]
    if ey.size < 3 or np.any(ey <= 0):
        return None
    b = int(np.argmin(ey))
    best, end = float(ey[b]), float(ey[-1])
    if b == ey.size - 1 or end < MIN_RISE * best:
        return None
    best_step = int(es[b])
    train_then = float(np.interp(best_step, s, y))
    if not (y[-1] * TRAIN_FALL <= train_then):
        return None
    return overfitting_finding(best_step, best, end, train_then, float(y[-1]), int(max(s[-1], es[-1])), unit)


def _rose(s: np.ndarray, y: np.ndarray, lr: LRInUse) -> Finding:
    i0 = int(np.argmax(y >= np.sqrt(y[0] * y[-1])))  # the first point past the middle (in log-loss)
    step = int(s[i0])
    lr_at = lr.at(s, i0)
    return Finding(
        rule="diverging",
        severity="error",
        message=(
            f"Diverged: the loss ended at {float(y[-1]):.4g}, {float(y[-1] / y[0]):.3g}x above its first value "
            f"({float(y[0]):.4g}), over {step_count(int(s[-1] - s[0]), lr.unit)}."
        ),
        fix=fix_lower_peak(lr, step, lr_at, factor=0.5, extra="and clip gradients (max_norm=1.0)"),
        evidence={"start_loss": float(y[0]), "final_loss": float(y[-1]), "onset_step": step, "lr_at_onset": lr_at},
        source="diagnose",
    )
