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
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lrkit.diagnosis.curve import LossCurve, fmt_loss, loss_value
from lrkit.diagnosis.formatting import at_step, fmt_lr, nice, step_count, step_range
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


def _slope_and_t(x: np.ndarray, z: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope of ``z`` against ``x``, its t statistic (slope / standard error) and
    the lag-1 autocorrelation of the residuals (0 when there are too few points)."""
    if x.size < 3 or float(np.ptp(x)) == 0.0:
        return 0.0, 0.0, 0.0
    xc = x - x.mean()
    sxx = float(xc @ xc)
    slope = float(xc @ (z - z.mean())) / sxx
    resid = z - z.mean() - slope * xc
    ss = max(float(resid @ resid), 1e-300)
    se = math.sqrt(ss / (x.size - 2) / sxx)
    return slope, slope / se, float(resid[1:] @ resid[:-1]) / ss


FINE_TUNE_LR = 1e-4


def fine_tune_like(lr: LRInUse) -> bool:
    """A peak LR of at most 1e-4 (or unknown): the LR level of fine-tuning a trained model."""
    peak = lr.peak()
    return peak is None or peak <= FINE_TUNE_LR


def _why_gentle(c: LossCurve, lr: LRInUse, eval_improving: bool) -> str:
    """Why a slow or plateau finding is only a note (``""`` when it is a warning): a fine-tune's LR,
    a short log, or an eval loss that still improves."""
    if fine_tune_like(lr):
        return "a fine-tune's LR (peak at most 1e-4 or unknown)"
    if c.n < 30:
        return f"a short log ({c.n} points)"
    if eval_improving:
        return "the eval loss is still improving"
    return ""


@dataclass(frozen=True)
class _EndRate:
    """How fast the loss still falls over the last 20% of the run, against its average rate.

    ``rate_ratio`` = (fall over the end / end span) / (fall over the run / run span), in loss units;
    ``end_drop`` (trend units) and ``t_stat`` come from a straight-line fit to the raw points of
    the end (a rolling median is least reliable at the edge of the series)."""

    i80: int
    end_span: float
    end_drop: float
    t_stat: float
    rate_ratio: float
    rho: float = 0.0  # lag-1 autocorrelation of the end's residuals
    against: str = "the average rate"  # what ``rate_ratio`` compares the end with, for the message


def _end_rate(c: LossCurve, t: np.ndarray) -> _EndRate:
    n = c.n
    i80 = int(0.8 * (n - 1))
    span = float(c.steps[-1] - c.steps[0]) or 1.0
    end_span = float(c.steps[-1] - c.steps[i80]) or 1.0
    # the bend is judged on the loss itself: in log-loss a geometric decay is a straight line,
    # and a loss that fell 50x is not slow however straight its log is
    lin = np.exp(t) if c.log else t
    lin_total = float(lin[0] - lin[-1])
    slope, t_stat, rho = _slope_and_t(c.steps[i80:].astype(np.float64), c.z[i80:])
    end_drop = -slope * end_span
    lin_end = (math.exp(float(t[-1]) + end_drop) - math.exp(float(t[-1]))) if c.log else end_drop
    rate_ratio = (lin_end / end_span) / (lin_total / span) if lin_total > 0 else 0.0
    return _EndRate(i80=i80, end_span=end_span, end_drop=end_drop, t_stat=t_stat, rate_ratio=rate_ratio, rho=rho)


#: how sure the end's fall must be (t statistic of its slope) to call a run slow. Under a decaying
#: LR the decay itself lowers the loss late in the run (annealing), so a falling end may be the
#: schedule finishing and needs strong evidence; under a constant LR nothing in the schedule bends
#: the curve, so a fall still under way at the end is the run's own pace and weaker evidence
#: (t < -3: p about 0.001 for independent noise) is enough -- noisy per-batch losses rarely reach
#: t < -5 over the last 20% of a log. There the t statistic is first deflated for correlated noise
#: (x sqrt((1 - rho) / (1 + rho)), rho the residuals' lag-1 autocorrelation, when positive).
SLOW_T = -5.0
SLOW_T_CONSTANT_LR = -3.0


def _is_slow(rate: _EndRate, st: float, lr: LRInUse) -> bool:
    """The curve has not bent: still falling at over half its average rate, clear of the noise."""
    if not (rate.rate_ratio > 0.5 and rate.end_drop > 4 * st):
        return False
    if lr.kind == "constant":
        rho = min(max(rate.rho, 0.0), 0.99)
        return rate.t_stat * math.sqrt((1 - rho) / (1 + rho)) < SLOW_T_CONSTANT_LR
    return rate.t_stat < SLOW_T


#: logs this short have too few points at their end for the slope test of :func:`_is_slow`
SHORT_LOG = 15
#: share of a short log's steps that must fall for its fall to be steady
STEADY_SHARE = 0.8


def _known_fine_tune(lr: LRInUse) -> bool:
    peak = lr.peak()
    return peak is not None and peak <= FINE_TUNE_LR


def _short_no_bend(c: LossCurve) -> _EndRate | None:
    """A log of 5 to :data:`SHORT_LOG` points whose loss falls at (nearly) every point and, over its
    second half, at least half as fast as over its first (in loss units): a run stopped before
    its curve bent. ``None`` otherwise.

    Why: the slope test needs 3+ points over the last 20% of the run; a short smoke run or a
    handful of epochs that still falls in a straight line is slow convergence, where a healthy
    short run already bends (most of its fall in the first half)."""
    n = c.n
    if not 5 <= n < SHORT_LOG:
        return None
    y, x = c.y.astype(np.float64), c.steps.astype(np.float64)
    if float(np.mean(np.diff(y) < 0)) < STEADY_SHARE:
        return None
    h = n // 2
    span1, span2 = float(x[h] - x[0]), float(x[-1] - x[h])
    if span1 <= 0 or span2 <= 0:
        return None
    r1, r2 = float(y[0] - y[h]) / span1, float(y[h] - y[-1]) / span2
    if r1 <= 0 or r2 < 0.5 * r1:
        return None
    if float(c.z[0] - c.z[-1]) < max(4 * c.sigma, c.size(math.log(1.03))):
        return None
    return _EndRate(
        i80=h,
        end_span=span2,
        end_drop=float(c.z[h] - c.z[-1]),
        t_stat=-math.inf,
        rate_ratio=r2 / r1,
        against="its first half's rate",
    )


def find_plateau_or_slow(
    c: LossCurve, lr: LRInUse, *, eval_improving: bool = False, eval_flat: bool = False
) -> list[Finding]:
    """A slow-convergence finding, else the plateaus (none when the run made no progress at all:
    that is the stuck detector's case, or a log too short to tell). ``eval_flat``: the training
    loss still falls but the eval loss has stopped, so more steps or a higher LR would not help."""
    short = _short_no_bend(c)
    if short is not None:
        gentle = "a fine-tune's LR (peak at most 1e-4)" if _known_fine_tune(lr) else ""
        return [_slow_finding(c, lr, c.z, short, gentle, eval_done=eval_flat)]
    why_gentle = _why_gentle(c, lr, eval_improving)
    t = wide_rolling_median(c.z, max(c.w, c.n // 20 | 1))
    st = c.sigma_trend()
    if float(t[0] - t[-1]) < max(6 * st, c.size(math.log(1.03))):
        return []
    rate = _end_rate(c, t)
    if _is_slow(rate, st, lr):
        return [_slow_finding(c, lr, t, rate, why_gentle, eval_done=eval_flat)]
    found = (_plateau_finding(c, lr, t, st, a, b, gentle=bool(why_gentle)) for a, b in flat_runs(c))
    return [f for f in found if f is not None]


_SLOW_FACTOR = 2.5  # nice() rounds to two figures: the advice stays under 3x


def _slow_fix(lr: LRInUse, ref: float | None, lr_end: float | None) -> str:
    if not ref:
        return (
            f"train longer, or raise the LR (at most {_SLOW_FACTOR:g}x; `lrkit find` locates the largest stable LR)"
            " (guide: increase learning rate or adjust decay schedule)."
        )
    fix = (
        f"train longer, or raise the peak LR to about {fmt_lr(nice(ref * _SLOW_FACTOR))} (`lrkit find` locates the "
        "largest stable LR)"
    )
    peak = lr.peak()
    if lr_end is not None and peak and lr_end < 0.2 * peak:
        fix += (
            f"; the LR had already decayed to {fmt_lr(lr_end)} while the loss still fell, so also decay "
            "more slowly (a later or longer decay)"
        )
    return fix + " (guide: increase learning rate or adjust decay schedule)."


def _slow_finding(
    c: LossCurve, lr: LRInUse, t: np.ndarray, rate: _EndRate, why_gentle: str, *, eval_done: bool
) -> Finding:
    peak = lr.peak()
    lr_end = lr.at(c.steps, c.n - 1)
    ref = peak if peak is not None else lr_end
    msg = (
        f"Slow convergence: the loss is still falling at the end ({fmt_loss(c, t[rate.i80])} -> "
        f"{c.end:.4g} over the last {step_count(rate.end_span, c.unit)}, {rate.rate_ratio:.0%} of "
        f"{rate.against}): the curve has not bent" + (f"; the LR peaked at {fmt_lr(ref)}" if ref else "") + "."
    )
    if eval_done:
        fix = (
            "nothing needs to change for held-out data: the eval loss has stopped improving while the training "
            "loss still falls, so a longer run or a higher LR would mostly fit the training set."
        )
    elif why_gentle:
        fix = f"nothing needs to change ({why_gentle}); train longer if the loss should go lower."
    else:
        fix = _slow_fix(lr, ref, lr_end)
    note = bool(why_gentle) or eval_done
    return Finding(
        rule="slow-convergence",
        severity="info" if note else "warning",
        message=msg,
        fix=fix,
        evidence={
            "start_loss": c.start,
            "end_loss": c.end,
            "end_rate_ratio": rate.rate_ratio,
            "lr_peak": ref,
            "suggested_lr": nice(ref * _SLOW_FACTOR) if ref and not note else None,
        },
        source="diagnose",
    )


def _plateau_finding(
    c: LossCurve, lr: LRInUse, t: np.ndarray, st: float, a: int, b: int, *, gentle: bool
) -> Finding | None:
    """A flat stretch ``a..b`` of the trend as a finding: one that ends in a drop (a plateau), or
    one that lasts to the end of the run; ``None`` when it is too short, starts the run, or is the
    flattening tail of a converging curve."""
    n = c.n
    if b - a < max(0.25 * n, 10) or a == 0:
        return None
    level = float(np.median(t[a : b + 1]))
    told = (
        _plateau_then_drop(c, lr, t, st, a, b, level, gentle) if b < n - 1 else _flat_to_end(c, lr, a, b, level, gentle)
    )
    if told is None:
        return None
    severity, msg, fix = told
    return Finding(
        rule="plateau",
        severity=severity,
        message=msg,
        fix=fix,
        evidence={
            "start_step": int(c.steps[a]),
            "end_step": int(c.steps[b]),
            "loss": loss_value(c, level),
            "lr": lr.at(c.steps, a),
        },
        source="diagnose",
    )


Severity = Literal["info", "warning"]


def _drops_after(c: LossCurve, t: np.ndarray, st: float, a: int, b: int, level: float) -> float | None:
    """How far the trend falls after the flat stretch ``a..b``, when that is a drop that ends a
    plateau: large enough, and faster than the creep during it (the flattening tail of a curve that
    approaches its floor falls ever more slowly and is convergence, not a plateau)."""
    n = c.n
    drop = level - float(t[b:].min())
    if drop < max(8 * st, c.size(math.log(1.1))):
        return None
    m = min(b - a, n - 1 - b)
    rate_in = max(float(t[a] - t[b]), 0.0) / (b - a)
    rate_after = (float(t[b]) - float(t[b : b + m + 1].min())) / max(m, 1)
    return drop if rate_after > 2.0 * rate_in else None


def _plateau_then_drop(
    c: LossCurve, lr: LRInUse, t: np.ndarray, st: float, a: int, b: int, level: float, gentle: bool
) -> tuple[Severity, str, str] | None:
    drop = _drops_after(c, t, st, a, b, level)
    if drop is None:
        return None
    n = c.n
    lr_a, lr_b = lr.at(c.steps, a), lr.at(c.steps, b)
    dropped_with_lr = (
        lr_b is not None
        and b + 1 < n
        and (lr_next := lr.at(c.steps, min(n - 1, b + max(1, c.w)))) is not None
        and lr_next < 0.6 * lr_b
    )
    msg = (
        f"Plateau over {step_range(c.steps[a], c.steps[b], c.unit)} ({step_count(c.steps[b] - c.steps[a], c.unit)}) "
        f"at loss {fmt_loss(c, level)}"
        + (f" with the LR at {fmt_lr(lr_a)}" if lr_a else "")
        + (f"; it fell by {c.ratio(drop):.2f}x afterwards." if c.log else f"; it fell by {drop:.3g} afterwards.")
    )
    if dropped_with_lr:
        fix = f"the drop came when the LR was lowered: decaying earlier (or a cosine decay) would save those {c.unit}s."
    else:
        fix = (
            "try a cyclical LR (lrkit.schedules.Cyclic"
            + (f" between {fmt_lr(nice(lr_a / 3))} and {fmt_lr(lr_a)}" if lr_a else "")
            + ") or adaptive scheduling (lrkit.PlateauController: halve the LR after a few hundred "
            "steps without improvement) (guide: cyclical LR or adaptive scheduling)."
        )
    return ("info" if dropped_with_lr or gentle else "warning"), msg, fix


def _flat_to_end(c: LossCurve, lr: LRInUse, a: int, b: int, level: float, gentle: bool) -> tuple[Severity, str, str]:
    """Flat until the end: converged, or stuck under an LR that never comes down (a warning only
    under a constant LR over 30%+ of the run)."""
    lr_a, lr_b = lr.at(c.steps, a), lr.at(c.steps, b)
    constant = lr_a is not None and lr_b is not None and lr_b >= 0.5 * lr_a
    warn = constant and b - a >= 0.3 * c.n and not gentle
    msg = (
        f"The loss stopped improving from {at_step(c.steps[a], c.unit)} ({step_count(c.steps[b] - c.steps[a], c.unit)} "
        f"at about {fmt_loss(c, level)})" + (f" with the LR held near {fmt_lr(lr_b)}" if constant else "") + "."
    )
    if constant and lr_b is not None:
        fix = (
            f"decay the LR over that stretch (e.g. cosine from {fmt_lr(lr_b)} to {fmt_lr(nice(lr_b / 3))}), "
            "or use adaptive scheduling (lrkit.PlateauController) (guide: cyclical LR or adaptive scheduling)."
        )
    else:
        fix = "if the loss should go lower, try a cyclical LR or adaptive scheduling; otherwise the run has converged."
    return ("warning" if warn else "info"), msg, fix
