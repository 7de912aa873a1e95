"""Overfitting, read from the evaluation loss: after its best value the eval loss rises and stays
up while the training loss keeps falling.

Rule (eval points ``e_0..e_m``, best ``e_b``, end level = median of the last ``min(3, m - b)``):
the end level is at least 5% above ``e_b`` (in log-loss when positive); at least 2 evals follow
the best and half of them sit above the halfway point of that rise; the rise lasts at least a
quarter of the run's steps; and the training loss at the end is at least 3% below its level at
the best eval step.
"""

from __future__ import annotations

import numpy as np

from lrkit.diagnosis.curve import LossCurve
from lrkit.diagnosis.formatting import at_step, nice_steps, step_count
from lrkit.findings import Finding

__all__ = ["overfitting_finding", "eval_gain", "find_overfitting"]

MIN_RISE = 1.05
MIN_SHARE = 0.25
TRAIN_FALL = 1.03


def eval_gain(eval_losses: np.ndarray) -> float | None:
    """How much the eval loss improved from its first value to its best (a ratio), or None."""
    e = eval_losses[np.isfinite(eval_losses)]
    if e.size < 2 or e[0] <= 0 or e.min() <= 0:
        return None
    return float(e[0] / e.min())


def find_overfitting(c: LossCurve, eval_steps: np.ndarray, eval_losses: np.ndarray) -> Finding | None:
    m = np.isfinite(eval_losses)
    es, ey = eval_steps[m], eval_losses[m]
    if ey.size < 3 or np.any(ey <= 0):
        return None
    b = int(np.argmin(ey))
    after = ey[b + 1 :]
    if after.size < 2:
        return None
    best = float(ey[b])
    end = float(np.median(ey[-min(3, after.size) :]))
    if end < MIN_RISE * best:
        return None
    # sustained, not one late jump: most evals after the best stay measurably above it (a
    # midpoint test here missed the accelerating rise of a textbook overfit)
    if np.mean(after > best * np.sqrt(MIN_RISE)) < 0.5:
        return None
    first = float(min(c.steps[0], es[0]))
    last = float(max(c.steps[-1], es[-1]))
    best_step = int(es[b])
    if last - best_step < MIN_SHARE * max(last - first, 1.0):
        return None
    # the training loss near the best eval step against its end level
    near = np.abs(c.steps - best_step) <= max(0.05 * (last - first), 1.0)
    train_then = float(np.median(c.y[near])) if near.any() else float(np.interp(best_step, c.steps, c.y))
    if not (c.end * TRAIN_FALL <= train_then):
        return None
    return overfitting_finding(best_step, best, end, train_then, c.end, int(last), c.unit)


def overfitting_finding(
    best_step: int, best: float, end: float, train_then: float, train_end: float, last: int, unit: str
) -> Finding:
    """The overfitting finding: the eval loss best at ``best_step`` and ``end`` at the end, the
    training loss ``train_then`` there and ``train_end`` at the end (``last``: the log's last step)."""
    rerun = nice_steps(max(best_step * 1.1, 1))
    return Finding(
        rule="overfitting",
        severity="warning",
        message=(
            f"Overfitting: the eval loss was best at {at_step(best_step, unit)} ({best:.4g}) and rose to {end:.4g} "
            f"({end / best:.2f}x) over the last {step_count(last - best_step, unit)} while the training loss kept "
            f"falling ({train_then:.4g} -> {train_end:.4g})."
        ),
        fix=(
            f"stop or restore the checkpoint at {at_step(best_step, unit)} (early stopping on the eval loss "
            "keeps it); to train again, decay earlier or lower the peak LR -- a run of about "
            f"{step_count(rerun, unit)} with its warm-up at 5-10% of that -- and add regularisation (weight "
            "decay, dropout, augmentation, more data). A higher LR would make it worse."
        ),
        evidence={
            "best_step": best_step,
            "best_eval_loss": best,
            "end_eval_loss": end,
            "train_loss_at_best": train_then,
            "train_loss_end": train_end,
            "start_step": best_step,
            "end_step": last,
            "suggested_total_steps": rerun,
        },
        source="diagnose",
    )
