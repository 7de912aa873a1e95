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
from typing import Any

import numpy as np

from lrkit.diagnosis.advice import diverged_from, fix_lower_peak, lr_phrase
from lrkit.diagnosis.curve import LossCurve, loss_value
from lrkit.diagnosis.formatting import at_step, fmt_lr, nice, step_count, step_range
from lrkit.diagnosis.lr_context import LRInUse
from lrkit.diagnosis.outcome import level_text
from lrkit.diagnosis.signals import causal_median, forward_medians, reversals, rolling_median, wide_rolling_median
from lrkit.findings import Finding

__all__ = ["find_divergence", "find_oscillation", "find_spikes"]


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


def find_spikes(c: LossCurve, lr: LRInUse) -> list[Finding]:
    floor_abs = min_event(c)
    base = causal_median(c.z, c.w)
    excess = c.z - base
    # minibatch noise is rarely constant (in log-loss it grows as the loss falls): a local scale
    local = 1.4826 * wide_rolling_median(np.abs(c.z - c.trend), 4 * c.w + 1)
    sig = np.maximum(local, c.sigma if c.n < 8 * c.w else 0.0)
    sig = np.maximum(sig, 0.005 if c.log else 1e-12)
    thr_arr = np.maximum(6 * sig, c.size(math.log(1.25)))
    big_arr = np.maximum(12 * sig, c.size(math.log(2.0)))
    cand = np.nonzero(np.nan_to_num(excess - thr_arr, nan=-np.inf) > 0)[0]
    if cand.size == 0:
        return []
    # group candidates that are close together into events
    gap = max(2, c.w // 4)
    events: list[list[int]] = [[int(cand[0])]]
    for i in cand[1:]:
        if i - events[-1][-1] <= gap:
            events[-1].append(int(i))
        else:
            events.append([int(i)])
    out: list[Finding] = []
    for ev in events:
        start, end = ev[0], ev[-1]
        peak_i = max(ev, key=lambda i: excess[i])
        # one odd batch is data noise; a spike is sustained or very large
        if len(ev) < 3 and excess[peak_i] < big_arr[peak_i]:
            continue
        base_raw = float(np.exp(base[start])) if c.log else float(base[start])
        if float(c.y[peak_i]) - base_raw < floor_abs:
            continue  # within the log's rounding, or small against what the run achieved
        if (
            end - start < 2
            and end + 1 < c.n
            and c.z[end + 1] <= float(base[start]) + float(thr_arr[peak_i])
            and float(c.y[peak_i]) < c.start
        ):
            continue  # one bad batch, undone by the next step, that did not undo the run's progress
        thr = float(thr_arr[peak_i])
        tol = max(2 * float(sig[peak_i]), c.size(math.log(1.1)))
        level = float(base[start])
        later = c.trend[end + 1 :]
        raw_later = c.z[end + 1 :]
        rec = np.nonzero((later <= level + tol) & (raw_later <= level + thr))[0]
        recovered = bool(rec.size)
        if not recovered and c.n - 1 - end < c.w:
            continue  # at the very end of the log: too soon to tell
        rec_step = int(c.steps[end + 1 + int(rec[0])]) if recovered else None
        lr_at = lr.at(c.steps, peak_i)
        size = c.ratio(float(excess[peak_i]))
        size_txt = f"{size:.1f}x the loss before it" if c.log else f"+{size:.3g} over the loss before it"
        span = at_step(c.steps[start], c.unit) if start == end else step_range(c.steps[start], c.steps[end], c.unit)
        if recovered:
            msg = (
                f"Loss spike at {span}: {size_txt}{lr_phrase(lr, int(c.steps[peak_i]), lr_at)}; "
                f"recovered by {at_step(rec_step, c.unit)}."  # type: ignore[arg-type]
            )
            fix = (
                "clip gradients (max_norm=1.0) and "
                + fix_lower_peak(lr, int(c.steps[peak_i]), lr_at, factor=0.7)
                + " Spikes that keep coming mean the LR is near the edge of stability."
            )
        else:
            msg = (
                f"Loss spike at {span}: {size_txt}{lr_phrase(lr, int(c.steps[peak_i]), lr_at)}; "
                "the loss did not come back to its earlier level."
            )
            fix = "resume from a checkpoint before the spike and " + fix_lower_peak(
                lr, int(c.steps[peak_i]), lr_at, factor=0.5, extra="and clip gradients"
            )
        out.append(
            Finding(
                rule="loss-spike",
                severity="warning" if recovered else "error",
                message=msg,
                fix=fix,
                evidence={
                    "start_step": int(c.steps[start]),
                    "end_step": int(c.steps[end]),
                    "peak_step": int(c.steps[peak_i]),
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
        )
    return out


def find_oscillation(c: LossCurve, lr: LRInUse) -> Finding | None:
    n = c.n
    region: tuple[int, int] | None = None
    detail = ""
    # fast: the loss alternates up/down step after step with large swings
    d = np.diff(c.z)
    if d.size >= 60:
        sgn = np.sign(d)
        flips = (sgn[1:] * sgn[:-1] < 0).astype(float)
        win = 59  # 95% sign flips over 59 steps: about 1e-6 per window for i.i.d. noise (2/3 flip)
        frac = np.convolve(flips, np.ones(win) / win, mode="valid")
        amp = forward_medians(np.abs(d), win + 1)[: frac.size]
        hit = np.nonzero((frac >= 0.95) & (amp > c.size(math.log(1.15))))[0]
        if hit.size and c.log:
            # the swing in loss units must clear the log's resolution and the run's progress
            level = np.exp(c.trend[hit])
            amp_abs = level * (np.exp(amp[hit]) - 1.0)
            hit = hit[amp_abs >= min_event(c)]
        if hit.size:
            region = (int(hit[0]), int(min(hit[-1] + win + 1, n - 1)))
            ratio = c.ratio(float(np.median(amp[hit])))
            detail = (
                f"it alternates up and down every {c.unit} by about {ratio:.2f}x"
                if c.log
                else f"it alternates up and down every {c.unit} by about {ratio:.3g}"
            )
    if region is None:
        ws = 5
        smooth = rolling_median(c.z, ws)
        h = max(6 * 1.25 * c.sigma / math.sqrt(ws), c.size(math.log(1.2)))
        turns = reversals(smooth, h)
        if len(turns) >= 6:
            gaps = np.diff(turns).astype(float)
            cv = float(gaps.std() / gaps.mean()) if gaps.size and gaps.mean() > 0 else 1.0
            swings = np.abs(np.diff(smooth[turns]))
            raw = np.exp(smooth[turns]) if c.log else smooth[turns]
            if float(np.median(np.abs(np.diff(raw)))) < min_event(c):
                cv = 1.0  # swings inside the rounding or small against the run's progress
            if cv < 0.75:
                region = (turns[0], turns[-1])
                ratio = c.ratio(float(np.median(swings)))
                period = 2 * float(np.mean(np.diff(c.steps[turns])))
                detail = (
                    f"it swings by about {ratio:.2f}x with a period of about {step_count(round(period), c.unit)}"
                    if c.log
                    else f"it swings by about {ratio:.3g} with a period of about {step_count(round(period), c.unit)}"
                )
    if region is None:
        return None
    a, b = region
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
