"""The search after the range test (:func:`lrkit.finder.find_lr`'s steps 2 and 3): the zoom
pass, the confirmation trials' candidates and the trials themselves.

:func:`lrkit.finder.find_lr` runs the stages in this order on one :class:`Search`:
:func:`zoom_stage` (where the curve showed no descent), :func:`split_stage` (a tiny data set
without ``val_data``), :func:`candidates_stage`, :func:`trials_stage`; then
:func:`lrkit.finder.choice.choice_stage` turns what they found into the suggestion. LRs are
handled as ``x = log10(lr)``; "decades" are differences of ``x``; trial lengths are optimizer
updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer

from lrkit.finder.batches import endless
from lrkit.finder.holdout import Split, carve
from lrkit.finder.revisits import ExampleCounter
from lrkit.finder.snapshot import Snapshot
from lrkit.finder.suggest import NOTE_FALLING_AT_START, Suggestion, read_curve, suggest
from lrkit.finder.trials import Trial

#: decades around the curve's suggestion where the confirmation trials run: at it and below
#: only, a vote against a fragile peak. A short trial favours the highest LR that survives it
#: (lower LRs have not converged yet), by the training and by the held-out loss alike: with a
#: trial 0.3 decades above, val_data picked it and sank runs the full length of which diverged
#: or over-fitted (benchmark, tuning part)
TRIAL_OFFSETS = (-1.0, -0.5, 0.0)
TRIAL_OFFSETS_VAL = TRIAL_OFFSETS
#: decades below the highest LR the test reached where the fallback trials run, when no
#: descent shows in the range test or the zoom pass
FALLBACK_OFFSETS = (-2.5, -2.0, -1.5, -1.0)
#: decades below the top the zoom pass covers, and its share of a pass's updates
ZOOM_DECADES = 2.5
#: candidates are placed at rounded log10 LRs: closer than this (decades) is the same LR
SAME_DECADES = 1e-4
#: trial length bounds (updates)
MIN_TRIAL_STEPS, MAX_TRIAL_STEPS = 16, 150
#: a heavy-ball optimizer's range-test reading lies this fraction of its momentum horizon
#: (``beta / (1 - beta)`` updates) of the ramp too high (see :func:`momentum_lag`)
MOMENTUM_LAG = 0.35
#: ... by at most this many decades (measured only at ``beta`` 0.9 and the default ramp)
MAX_MOMENTUM_LAG_DECADES = 0.5
#: the range test drew each training example at least this many times on average: a tiny data set
REVISIT_PASSES = 8.0
#: a descent shallower than this fraction of the start level is not trusted (``confidence="low"``)
SHALLOW_DESCENT = 0.1
#: ``optimizer.defaults`` keys of optimizers whose step is normalised by a running gradient
#: scale (Adam, AdamW, NAdam, RAdam, Adamax, Lion-like: ``betas``; RMSprop: ``centered``;
#: Adagrad: ``initial_accumulator_value``; Adadelta: ``rho``; torch's Adafactor:
#: ``beta2_decay``; transformers' Adafactor: ``decay_rate``)
_ADAPTIVE_KEYS = frozenset({"betas", "centered", "initial_accumulator_value", "rho", "beta2_decay", "decay_rate"})


# -- the search's stages (find_lr runs them in this order on one Search) ---------------------------
@dataclass
class Search:
    """What the search knows so far; each stage below reads it and fills in its part."""

    sug: Suggestion  # the curve reading the search builds on: the range test's, or the zoom pass's
    notes: list[str]
    evals: int  # loss evaluations spent so far
    x_top: float  # log10 of the highest LR the range test reached
    method: str = "curve"
    zoom_curve: dict[str, Any] | None = None
    x_star: float | None = None  # log10 of the curve's suggestion; None: no descent anywhere
    wide: bool = False  # a shallow descent: the fallback's candidates run too, judged relatively
    xs: list[float] = field(default_factory=list)  # log10 peak LRs of the trials' candidates
    done: list[Trial] = field(default_factory=list)  # the trials that ran, in order
    val_start_evals: int = 0
    passes: float | None = None  # examples the range test drew / distinct examples (None: not counted)
    revisited: bool = False  # the tiny-data rule moved the choice (confidence "low")
    user_val: bool = False  # the trials are judged by the caller's val_data
    no_cliff: bool = False  # the curve read for x* never diverged: nothing bounds it from above
    start_level: float | None = None  # the training loss the search started from (range test's first losses)
    cliff_at_top: bool = False  # the range test stopped at a NaN or a divergence: its top is a cliff
    stopped: str = ""  # the range test's stopped_reason


@dataclass(frozen=True)
class TrialSetup:
    """Everything the trials need from the caller (model, data, how to step, held-out batches)."""

    model: torch.nn.Module
    optimizer: Optimizer
    batches: Callable[[], Iterator[Any]]  # endless training batches (the data read again as it runs out)
    make_step: Callable[[], Any]  # one training update; its ``loss_of`` evaluates held-out batches
    set_lrs: Callable[[float], None]  # every group at the reference group's LR times its ratio
    val: list[Any] | None
    snapshot: str
    snapshot_dir: str | None


def zoom_stage(
    s: Search, run_pass: Callable[[float, float, int], tuple[np.ndarray, np.ndarray, str]], z_steps: int
) -> None:
    """Step 2: where the range test showed no descent, a slower ramp over the
    :data:`ZOOM_DECADES` below the top (``z_steps`` updates, at least 20); its reading replaces
    the range test's when it shows a descent."""
    if z_steps < 20:
        return
    z_lo = s.x_top - ZOOM_DECADES
    zl, zr, zreason = run_pass(10**z_lo, 10**s.x_top, z_steps)
    s.evals += len(zr)
    s.zoom_curve = {"lrs": zl, "raw_losses": zr, "stopped_reason": zreason}
    zs = suggest(zl, zr, stopped=zreason)
    if zs.lr is not None:
        s.sug, s.method = zs, "zoom"
        # the zoom pass's start is the finder's, not the caller's start_lr
        s.notes = [n for n in zs.notes if n != NOTE_FALLING_AT_START]
        s.notes.append(
            f"the range test showed no clear descent; a slower zoom pass over {10**z_lo:.3g}..{10**s.x_top:.3g}"
            " found one."
        )


