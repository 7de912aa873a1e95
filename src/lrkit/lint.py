"""The linter: findings about a learning-rate schedule and the run it drives.

``lrkit.lint(target)`` looks at the *resolved curve* (the absolute LR of every update,
computed by the schedule algebra in one vectorized call) and at the *run context* a config
reader records (warm-up length, the pieces of a torch scheduler list and their milestones,
Megatron's ``lr_decay_iters``, ``min_lr`` ...). It never pattern-matches one file format, so
every reader benefits from every rule. Readers' own findings (framework quirks they
reproduced) are passed through.

Step ``k`` is the number of optimizer updates already taken; a run of ``N`` updates uses the
LRs ``schedule(0) .. schedule(N - 1)``; a decay whose horizon is ``N`` reaches its floor right
after the last update, which is exactly on time.

Every rule is listed in :data:`RULES` (id -> default severity and one line) and documented
with an example in ``docs/lint.md``.
"""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Floor,
    Linear,
    MultiStep,
    OneCycle,
    PiecewiseConstant,
    Scale,
    Schedule,
    SchedulerInterface,
    Sequence,
    StepDecay,
    Warmup,
    WarmupStableDecay,
)

__all__ = ["lint", "Curve", "evaluate_curve", "warmup_steps_of", "RULES", "LONG_RUN_STEPS"]

#: rule id -> (default severity, what it finds). Some rules raise or lower their severity with
#: the size of the problem; the message always carries the numbers.
RULES: dict[str, tuple[str, str]] = {
    "zero-lr": ("error", "the learning rate is 0 for the whole run"),
    "total-steps-unknown": ("info", "the run length is not known, so run-length rules were skipped"),
    "decay-horizon-too-long": ("warning", "the decay ends after the run: the LR never gets near its floor"),
    "decay-horizon-too-short": ("warning", "the decay ends well before the run: a share of the run sits at the floor"),
    "warmup-longer-than-run": ("error", "the warm-up is as long as the run or longer"),
    "warmup-too-long": ("warning", "the warm-up takes more than 10% of the run"),
    "warmup-too-short": ("warning", "the warm-up takes less than 1% of the run"),
    "no-warmup": ("info", "the run starts at the peak LR with no warm-up"),
    "first-update-at-zero": ("warning", "the first update is taken at LR 0 and is wasted"),
    "lr-rises-again": ("error", "the curve climbs back up after it has decayed (error when inside the run)"),
    "cosine-tmax-mismatch": ("warning", "a cosine piece's T_max differs from the steps left after the warm-up"),
    "milestones-missing": ("error", "a list of schedulers without milestones to switch between them"),
    "milestones-mismatch": ("error", "milestones do not match the scheduler pieces they switch between"),
    "min-lr-above-peak": ("error", "the floor (min_lr) is at or above the peak LR"),
    "megatron-decay-iters-after-warmup": (
        "warning",
        "lr_decay_iters looks like 'steps after warm-up' rather than Megatron's absolute end step",
    ),
    "wsd-cooldown-too-short": ("warning", "the warmup-stable-decay cool-down is shorter than ~10% of the run"),
    "never-decays": ("warning", "a long run whose LR never decays below 90% of its peak"),
}

#: a run longer than this that never decays gets ``never-decays``
LONG_RUN_STEPS = 10_000
#: evaluate every step up to this many; sample beyond (keeps million-step previews cheap)
_FULL_EVAL_LIMIT = 4_000_000
_SAMPLED_POINTS = 1_000_000
#: schedules written in Python are evaluated one step at a time; sample them more sparsely
_PYTHON_EVAL_LIMIT = 20_000

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


# --------------------------------------------------------------------------------------------
# the resolved curve
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """Absolute LRs of a schedule on a grid of steps, evaluated in one vectorized call.

    ``steps`` is sorted and starts at 0; it covers ``[0, length)`` -- every step when that is
    affordable, otherwise a dense sample that keeps every phase boundary and its neighbours.
    ``weights[i]`` is the number of updates step ``steps[i]`` stands for (all ones on a full
    grid), so ``sum(values * weights)`` over the run is the area under the LR curve.
    """

    steps: np.ndarray
    values: np.ndarray
    weights: np.ndarray
    total: int

    @property
    def full(self) -> bool:
        return bool(self.steps.size == 0 or self.steps[-1] + 1 == self.steps.size)

    def run_mask(self) -> np.ndarray:
        """Grid points inside the run (steps ``0 .. total - 1``)."""
        return self.steps < self.total

    def run_values(self) -> np.ndarray:
        return self.values[self.run_mask()]

    def value_at(self, schedule: Schedule, scale: float, step: int) -> float:
        """The LR at ``step`` (from the grid when it is there, else from the algebra)."""
        i = int(np.searchsorted(self.steps, step))
        if i < self.steps.size and self.steps[i] == step:
            return float(self.values[i])
        return scale * float(schedule(int(step)))


