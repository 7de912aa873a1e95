"""Advice phrases tied to the schedule in use: where in the schedule a problem began (during or
just after warm-up, or at the LR then) and how far to lower the peak (or lengthen/add a warm-up).

Every warm-up the advice names is one ``lrkit check`` accepts for the run: between 5% and 10% of
its steps (the linter warns under 1% and over 10%), rounded down to two significant figures so
the rounding never pushes it past 10%; a warm-up already at 5% or more is not lengthened.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from lrkit.diagnosis.curve import LossCurve
from lrkit.diagnosis.formatting import fmt_lr, nice, step_count
from lrkit.diagnosis.lr_context import LRInUse
from lrkit.findings import Finding

__all__ = ["WARMUP_SHARE", "advised_warmup", "diverged_from", "fix_lower_peak", "lr_phrase"]

#: the share of the run an advised warm-up takes (lrkit check's accepted band is 1-10%)
WARMUP_SHARE = (0.05, 0.10)


def _round_down(x: float) -> int:
    """Down to two significant figures (100 -> 100, 2345 -> 2300)."""
    if x < 100:
        return math.floor(x)
    mag = 10 ** (len(str(int(x))) - 2)
    return int(math.floor(x / mag) * mag)


def advised_warmup(run_steps: int, current: int | None, wanted: float | None = None) -> int | None:
    """A warm-up for a run of ``run_steps`` updates that ``lrkit check`` accepts: ``wanted``
    (default twice ``current``) clipped to 5-10% of the run; ``None`` when the current warm-up
    is already 5% or more of the run, or the run is too short for one."""
    lo, hi = WARMUP_SHARE[0] * run_steps, WARMUP_SHARE[1] * run_steps
    if run_steps < 20 or (current is not None and current >= lo):
        return None
    want = wanted if wanted is not None else 2 * (current or 0)
    w = _round_down(min(max(want, lo), hi))
    if w < math.ceil(0.01 * run_steps) or w <= (current or 0):
        return None
    return max(w, 1)


def lr_phrase(lr: LRInUse, step: int, value: float | None) -> str:
    if value is None:
        return ""
    w = lr.warmup_steps
    if w and step < w:
        return f" while warm-up ({step_count(w, lr.unit)}) was raising the LR, at {fmt_lr(value)}"
    if w and step < 2 * w:
        return f" just after warm-up had raised the LR to {fmt_lr(value)}"
    return f" at LR {fmt_lr(value)}"


def fix_lower_peak(lr: LRInUse, step: int, lr_on: float | None, *, factor: float, extra: str = "") -> str:
    tail = f" {extra}" if extra else ""
    comma = "," if tail else ""
    run = lr.run_steps
    w = lr.warmup_steps
    if lr_on is None:
        warm = advised_warmup(run, w, None if w else 0.05 * run) if run else None
        warm_txt = f" or use a warm-up of about {step_count(warm, lr.unit)} (5-10% of the run)" if warm else ""
        return f"lower the peak LR to about {factor:.0%} of its value{warm_txt}{comma}{tail}."
    target = nice(lr_on * factor)
    if w and step < 2 * w:
        warm = advised_warmup(run, w)
        if warm:
            return (
                f"lower the peak to about {fmt_lr(target)} or lengthen warm-up to {step_count(warm, lr.unit)}"
                f"{comma}{tail}."
            )
        return f"lower the peak to about {fmt_lr(target)}{comma}{tail}."
    if not w and lr.known and step < max(200, 0.05 * run):
        # an early blow-up at the full LR: the classic case for a warm-up
        warm = advised_warmup(run, 0, 2 * (step + 1))
        if warm:
            return (
                f"lower the peak to about {fmt_lr(target)} or add a warm-up of about {step_count(warm, lr.unit)}"
                f"{comma}{tail}."
            )
    return f"lower the peak to about {fmt_lr(target)}{comma}{tail}."


def diverged_from(c: LossCurve, lr: LRInUse, i0: int, describe: Callable[[str], str], **evidence: Any) -> Finding:
    """A ``diverging`` error whose climb began at point ``i0``: ``describe`` writes the message
    from the phrase that places the onset in the schedule (:func:`lr_phrase`); the fix lowers the
    peak to half the LR at the onset and clips gradients. ``evidence`` follows the onset step
    and its LR."""
    step = int(c.steps[i0])
    lr_on = lr.at(c.steps, i0)
    return Finding(
        rule="diverging",
        severity="error",
        message=describe(lr_phrase(lr, step, lr_on)),
        fix=fix_lower_peak(lr, step, lr_on, factor=0.5, extra="and clip gradients (max_norm=1.0)"),
        evidence={"onset_step": step, "lr_at_onset": lr_on, **evidence},
        source="diagnose",
    )
