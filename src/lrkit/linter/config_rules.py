"""Rules that read what the config declares: the pieces of a scheduler list and their milestones,
a cosine's ``T_max``, the floor (``min_lr``), Megatron's ``lr_decay_iters`` and a
warmup-stable-decay cool-down. The reader records these facts in the run context.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lrkit.linter.run import Run, fmt_lr, fmt_pct, int_or_none, piece_value, short_name
from lrkit.linter.structure import walk
from lrkit.schedules import Cosine, Floor, WarmupStableDecay

__all__ = [
    "rule_cosine_tmax",
    "rule_milestones",
    "rule_milestones_structural_only",
    "rule_min_lr",
    "rule_megatron_decay_iters",
    "rule_wsd",
]


def pieces_of(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pieces = context.get("pieces")
    if not isinstance(pieces, list | tuple):
        return []
    return [p for p in pieces if isinstance(p, Mapping)]


def piece_starts(pieces: list[Mapping[str, Any]], milestones: list[int] | None) -> list[int | None]:
    starts: list[int | None] = []
    for i, p in enumerate(pieces):
        s = int_or_none(p.get("start"))
        if s is None:
            s = 0 if i == 0 else (milestones[i - 1] if milestones and i - 1 < len(milestones) else None)
        starts.append(s)
    return starts


def milestones_of(context: Mapping[str, Any]) -> list[int] | None:
    ms = context.get("milestones")
    if not isinstance(ms, list | tuple):
        return None
    out = [int_or_none(m) for m in ms]
    return None if any(m is None for m in out) else [int(m) for m in out]  # type: ignore[arg-type]


def piece_length(p: Mapping[str, Any]) -> int | None:
    name = str(p.get("name", "")).lower()
    for key in ("total_iters", "T_max", "warmup_steps", "steps"):
        v = int_or_none(piece_value(p, key))
        if v is not None and (key != "T_max" or "cosine" in name):
            return v
    return None


def rule_cosine_tmax(run: Run) -> None:
    n = run.total
    assert n is not None
    pieces = pieces_of(run.context)
    milestones = milestones_of(run.context)
    starts = piece_starts(pieces, milestones)
    for i, (p, start) in enumerate(zip(pieces, starts, strict=True)):
        t_max = int_or_none(piece_value(p, "T_max"))
        if t_max is None or start is None or "cosine" not in str(p.get("name", "")).lower():
            continue
        if i < len(pieces) - 1:
            continue  # a cosine that a milestone cuts off: milestones-mismatch speaks about it
        left = n - start
        if t_max in (left, left - 1) or left <= 0:
            continue
        if i > 0 and starts[i - 1] is not None:
            before = piece_length(pieces[i - 1])
            intended = None if before is None else starts[i - 1] + before  # type: ignore[operator]
            if intended is not None and intended != start and t_max in (n - intended, n - intended - 1):
                continue  # T_max fits the warm-up as written; the milestone is what is off
        name = short_name(p.get("name"))
        if t_max > left:
            final = run.at(n - 1)
            msg = (
                f"{name} (piece {i}, from step {start}) has T_max={t_max} but only {left} updates are left "
                f"after step {start}: the run ends mid-decay at {fmt_lr(final)} ({fmt_pct(final / run.peak)} of "
                f"the peak)."
            )
            severity = "warning"
            values = [final]
            steps = [n - 1]
        else:
            msg = (
                f"{name} (piece {i}, from step {start}) has T_max={t_max} but {left} updates are left after "
                f"step {start}: it reaches eta_min at step {start + t_max} and torch's cosine then climbs back "
                f"for the remaining {left - t_max} updates."
            )
            severity = "error"
            steps = [start + t_max, n - 1]
            values = [run.at(start + t_max), run.at(n - 1)]
        run.add(
            "cosine-tmax-mismatch",
            msg,
            f"set T_max: {left} (total steps {n} minus the {start} steps before this piece).",
            severity=severity,
            steps=steps,
            values=values,
            T_max=t_max,
            steps_left=left,
            piece=i,
        )


def rule_milestones(run: Run) -> None:
    pieces = pieces_of(run.context)
    if len(pieces) < 2:
        return
    names = ", ".join(short_name(p.get("name")) for p in pieces)
    milestones = milestones_of(run.context)
    if milestones is None:
        run.add(
            "milestones-missing",
            f"the scheduler list has {len(pieces)} schedulers ({names}) but no milestones: nothing says when "
            "to switch from one to the next.",
            "add an entry {milestones: [...]} with the step where each next scheduler starts "
            "(for a warm-up then decay: milestones: [warmup_steps]).",
            pieces=len(pieces),
        )
        return
    if len(milestones) != len(pieces) - 1:
        run.add(
            "milestones-mismatch",
            f"{len(pieces)} schedulers ({names}) need {len(pieces) - 1} milestones, got {len(milestones)}: "
            f"{milestones}.",
            f"give exactly {len(pieces) - 1} milestones, the steps where pieces 1..{len(pieces) - 1} start.",
            milestones=milestones,
            pieces=len(pieces),
        )
        return
    starts = [0, *milestones]
    for i, p in enumerate(pieces[:-1]):
        length = piece_length(p)
        runs_for = starts[i + 1] - starts[i]
        if length is None or length == runs_for:
            continue
        if short_name(p.get("name")) == "ConstantLR":
            factor = piece_value(p, "factor")
            factor = 1.0 / 3 if factor is None else factor  # torch's default
            if runs_for < length or (isinstance(factor, int | float) and factor == 1.0):
                continue  # a constant cut short by its milestone, or a factor 1 that never changes anything
        if runs_for - length == 1 and math.isclose(run.at(starts[i + 1] - 1), run.at(starts[i + 1]), rel_tol=1e-9):
            # it reaches its end one update before the milestone, at the value the next piece starts
            # from: a warm-up whose last update runs at the peak (lrkit's convention), not a hold
            continue
        name = short_name(p.get("name"))
        if runs_for < length:
            effect = (
                f"the milestone cuts it off after {runs_for} of its {length} steps "
                f"(LR {fmt_lr(run.at(starts[i + 1] - 1))} at step {starts[i + 1] - 1}, then a jump to "
                f"{fmt_lr(run.at(starts[i + 1]))})"
            )
        else:
            effect = f"it finishes at step {starts[i] + length} and then holds for {runs_for - length} steps"
        run.add(
            "milestones-mismatch",
            f"piece {i} ({name}) lasts {length} steps but milestone {i} is at step {starts[i + 1]}: {effect}.",
            f"set milestones[{i}] to {starts[i] + length} (start {starts[i]} + {length} steps), or change the "
            "piece's length to match.",
            severity="warning",
            steps=[starts[i], starts[i] + length, starts[i + 1]],
            values=[run.at(starts[i + 1] - 1), run.at(starts[i + 1])],
            milestones=milestones,
            piece=i,
        )


def rule_milestones_structural_only(run: Run) -> None:
    """Milestone checks that need neither the run length nor values."""
    pieces = pieces_of(run.context)
    if len(pieces) >= 2 and milestones_of(run.context) is None:
        rule_milestones(run)


def rule_min_lr(run: Run) -> None:
    ctx = run.context
    peak_lr = run.scale
    min_lr = ctx.get("min_lr")
    if isinstance(min_lr, int | float) and not isinstance(min_lr, bool) and peak_lr > 0 and min_lr >= peak_lr:
        run.add(
            "min-lr-above-peak",
            f"min_lr {fmt_lr(min_lr)} is at or above the peak LR {fmt_lr(peak_lr)}: the schedule cannot decay.",
            f"set min_lr below the peak (often 10% of it, {fmt_lr(0.1 * peak_lr)}, or 0).",
            values=[float(min_lr), float(peak_lr)],
            min_lr=min_lr,
            peak_lr=peak_lr,
        )
        return
    ratio = ctx.get("min_lr_ratio")
    if isinstance(ratio, int | float) and not isinstance(ratio, bool) and ratio >= 1:
        run.add(
            "min-lr-above-peak",
            f"min_lr_ratio {ratio:g} is >= 1: the floor is at or above the peak and the schedule cannot decay.",
            "use a ratio below 1 (0.1 is common, 0 decays to zero).",
            min_lr_ratio=ratio,
        )
        return
    n = run.total or 1
    for node, start in walk(run.schedule):
        if isinstance(node, Floor):
            inner_peak = float(node.schedule.maximum(max(n - start, 1)))
            if inner_peak > 0 and node.min_value >= inner_peak:
                what, floor, top = "floor", node.min_value, inner_peak
            else:
                continue
        elif isinstance(node, Cosine) and node.peak > 0 and node.end >= node.peak and node.steps > 0:
            what, floor, top = "cosine end", node.end, node.peak
        elif isinstance(node, WarmupStableDecay) and node.peak > 0 and node.end >= node.peak and node.decay_steps > 0:
            what, floor, top = "wsd end", node.end, node.peak
        elif (
            node.type_name == "megatron"
            and node.style != "constant"  # type: ignore[attr-defined]
            and 0 < node.max_lr <= node.min_lr  # type: ignore[attr-defined]
        ):
            what, floor, top = "min_lr", node.min_lr, node.max_lr  # type: ignore[attr-defined]
        else:
            continue
        run.add(
            "min-lr-above-peak",
            f"the {what} {fmt_lr(floor)} of the '{node.type_name}' piece starting at step {start} is at or above "
            f"its peak {fmt_lr(top)}: it cannot decay.",
            "set the floor below the peak (often 10% of it, or 0).",
            steps=[start],
            values=[float(floor), float(top)],
        )
        return


def rule_megatron_decay_iters(run: Run) -> bool:
    ctx = run.context
    d = int_or_none(ctx.get("lr_decay_iters"))
    w = run.warmup
    n = run.total
    if d is None or n is None or w <= 0 or d + w != n:
        return False
    run.add(
        "megatron-decay-iters-after-warmup",
        f"lr_decay_iters={d} plus the {w} warm-up iterations equals the {n} training iterations, as if it "
        f"counted the steps after the warm-up; Megatron's lr_decay_iters is the absolute end step (warm-up "
        f"included), so the decay ends at step {d} and the last {w} updates ({fmt_pct(w / n)} of the run) sit at "
        f"min_lr {fmt_lr(run.at(n - 1))}.",
        f"set lr_decay_iters: {n} (or leave it out: Megatron then decays over the whole run).",
        steps=[d, n - 1],
        values=[run.at(d), run.at(n - 1)],
        lr_decay_iters=d,
        warmup_steps=w,
        total_steps=n,
    )
    return True


def rule_wsd(run: Run) -> None:
    n = run.total
    assert n is not None
    cooldown: int | None = None
    start: int | None = None
    for node, s in walk(run.schedule):
        if isinstance(node, WarmupStableDecay):
            cooldown, start = node.decay_steps, s + node.warmup_steps + node.stable_steps
            break
        if node.type_name == "megatron" and node.style == "WSD" and node.wsd_decay_steps:  # type: ignore[attr-defined]
            stable_end = node.decay_steps - node.wsd_decay_steps  # type: ignore[attr-defined]
            updates = node.updates_at  # type: ignore[attr-defined]
            cooldown = math.ceil(updates(node.decay_steps) - updates(stable_end))  # type: ignore[attr-defined]
            start = s + math.ceil(updates(stable_end))
            break
        if node.type_name == "hf_lambda" and node.name == "warmup_stable_decay":  # type: ignore[attr-defined]
            cooldown = int(node.num_decay_steps or 0)  # type: ignore[attr-defined]
            start = s + node.warmup_steps + int(node.num_stable_steps or 0)  # type: ignore[attr-defined]
            break
    if cooldown is None:
        for key in ("wsd_decay_steps", "lr_wsd_decay_iters", "cooldown_steps"):
            cooldown = int_or_none(run.context.get(key))
            if cooldown is not None:
                break
    if cooldown is None or cooldown <= 0:
        return
    share = cooldown / n
    if share >= 0.095:
        return
    run.add(
        "wsd-cooldown-too-short",
        f"the warmup-stable-decay cool-down lasts {cooldown} updates, {fmt_pct(share)} of the {n}-update run; "
        "cool-downs of 10-20% of the run recover most of the gap to a full cosine (Hägele et al. 2024).",
        f"lengthen the cool-down to about {round(0.1 * n)}-{round(0.2 * n)} updates (10-20% of the run), "
        "shortening the stable phase to match.",
        steps=[] if start is None else [start, min(start + cooldown, n - 1)],
        values=[] if start is None else [run.at(start), run.at(min(start + cooldown, n - 1))],
        cooldown_steps=cooldown,
        total_steps=n,
        cooldown_fraction=share,
    )
