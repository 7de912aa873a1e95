"""Detectors of a run that does not make progress: plateaus (no progress for a long stretch, then
a drop, or flat to the end) and slow convergence (still falling at the end about as fast as on
average: the curve has not bent).

Both scale with the kind of run: a peak LR of at most 1e-4 is a fine-tune's (a model that
already knows most of the task moves little, and a flat tail is its normal end), so there they
are notes (``info``), as they are for logs of under 30 points or when the eval loss is still
improving. A run with no progress at all is the ``stuck`` class (:mod:`~lrkit.diagnosis.outcome`),
not a slow one. The advice never raises the LR more than 3x.
"""

from __future__ import annotations

import math

import numpy as np

from lrkit.diagnosis.curve import LossCurve, fmt_loss, loss_value
from lrkit.diagnosis.formatting import fmt_lr, fmt_step, nice
from lrkit.diagnosis.lr_context import LRInUse
from lrkit.diagnosis.signals import forward_min, wide_rolling_median
from lrkit.findings import Finding

__all__ = ["find_plateau_or_slow", "flat_runs"]


def flat_runs(c: LossCurve) -> list[tuple[int, int]]:
    """Maximal index ranges where the trend makes no progress over the next ``L`` points."""
    n = c.n
    t = wide_rolling_median(c.z, max(c.w, n // 20 | 1))
    L = max(c.w, n // 10)
    if n <= L + 2:
        return []
    tol = max(4 * c.sigma_trend(), c.size(math.log(1.02)))
    future_best = forward_min(t, L + 1)
    flat = (t - future_best) < tol
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if flat[i]:
            j = i
            while j + 1 < n and flat[j + 1]:
                j += 1
            runs.append((i, min(j + L, n - 1) if j < n - 1 else j))
            i = j + 1
        else:
            i += 1
    return runs


def _slope_and_t(x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of ``z`` against ``x`` and its t statistic (slope / standard error)."""
    if x.size < 3 or float(np.ptp(x)) == 0.0:
        return 0.0, 0.0
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float(xc @ (z - z.mean())) / sxx
    resid = z - z.mean() - slope * xc
    se = math.sqrt(max(float(resid @ resid), 1e-300) / (x.size - 2) / sxx)
    return slope, slope / se


FINE_TUNE_LR = 1e-4


def fine_tune_like(lr: LRInUse) -> bool:
    """A peak LR of at most 1e-4 (or unknown): the LR level of fine-tuning a trained model."""
    peak = lr.peak()
    return peak is None or peak <= FINE_TUNE_LR


def find_plateau_or_slow(
    c: LossCurve, lr: LRInUse, steps_all: np.ndarray, *, eval_improving: bool = False, eval_flat: bool = False
) -> list[Finding]:
    out: list[Finding] = []
    why_gentle = (
        "a fine-tune's LR (peak at most 1e-4 or unknown)"
        if fine_tune_like(lr)
        else f"a short log ({c.n} points)"
        if c.n < 30
        else "the eval loss is still improving"
        if eval_improving
        else ""
    )
    gentle = bool(why_gentle)
    # the training loss still falls but the eval loss has stopped: more steps or a higher LR would not help
    eval_done = eval_flat
    n = c.n
    t = wide_rolling_median(c.z, max(c.w, n // 20 | 1))
    st = c.sigma_trend()
    total = float(t[0] - t[-1])
    no_progress = total < max(6 * st, c.size(math.log(1.03)))
    # slow: the curve has not bent -- still falling at the end about as fast as on average
    i80 = int(0.8 * (n - 1))
    span = float(c.steps[-1] - c.steps[0]) or 1.0
    end_span = float(c.steps[-1] - c.steps[i80]) or 1.0
    # the bend is judged on the loss itself: in log-loss a geometric decay is a straight line,
    # and a loss that fell 50x is not slow however straight its log is
    lin = np.exp(t) if c.log else t
    lin_total = float(lin[0] - lin[-1])
    # The end's fall comes from a straight-line fit to the raw points of the last 20% (a rolling
    # median is least reliable at the edge of the series), and must stand clear of their noise.
    x_end = c.steps[i80:].astype(np.float64)
    z_end = c.z[i80:]
    slope, t_stat = _slope_and_t(x_end, z_end)
    end_drop = -slope * end_span
    lin_end = (math.exp(float(t[-1]) + end_drop) - math.exp(float(t[-1]))) if c.log else end_drop
    rate_ratio = (lin_end / end_span) / (lin_total / span) if lin_total > 0 else 0.0
    peak = lr.peak()
    lr_end = lr.at(c.steps, n - 1)
    if no_progress:
        return out  # no progress at all: the stuck detector's case, or a log too short to tell
    if rate_ratio > 0.5 and end_drop > 4 * st and t_stat < -5.0:
        ref = peak if peak is not None else lr_end
        factor = 2.5  # nice() rounds to two figures: the advice stays under 3x
        msg = (
            f"Slow convergence: the loss is still falling at the end ({fmt_loss(c, t[i80])} -> "
            f"{c.end:.4g} over the last {fmt_step(end_span)} steps, {rate_ratio:.0%} of the "
            "average rate): the curve has not bent" + (f"; the LR peaked at {fmt_lr(ref)}" if ref else "") + "."
        )
        fix = (
            f"train longer, or raise the peak LR to about {fmt_lr(nice(ref * factor))} (`lrkit find` locates the "
            "largest stable LR)"
            if ref
            else f"train longer, or raise the LR (at most {factor:.0f}x; `lrkit find` locates the largest stable LR)"
        )
        if ref and lr_end is not None and peak and lr_end < 0.2 * peak and not no_progress:
            fix += (
                f"; the LR had already decayed to {fmt_lr(lr_end)} while the loss still fell, so also decay "
                "more slowly (a later or longer decay)"
            )
        fix += " (guide: increase learning rate or adjust decay schedule)."
        if eval_done:
            fix = (
                "nothing needs to change for held-out data: the eval loss has stopped improving while the training "
                "loss still falls, so a longer run or a higher LR would mostly fit the training set."
            )
        elif gentle:
            fix = f"nothing needs to change ({why_gentle}); train longer if the loss should go lower."
        out.append(
            Finding(
                rule="slow-convergence",
                severity="info" if gentle or eval_done else "warning",
                message=msg,
                fix=fix,
                evidence={
                    "start_loss": c.start,
                    "end_loss": c.end,
                    "end_rate_ratio": rate_ratio,
                    "lr_peak": ref,
                    "suggested_lr": nice(ref * factor) if ref and not (gentle or eval_done) else None,
                },
                source="diagnose",
            )
        )
        return out
    # plateaus
    for a, b in flat_runs(c):
        length = c.steps[b] - c.steps[a]
        if b - a < max(0.25 * n, 10) or a == 0:
            continue
        level = float(np.median(t[a : b + 1]))
        lr_a, lr_b = lr.at(c.steps, a), lr.at(c.steps, b)
        if b < n - 1:
            after = t[b:]
            drop = level - float(after.min())
            if drop < max(8 * st, c.size(math.log(1.1))):
                continue
            # A plateau ends in a drop faster than the creep during it; the flattening tail of a
            # curve that approaches its floor falls ever more slowly and is convergence, not a plateau.
            m = min(b - a, n - 1 - b)
            rate_in = max(float(t[a] - t[b]), 0.0) / (b - a)
            rate_after = (float(t[b]) - float(t[b : b + m + 1].min())) / max(m, 1)
            if rate_after <= 2.0 * rate_in:
                continue
            dropped_with_lr = (
                lr_b is not None
                and b + 1 < n
                and (lr_next := lr.at(c.steps, min(n - 1, b + max(1, c.w)))) is not None
                and lr_next < 0.6 * lr_b
            )
            severity = "info" if dropped_with_lr or gentle else "warning"
            msg = (
                f"Plateau over steps {fmt_step(c.steps[a])}-{fmt_step(c.steps[b])} ({fmt_step(length)} steps) at "
                f"loss {fmt_loss(c, level)}"
                + (f" with the LR at {fmt_lr(lr_a)}" if lr_a else "")
                + (
                    f"; it fell by {c.ratio(drop):.2f}x afterwards."
                    if c.log
                    else f"; it fell by {drop:.3g} afterwards."
                )
            )
            if dropped_with_lr:
                fix = (
                    "the drop came when the LR was lowered: decaying earlier (or a cosine decay) would save "
                    "those steps."
                )
            else:
                fix = (
                    "try a cyclical LR (lrkit.schedules.Cyclic"
                    + (f" between {fmt_lr(nice(lr_a / 3))} and {fmt_lr(lr_a)}" if lr_a else "")
                    + ") or adaptive scheduling (lrkit.PlateauController: halve the LR after a few hundred "
                    "steps without improvement) (guide: cyclical LR or adaptive scheduling)."
                )
        else:
            # flat until the end: converged, or stuck under an LR that never comes down
            constant = lr_a is not None and lr_b is not None and lr_b >= 0.5 * lr_a
            if not constant or b - a < 0.3 * n:
                severity = "info"
            else:
                severity = "warning"
            if lr_a is None or gentle:
                severity = "info"
            msg = (
                f"The loss stopped improving from step {fmt_step(c.steps[a])} ({fmt_step(length)} steps at about "
                f"{fmt_loss(c, level)})" + (f" with the LR held near {fmt_lr(lr_b)}" if constant else "") + "."
            )
            if constant and lr_b is not None:
                fix = (
                    f"decay the LR over that stretch (e.g. cosine from {fmt_lr(lr_b)} to {fmt_lr(nice(lr_b / 3))}), "
                    "or use adaptive scheduling (lrkit.PlateauController) (guide: cyclical LR or adaptive scheduling)."
                )
            else:
                fix = (
                    "if the loss should go lower, try a cyclical LR or adaptive scheduling; otherwise the run has "
                    "converged."
                )
        out.append(
            Finding(
                rule="plateau",
                severity=severity,  # type: ignore[arg-type]
                message=msg,
                fix=fix,
                evidence={
                    "start_step": int(c.steps[a]),
                    "end_step": int(c.steps[b]),
                    "loss": loss_value(c, level),
                    "lr": lr_a,
                },
                source="diagnose",
            )
        )
    return out
