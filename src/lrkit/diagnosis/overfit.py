"""Overfitting, read from the evaluation loss: after its best value the eval loss rises and stays
up while the training loss keeps falling -- or rises steadily, for long, while the training loss
does not rise.

Rule (eval points ``e_0..e_m``, best ``e_b``, end level = median of the last ``min(3, m - b)``):
the end level is at least 5% above ``e_b`` (in log-loss when positive); at least 2 evals follow
the best and half of them sit above the halfway point of that rise; the rise lasts at least a
quarter of the run's steps; and the training loss at the end is at least 3% below its level at
the best eval step.

**A long, steady rise** is overfitting too when the training loss did not fall (flat, or noisy
around one level): the eval loss might then be drifting away from the training data rather than
being memorised, but it is no healthy run. Rule: at least :data:`STEADY_MIN_AFTER` (6) evals after
the best, over at least a quarter of the run; their last third (3+ points) has a median
:data:`STEADY_RISE` (1.3x) or more above the best; the rise is steady, not noise around one
level: at least :data:`STEADY_SHARE` (60%) of the evals after the best sit above the median of
the evals from the best up to them, and the Mann-Kendall trend statistic of the evals from the
best on is at least 3 (deflated by ``sqrt((1 - rho) / (1 + rho))`` for the lag-1 autocorrelation
``rho`` of their residuals around a straight line, so a slowly wandering eval loss does not pass
for a trend); and the training loss has not risen: its end level is not above its level at the
best eval step by more than 2 standard errors of the two levels. Noisy evals that come back
near their best fail the rise or the trend.
"""

from __future__ import annotations

import math

import numpy as np

from lrkit.diagnosis.curve import LossCurve, edge_counts, level_noise
from lrkit.diagnosis.formatting import at_step, nice_steps, step_count
from lrkit.findings import Finding

__all__ = ["overfitting_finding", "eval_gain", "find_overfitting"]

MIN_RISE = 1.05
MIN_SHARE = 0.25
TRAIN_FALL = 1.03
#: a steady rise with a training loss that did not fall: the eval end level over the best, the evals
#: after the best, the share of them above the median of those before them, the trend's z
STEADY_RISE = 1.3
STEADY_MIN_AFTER = 6
STEADY_SHARE = 0.6
STEADY_TREND_Z = 3.0
#: standard errors by which the training loss may sit above its level at the best eval and count as not risen
TRAIN_RISE_SE = 2.0


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
    if c.end * TRAIN_FALL <= train_then:
        return overfitting_finding(best_step, best, end, train_then, c.end, int(last), c.unit)
    # the training loss did not fall: only a long, steady rise of the eval loss says more than noise
    steady_end = _steady_rise(ey[b:])
    if steady_end is None or _train_rose(c, near, train_then):
        return None
    return overfitting_finding(best_step, best, steady_end, train_then, c.end, int(last), c.unit, train_fell=False)


def _steady_rise(e: np.ndarray) -> float | None:
    """The end level (median of the last third, 3+ points) of the positive evals ``e`` from the
    best on when they rise steadily (the module docstring's rule), else None."""
    if e.size - 1 < STEADY_MIN_AFTER:
        return None
    z = np.log(e)
    end = float(np.median(e[-max(3, (e.size - 1) // 3) :]))
    if end < STEADY_RISE * float(e[0]):
        return None
    above = np.mean([z[j] > np.median(z[:j]) for j in range(1, z.size)])
    if above < STEADY_SHARE or _trend_z(z) < STEADY_TREND_Z:
        return None
    return end


def _trend_z(z: np.ndarray) -> float:
    """The Mann-Kendall statistic of ``z`` against its order (ties count 0), with the continuity
    correction, times ``sqrt((1 - rho) / (1 + rho))`` for the lag-1 autocorrelation ``rho``
    (clipped to [0, 0.95]) of the residuals around a least-squares line."""
    n = z.size
    s = float(np.sum(np.triu(np.sign(z[None, :] - z[:, None]), 1)))
    mk = (s - np.sign(s)) / np.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    x = np.arange(n, dtype=np.float64)
    r = z - np.polyval(np.polyfit(x, z, 1), x)
    rho = 0.0
    if n > 3 and float(np.std(r[:-1])) > 0 and float(np.std(r[1:])) > 0:
        rho = float(np.clip(np.corrcoef(r[:-1], r[1:])[0, 1], 0.0, 0.95))
    return float(mk * np.sqrt((1.0 - rho) / (1.0 + rho)))


def _train_rose(c: LossCurve, near: np.ndarray, train_then: float) -> bool:
    """Whether the training loss's end level sits above its level at the best eval step by more
    than :data:`TRAIN_RISE_SE` standard errors of the two (medians of their points' noise)."""
    if not c.end > train_then:
        return False
    if c.log and train_then <= 0:
        return True
    k_end = edge_counts(c.n)[1]
    se = float(np.hypot(level_noise(c, int(near.sum()) or 1), level_noise(c, k_end)))
    gap = math.log(c.end / train_then) if c.log else c.end - train_then
    return gap > TRAIN_RISE_SE * se


def overfitting_finding(
    best_step: int,
    best: float,
    end: float,
    train_then: float,
    train_end: float,
    last: int,
    unit: str,
    *,
    train_fell: bool = True,
) -> Finding:
    """The overfitting finding: the eval loss best at ``best_step`` and ``end`` at the end, the
    training loss ``train_then`` there and ``train_end`` at the end (``last``: the log's last step);
    ``train_fell`` false for a steady eval rise while the training loss did not fall."""
    rerun = nice_steps(max(best_step * 1.1, 1))
    if train_fell:
        how = f"rose to {end:.4g}"
        train = f"while the training loss kept falling ({train_then:.4g} -> {train_end:.4g})."
    else:
        how = f"rose steadily to {end:.4g}"
        train = (
            f"while the training loss did not fall ({train_then:.4g} -> {train_end:.4g}), so this may be drift "
            "between the training and eval data rather than memorisation; either way the rest of the run made "
            "the eval loss worse."
        )
    return Finding(
        rule="overfitting",
        severity="warning",
        message=(
            f"Overfitting: the eval loss was best at {at_step(best_step, unit)} ({best:.4g}) and {how} "
            f"({end / best:.2f}x) over the last {step_count(last - best_step, unit)} {train}"
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
            "train_fell": train_fell,
        },
        source="diagnose",
    )
