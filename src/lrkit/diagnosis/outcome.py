"""Detectors of a run's outcome, judged on its start and end levels (see :mod:`~lrkit.diagnosis.curve`):

- **frozen**: the loss stays within 1e-4 (relative) of one value over at least 30% of the
  logged points (and 5 of them): exact repeats, or a creep at the 5th digit (minibatch noise
  is at least 1e-3), at a level above 10 resolution steps and above 1/1000 of the start (a loss
  pinned at the log's rounding of 0 has converged): the weights are not changing;
- **never learned**: the end level is within 3% of the start level over at least 20 logged
  points (within 10% when the start is within 1% of ``ln k``: a classifier that never left
  chance), the best trend level never went 10% below the start, and the eval loss (if any) did
  not improve by that margin either; or the training loss cleared those bars by less than 3
  standard errors of its levels (medians of a few single-batch losses; also the median of its
  last third against its first) while an eval loss of 3+ points did not improve: noise alone
  moved it; a level at ``ln k`` is named (uniform over ``k`` classes: ``k <= 20`` within 0.5%,
  or a common vocabulary size within 0.2%);
- **at chance**: the trend sits within 1% of ``ln k`` (``k <= 20``) over the last third of the
  log (10+ points) and ends within 0.25% of it, wherever it started, and the eval loss there
  (2+ points) is ``ln k`` too (within 0.25%): the model learned the class prior and nothing of
  the inputs;
- **ended above the start** (a divergence): the end level is over 1.2x the start level (log-loss
  runs) -- a run that blew up early, or sits at ``ln(vocab)`` after a blow-up, however short;
- **converged**: the end level is 0 or at most 1/200 of the start level (:data:`CONVERGED_RATIO`).
"""

from __future__ import annotations

import math

import numpy as np

from lrkit.diagnosis.advice import diverged_from
from lrkit.diagnosis.curve import LossCurve, edge_counts, level_noise
from lrkit.diagnosis.formatting import at_step, fmt_lr, step_count, step_range
from lrkit.diagnosis.lr_context import LRInUse
from lrkit.findings import Finding

__all__ = [
    "find_at_chance",
    "find_converged",
    "find_end_above_start",
    "find_frozen",
    "find_never_learned",
    "uniform_over",
]

FROZEN_SHARE = 0.30
FROZEN_REL = 1e-4  # a loss creeping at the 5th digit is not learning; minibatch noise is >= 1e-3
NO_PROGRESS = 1.03
CHANCE_PROGRESS = 1.10
ABOVE_START = 1.2
#: an end level at most this fraction of the start is a converged run (fitted to ~0). Labelled
#: logs put the line here: healthy runs that were still learning fell at most ~110x, runs that
#: engineers called converged (fitted, nothing left to learn) fell 400x or more (docs/diagnose.md)
CONVERGED_RATIO = 1 / 200
#: a frozen stretch at or under this fraction of the start is a loss pinned at its floor, not a
#: network that stopped learning
FROZEN_FLOOR_RATIO = 1e-3
#: how close to ``ln k`` a loss sitting at chance stays (relative)
AT_CHANCE = 0.01
AT_CHANCE_END = 0.0025
#: eval points that can overrule a training loss whose fall is within its noise
EVAL_FLAT_POINTS = 3

_BUG_FIRST = (
    "look for a bug before tuning the LR: is the optimizer stepping (LR above 0, optimizer.step() called, "
    "parameters not frozen or detached from the loss), do the labels match the inputs, is the network dead "
    "(dead ReLUs, saturated outputs, a bad initialisation)? Once the loss moves, `lrkit find` gives a workable LR."
)


#: vocabulary sizes of common tokenizers: a loss at ln(V) is uniform over the vocabulary
VOCAB_SIZES = (
    30_522,
    32_000,
    32_100,
    32_128,
    32_768,
    50_257,
    50_304,
    51_865,
    65_536,
    100_277,
    128_256,
    151_936,
    250_002,
)


def uniform_over(level: float, *, rel: float = 0.01, max_k: int | None = None) -> int | None:
    """``k`` when ``level`` is within ``rel`` (relative) of ``ln k``, ``k >= 2`` (and at most
    ``max_k``): the loss of a model predicting uniformly over ``k`` classes."""
    if not math.isfinite(level) or level < (1 - rel) * math.log(2) or level > 14:
        return None
    k = round(math.exp(level))
    if max_k is not None and k > max_k:
        return None
    return k if k >= 2 and abs(math.log(k) - level) <= rel * level else None


def named_uniform(level: float) -> int | None:
    """``k`` worth naming: a small class count (``k <= 20``, within 0.5%) or a common
    vocabulary size (within 0.2%); larger ``k`` match any level and say nothing."""
    k = uniform_over(level, rel=0.005, max_k=20)
    if k is not None:
        return k
    return next((v for v in VOCAB_SIZES if abs(math.log(v) - level) <= 0.002 * level), None)


