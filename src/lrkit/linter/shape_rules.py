"""Rules that read the shape of the resolved curve against the run: an LR of 0, the first update,
the warm-up's length, where the decay ends, a curve that climbs back, a long run that never decays.
"""

from __future__ import annotations

import math

import numpy as np

from lrkit.linter.catalog import LONG_RUN_STEPS
from lrkit.linter.run import Run, fmt_lr, fmt_pct
from lrkit.linter.structure import last_piece, periodic, unwrap
from lrkit.schedules import Constant, MultiStep, OneCycle, PiecewiseConstant, StepDecay

__all__ = ["rule_zero", "rule_first_update", "rule_warmup", "rule_horizon", "rule_rises", "rule_never_decays"]


def rule_zero(run: Run) -> bool:
    if run.peak > 0:
        return False
    n = run.total
    assert n is not None
    run.add(
        "zero-lr",
        f"the learning rate is 0 for all {n} updates: nothing will train.",
        "set the optimizer's lr (the peak) to a positive value, and check that the schedule's factor is not 0.",
        steps=[0, n - 1],
        values=[0.0, 0.0],
    )
    return True


#: how far the leading run of zero-LR updates is counted
_ZERO_LEAD_LIMIT = 64


def rule_first_update(run: Run) -> None:
    v0 = run.at(0)
    if run.peak > 0 and v0 <= 0:
        n = run.total if run.total else 2
        # DeepSpeed's warm-ups (its iteration -1 value, then warmup_min_lr again) waste two
        k = 1
        while k < min(n, _ZERO_LEAD_LIMIT) and run.at(k) <= 0:
            k += 1
        vk = run.at(k) if k < n else v0
        lead = "the first update (step 0) runs" if k == 1 else f"the first {k} updates (steps 0-{k - 1}) run"
        wasted = "one update and its gradient are" if k == 1 else f"{k} updates and their gradients are"
        run.add(
            "first-update-at-zero",
            f"{lead} at LR 0; the warm-up only starts at step {k} (LR {fmt_lr(vk)}), so {wasted} wasted.",
            "start the warm-up above 0: lrkit's warm-up ends at the peak and starts at peak/warmup_steps; "
            "with torch's LinearLR use start_factor > 0, with Megatron set lr_warmup_init > 0.",
            steps=[0, k],
            values=[v0, vk],
        )


def rule_warmup(run: Run) -> None:
    node = unwrap(run.schedule)
    if isinstance(node, OneCycle) or periodic(run.schedule):
        return  # the ramp of a one-cycle or cyclical schedule is its design, not a warm-up
    n, w = run.total, run.warmup
    assert n is not None
    share = w / n
    if w >= n:
        run.add(
            "warmup-longer-than-run",
            f"the warm-up lasts {w} updates but the run has only {n}: the LR never reaches its peak "
            f"(last update at {fmt_lr(run.at(n - 1))}).",
            f"shorten the warm-up to 5-10% of the run (about {max(1, round(0.05 * n))}-{max(1, round(0.1 * n))} "
            "updates) or check total_steps.",
            steps=[0, n - 1, w],
            values=[run.at(0), run.at(n - 1)],
            warmup_steps=w,
            total_steps=n,
        )
    elif share > 0.10:
        run.add(
            "warmup-too-long",
            f"the warm-up lasts {w} of {n} updates ({fmt_pct(share)} of the run); 5-10% is the usual practice, "
            "a longer one spends training time below the peak LR.",
            f"use about {max(1, round(0.05 * n))}-{max(1, round(0.1 * n))} warm-up updates (5-10% of the run).",
            steps=[0, w],
            values=[run.at(0), run.at(min(w, n - 1))],
            warmup_steps=w,
            total_steps=n,
            warmup_fraction=share,
        )
    elif w == 0:
        if n >= 100:
            run.add(
                "no-warmup",
                f"the run starts at the peak LR {fmt_lr(run.at(0))} with no warm-up.",
                f"for pre-training or large batches add a warm-up of 1-10% of the run "
                f"(about {max(1, round(0.05 * n))} updates); fine-tuning often does without.",
                steps=[0],
                values=[run.at(0)],
                warmup_steps=0,
                total_steps=n,
            )
    elif w + 1 < 0.01 * n:  # one update of slack: frameworks differ on whether the update at the peak counts
        run.add(
            "warmup-too-short",
            f"the warm-up lasts {w} of {n} updates ({fmt_pct(share)} of the run), under the usual 1-10%.",
            f"use about {max(1, round(0.01 * n))}-{max(1, round(0.1 * n))} warm-up updates (1-10% of the run; "
            "5-10% is the guide's advice).",
            steps=[0, w],
            values=[run.at(0), run.at(min(w, n - 1))],
            warmup_steps=w,
            total_steps=n,
            warmup_fraction=share,
        )


def _floor_value(run: Run) -> float | None:
    if run.horizon is None:
        return None
    return run.scale * float(run.schedule(math.ceil(run.horizon)))