def _contains(schedule: Schedule, kinds: tuple[type, ...]) -> bool:
    return any(isinstance(node, kinds) for node, _ in _walk(schedule))


def _grid(
    schedule: Schedule, length: int, extra: Iterable[int] = (), max_points: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Steps to evaluate over ``[0, length)`` and the number of updates each stands for."""
    limit = _PYTHON_EVAL_LIMIT if _contains(schedule, (SchedulerInterface,)) else _FULL_EVAL_LIMIT
    if max_points is not None:
        limit = min(limit, max_points)
    if length <= limit:
        steps = np.arange(length, dtype=np.int64)
        return steps, np.ones(length)
    points = min(limit, _SAMPLED_POINTS)
    keys = [0, length - 1]
    try:
        starts = schedule.phase_starts(length - 1)
    except Exception:  # noqa: BLE001 - a user schedule's phase_starts must not break a preview
        starts = []
    if len(starts) <= 10_000:
        for b in starts:
            keys += [b - 1, b, b + 1]
    for b in extra:
        keys += [b - 1, b, b + 1]
    steps = np.unique(
        np.concatenate([np.linspace(0, length - 1, points).round().astype(np.int64), np.asarray(keys, dtype=np.int64)])
    )
    steps = steps[(steps >= 0) & (steps < length)]
    # each point stands for the updates up to the next point
    weights = np.diff(np.append(steps, length)).astype(np.float64)
    return steps, weights


def evaluate_curve(
    schedule: Schedule,
    *,
    total: int,
    scale: float = 1.0,
    length: int | None = None,
    extra: Iterable[int] = (),
    max_points: int | None = None,
) -> Curve:
    """Evaluate ``scale * schedule`` over ``[0, length)`` (default: the run, ``[0, total)``)
    in one vectorized call; beyond ``max_points`` steps (and always beyond a few million) on a
    sample that keeps every phase boundary, its neighbours and the steps in ``extra``."""
    length = max(int(length if length is not None else total), 1)
    steps, weights = _grid(schedule, length, extra, max_points)
    values = scale * np.asarray(schedule(steps), dtype=np.float64)
    # the weights of the last run point must not spill past the run
    if steps.size:
        run = steps < total
        if run.any() and not run.all():
            last = int(np.flatnonzero(run)[-1])
            weights = weights.copy()
            weights[last] = total - steps[last]
    return Curve(steps=steps, values=values, weights=weights, total=int(total))


# --------------------------------------------------------------------------------------------
# structure of a schedule
# --------------------------------------------------------------------------------------------


def _walk(schedule: Schedule, start: int = 0) -> Iterable[tuple[Schedule, int]]:
    """Every node of the schedule tree with the absolute step where it starts."""
    yield schedule, start
    if isinstance(schedule, Scale | Floor):
        yield from _walk(schedule.schedule, start)
    elif isinstance(schedule, Warmup):
        yield from _walk(schedule.schedule, start + schedule.warmup_steps)
    elif isinstance(schedule, Sequence):
        for piece, s in zip(schedule.pieces, (0,) + schedule.boundaries, strict=True):
            yield from _walk(piece, start + s)


def _unwrap(schedule: Schedule) -> Schedule:
    while isinstance(schedule, Scale | Floor):
        schedule = schedule.schedule
    return schedule


def _last_piece(schedule: Schedule) -> Schedule:
    """The family that shapes the end of the curve."""
    node = _unwrap(schedule)
    while True:
        if isinstance(node, Warmup):
            node = _unwrap(node.schedule)
        elif isinstance(node, Sequence):
            node = _unwrap(node.pieces[-1])
        else:
            return node


def _periodic(schedule: Schedule) -> bool:
    return _contains(schedule, (Cyclic, CosineRestarts))


def warmup_steps_of(schedule: Schedule, context: Mapping[str, Any] | None = None) -> int | None:
    """Length of the warm-up in updates: from the reader's context, else from the schedule's
    structure (``warmup`` node, ``wsd`` warm-up, a rising linear first piece); ``None`` when
    the schedule has no recognisable warm-up structure (the caller may then read the curve)."""
    ctx = context or {}
    for key in ("warmup_steps", "lr_warmup_iters"):
        value = ctx.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return int(value)
    node = _unwrap(schedule)
    if isinstance(node, Warmup):
        return node.warmup_steps
    if isinstance(node, WarmupStableDecay):
        return node.warmup_steps
    if node.type_name in ("hf_lambda", "nemo"):
        return int(node.warmup_steps)  # type: ignore[attr-defined]
    if node.type_name == "megatron":
        return int(math.ceil(node.warmup_steps / node.increment))  # type: ignore[attr-defined]
    if isinstance(node, Sequence) and node.boundaries:
        first = _unwrap(node.pieces[0])
        if isinstance(first, Linear) and first.start < first.end:
            return node.boundaries[0]
        if isinstance(first, Warmup) and isinstance(_unwrap(first.schedule), Constant):
            return first.warmup_steps
    return None


def _warmup_from_curve(values: np.ndarray, peak: float) -> int:
    """Updates until the curve first reaches its peak, when it gets there by rising."""
    if values.size == 0 or peak <= 0 or values[0] >= peak * (1 - 1e-9):
        return 0
    i = int(np.argmax(values >= peak * (1 - 1e-9)))
    head = values[: i + 1]
    if np.all(np.diff(head) >= -1e-12 * peak):
        return i + 1 if values[0] > 0 else i
    return 0


# --------------------------------------------------------------------------------------------
# helpers for messages
# --------------------------------------------------------------------------------------------


def _lr(x: float) -> str:
    return f"{x:.3g}"


def _pct(x: float) -> str:
    if x == 0:
        return "0%"
    if abs(x) < 0.01:
        return f"{100 * x:.2g}%"
    return f"{100 * x:.0f}%"


def _num(x: Any) -> Any:
    """Plain-data number for evidence (JSON-friendly)."""
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return float(f"{x:.6g}")
    return x


def _get(piece: Mapping[str, Any], key: str) -> Any:
    if key in piece:
        return piece[key]
    kwargs = piece.get("kwargs")
    if isinstance(kwargs, Mapping):
        return kwargs.get(key)
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def _short(name: Any) -> str:
    return str(name).rsplit(".", 1)[-1] if name else "piece"


# --------------------------------------------------------------------------------------------
# the rules
# --------------------------------------------------------------------------------------------


@dataclass
class _Run:
    """Everything the rules look at."""

    schedule: Schedule
    scale: float
    total: int | None
    context: Mapping[str, Any]
    curve: Curve | None = None
    peak: float = 0.0
    warmup: int = 0
    horizon: float | None = None
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, message: str, fix: str, severity: str | None = None, **evidence: Any) -> None:
        sev = severity or RULES[rule][0]
        ev = {k: ([_num(x) for x in v] if isinstance(v, list | tuple) else _num(v)) for k, v in evidence.items()}
        finding = Finding(rule=rule, severity=sev, message=message, fix=fix, evidence=ev)  # type: ignore[arg-type]
        self.findings.append(finding)

    def at(self, step: int) -> float:
        assert self.curve is not None
        return self.curve.value_at(self.schedule, self.scale, step)


def _rule_zero(run: _Run) -> bool:
    if run.peak > 0:
        return False
    run.add(
        "zero-lr",
        f"the learning rate is 0 for all {run.total} updates: nothing will train.",
        "set the optimizer's lr (the peak) to a positive value, and check that the schedule's factor is not 0.",
        steps=[0, run.total - 1],
        values=[0.0, 0.0],
    )
    return True


def _rule_first_update(run: _Run) -> None:
    v0 = run.at(0)
    if run.peak > 0 and v0 <= 0:
        v1 = run.at(1) if run.total and run.total > 1 else v0
        run.add(
            "first-update-at-zero",
            f"the first update (step 0) runs at LR 0; the warm-up only starts at step 1 (LR {_lr(v1)}), "
            "so one update and its gradient are wasted.",
            "start the warm-up above 0: lrkit's warm-up ends at the peak and starts at peak/warmup_steps; "
            "with torch's LinearLR use start_factor > 0, with Megatron set lr_warmup_init > 0.",
            steps=[0, 1],
            values=[v0, v1],
        )


def _rule_warmup(run: _Run) -> None:
    node = _unwrap(run.schedule)
    if isinstance(node, OneCycle) or _periodic(run.schedule):
        return  # the ramp of a one-cycle or cyclical schedule is its design, not a warm-up
    n, w = run.total, run.warmup
    assert n is not None
    share = w / n
    if w >= n:
        run.add(
            "warmup-longer-than-run",
            f"the warm-up lasts {w} updates but the run has only {n}: the LR never reaches its peak "
            f"(last update at {_lr(run.at(n - 1))}).",
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
            f"the warm-up lasts {w} of {n} updates ({_pct(share)} of the run); 5-10% is the usual practice, "
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
                f"the run starts at the peak LR {_lr(run.at(0))} with no warm-up.",
                f"for pre-training or large batches add a warm-up of 1-10% of the run "
                f"(about {max(1, round(0.05 * n))} updates); fine-tuning often does without.",
                steps=[0],
                values=[run.at(0)],
                warmup_steps=0,
                total_steps=n,
            )
    elif share < 0.01:
        run.add(
            "warmup-too-short",
            f"the warm-up lasts {w} of {n} updates ({_pct(share)} of the run), under the usual 1-10%.",
            f"use about {max(1, round(0.01 * n))}-{max(1, round(0.1 * n))} warm-up updates (1-10% of the run; "
            "5-10% is the guide's advice).",
            steps=[0, w],
            values=[run.at(0), run.at(min(w, n - 1))],
            warmup_steps=w,
            total_steps=n,
            warmup_fraction=share,
        )


def _floor_value(run: _Run) -> float | None:
    if run.horizon is None:
        return None
    return run.scale * float(run.schedule(int(math.ceil(run.horizon))))


def _rule_horizon(run: _Run) -> None:
    n, e = run.total, run.horizon
    assert n is not None
    if e is None or e <= 0 or _periodic(run.schedule):
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
            f"at {_lr(final)}, {_pct(final / peak)} of the peak {_lr(peak)}, only {_pct(done)} of the way "
            f"down to the floor {_lr(floor)}.",
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
    last = _last_piece(run.schedule)
    if isinstance(last, Constant | MultiStep | PiecewiseConstant | StepDecay):
        return  # a final plateau is how these families are written, not a horizon mistake
    tail = n - int(math.ceil(e))
    share = tail / n
    if tail <= 0 or share <= 0.02:
        return
    run.add(
        "decay-horizon-too-short",
        f"the decay ends at step {int(e)} but the run lasts {n} updates: the last {tail} updates "
        f"({_pct(share)} of the run) sit at the floor {_lr(floor)} ({_pct(floor / peak)} of the peak).",
        f"make the decay end at the run's last step (decay horizon {n}), or stop the run at step {int(e)}.",
        severity="warning" if share > 0.10 else "info",
        steps=[int(e), n - 1],
        values=[floor, run.at(n - 1)],
        horizon=int(e),
        total_steps=n,
        floor_fraction_of_run=share,
    )


def _rule_rises(run: _Run) -> None:
    """After the curve first reaches its peak, does it ever climb back above a lower point?"""
    if _periodic(run.schedule) or run.curve is None or run.peak <= 0:
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
    inside = rise_step < n
    where = (
        f"inside the run (from step {rise_step} of {n})"
        if inside
        else f"after the run's {n} updates (a resumed or extended run would train at it)"
    )
    end = f" (its end is step {int(run.horizon)})" if run.horizon is not None else ""
    run.add(
        "lr-rises-again",
        f"the LR decays to {_lr(float(v[low_i]))} at step {low_step} and then climbs back to "
        f"{_lr(float(v[high_i]))} at step {high_step}{end}, {where}.",
        "hold the floor after the decay ends: use a closed-form schedule (lrkit's cosine never rises past "
        "its steps), set the cosine's T_max / num_training_steps to the steps it must cover, or add a constant "
        "piece at the floor.",
        severity="error" if inside else "warning",
        steps=[low_step, rise_step, high_step],
        values=[float(v[low_i]), float(v[start + first]), float(v[high_i])],
        total_steps=n,
    )


def _pieces(context: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pieces = context.get("pieces")
    if not isinstance(pieces, list | tuple):
        return []
    return [p for p in pieces if isinstance(p, Mapping)]


def _piece_starts(pieces: list[Mapping[str, Any]], milestones: list[int] | None) -> list[int | None]:
    starts: list[int | None] = []
    for i, p in enumerate(pieces):
        s = _int_or_none(p.get("start"))
        if s is None:
            s = 0 if i == 0 else (milestones[i - 1] if milestones and i - 1 < len(milestones) else None)
        starts.append(s)
    return starts


def _milestones(context: Mapping[str, Any]) -> list[int] | None:
    ms = context.get("milestones")
    if not isinstance(ms, list | tuple):
        return None
    out = [_int_or_none(m) for m in ms]
    return None if any(m is None for m in out) else [int(m) for m in out]  # type: ignore[arg-type]


def _rule_cosine_tmax(run: _Run) -> None:
    n = run.total
    assert n is not None
    pieces = _pieces(run.context)
    milestones = _milestones(run.context)
    starts = _piece_starts(pieces, milestones)
    for i, (p, start) in enumerate(zip(pieces, starts, strict=True)):
        t_max = _int_or_none(_get(p, "T_max"))
        if t_max is None or start is None or "cosine" not in str(p.get("name", "")).lower():
            continue
        if i < len(pieces) - 1:
            continue  # a cosine that a milestone cuts off: milestones-mismatch speaks about it
        left = n - start
        if t_max in (left, left - 1) or left <= 0:
            continue
        if i > 0 and starts[i - 1] is not None:
            before = _piece_length(pieces[i - 1])
            intended = None if before is None else starts[i - 1] + before  # type: ignore[operator]
            if intended is not None and intended != start and t_max in (n - intended, n - intended - 1):
                continue  # T_max fits the warm-up as written; the milestone is what is off
        name = _short(p.get("name"))
        if t_max > left:
            final = run.at(n - 1)
            msg = (
                f"{name} (piece {i}, from step {start}) has T_max={t_max} but only {left} updates are left "
                f"after step {start}: the run ends mid-decay at {_lr(final)} ({_pct(final / run.peak)} of the peak)."
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


def _piece_length(p: Mapping[str, Any]) -> int | None:
    name = str(p.get("name", "")).lower()
    for key in ("total_iters", "T_max", "warmup_steps", "steps"):
        v = _int_or_none(_get(p, key))
        if v is not None and (key != "T_max" or "cosine" in name):
            return v
    return None


def _rule_milestones(run: _Run) -> None:
    pieces = _pieces(run.context)
    if len(pieces) < 2:
        return
    names = ", ".join(_short(p.get("name")) for p in pieces)
    milestones = _milestones(run.context)
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
        length = _piece_length(p)
        runs_for = starts[i + 1] - starts[i]
        if length is None or length == runs_for:
            continue
        name = _short(p.get("name"))
        if runs_for < length:
            effect = (
                f"the milestone cuts it off after {runs_for} of its {length} steps "
                f"(LR {_lr(run.at(starts[i + 1] - 1))} at step {starts[i + 1] - 1}, then a jump to "
                f"{_lr(run.at(starts[i + 1]))})"
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


def _rule_min_lr(run: _Run) -> None:
    ctx = run.context
    peak_lr = run.scale
    min_lr = ctx.get("min_lr")
    if isinstance(min_lr, int | float) and not isinstance(min_lr, bool) and peak_lr > 0 and min_lr >= peak_lr:
        run.add(
            "min-lr-above-peak",
            f"min_lr {_lr(min_lr)} is at or above the peak LR {_lr(peak_lr)}: the schedule cannot decay.",
            f"set min_lr below the peak (often 10% of it, {_lr(0.1 * peak_lr)}, or 0).",
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
    for node, start in _walk(run.schedule):
        if isinstance(node, Floor):
            inner_peak = float(node.schedule.peak(max(n - start, 1)))
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
            f"the {what} {_lr(floor)} of the '{node.type_name}' piece starting at step {start} is at or above "
            f"its peak {_lr(top)}: it cannot decay.",
            "set the floor below the peak (often 10% of it, or 0).",
            steps=[start],
            values=[float(floor), float(top)],
        )
        return


def _rule_megatron_decay_iters(run: _Run) -> bool:
    ctx = run.context
    d = _int_or_none(ctx.get("lr_decay_iters"))
    w = run.warmup
    n = run.total
    if d is None or n is None or w <= 0 or d + w != n:
        return False
    run.add(
        "megatron-decay-iters-after-warmup",
        f"lr_decay_iters={d} plus the {w} warm-up iterations equals the {n} training iterations, as if it "
        f"counted the steps after the warm-up; Megatron's lr_decay_iters is the absolute end step (warm-up "
        f"included), so the decay ends at step {d} and the last {w} updates ({_pct(w / n)} of the run) sit at "
        f"min_lr {_lr(run.at(n - 1))}.",
        f"set lr_decay_iters: {n} (or leave it out: Megatron then decays over the whole run).",
        steps=[d, n - 1],
        values=[run.at(d), run.at(n - 1)],
        lr_decay_iters=d,
        warmup_steps=w,
        total_steps=n,
    )
    return True


def _rule_wsd(run: _Run) -> None:
    n = run.total
    assert n is not None
    cooldown: int | None = None
    start: int | None = None
    for node, s in _walk(run.schedule):
        if isinstance(node, WarmupStableDecay):
            cooldown, start = node.decay_steps, s + node.warmup_steps + node.stable_steps
            break
        if node.type_name == "megatron" and node.style == "WSD" and node.wsd_decay_steps:  # type: ignore[attr-defined]
            cooldown = int(math.ceil(node.wsd_decay_steps / node.increment))  # type: ignore[attr-defined]
            stable_end = node.decay_steps - node.wsd_decay_steps  # type: ignore[attr-defined]
            start = s + int(math.ceil(stable_end / node.increment))  # type: ignore[attr-defined]
            break
        if node.type_name == "hf_lambda" and node.name == "warmup_stable_decay":  # type: ignore[attr-defined]
            cooldown = int(node.num_decay_steps or 0)  # type: ignore[attr-defined]
            start = s + node.warmup_steps + int(node.num_stable_steps or 0)  # type: ignore[attr-defined]
            break
    if cooldown is None:
        for key in ("wsd_decay_steps", "lr_wsd_decay_iters", "cooldown_steps"):
            cooldown = _int_or_none(run.context.get(key))
            if cooldown is not None:
                break
    if cooldown is None or cooldown <= 0:
        return
    share = cooldown / n
    if share >= 0.095:
        return
    run.add(
        "wsd-cooldown-too-short",
        f"the warmup-stable-decay cool-down lasts {cooldown} updates, {_pct(share)} of the {n}-update run; "
        "cool-downs of 10-20% of the run recover most of the gap to a full cosine (Hägele et al. 2024).",
        f"lengthen the cool-down to about {round(0.1 * n)}-{round(0.2 * n)} updates (10-20% of the run), "
        "shortening the stable phase to match.",
        steps=[] if start is None else [start, min(start + cooldown, n - 1)],
        values=[] if start is None else [run.at(start), run.at(min(start + cooldown, n - 1))],
        cooldown_steps=cooldown,
        total_steps=n,
        cooldown_fraction=share,
    )


def _rule_never_decays(run: _Run) -> None:
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
        f"the LR stays between {_lr(low)} and {_lr(run.peak)} (>= {_pct(low / run.peak)} of the peak) for all "
        f"{n - run.warmup} updates after the warm-up of this {n}-update run.",
        "decay at the end (cosine or linear to ~10% of the peak, or a warmup-stable-decay cool-down over the "
        "last 10-20%); if holding the LR is intended (RL post-training often does), ignore this.",
        steps=[run.warmup, n - 1],
        values=[run.at(min(run.warmup, n - 1)), run.at(n - 1)],
        total_steps=n,
    )


# --------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------


def _is_resolved(target: Any) -> bool:
    return all(hasattr(target, a) for a in ("schedule", "peak_lr", "total_steps", "context", "findings"))


def _merge(own: list[Finding], reader: Iterable[Finding]) -> list[Finding]:
    """The linter's findings plus the reader's; one finding per rule id (the linter's, which
    carries the run's numbers, keeps the reader's source)."""
    by_rule = {f.rule: i for i, f in enumerate(own)}
    out = list(own)
    for f in reader:
        i = by_rule.get(f.rule)
        if i is None:
            out.append(f)
            by_rule[f.rule] = len(out) - 1
        elif out[i].source is None and f.source is not None:
            out[i] = replace(out[i], source=f.source)
    return sorted(out, key=lambda f: _SEVERITY_ORDER.get(f.severity, 3))


def lint(
    target: Any,
    *,
    total_steps: int | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Findings about a schedule and its run, errors first.

    Args:
        target: a resolved config (:class:`lrkit.config.ResolvedConfig`: its factor schedule
            scaled by ``peak_lr``, its ``total_steps``, ``context`` and the reader's
            ``findings``), a :class:`~lrkit.Schedule` (taken as absolute LRs), or a config path
            or dict (read with :func:`lrkit.config.load_config`).
        total_steps: run length in optimizer updates; overrides the config's. When neither is
            known the schedule's own end (``horizon``) is taken as the run, with an info finding.
        context: structural facts that override or add to the config's (see ``docs/lint.md``).

    Returns:
        a list of :class:`~lrkit.Finding` (rule id, severity, message with the numbers, fix,
        evidence with the steps and values).
    """
    if isinstance(target, str | Path | Mapping):
        from lrkit.config import load_config

        target = load_config(target, total_steps=total_steps)
    reader: tuple[Finding, ...] = ()
    if isinstance(target, Schedule):
        schedule, scale, n, ctx = target, 1.0, total_steps, dict(context or {})
    elif _is_resolved(target):
        schedule = target.schedule
        scale = float(target.peak_lr)
        n = total_steps if total_steps is not None else target.total_steps
        ctx = {**dict(target.context or {}), **dict(context or {})}
        reader = tuple(target.findings or ())
    else:
        raise ConfigError(
            f"cannot lint a {type(target).__name__}.",
            field="target",
            value=target,
            fix="pass a ResolvedConfig (lrkit.load_config(...)), a Schedule, a config path or a config dict.",
        )
    if n is not None:
        from lrkit.schedules.base import check_steps

        n = check_steps("total_steps", n, minimum=1)
    run = _Run(schedule=schedule, scale=scale, total=n, context=ctx)
    declared = _int_or_none(ctx.get("declared_horizon"))
    run.horizon = declared if declared is not None else schedule.horizon

    if run.total is None:
        if run.horizon is None or run.horizon < 1:
            run.add(
                "total-steps-unknown",
                "the config does not say how long the run is and the schedule has no end, so the rules that "
                "compare the schedule with the run were skipped.",
                "pass the run length: lrkit check --total-steps N (or total_steps= in the API).",
            )
            _rule_milestones_structural_only(run)
            return _merge(run.findings, reader)
        run.total = int(math.ceil(run.horizon))
        run.add(
            "total-steps-unknown",
            f"the run length is not given; assuming the run ends where the schedule does (step {run.total}).",
            "pass the run length to check the decay against it: --total-steps N.",
            total_steps=run.total,
        )

    n = run.total
    ends = [int(math.ceil(run.horizon))] if run.horizon is not None else []
    length = 2 * max(n, *(ends or [0]))
    run.curve = evaluate_curve(schedule, total=n, scale=scale, length=length, extra=ends + [n])
    run_values = run.curve.run_values()
    run.peak = float(run_values.max()) if run_values.size else 0.0
    if _rule_zero(run):
        return _merge(run.findings, reader)
    w = warmup_steps_of(schedule, ctx)
    run.warmup = w if w is not None else _warmup_from_curve(run_values if run.curve.full else np.array([]), run.peak)

    _rule_first_update(run)
    _rule_warmup(run)
    _rule_min_lr(run)
    _rule_milestones(run)
    before = len(run.findings)
    _rule_cosine_tmax(run)
    specific = len(run.findings) > before
    specific = _rule_megatron_decay_iters(run) or specific
    _rule_rises(run)
    rises_inside = any(f.rule == "lr-rises-again" and f.severity == "error" for f in run.findings)
    if not specific and not rises_inside:
        _rule_horizon(run)  # a curve that climbs back does not "sit at the floor"
    _rule_wsd(run)
    if not any(f.rule == "decay-horizon-too-long" for f in run.findings):
        _rule_never_decays(run)  # a decay that ends too late is the finding, not "never decays"
    return _merge(run.findings, reader)


def _rule_milestones_structural_only(run: _Run) -> None:
    """Milestone checks that need neither the run length nor values."""
    pieces = _pieces(run.context)
    if len(pieces) >= 2 and _milestones(run.context) is None:
        _rule_milestones(run)


class _CallableModule(types.ModuleType):
    """``lrkit.lint`` is both this module and the function: ``lrkit.lint(cfg)`` works whichever
    of the two an import left behind as the package attribute."""

    def __call__(self, target: Any, **kwargs: Any) -> list[Finding]:
        return lint(target, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