def level_text(v: float) -> str:
    """A loss level, named ``ln k`` when it is one (uniform predictions over ``k`` classes)."""
    k = named_uniform(v)
    return f"{v:.4g}" + (f" (= ln {k:,}: uniform predictions over {k:,} classes/tokens)" if k else "")


def _flat_stretches(y: np.ndarray, rel: float) -> tuple[int, int]:
    """The longest stretch ``[a, b]`` whose values all lie within ``rel`` (relative) of each
    other, found greedily left to right."""
    best = (0, 0)
    a, lo, hi = 0, float(y[0]), float(y[0])
    for j in range(1, y.size):
        v = float(y[j])
        lo2, hi2 = min(lo, v), max(hi, v)
        if hi2 - lo2 <= rel * max(abs(hi2), abs(lo2)) + 1e-300:
            lo, hi = lo2, hi2
            continue
        if j - 1 - a > best[1] - best[0]:
            best = (a, j - 1)
        a, lo, hi = j, v, v
    if y.size - 1 - a > best[1] - best[0]:
        best = (a, y.size - 1)
    return best


def find_frozen(c: LossCurve) -> Finding | None:
    # a stretch within FROZEN_REL needs that many consecutive steps each within it: a cheap,
    # vectorized bound that skips the scan on every noisy log
    steps_small = np.abs(np.diff(c.y)) <= FROZEN_REL * np.abs(c.y[1:]) + 1e-300
    if np.count_nonzero(steps_small) + 1 < max(5, FROZEN_SHARE * c.n):
        return None
    a, b = _flat_stretches(c.y, FROZEN_REL)
    points = b - a + 1
    if b == a or points < max(5, FROZEN_SHARE * c.n):
        return None
    value = float(np.median(c.y[a : b + 1]))
    if value <= max(10 * c.resolution, FROZEN_FLOOR_RATIO * c.start):
        return None  # at (or within the rounding of) 0: an outcome (converged), not a frozen network
    return Finding(
        rule="frozen-loss",
        severity="error",
        message=(
            f"Frozen: the loss stays at {level_text(value)} (within 0.01%) for {points:,} logged points in a row "
            f"({step_range(c.steps[a], c.steps[b], c.unit)}, {points / c.n:.0%} of the log): "
            "the weights are not changing."
        ),
        fix=_BUG_FIRST,
        evidence={"start_step": int(c.steps[a]), "end_step": int(c.steps[b]), "loss": value, "points": points},
        source="diagnose",
    )


def find_never_learned(
    c: LossCurve, eval_gain: float | None, lr: LRInUse | None = None, *, eval_points: int = 0
) -> Finding | None:
    if c.n < 20 or not (c.start > 0 and c.end > 0):
        return None
    best = float(np.exp(np.min(c.trend))) if c.log else float(np.min(c.trend))
    # a classifier that starts at ln k (chance) and stays within 10% of it has not learned either
    limit = CHANCE_PROGRESS if uniform_over(c.start) else NO_PROGRESS
    if eval_gain is not None and eval_gain > limit:
        return None  # the training loss is flat but the model still improves on held-out data
    moved = c.start / c.end > limit or c.start / max(best, 1e-300) > max(limit, 1.10)
    if moved:
        # the training loss cleared the bars, but on single-batch losses medians of a few points
        # move that much by noise alone; an eval loss (3+ points) that did not improve decides then
        eval_flat = eval_gain is not None and eval_points >= EVAL_FLAT_POINTS
        fell = (
            _fell(c, c.end, limit, level_noise(c, edge_counts(c.n)[1]))
            or _fell(c, best, max(limit, 1.10), c.sigma_trend())
            or _thirds_fell(c)
        )
        if fell or not eval_flat:
            return None
    span = f"{step_count(c.steps[-1] - c.steps[0], c.unit)} ({c.n:,} logged points)"
    if moved:
        scatter = f"{c.ratio(c.sigma):.2f}x" if c.log else f"+-{c.sigma:.3g}"
        what = (
            f"Never learned: the training loss moved {c.start:.4g} -> {level_text(c.end)} over {span}, but "
            f"no more than its batch-to-batch scatter ({scatter}) explains, and the eval loss did not improve "
            f"over its {eval_points} points."
        )
    else:
        what = (
            f"Never learned: the loss stayed at its starting level, {c.start:.4g} -> {level_text(c.end)}, over {span}."
        )
    return Finding(
        rule="never-learned",
        severity="error",
        message=what,
        fix=_BUG_FIRST
        + (
            f" If nothing is broken, the LR (at most {fmt_lr(peak)}) may be far too small for this run: sweep it with "
            "`lrkit find` rather than guessing a factor."
            if (peak := (lr.peak() if lr is not None else None))
            else ""
        ),
        evidence={
            "start_loss": c.start,
            "end_loss": c.end,
            "uniform_over": named_uniform(c.end),
            "within_noise": moved,
        },
        source="diagnose",
    )