def rule_horizon(run: Run) -> None:
    n, e = run.total, run.horizon
    assert n is not None
    if e is None or e <= 0 or periodic(run.schedule):
        return
    floor = _floor_value(run)
    assert floor is not None
    peak = run.peak
    if peak <= 0 or floor >= peak * (1 - 1e-6):
        return  # nothing decays; never-decays covers long runs
    if e > n + max(1, 0.005 * n):
        final = run.at(n - 1)
        done = (peak - final) / (peak - floor)
        severity = "error" if done < 0.5 else "warning"
        run.add(
            "decay-horizon-too-long",
            f"the schedule decays until step {int(e)} but the run ends after {n} updates: the last update runs "
            f"at {fmt_lr(final)}, {fmt_pct(final / peak)} of the peak {fmt_lr(peak)}, only {fmt_pct(done)} of the way "
            f"down to the floor {fmt_lr(floor)}.",
            f"make the decay end at the run's last step: decay horizon {n} (total steps), or train for "
            f"{int(e)} updates.",
            severity=severity,
            steps=[n - 1, int(e)],
            values=[final, floor],
            horizon=int(e),
            total_steps=n,
            final_fraction_of_peak=final / peak,
            decay_done=done,
        )
        return
    last = last_piece(run.schedule)
    if isinstance(last, Constant | MultiStep | PiecewiseConstant | StepDecay):
        return  # a final plateau is how these families are written, not a horizon mistake
    tail = n - math.ceil(e)
    share = tail / n
    if tail <= 0 or share <= 0.02:
        return
    run.add(
        "decay-horizon-too-short",
        f"the decay ends at step {int(e)} but the run lasts {n} updates: the last {tail} updates "
        f"({fmt_pct(share)} of the run) sit at the floor {fmt_lr(floor)} ({fmt_pct(floor / peak)} of the peak).",
        f"make the decay end at the run's last step (decay horizon {n}), or stop the run at step {int(e)}.",
        severity="warning" if share > 0.10 else "info",
        steps=[int(e), n - 1],
        values=[floor, run.at(n - 1)],
        horizon=int(e),
        total_steps=n,
        floor_fraction_of_run=share,
    )


def rule_rises(run: Run) -> None:
    """After the curve first reaches its peak, does it climb back above a lower point during the
    run? A rise that starts after the last update is no finding: the run never trains at it."""
    if periodic(run.schedule) or run.curve is None or run.peak <= 0:
        return
    c = run.curve
    v = c.values
    tol = 1e-6 * run.peak
    # rising before the curve has ever gone down is a warm-up; look from its first decrease on
    falling = v < np.maximum.accumulate(v) - tol
    if not falling.any():
        return
    start = int(np.argmax(falling))
    tail = v[start:]
    running_min = np.minimum.accumulate(tail)
    rise = tail - running_min
    if float(rise.max()) <= tol:
        return
    first = int(np.argmax(rise > tol))
    low_i = start + int(np.argmin(tail[: first + 1]))
    high_i = start + first + int(np.argmax(tail[first:]))
    low_step, high_step, rise_step = int(c.steps[low_i]), int(c.steps[high_i]), int(c.steps[start + first])
    n = c.total
    if rise_step >= n:
        return  # the rise starts after the last update: this run never trains at it
    end = f" (its end is step {int(run.horizon)})" if run.horizon is not None else ""
    run.add(
        "lr-rises-again",
        f"the LR decays to {fmt_lr(float(v[low_i]))} at step {low_step} and then climbs back to "
        f"{fmt_lr(float(v[high_i]))} at step {high_step}{end}, inside the run (from step {rise_step} of {n}).",
        "hold the floor after the decay ends: use a closed-form schedule (lrkit's cosine never rises past "
        "its steps), set the cosine's T_max / num_training_steps to the steps it must cover, or add a constant "
        "piece at the floor.",
        severity="error",
        steps=[low_step, rise_step, high_step],
        values=[float(v[low_i]), float(v[start + first]), float(v[high_i])],
        total_steps=n,
    )


def rule_never_decays(run: Run) -> None:
    n = run.total
    assert n is not None and run.curve is not None
    if n <= LONG_RUN_STEPS or run.peak <= 0:
        return
    c = run.curve
    after = c.values[(c.steps >= run.warmup) & (c.steps < n)]
    if after.size == 0 or float(after.min()) < 0.9 * run.peak:
        return
    low = float(after.min())
    run.add(
        "never-decays",
        f"the LR stays between {fmt_lr(low)} and {fmt_lr(run.peak)} (>= {fmt_pct(low / run.peak)} of the peak) for all "
        f"{n - run.warmup} updates after the warm-up of this {n}-update run.",
        "decay at the end (cosine or linear to ~10% of the peak, or a warmup-stable-decay cool-down over the "
        "last 10-20%); if holding the LR is intended (RL post-training often does), ignore this.",
        steps=[run.warmup, n - 1],
        values=[run.at(min(run.warmup, n - 1)), run.at(n - 1)],
        total_steps=n,
    )
