"""Schedule findings read from the logged LR column itself (not from a config):

- **warm-up never ends**: the LR is at its maximum at the last logged step and still rising
  (over 1% above its value at 80% of the log), having started below half of it;
- **LR at 0**: the LR is exactly 0 at logged steps other than the first and the last (an update
  at LR 0 changes nothing);
- **decay ends early**: the LR reached (within 1% of the range) a floor of at most 1/1000 of its
  peak before 80% of the run and stayed there.
"""

from __future__ import annotations

import numpy as np

from lrkit.diagnosis.formatting import fmt_lr, fmt_step, nice_steps
from lrkit.findings import Finding

__all__ = ["find_lr_log_issues"]


def find_lr_log_issues(steps: np.ndarray, lrs: np.ndarray | None) -> list[Finding]:
    if lrs is None:
        return []
    m = np.isfinite(lrs)
    s, v = steps[m], lrs[m]
    if v.size < 4 or np.any(v < 0) or v.max() <= 0:
        return []
    out: list[Finding] = []
    first, last = int(steps[0]), int(steps[-1])
    run = max(last - first + 1, 1)
    peak = float(v.max())
    i80 = int(0.8 * (v.size - 1))
    if v[-1] >= 0.999 * peak and v[-1] > 1.01 * v[i80] and v[0] < 0.5 * peak:
        monotone = bool(np.all(np.diff(v) >= -1e-12 * peak))
        warm = nice_steps(max(1, 0.05 * (last + 1)))
        what = "the warm-up never ended" if monotone else "the LR is still rising at the end"
        out.append(
            Finding(
                rule="warmup-never-ends",
                severity="warning",
                message=(
                    f"Schedule: {what}: the logged LR rises from {fmt_lr(float(v[0]))} to "
                    f"{fmt_lr(float(v[-1]))} at the "
                    f"last step ({fmt_step(last)}), so the run never trained at its peak nor decayed."
                ),
                fix=(
                    f"make the warm-up 5-10% of the run (about {fmt_step(warm)} steps for these {fmt_step(last + 1)}), "
                    "then decay to the end; check that the scheduler's total steps (max_steps, num_train_epochs x "
                    "steps per epoch) match the run and that warmup_steps is not longer than it."
                ),
                evidence={
                    "start_step": int(s[0]),
                    "end_step": last,
                    "lr_first": float(v[0]),
                    "lr_last": float(v[-1]),
                    "suggested_warmup_steps": warm,
                },
                source="diagnose",
            )
        )
    zero = np.nonzero(v[1:-1] == 0)[0] + 1
    if zero.size:
        a, b = int(s[zero[0]]), int(s[zero[-1]])
        out.append(
            Finding(
                rule="lr-zero",
                severity="warning",
                message=(
                    f"Schedule: the LR is 0 at {zero.size:,} logged steps ({fmt_step(a)}-{fmt_step(b)}): those updates "
                    "change nothing."
                ),
                fix="end the decay at the run's last step (scheduler total steps = run length) or set a floor "
                "(min_lr about 1-10% of the peak).",
                evidence={"start_step": a, "end_step": b, "points": int(zero.size)},
                source="diagnose",
            )
        )
    floor = float(v.min())
    top = int(np.argmax(v))
    if floor <= 1e-3 * peak:
        near = v <= floor + 0.01 * (peak - floor)
        # the first step from which the LR stays at its floor
        tail = np.nonzero(~near)[0]
        j = int(tail[-1]) + 1 if tail.size else 0
        if top < j < v.size and int(s[j]) - first < 0.8 * run and not (zero.size and s[j] >= s[zero[0]]):
            out.append(
                Finding(
                    rule="decay-ends-early",
                    severity="warning",
                    message=(
                        f"Schedule: the decay ended at step {fmt_step(int(s[j]))} "
                        f"({(int(s[j]) - first) / run:.0%} of the "
                        f"run); the last {fmt_step(last - int(s[j]))} steps ran at {fmt_lr(floor)}."
                    ),
                    fix="make the decay as long as the run (cosine/linear over total_steps = the run length).",
                    evidence={"start_step": int(s[j]), "end_step": last, "lr_floor": floor},
                    source="diagnose",
                )
            )
    return out