def find_at_chance(c: LossCurve, eval_steps: np.ndarray, eval_losses: np.ndarray) -> Finding | None:
    """A classifier that only learned the class prior: its training trend sits within ``AT_CHANCE``
    (1%) of ``ln k`` (``k <= 20``) over the last third of the log (10+ points) and ends within
    ``AT_CHANCE_END`` (0.25%) of it, wherever it started, and the eval loss there (2+ points) is
    ``ln k`` too (its median within 0.25%). A converging loss ends near some ``ln k`` by chance
    (the ``ln k`` for ``k <= 20`` lie 2-40% apart), so the eval loss must confirm it: a model that
    uses its inputs does not score exactly chance on held-out data."""
    if c.n < 10 or not c.log:
        return None
    k = uniform_over(c.end, rel=AT_CHANCE_END, max_k=20)
    if k is None:
        return None
    chance = math.log(k)
    third = c.steps[-(c.n // 3)]
    if np.max(np.abs(c.trend[-(c.n // 3) :] - math.log(chance))) > math.log(1 + AT_CHANCE):
        return None
    late = eval_losses[np.isfinite(eval_losses) & (eval_steps >= third)]
    if late.size < 2 or abs(float(np.median(late)) / chance - 1) > AT_CHANCE_END:
        return None
    away = np.nonzero(np.abs(c.trend - math.log(chance)) > math.log(1 + AT_CHANCE))[0]
    since = int(c.steps[int(away[-1]) + 1 if away.size else 0])
    return Finding(
        rule="never-learned",
        severity="error",
        message=(
            f"Never learned: the loss fell from {c.start:.4g} to {level_text(c.end)} and sits there (within 1%) "
            f"from {at_step(since, c.unit)} to the end, the eval loss too ({float(np.median(late)):.4g}): the model "
            "predicts the class prior and nothing of the inputs."
        ),
        fix=_BUG_FIRST,
        evidence={"start_loss": c.start, "end_loss": c.end, "uniform_over": k, "since_step": since},
        source="diagnose",
    )


def _fell(c: LossCurve, level: float, ratio: float, noise: float) -> bool:
    """The start level is ``ratio`` x above ``level`` and the gap is 3 standard errors wide
    (the start level's and ``noise``, the other level's): on single-batch losses the medians
    of a few points move by more than the few percent a falling run must show."""
    gap = math.log(c.start / max(level, 1e-300)) if c.log else c.start - level
    se = math.hypot(level_noise(c, edge_counts(c.n)[0]), noise)
    return c.start / max(level, 1e-300) > ratio and gap > 3.0 * se


def _thirds_fell(c: LossCurve) -> bool:
    """The median of the last third of the log is 3 standard errors below that of the first
    third: a slow fall that the edge levels (medians of a few points) are too noisy to show."""
    k = c.n // 3
    gap = float(np.median(c.z[:k]) - np.median(c.z[-k:]))
    return gap > 3.0 * math.sqrt(2.0) * level_noise(c, k)


def find_end_above_start(c: LossCurve, lr: LRInUse) -> Finding | None:
    if not (c.log and c.start > 0 and c.end > 0):
        return None
    if c.end < ABOVE_START * c.start or (math.log(c.end / c.start)) < 4 * c.sigma_trend():
        return None
    # onset: the first point above the halfway level (in log-loss) between start and end
    half = 0.5 * (math.log(c.start) + math.log(c.end))
    i0 = int(np.argmax(c.z > half))
    return diverged_from(
        c,
        lr,
        i0,
        lambda where: (
            f"Diverged: the loss ended at {level_text(c.end)}, {c.end / c.start:.3g}x above where it started "
            f"({c.start:.4g}); it rose from {at_step(c.steps[i0], c.unit)}{where}."
        ),
        start_loss=c.start,
        final_loss=c.end,
    )


def find_converged(c: LossCurve) -> Finding | None:
    if not (math.isfinite(c.start) and math.isfinite(c.end)) or c.start <= 0:
        return None
    if not (c.end == 0 or (c.end > 0 and c.end <= CONVERGED_RATIO * c.start)):
        return None
    zero = c.end == 0
    msg = (
        f"Converged: the loss fell from {c.start:.4g} to {c.end:.4g}"
        + ("" if zero else f" ({c.start / c.end:,.0f}x lower)")
        + "; the LR schedule has nothing left to do."
    )
    fix = (
        "a training loss of exactly 0 usually means the task is trivial for the model or the labels leak into "
        "the inputs: check the eval loss and the data split."
        if zero
        else "nothing to change in the schedule; judge the model on held-out data (a training loss this low can "
        "also mean memorisation)."
    )
    return Finding(
        rule="converged",
        severity="info",
        message=msg,
        fix=fix,
        evidence={"start_loss": c.start, "end_loss": c.end, "exact_zero": zero},
        source="diagnose",
    )
