"""Detectors of an unstable run: divergence (NaN/inf, or a climb that stays far above the best
loss), loss spikes (a point at least ``max(6 sigma, log 1.25)`` above the median of the ``w``
points before it) and oscillation (the loss swinging up and down repeatedly).

Both spikes and swings must also be large in the log's own units and against the run's outcome:
at least 10 resolution steps (the smallest non-zero step between logged values, so 4-decimal
rounding is never a spike) and at least 5% of the progress the run made (start level minus best
trend level), so a brief excursion in a run that fell by orders of magnitude is not "spikes".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrkit.diagnosis.advice import diverged_from, fix_lower_peak, lr_phrase
from lrkit.diagnosis.curve import LossCurve, loss_value
from lrkit.diagnosis.formatting import at_step, fmt_lr, nice, step_count, step_range
from lrkit.diagnosis.lr_context import LRInUse
from lrkit.diagnosis.outcome import level_text
from lrkit.diagnosis.signals import causal_median, forward_medians, reversals, rolling_median, wide_rolling_median
from lrkit.findings import Finding

__all__ = ["find_divergence", "find_lasting_damage", "find_oscillation", "find_spikes"]

#: a training-loss climb that counts as damage when the eval loss confirms it: the trend rises
#: 1.5x above its best so far and stays 1.25x above it for a tenth of the log (3 points at least)
DAMAGE_CLIMB = 1.5
DAMAGE_HELD = 1.25
DAMAGE_SHARE = 0.10
#: the eval loss after the climb never gets back within this factor of its best before it
EVAL_DAMAGE = 1.25


def find_divergence(c: LossCurve, nonfinite_step: int | None, lr: LRInUse, all_steps: np.ndarray) -> Finding | None:
    """A NaN/inf loss, a trend that climbs and stays far above its best (1.5x, and more than half
    the progress lost), or a jump 3x above the start that the run never recovers from."""
    ib = int(np.argmin(c.trend))
    blown = _climbed_and_stayed(c, ib)
    if nonfinite_step is None and not blown:
        i0 = _unrecovered_jump(c)
        if i0 is None:
            return None
        return diverged_from(
            c,
            lr,
            i0,
            lambda where: (
                f"Diverged: the loss jumped to {c.y[int(np.argmax(c.z))]:.4g} at {at_step(c.steps[i0], c.unit)}"
                f"{where} and never got below where it started ({c.start:.4g} -> {c.end:.4g})."
            ),
            best_step=int(c.steps[ib]),
            best_loss=loss_value(c, c.trend[ib]),
            final_loss=c.end,
        )
    climbed = c.trend[-1] - c.trend[ib] > max(c.size(math.log(1.1)), 4 * c.sigma_trend())
    onset_i = _climb_onset(c, ib) if blown or climbed else None
    return _diverged(c, lr, ib, onset_i, nonfinite_step, all_steps)


def find_lasting_damage(c: LossCurve, lr: LRInUse, eval_steps: np.ndarray, eval_losses: np.ndarray) -> Finding | None:
    """A climb of the training loss that the eval loss shows did lasting harm.

    The training trend rises ``DAMAGE_CLIMB`` (1.5x) above its best so far (index ``b``) and stays
    ``DAMAGE_HELD`` (1.25x) above it for ``DAMAGE_SHARE`` of the log; the training loss ends
    ``sqrt(DAMAGE_HELD)`` (1.12x) or more above that best (it did not go back down to it, nor
    past it, which would be overfitting's shape); and
    every eval loss after the climb's midpoint stays ``EVAL_DAMAGE`` (1.25x) or more above the best
    eval loss before it (2+ evals after, 1+ before). A climb the run later walks back down is
    not a blow-up by the training loss alone (it can be a hard stretch of data), so the eval loss
    decides: a model that lost what it had learned on held-out data has diverged, whatever the
    training loss did next.
    """
    m = np.isfinite(eval_losses)
    es, ey = eval_steps[m], eval_losses[m]
    if not (c.log and ey.size >= 3 and np.all(ey > 0)):
        return None
    t = c.trend
    excess = t - np.minimum.accumulate(t)
    top = int(np.argmax(excess))
    if excess[top] < max(math.log(DAMAGE_CLIMB), 4 * c.sigma_trend()):
        return None
    b = int(np.argmin(t[: top + 1]))
    held = excess[b:] >= math.log(DAMAGE_HELD)
    if np.count_nonzero(held) < max(3, DAMAGE_SHARE * c.n) or c.end <= math.exp(t[b]) * DAMAGE_HELD**0.5:
        return None
    mid = b + int(np.argmax(excess[b:] >= 0.5 * excess[top]))
    mid_step = int(c.steps[mid])
    before, after = ey[es <= mid_step], ey[es > mid_step]
    if before.size == 0 or after.size < 2:
        return None
    best_eval = float(np.min(before))
    if float(np.min(after)) < EVAL_DAMAGE * best_eval:
        return None
    i0 = b + int(np.argmax(excess[b:] > math.log(1.1)))
    best_loss, peak_loss, eval_end = math.exp(t[b]), math.exp(t[b + int(np.argmax(excess[b:]))]), float(after[-1])
    return diverged_from(
        c,
        lr,
        i0,
        lambda where: (
            f"Diverged: the training loss climbed from {best_loss:.4g} ({at_step(c.steps[b], c.unit)}) to "
            f"{peak_loss:.4g} from {at_step(c.steps[i0], c.unit)}{where}, and the eval loss never came back: "
            f"{best_eval:.4g} before the climb, {float(np.min(after)):.4g} at best after it and {eval_end:.4g} at "
            f"the end ({eval_end / best_eval:.2f}x). The model lost what it had learned; the training loss "
            f"ends at {c.end:.4g}."
        ),
        best_step=int(c.steps[b]),
        best_loss=best_loss,
        final_loss=c.end,
        best_eval_loss=best_eval,
        end_eval_loss=eval_end,
    )


def _climbed_and_stayed(c: LossCurve, ib: int) -> bool:
    """The trend ends far above its best (index ``ib``): 1.5x, half the progress and 8 sigma."""
    t = c.trend
    rise = float(t[-1] - t[ib])
    progress = float(max(t[0] - t[ib], 0.0))
    return rise > max(c.size(math.log(1.5)), 0.5 * progress, 8 * c.sigma_trend())


def _unrecovered_jump(c: LossCurve) -> int | None:
    """A blow-up the model never recovers from: the first point 3x (and 10 sigma) above the first,
    before the last window, with the trend ending no better than it started."""
    t = c.trend
    jump = np.nonzero(c.z > c.z[0] + max(c.size(math.log(3.0)), 10 * c.sigma))[0]
    ended_no_better = float(t[-1]) > float(t[0]) - max(c.size(math.log(1.05)), 4 * c.sigma_trend())
    return int(jump[0]) if jump.size > 0 and jump[0] < c.n - c.w and ended_no_better else None


def _climb_onset(c: LossCurve, ib: int) -> int | None:
    """Where the climb from the best (index ``ib``) starts: the last point the trend sat near its
    best level before crossing 1.1x (and 3 sigma) above it; ``None`` when it never crosses."""
    t = c.trend
    st = c.sigma_trend()
    after = np.nonzero(t[ib:] > t[ib] + max(c.size(math.log(1.1)), 3 * st))[0]
    if not after.size:
        return None
    onset_i = ib + int(after[0])
    back = np.nonzero(t[ib:onset_i] <= t[ib] + max(3 * st, c.size(math.log(1.02))))[0]
    return ib + int(back[-1]) + 1 if back.size else onset_i


def _diverged(
    c: LossCurve, lr: LRInUse, ib: int, onset_i: int | None, nonfinite_step: int | None, all_steps: np.ndarray
) -> Finding:
    """The finding for a NaN/inf loss or a climb that stayed, with the climb's onset when known."""
    t = c.trend
    if onset_i is not None:
        onset_step = int(c.steps[onset_i])
        lr_on = lr.at(c.steps, onset_i)
    else:
        onset_step = int(nonfinite_step)  # type: ignore[arg-type]
        idx = int(np.searchsorted(all_steps, onset_step))
        lr_on = lr.at(all_steps, min(idx, all_steps.size - 1))
    evidence: dict[str, Any] = {
        "onset_step": onset_step,
        "lr_at_onset": lr_on,
        "best_step": int(c.steps[ib]),
        "best_loss": float(np.exp(t[ib]) if c.log else t[ib]),
        "final_loss": c.end,
    }
    if nonfinite_step is not None:
        evidence["nonfinite_step"] = int(nonfinite_step)
    what = (
        f"the loss became NaN/inf at {at_step(nonfinite_step, c.unit)}"
        if nonfinite_step is not None
        else f"the loss climbed from {evidence['best_loss']:.4g} ({at_step(evidence['best_step'], c.unit)}) "
        f"to {level_text(evidence['final_loss'])} and stayed there"
    )
    if onset_i is not None and nonfinite_step is not None:
        what += f" after climbing since {at_step(onset_step, c.unit)}"
    elif onset_i is not None:
        what += f" (climb from {at_step(onset_step, c.unit)})"
    fix = fix_lower_peak(lr, onset_step, lr_on, factor=0.5, extra="and clip gradients (max_norm=1.0)")
    if nonfinite_step is not None:
        fix += f" If the LR was already small, look for fp16 overflow or a bad batch at that {c.unit}."
    return Finding(
        rule="diverging",
        severity="error",
        message=f"Diverged: {what}{lr_phrase(lr, onset_step, lr_on)}.",
        fix=fix,
        evidence=evidence,
        source="diagnose",
    )


def min_event(c: LossCurve) -> float:
    """The smallest jump, in loss units, that counts as an event (see the module docstring)."""
    best = float(np.exp(np.min(c.trend))) if c.log else float(np.min(c.trend))
    progress = max(c.start - best, 0.0) if np.isfinite(c.start) else 0.0
    return max(10.0 * c.resolution, 0.05 * progress)


@dataclass(frozen=True)
class _SpikeScale:
    """What a spike is measured against, per point (``z`` units): ``base`` the causal median of the
    ``w`` points before, ``excess`` how far the point stands above it, ``sig`` the local noise,
    ``thr`` the threshold of a candidate (``max(6 sigma, log 1.25)``) and ``big`` that of a single
    very large jump (``max(12 sigma, log 2)``)."""

    base: np.ndarray
    excess: np.ndarray
    sig: np.ndarray
    thr: np.ndarray
    big: np.ndarray


def _spike_scale(c: LossCurve) -> _SpikeScale:
    base = causal_median(c.z, c.w)
    # minibatch noise is rarely constant (in log-loss it grows as the loss falls): a local scale
    local = 1.4826 * wide_rolling_median(np.abs(c.z - c.trend), 4 * c.w + 1)
    sig = np.maximum(local, c.sigma if c.n < 8 * c.w else 0.0)
    sig = np.maximum(sig, 0.005 if c.log else 1e-12)
    return _SpikeScale(
        base=base,
        excess=c.z - base,
        sig=sig,
        thr=np.maximum(6 * sig, c.size(math.log(1.25))),
        big=np.maximum(12 * sig, c.size(math.log(2.0))),
    )


def _group_close(cand: np.ndarray, gap: int) -> list[list[int]]:
    """Indices no more than ``gap`` apart grouped into one event each."""
    events: list[list[int]] = [[int(cand[0])]]
    for i in cand[1:]:
        if i - events[-1][-1] <= gap:
            events[-1].append(int(i))
        else:
            events.append([int(i)])
    return events


def find_spikes(c: LossCurve, lr: LRInUse) -> list[Finding]:
    """Loss spikes: runs of candidate points (``max(6 sigma, log 1.25)`` above the median of the
    ``w`` before) that are sustained (3+ points) or very large, above the log's resolution and 5%
    of the run's progress, and not one bad batch undone by the next step."""
    scale = _spike_scale(c)
    cand = np.nonzero(np.nan_to_num(scale.excess - scale.thr, nan=-np.inf) > 0)[0]
    if cand.size == 0:
        return []
    floor_abs = min_event(c)
    found = (_spike(c, lr, scale, ev, floor_abs) for ev in _group_close(cand, max(2, c.w // 4)))
    return [f for f in found if f is not None]


def _spike(c: LossCurve, lr: LRInUse, scale: _SpikeScale, ev: list[int], floor_abs: float) -> Finding | None:
    """One event of candidate points as a finding, or ``None`` when it is noise: one odd batch,
    within the rounding, a bad batch undone at once, or too close to the end to tell."""
    start, end = ev[0], ev[-1]
    excess, base = scale.excess, scale.base
    peak_i = max(ev, key=lambda i: excess[i])
    # one odd batch is data noise; a spike is sustained or very large
    if len(ev) < 3 and excess[peak_i] < scale.big[peak_i]:
        return None
    base_raw = float(np.exp(base[start])) if c.log else float(base[start])
    if float(c.y[peak_i]) - base_raw < floor_abs:
        return None  # within the log's rounding, or small against what the run achieved
    thr = float(scale.thr[peak_i])
    if end - start < 2 and end + 1 < c.n and c.z[end + 1] <= float(base[start]) + thr and float(c.y[peak_i]) < c.start:
        return None  # one bad batch, undone by the next step, that did not undo the run's progress
    tol = max(2 * float(scale.sig[peak_i]), c.size(math.log(1.1)))
    level = float(base[start])
    rec = np.nonzero((c.trend[end + 1 :] <= level + tol) & (c.z[end + 1 :] <= level + thr))[0]
    if not rec.size and c.n - 1 - end < c.w:
        return None  # at the very end of the log: too soon to tell
    rec_step = int(c.steps[end + 1 + int(rec[0])]) if rec.size else None
    return _spike_finding(c, lr, start, end, peak_i, float(excess[peak_i]), level, rec_step)


def _spike_finding(
    c: LossCurve, lr: LRInUse, start: int, end: int, peak_i: int, excess: float, level: float, rec_step: int | None
) -> Finding:
    recovered = rec_step is not None
    peak_step = int(c.steps[peak_i])
    lr_at = lr.at(c.steps, peak_i)
    size = c.ratio(excess)
    size_txt = f"{size:.1f}x the loss before it" if c.log else f"+{size:.3g} over the loss before it"
    span = at_step(c.steps[start], c.unit) if start == end else step_range(c.steps[start], c.steps[end], c.unit)
    head = f"Loss spike at {span}: {size_txt}{lr_phrase(lr, peak_step, lr_at)}; "
    if rec_step is not None:
        msg = head + f"recovered by {at_step(rec_step, c.unit)}."
        fix = (
            "clip gradients (max_norm=1.0) and "
            + fix_lower_peak(lr, peak_step, lr_at, factor=0.7)
            + " Spikes that keep coming mean the LR is near the edge of stability."
        )
    else:
        msg = head + "the loss did not come back to its earlier level."
        fix = "resume from a checkpoint before the spike and " + fix_lower_peak(
            lr, peak_step, lr_at, factor=0.5, extra="and clip gradients"
        )
    return Finding(
        rule="loss-spike",
        severity="warning" if recovered else "error",
        message=msg,
        fix=fix,
        evidence={
            "start_step": int(c.steps[start]),
            "end_step": int(c.steps[end]),
            "peak_step": peak_step,
            "size": size,
            "size_is_ratio": c.log,
            "loss_before": float(np.exp(level) if c.log else level),
            "peak_loss": float(c.y[peak_i]),
            "recovered": recovered,
            "recovered_at": rec_step,
            "lr": lr_at,
        },
        source="diagnose",
    )


def find_oscillation(c: LossCurve, lr: LRInUse) -> Finding | None:
    """A loss that alternates up and down every step by 15%+, else one that swings regularly by
    20%+; either must clear the log's resolution and 5% of the run's progress."""
    found = _fast_alternation(c) or _regular_swings(c)
    if found is None:
        return None
    (a, b), detail = found
    mid = (a + b) // 2
    lr_at = lr.at(c.steps, mid)
    msg = (
        f"Oscillating loss over {step_range(c.steps[a], c.steps[b], c.unit)}: {detail}"
        f"{lr_phrase(lr, int(c.steps[mid]), lr_at)}."
    )
    if lr.kind in ("cyclic", "one-cycle"):
        fix = (
            "the swings follow the cyclical schedule; if they undo progress, lower max_lr"
            + (f" to about {fmt_lr(nice(lr_at * 0.5))}" if lr_at else "")
            + " or switch to a smooth decay (cosine)."
        )
    else:
        fix = (
            "reduce the LR"
            + (f" to about {fmt_lr(nice(lr_at * 0.5))}" if lr_at else " by about half")
            + " or use a smoother decay (cosine instead of steps); larger batches also damp it"
            " (guide: smoother decay or reduce learning rate)."
        )
    return Finding(
        rule="oscillating",
        severity="warning",
        message=msg,
        fix=fix,
        evidence={"start_step": int(c.steps[a]), "end_step": int(c.steps[b]), "lr": lr_at, "detail": detail},
        source="diagnose",
    )


def _fast_alternation(c: LossCurve) -> tuple[tuple[int, int], str] | None:
    """The loss alternating up/down step after step (95% sign flips over 59 steps) with swings of
    15%+: the region and its description."""
    d = np.diff(c.z)
    if d.size < 60:
        return None
    sgn = np.sign(d)
    flips = (sgn[1:] * sgn[:-1] < 0).astype(float)
    win = 59  # 95% sign flips over 59 steps: about 1e-6 per window for i.i.d. noise (2/3 flip)
    frac = np.convolve(flips, np.ones(win) / win, mode="valid")
    amp = forward_medians(np.abs(d), win + 1)[: frac.size]
    hit = np.nonzero((frac >= 0.95) & (amp > c.size(math.log(1.15))))[0]
    if hit.size and c.log:
        # the swing in loss units must clear the log's resolution and the run's progress
        amp_abs = np.exp(c.trend[hit]) * (np.exp(amp[hit]) - 1.0)
        hit = hit[amp_abs >= min_event(c)]
    if not hit.size:
        return None
    ratio = c.ratio(float(np.median(amp[hit])))
    size = f"{ratio:.2f}x" if c.log else f"{ratio:.3g}"
    region = (int(hit[0]), int(min(hit[-1] + win + 1, c.n - 1)))
    return region, f"it alternates up and down every {c.unit} by about {size}"


def _regular_swings(c: LossCurve) -> tuple[tuple[int, int], str] | None:
    """Swings of 20%+ (and 6 sigma of a 5-point median) at regular intervals (the gaps between
    turns vary by under 75%): the region and its description."""
    ws = 5
    smooth = rolling_median(c.z, ws)
    h = max(6 * 1.25 * c.sigma / math.sqrt(ws), c.size(math.log(1.2)))
    turns = reversals(smooth, h)
    if len(turns) < 6:
        return None
    gaps = np.diff(turns).astype(float)
    cv = float(gaps.std() / gaps.mean()) if gaps.size and gaps.mean() > 0 else 1.0
    raw = np.exp(smooth[turns]) if c.log else smooth[turns]
    if float(np.median(np.abs(np.diff(raw)))) < min_event(c) or cv >= 0.75:
        return None  # irregular, or swings inside the rounding or small against the run's progress
    ratio = c.ratio(float(np.median(np.abs(np.diff(smooth[turns])))))
    period = step_count(round(2 * float(np.mean(np.diff(c.steps[turns])))), c.unit)
    size = f"{ratio:.2f}x" if c.log else f"{ratio:.3g}"
    return (turns[0], turns[-1]), f"it swings by about {size} with a period of about {period}"
