"""Advice phrases tied to the schedule in use: where in the schedule a problem began (during or
just after warm-up, or at the LR then) and how far to lower the peak (or lengthen/add a warm-up).
"""

from __future__ import annotations

from lrkit.diagnosis.formatting import fmt_lr, fmt_step, nice, nice_steps
from lrkit.diagnosis.lr_context import LRInUse

__all__ = ["lr_phrase", "fix_lower_peak"]


def lr_phrase(lr: LRInUse, step: int, value: float | None) -> str:
    if value is None:
        return ""
    w = lr.warmup_steps
    if w and step < w:
        return f" while warm-up ({fmt_step(w)} steps) was raising the LR, at {fmt_lr(value)}"
    if w and step < 2 * w:
        return f" just after warm-up had raised the LR to {fmt_lr(value)}"
    return f" at LR {fmt_lr(value)}"


def fix_lower_peak(lr: LRInUse, step: int, lr_on: float | None, *, factor: float, extra: str = "") -> str:
    tail = f" {extra}" if extra else ""
    if lr_on is None:
        return (
            f"lower the peak LR to about {factor:.0%} of its value{',' if tail else ''}{tail}"
            f" or lengthen warm-up (guide: reduce initial learning rate or increase warm-up)."
        )
    target = nice(lr_on * factor)
    w = lr.warmup_steps
    if w and step < 2 * w:
        return (
            f"lower the peak to about {fmt_lr(target)} or lengthen warm-up to {fmt_step(nice_steps(2 * w))} steps"
            f"{',' if tail else ''}{tail}."
        )
    if not w and lr.known and step < max(200, 0.05 * lr.run_end):
        # an early blow-up at the full LR: the classic case for a warm-up
        warm = nice_steps(max(2 * (step + 1), 0.02 * lr.run_end))
        return f"lower the peak to about {fmt_lr(target)} or add a warm-up of about {fmt_step(warm)} steps{',' if tail else ''}{tail}."
    return f"lower the peak to about {fmt_lr(target)}{',' if tail else ''}{tail}."