def split_stage(s: Search, data: Iterable[Any], counter: ExampleCounter) -> Split | None:
    """Before the trials, on a tiny data set (the range test went round it at least
    :data:`REVISIT_PASSES` times) and without ``val_data``: hold a share of its examples out of
    the trials to judge them (:mod:`lrkit.finder.holdout`), with a note; ``None`` otherwise."""
    if s.passes is None or s.passes < REVISIT_PASSES:
        return None
    split = carve(counter.prints(), endless(data))
    if split is not None:
        s.notes.append(
            f"the range test went round the training data about {s.passes:.0f} times (a tiny data set): the trials"
            f" trained on {split.examples - split.held_found} of its {split.examples} examples and were judged by the"
            f" loss on the {split.held_found} held out (the training loss cannot tell learning from memorising"
            " there); pass val_data= to choose the held-out examples yourself."
        )
    return split


def candidates_stage(
    s: Search,
    lrs: np.ndarray,
    raw: np.ndarray,
    *,
    with_val: bool,
    optimizer: Optimizer | None = None,
) -> None:
    """Step 3's candidates: at the curve's suggestion and below it (plus the fallback's near the
    top after a shallow descent), or the fallback's alone where nothing descended. With a
    heavy-ball optimizer the curve's suggestion is first lowered by :func:`momentum_lag`."""
    if s.sug.lr is None:
        s.xs = [s.x_top + o for o in FALLBACK_OFFSETS]
        return
    x_star = s.x_star = math.log10(s.sug.lr)
    z = s.zoom_curve
    lag = 0.0
    if optimizer is not None:
        read_lrs = z["lrs"] if s.method == "zoom" and z else lrs
        lag = momentum_lag(optimizer, np.asarray(read_lrs, dtype=float), s.sug.lr)
    if lag > 0:
        x_star = s.x_star = x_star - lag
        s.notes.append(
            f"SGD momentum {heavy_ball(optimizer):g}: the range test's reading {s.sug.lr:.3g} was lowered by"
            f" {lag:.2f} decades to {10**x_star:.3g} (the loss answers a rising LR about"
            " beta/(1-beta) updates late, so the curve reads momentum runs too high)."
        )
    x_cap = math.log10(s.sug.divergence_lr) if s.sug.divergence_lr else x_star
    offsets = TRIAL_OFFSETS_VAL if with_val else TRIAL_OFFSETS
    xs = sorted({round(x_star + o, 6) for o in offsets if o <= 0 or x_star + o <= x_cap})
    cl, cr = (z["lrs"], z["raw_losses"]) if s.method == "zoom" and z else (lrs, raw)
    s.wide = shallow(cl, cr)
    s.no_cliff = not s.sug.diverged
    if s.wide:
        # a shallow descent may be a side show (an output bias learning the class prior) far
        # below the narrow window where a deep plain net really learns: the fallback's
        # candidates above the curve's also run, and the trials choose
        # with momentum the divergence point reads high by the same lag as x*: a candidate above
        # the lowered point sits on a full run's cliff
        x_edge = x_cap - lag if lag > 0 else math.inf
        xs = sorted(
            set(xs) | {round(s.x_top + o, 6) for o in FALLBACK_OFFSETS if xs[-1] + 0.25 < s.x_top + o <= x_edge}
        )
    s.xs = xs


def trials_stage(s: Search, setup: TrialSetup, max_evals: int) -> None:
    """Step 3: one short warm-up + cosine trial per candidate, each from the snapshot of the
    start state, within what is left of ``max_evals`` (at most a quarter of it for held-out
    batches)."""
    from lrkit.finder.trials import DataExhausted, run_trial, val_loss

    model, optimizer, val = setup.model, setup.optimizer, setup.val
    budget = max_evals - s.evals
    val_use = val
    start_val: float | None = None
    if val is not None:
        # at most a quarter of what is left goes to held-out batches (before, and after each trial)
        per = max(1, (budget // 4) // (len(s.xs) + 1))
        val_use = val[:per]
        budget -= len(val_use) * (len(s.xs) + 1)
    t_steps = min(MAX_TRIAL_STEPS, budget // len(s.xs)) if s.xs else 0
    if t_steps < MIN_TRIAL_STEPS:
        if s.xs:
            s.notes.append(
                f"no confirmation trials: max_evals={max_evals} leaves too few updates after the range test."
            )
        return
    snap = Snapshot.take(model, optimizer, to=setup.snapshot, directory=setup.snapshot_dir)
    try:
        step = setup.make_step()
        judge = None
        if val_use is not None:
            start_val, n = val_loss(model, step.loss_of, val_use)
            s.val_start_evals = n
            s.evals += n
            judge = (step.loss_of, val_use)
        batches = setup.batches()
        for x in s.xs:
            snap.restore()
            t = run_trial(
                model=model,
                optimizer=optimizer,
                batches=batches,
                step=step,
                set_lrs=setup.set_lrs,
                peak=10**x,
                steps=t_steps,
                val=judge,
                start_val=start_val,
                start_level=s.start_level,
            )
            s.done.append(t)
            s.evals += t.evaluations
    except DataExhausted as end:
        # trials judged on different amounts of data cannot be compared: keep the curve's choice
        s.evals += end.updates  # spent, like the finished trials' (already counted)
        s.done.clear()
        s.notes.append(
            "the training data ran out during the confirmation trials (a one-shot iterable the range test had "
            "nearly used up), so none is used: pass a DataLoader or a list, which can be read again."
        )
    finally:
        try:
            snap.restore()
        finally:
            snap.close()


def start_level_of(raw: np.ndarray) -> float | None:
    """The training loss the search started from: the median of the range test's first
    ``max(3, n // 20)`` finite losses (taken at LRs too small to move the model)."""
    finite = np.asarray(raw, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return None
    return float(np.median(finite[: max(3, finite.size // 20)]))


def shallow(lrs: Any, raw: Any) -> bool:
    """Whether the curve's descent is under :data:`SHALLOW_DESCENT` of its start level
    (the median of its first 5% smoothed points), or no descent reads at all."""

    r = read_curve(np.asarray(lrs), np.asarray(raw))
    if r is None:
        return True
    head = max(3, len(r.smooth) // 20)
    level = float(np.median(r.smooth[:head]))
    return bool(r.depth < SHALLOW_DESCENT * abs(level))


def heavy_ball(optimizer: Optimizer | None) -> float:
    """The reference group's momentum ``beta`` of an optimizer that is not adaptive (SGD with
    momentum or Nesterov), else 0."""
    if optimizer is None or adaptive(optimizer) or not optimizer.param_groups:
        return 0.0
    beta = optimizer.param_groups[0].get("momentum", 0.0)
    return float(beta) if isinstance(beta, (int, float)) and 0.0 < beta < 1.0 else 0.0


def momentum_lag(optimizer: Optimizer, lrs: np.ndarray, lr: float) -> float:
    """Decades by which a range test's reading of a heavy-ball optimizer lies too high:
    ``min(MAX_MOMENTUM_LAG_DECADES, MOMENTUM_LAG * beta / (1 - beta) * r)``, with ``r`` the
    ramp's rate at ``lr`` in decades of LR per update (0.08 for the default 1e-7..10 over 100
    updates); 0 without momentum.

    Why: the momentum buffer averages about ``beta / (1 - beta)`` updates of gradients, so the
    loss answers a rising LR that many updates late, while the LR keeps climbing; a ramp 4x
    slower lowered momentum runs' readings by 0.2-0.3 decades more than plain SGD's. On the
    benchmark the final suggestions for momentum SGD lay high (a quarter ruined or over
    regret 0.5), those for plain SGD and Adam(W) centred; 0.25 decades lower at ``beta`` 0.9
    and the default ramp is where the momentum tasks' regret was least."""
    beta = heavy_ball(optimizer)
    if beta <= 0.0 or len(lrs) < 2 or not (lr > 0):
        return 0.0
    x = np.log10(lrs)
    i = int(np.clip(np.searchsorted(x, math.log10(lr)), 1, len(x) - 1))
    rate = float(x[i] - x[i - 1])
    if not (math.isfinite(rate) and rate > 0):
        return 0.0
    return min(MAX_MOMENTUM_LAG_DECADES, MOMENTUM_LAG * beta / (1.0 - beta) * rate)


def adaptive(optimizer: Optimizer) -> bool:
    """Whether the optimizer normalises its steps by a running gradient scale (Adam's family)."""
    return bool(_ADAPTIVE_KEYS & set(getattr(optimizer, "defaults", {}) or {}))
