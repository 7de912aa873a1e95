"""The choice (:func:`lrkit.finder.find_lr`'s steps 3 and 4): from the curve's reading and the
confirmation trials to the suggested peak LR, its range and its ``confidence``.

:func:`choice_stage` picks the best trial that learned, then applies the rules below, each a
step down or a warning measured on the benchmark (``benchmarks/finder_quality.py``; the why of
each is in its docstring and in ``docs/finder.md``); where the curve showed no descent,
:func:`_fallback_choice`. LRs are in the optimizer's units; trial lengths in optimizer updates.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from torch.optim import Optimizer

from lrkit.finder.search import (
    FALLBACK_OFFSETS,
    REVISIT_PASSES,
    SAME_DECADES,
    SHALLOW_DESCENT,
    TRIAL_OFFSETS,
    Search,
    adaptive,
    shallow,
)
from lrkit.finder.suggest import NOTE_NO_DESCENT, read_curve
from lrkit.finder.trials import (
    RISE_SE,
    Trial,
    blew_up_in_warm_up,
    judged_by_train,
    learned_clearly,
    rose_in_warm_up,
    start_of,
)


def choice_stage(
    s: Search, optimizer: Optimizer, lrs: np.ndarray, raw: np.ndarray
) -> tuple[float | None, str, float | None, float | None]:
    """Step 3's and 4's choice: ``(suggestion, confidence, low, high)`` from the curve and the
    trials (or the fallback where nothing descended)."""
    sug, done = s.sug, s.done
    confidence = sug.confidence
    low, high = sug.low, sug.high
    chosen: float | None = sug.lr
    learned = [t for t in done if t.learned]
    below_zero = _went_below_zero(s, raw)
    if s.x_star is not None and done:
        if learned:
            # after a shallow descent the candidates start from different levels of a slow
            # drift: judged by how much each improved on its start (_relative), not by absolute loss
            unclear = _unclear_pick(done, s.start_level) if s.wide else None
            if unclear is not None and _read_pass_went_nan(s) and s.sug.divergence_lr:
                unclear = _below_cliff(unclear, done, s.sug.divergence_lr, s.start_level, s.notes)
            by = (lambda t: _relative(t, s.start_level)) if s.wide else (lambda t: t.score)
            best = unclear or min(learned, key=by)
            if unclear is None:
                best = _below_warm_up_rise(best, learned, s.start_level, s.notes)
            if s.user_val and not s.wide:
                best = _not_above_train_choice(best, learned, s.notes)
            if s.no_cliff and not s.wide:
                best = _below_top_without_cliff(best, learned, done, s.notes)
            if not s.wide and adaptive(optimizer) and _fitted(best):
                best = _below_fitted(best, learned, s.notes)
            if not s.wide and not below_zero and adaptive(optimizer):
                stepped = _below_unfitted_tiny(best, learned, s.passes, s.notes)
                s.revisited = stepped is not best
                best = stepped
            chosen = _below_zero_step_down(best.lr, learned, s.notes) if below_zero else best.lr
            s.method += "+trials"
            moved = math.log10(chosen) - s.x_star
            if abs(moved) > SAME_DECADES:
                s.notes.append(
                    f"short trials ({done[0].steps} updates, judged by {done[0].judged_by} loss) moved the curve's "
                    f"suggestion {10**s.x_star:.3g} to {chosen:.3g}."
                )
        else:
            chosen = _none_learned_choice(done, s.start_level, s.notes)
            s.method += "+trials"
        if chosen is not None and sug.lr:
            scale = chosen / sug.lr
            low, high = (None if low is None else low * scale), (None if high is None else high * scale)
    elif s.x_star is not None and sug.lr and abs(s.x_star - math.log10(sug.lr)) > SAME_DECADES:
        # no trials ran: the curve's suggestion as lowered for momentum (candidates_stage)
        chosen = 10**s.x_star
        scale = chosen / sug.lr
        low, high = (None if low is None else low * scale), (None if high is None else high * scale)
    elif s.x_star is None:
        chosen, low, high = _fallback_choice(s, learned, below_zero)
        confidence = "low"
    if chosen is not None and s.method != "fallback":
        zoom_curve = s.zoom_curve if s.method.startswith("zoom") else None
        confidence = _confidence(sug, zoom_curve, lrs, raw, s.x_star, done, chosen)
        if confidence == "low" and sug.confidence != "low" and learned:
            s.notes.append(
                "the loss fell only a little over the whole test: this network may learn only in a narrow LR window"
                " (deep plain nets); check with a short grid around the suggestion (lrkit compare)."
            )
        if confidence == "high" and adaptive(optimizer):
            confidence = _overfit_risk(chosen, learned, s.notes)
        elif confidence == "high":
            confidence = _fitted_risk(chosen, learned, s.notes)
        if s.revisited:
            confidence = "low"
    return chosen, confidence, low, high


def _read_pass_went_nan(s: Search) -> bool:
    """Whether the pass whose curve gave the reading (the zoom pass, or the range test) stopped
    at a NaN or infinite loss: the model blew up within a few updates, not just a loss that rose."""
    if s.method.startswith("zoom") and s.zoom_curve is not None:
        return s.zoom_curve.get("stopped_reason") == "nan"
    return s.stopped == "nan"


def _went_below_zero(s: Search, raw: np.ndarray) -> bool:
    """Whether any loss the search recorded fell below zero: one update of the range test, of
    the zoom pass or of a trial."""
    curves = [np.asarray(raw, dtype=float)]
    if s.zoom_curve is not None:
        curves.append(np.asarray(s.zoom_curve["raw_losses"], dtype=float))
    for c in curves:
        finite = c[np.isfinite(c)]
        if finite.size and float(finite.min()) < 0:
            return True
    return any(t.train_min < 0 for t in s.done)  # nan (no finite loss) compares False


def _below_zero_step_down(lr: float, learned: list[Trial], notes: list[str]) -> float:
    """Where the loss went below zero: the lowest trial that learned, instead of ``lr``, with a note.

    Why: a loss that goes negative has no floor at 0 -- typically a likelihood with a learned
    scale (a Gaussian NLL with a predicted variance). Its training loss keeps falling as the
    predicted variance shrinks on the training examples, so the range test and short trials
    both favour peaks at which a full run over-fits the variance and the held-out loss rises
    above the untrained model's. The lowest trial (a decade below the curve's suggestion, or
    the fallback's lowest) is the margin fastai's "minimum / 10" keeps against that cliff."""
    lowest = min(learned, key=lambda t: t.lr)
    if lowest.lr >= lr:
        return lr
    notes.append(
        f"the loss went below zero (a likelihood with a learned scale, e.g. a Gaussian NLL): its training loss"
        f" keeps falling as the predicted variance shrinks, where a full run over-fits; the suggestion is the"
        f" lowest trial that learned ({lowest.lr:.3g}) rather than {lr:.3g}. With val_data= and a full-length"
        " check, the higher one may be better."
    )
    return lowest.lr


#: a chosen trial whose training loss ended under this fraction of its start (adaptive optimizers)
#: is near fitting its data: ``confidence`` is not "high" (docs/finder.md, calibration)
OVERFIT_RISK_FRACTION = 0.1


def _overfit_risk(chosen: float, learned: list[Trial], notes: list[str]) -> str:
    """``"low"`` (with a note) when the chosen trial's training loss ended under
    :data:`OVERFIT_RISK_FRACTION` of its start, else ``"high"``. On small data an adaptive
    optimizer's full run at such a peak may over-fit where the short trial does not show it."""
    t = next((t for t in learned if t.lr == chosen), None)
    start, end = (math.nan, math.nan) if t is None else (float(t.train_start), float(t.train_end))
    if not (math.isfinite(start) and math.isfinite(end) and start > 0 and 0 <= end < OVERFIT_RISK_FRACTION * start):
        return "high"
    lower = [u.lr for u in learned if u.lr < chosen]
    notes.append(
        f"the chosen trial's training loss ended at {end / start:.0%} of its start (under"
        f" {OVERFIT_RISK_FRACTION:.0%}): with an adaptive optimizer on small data a full run at this peak may"
        " over-fit (the held-out loss rises) where the short trial cannot show it; pass val_data= and compare"
        + (f" with {max(lower):.3g} (lrkit compare)." if lower else " with a lower peak (lrkit compare).")
    )
    return "low"


def _fitted_risk(chosen: float, learned: list[Trial], notes: list[str]) -> str:
    """``"medium"`` (with a note) when the chosen trial fitted its training batches almost
    exactly (:func:`_fitted`), else ``"high"``; for optimizers that are not adaptive, whose
    suggestion the "fitted" step-down leaves alone.

    Why: plain and momentum SGD on a small set at a peak whose short trial already drove the
    training loss to its floor ran several times longer into spikes on the benchmark (a decade
    too high, regret 0.5-2, at ``high``), while most such peaks were fine: a warning, not a
    step down."""
    t = next((t for t in learned if t.lr == chosen), None)
    if t is None or not _fitted(t):
        return "high"
    lower = [u.lr for u in learned if u.lr < chosen]
    notes.append(
        f"the chosen trial's training loss ended at {t.train_end / t.train_start:.1%} of its start in {t.steps}"
        " updates (it fitted its training batches): a full run several times longer at this peak may spike or"
        " over-fit; compare"
        + (f" with {max(lower):.3g} (lrkit compare)." if lower else " with a lower peak (lrkit compare).")
    )
    return "medium"


def _below_fitted(best: Trial, learned: list[Trial], notes: list[str]) -> Trial:
    """The highest learned trial below ``best`` that did not fit its training batches exactly
    (else the lowest learned one), with a note; see :func:`_fitted`."""
    lower = [t for t in learned if t.lr < best.lr and not _fitted(t)]
    stepped = max(lower, key=lambda t: t.lr) if lower else min(learned, key=lambda t: t.lr)
    if stepped is not best:
        notes.append(
            f"the trial at {best.lr:.3g} fitted its training batches almost exactly (training loss"
            f" {best.train_end:.3g}, under {FIT_FRACTION:.0%} of its start) in {best.steps} updates:"
            " with an adaptive optimizer a longer run at that peak tends to over-fit or spike on small"
            f" data, so the suggestion is the highest trial that did not ({stepped.lr:.3g});"
            " with plenty of data, pass val_data= or try the higher one."
        )
    return stepped


#: ... and the chosen trial's training loss over its last quarter kept at least this fraction of
#: its first tenth's after going round the data several times (what it could not fit: label noise)
NOISE_FRACTION = 0.15


def _below_unfitted_tiny(best: Trial, learned: list[Trial], passes: float | None, notes: list[str]) -> Trial:
    """The next lower learned trial instead of ``best`` (with a note) when the data is tiny
    relative to the search (``passes >= REVISIT_PASSES``) and ``best`` still kept at least
    :data:`NOISE_FRACTION` of its starting training loss; else ``best``.

    Why: a short trial that went round a tiny data set several times and still could not fit it
    is looking at examples it cannot learn (flipped labels, overlapping classes). A full run,
    several times longer, at that peak memorises them with an adaptive optimizer's large
    normalised steps, and its held-out loss climbs (on the benchmark, above the untrained
    model's); the short trial's score, which favours the highest LR that survives it, cannot
    show this. A tiny clean set is fitted by the trial (its loss falls under the fraction) and
    is left alone. Adaptive optimizers only (the caller checks)."""
    if passes is None or passes < REVISIT_PASSES:
        return best
    start, end = float(best.train_start), float(best.train_end)
    if not (math.isfinite(start) and math.isfinite(end) and start > 0 and end >= NOISE_FRACTION * start):
        return best
    lower = [t for t in learned if t.lr < best.lr]
    if not lower:
        return best
    stepped = max(lower, key=lambda t: t.lr)
    notes.append(
        f"the range test went round the training data about {passes:.0f} times (a tiny data set) and the trial at"
        f" {best.lr:.3g} still kept {end / start:.0%} of its starting training loss: what is left is likely"
        " examples it cannot learn (label noise), which a longer run at that peak memorises with an adaptive"
        f" optimizer, so the suggestion is the next lower trial ({stepped.lr:.3g}); with val_data= and a"
        " full-length check (lrkit compare) the higher one may be better."
    )
    return stepped


#: the lowest trial's held-out loss ended at least this fraction above where it started (while
#: its training loss fell): it over-fitted, and so did every trial above it
OVERFIT_RISE = 0.5
#: decades between neighbouring trials: how far below the lowest trial to step
_TRIAL_SPACING = TRIAL_OFFSETS[1] - TRIAL_OFFSETS[0]


def _none_learned_choice(done: list[Trial], start_level: float | None, notes: list[str]) -> float:
    """Where no trial ended below where it started: the lowest trial's LR, or half a decade
    below it when that trial's held-out loss rose by :data:`OVERFIT_RISE` or more while its
    training loss fell, or when every trial -- the lowest too -- diverged, blew up or rose in its
    warm-up (with a note either way).

    Why: trials judged by held-out data that all end worse than they started, though each
    learned its training batches, over-fitted -- even the lowest, which the candidates place a
    decade below the curve's suggestion. On a tiny set the range test can show a descent 5-30x
    above the LR a full run wants (issue 16), so the best LR lies below every candidate, and the
    lowest is still too high. A held-out loss that merely stays level (a hard task, a small
    noisy held-out set) is not that: the lowest trial is kept. Trials that all climbed while
    their LR ramped up say the same from the training loss: the starting model takes none of
    those peaks (a batch-4 regression whose range test ran to ``end_lr`` read a descent at 8,
    and its trials from 0.8 up each climbed 30x and more in their warm-up)."""
    lowest = min(done, key=lambda t: t.lr)
    if all(_blew_up(t, start_level) or rose_in_warm_up(t, start_level) for t in done):
        chosen = lowest.lr / 10**_TRIAL_SPACING
        notes.append(
            f"no trial learned and every one, the lowest ({lowest.lr:.3g}) too, diverged, blew up or rose in its"
            f" warm-up: the starting model takes none of those peaks, so the suggestion is half a decade below the"
            f" lowest ({chosen:.3g}); compare a decade lower too (lrkit compare)."
        )
        return chosen
    start, score = float(lowest.start_score), float(lowest.score)
    overfit = (
        lowest.judged_by == "val"
        and math.isfinite(score)
        and start > 0
        and score >= (1 + OVERFIT_RISE) * start
        and float(lowest.train_end) < float(lowest.train_start)
    )
    if not overfit:
        notes.append("no trial learned anything; the suggestion is the lowest trial LR: check the model and data.")
        return lowest.lr
    chosen = lowest.lr / 10**_TRIAL_SPACING
    notes.append(
        f"every trial's held-out loss ended above where it started while its training loss fell: even the lowest"
        f" ({lowest.lr:.3g}; held-out {start:.3g} -> {score:.3g}) over-fitted, so the suggestion is half a decade"
        f" below it ({chosen:.3g}); compare a decade lower too (lrkit compare)."
    )
    return chosen


def _fallback_choice(s: Search, learned: list[Trial], below_zero: bool) -> tuple[float, float, float]:
    """Step 4: no descent in the curve (nor in the zoom pass). Where every trial stayed level
    (:func:`_unclear_pick`), the highest stable one -- the next lower stable one when that is the
    top candidate and the range test blew up (a NaN or a divergence a decade above it); else the
    best trial that learned beyond its batch noise (:func:`~lrkit.finder.trials.learned_clearly`;
    the lowest such where the loss went below zero); where none did, half a decade below the lowest
    trial when every trial ended clearly worse than it started (by :data:`SHALLOW_DESCENT`, or
    diverged) and the highest blew up (:func:`_blew_up`), else 2 decades below the top; with a
    range of a decade either side and a note.

    Why the step below a top candidate under a cliff: a short trial favours the highest LR that
    survives it, and a full run holds a peak only below its cliff (the no-cliff step-down's
    reasoning); at chance level the trials say nothing else. Why only drops beyond the noise: the
    fallback's trials get about 30 updates each after two passes, and at batch 2-6 a mean of 3
    losses and one of 8 differ by noise alone.

    Why half a decade below the lowest: a range test can run to ``end_lr`` without a visible descent or divergence
    when small noisy batches hide the descent and the model then dies quietly (a ReLU net whose
    loss returns to its untrained level); its top says nothing about where the model learns,
    and trials that all made the model worse, the highest by blowing up, say the window lies
    below them. Trials that stay level (a deep plain net at chance), or that end above their start
    without any blowing up (batch noise; a tiny held-out set the trials over-fitted), keep the
    hedge of 2 decades below the top."""
    s.method = "fallback"
    unclear = _unclear_pick(s.done, s.start_level) if learned else None
    if learned and unclear is None:
        # the trials moved: judged by training loss, only a drop beyond the batch noise counts
        noisy = len(learned)
        learned = [t for t in learned if learned_clearly(t, s.start_level)]
        if not learned:
            s.notes.append(
                f"{noisy} fallback trial(s) ended lower than they started, but none by more than its batch noise:"
                " the trials cannot tell the candidates apart."
            )
    if learned:
        if unclear is not None and s.cliff_at_top:
            unclear = _below_cliff(unclear, s.done, 10**s.x_top, s.start_level, s.notes)
        pick = unclear or _below_warm_up_rise(min(learned, key=lambda t: t.score), learned, s.start_level, s.notes)
        # where no trial learned clearly, neither loss tells the candidates apart (see _unclear_pick)
        chosen = (_not_above_train_choice(pick, learned, s.notes) if s.user_val and unclear is None else pick).lr
        if below_zero:
            chosen = _below_zero_step_down(chosen, learned, s.notes)
    elif (
        s.done
        and _blew_up(max(s.done, key=lambda t: t.lr), s.start_level)
        and all(t.diverged or _relative(t) > SHALLOW_DESCENT for t in s.done)
    ):
        # the top candidate blew up and none left the model better: all lie above where it learns
        lowest = min(s.done, key=lambda t: t.lr)
        chosen = lowest.lr / 10**_TRIAL_SPACING
        s.notes.append(
            f"every fallback trial ended worse than it started, the lowest ({lowest.lr:.3g}) too: the candidates lie"
            f" above where this model learns, so the suggestion is half a decade below the lowest ({chosen:.3g})."
        )
    else:
        chosen = _below_risen(10 ** (s.x_top + FALLBACK_OFFSETS[1]), s.done, s.start_level, s.notes)
    if s.user_val and s.done:
        chosen = _not_above_train_fallback(s, chosen, below_zero)
    low, high = chosen / 10, min(chosen * 10, 10**s.x_top / 10)
    s.notes = [n for n in s.notes if n != NOTE_NO_DESCENT]  # replaced by the fallback's own note
    s.notes.append(
        f"no descent showed in the range test{' or the zoom pass' if s.zoom_curve is not None else ''}; "
        f"{'the best of short trials' if learned else 'a fallback'} at {chosen:.3g} "
        f"({math.log10(10**s.x_top / chosen):.1f} decades below where the test ended): run a short grid over "
        f"{low:.3g}..{high:.3g} (lrkit compare), pass val_data=, or check the model and data."
    )
    return chosen, low, high


def _not_above_train_fallback(s: Search, chosen: float, below_zero: bool) -> float:
    """With ``val_data``: the fallback's choice ``chosen``, or the choice the same trials make
    judged by their training losses -- the fallback without ``val_data``, its noise rules and
    hedge included -- where that is lower, with a note.

    Why: the held-out loss may lower the trials' choice, never raise it (a51ab7f,
    :func:`_not_above_train_choice`). In the fallback that bound was only the lowest training
    loss among the trials the held-out loss called learned, which the batch noise of a
    30-update trial moves as much as it moves the held-out loss; the fallback without
    ``val_data`` first asks whether any trial learned beyond that noise and hedges where none
    did. On the benchmark's seen tasks the fallbacks with ``val_data`` ruined four full runs of
    noisy small-batch regressions at 0.05-1; this bound rescues three of them (the training
    losses' choices: 0.016-0.1) and ruins none (docs/finder.md, "The fallback with val_data")."""
    by_train = [judged_by_train(t, s.start_level) for t in s.done]
    shadow = replace(s, notes=[], done=by_train, user_val=False)
    train_choice, _, _ = _fallback_choice(shadow, [t for t in by_train if t.learned], below_zero)
    if not train_choice < chosen * (1.0 - SAME_DECADES):
        return chosen
    s.notes.append(
        f"the held-out loss chose {chosen:.3g}, the same trials' training losses {train_choice:.3g} (the fallback"
        " without val_data): the lower is kept (a held-out loss over a few batches can raise a short trial's choice"
        " by noise, not lower it)."
    )
    return train_choice


def _below_risen(lr: float, done: list[Trial], start_level: float | None, notes: list[str]) -> float:
    """The fallback's hedge ``lr`` where it lies below every trial that diverged, blew up or rose
    in its warm-up (:func:`~lrkit.finder.trials.rose_in_warm_up`); else the highest trial below
    the lowest such that did none of these (half a decade below it where there is none), with a
    note.

    Why: the hedge of 2 decades below the top assumes nothing about where the model learns; a
    trial whose loss climbed while its LR was still ramping up says the starting model does not
    take that peak, and a hedge at or above it runs a full run there (a slow-starting CNN whose
    trials from 0.1 up all climbed in their warm-up, hedged at 0.1: a run that never learns)."""
    edge_trials = [t for t in done if _blew_up(t, start_level) or rose_in_warm_up(t, start_level)]
    if not edge_trials:
        return lr
    edge = min(t.lr for t in edge_trials)
    if lr < edge:
        return lr
    calm = [t for t in done if t.lr < edge and t not in edge_trials]
    stepped = max(calm, key=lambda t: t.lr).lr if calm else edge / 10**_TRIAL_SPACING
    notes.append(
        f"the trials from {edge:.3g} up diverged, blew up or rose in their warm-up (the starting model does not"
        f" take those peaks): the fallback's hedge {lr:.3g} is lowered to {stepped:.3g}"
        + (" (the highest trial below them that did not)." if calm else " (half a decade below them).")
    )
    return stepped


def _confidence(
    sug: Any,
    zoom_curve: dict[str, Any] | None,
    lrs: np.ndarray,
    raw: np.ndarray,
    x_star: float | None,
    done: list[Any],
    chosen: float,
) -> str:
    """``high``: the curve reads stably (bootstrap) *and* the trials confirm its suggestion;
    ``low``: the curve is unstable, did not diverge, or its descent is shallow (under
    :data:`SHALLOW_DESCENT` of the start level), or no trial learned; else ``medium``.
    Calibrated on the benchmark (docs/finder.md)."""

    cl, cr = (zoom_curve["lrs"], zoom_curve["raw_losses"]) if zoom_curve is not None else (lrs, raw)
    if read_curve(np.asarray(cl), np.asarray(cr)) is None:
        return "low"
    learned = [t for t in done if t.learned]
    if sug.confidence == "low" or shallow(cl, cr) or (done and not learned):
        return "low"
    confirmed = bool(learned) and x_star is not None and abs(math.log10(chosen) - x_star) < SAME_DECADES
    return "high" if confirmed else "medium"


def _below_warm_up_rise(best: Trial, learned: list[Trial], start_level: float | None, notes: list[str]) -> Trial:
    """Where ``best`` rose in its warm-up (:func:`~lrkit.finder.trials.rose_in_warm_up`): the
    best-scoring lower trial that learned beyond its noise
    (:func:`~lrkit.finder.trials.learned_clearly`) without rising, with a note; else ``best``.

    Why: a trial whose loss climbs well above where every trial started while its LR is still
    ramping up has a peak past what the starting model takes. Its short run can still end lowest
    -- the climb is fast progress on the way back down, and its own first tenth is what it is
    judged against -- but a full run holds that peak many times longer, and on the benchmark the
    chosen trials that rose ran full runs into spikes or stalls (a slow-starting CNN under AdamW
    read 5x high at ``high`` confidence, regret 4.5-7). Only a rise far beyond the batch noise
    counts: small-batch trials jitter by tens of percent in their first updates."""
    if not rose_in_warm_up(best, start_level):
        return best
    lower = [t for t in learned if t.lr < best.lr and learned_clearly(t) and not rose_in_warm_up(t, start_level)]
    if not lower:
        return best
    stepped = min(lower, key=lambda t: t.score)
    notes.append(
        f"the trial at {best.lr:.3g} ended lowest, but its training loss rose in its warm-up from {start_level:.3g}"
        f" to {best.train_start:.3g} (over {RISE_SE:.0f} standard errors of its batch noise): its peak is past what"
        f" the starting model takes, and a full run holds it far longer, so the suggestion is the best lower trial"
        f" that did not rise ({stepped.lr:.3g}); compare both (lrkit compare)."
    )
    return stepped


def _below_top_without_cliff(best: Trial, learned: list[Trial], done: list[Trial], notes: list[str]) -> Trial:
    """Where the curve never diverged and ``best`` is the highest trial that ran: the next lower
    learned trial, with a note; else ``best`` (a higher trial that diverged or did not learn is
    the cliff the curve did not show).

    Why: short trials favour the highest LR that survives them (lower ones have not converged
    yet), and a full run several times longer holds a peak only below its cliff. Where the
    range test diverged, the curve's suggestion sits below that point and the trials only look
    down from it; where it never diverged, the curve's suggestion comes from a descent that may
    run to the end of the ramp, and nothing bounds the trials' upward bias. On the benchmark's
    seen tasks, 7 of the 8 suggestions that took the top trial of a curve with no divergence lay
    0.25-1 decade above the best peak, one of them past a full run's cliff."""
    lower = [t for t in learned if t.lr < best.lr]
    if not lower or any(t.lr > best.lr for t in done):
        return best
    stepped = max(lower, key=lambda t: t.lr)
    notes.append(
        f"the range test never diverged, so no cliff bounds the highest trial ({best.lr:.3g}): a short trial"
        " favours the highest LR that survives it, which a longer run may not; the suggestion is the next lower"
        f" trial ({stepped.lr:.3g}). Raise end_lr to see where the loss diverges, or compare both (lrkit compare)."
    )
    return stepped


def _relative(t: Any, start_level: float | None = None) -> float:
    """A trial's end over its start, as a loss change relative to the start's size (lower is
    better). The start is the trial's own, or -- given ``start_level`` -- where the model started
    when the trial's first tenth climbed above that beyond its noise
    (:func:`~lrkit.finder.trials.start_of`).

    Why ``start_level`` where the trials are compared by it (after a shallow descent): a trial
    that climbed 2.4x in its warm-up and came back to just above where the model started read as
    the largest improvement of all, measured from its own climbed first tenth (an LSTM's top
    fallback candidate at 1.0, where full runs end at 3.5x the best LR's loss). b861333 counts a
    fallback trial's drop the same way."""
    start = start_of(t, start_level)
    return (t.score - start) / max(abs(start), 1e-12)


def _not_above_train_choice(best: Trial, learned: list[Trial], notes: list[str]) -> Trial:
    """With ``val_data``: the held-out loss's choice ``best``, or the trial the training loss
    of their last quarter picks (the choice without ``val_data``) where that one is lower, with
    a note.

    Why: both measures favour the LR that progressed fastest in a short trial, which a full run
    can hold only below its cliff, and a held-out loss over a few batches adds its own noise to
    that bias. On the benchmark's seen tasks, the 38 of 333 held-out choices above the training
    loss's ruined 4 full runs that the training loss's choice did not, and saved none; where the
    held-out loss chose lower (over-fitting a training loss cannot show) it ruined fewer. So the
    held-out loss may lower the choice, never raise it (docs/finder.md: ruined 8 -> 7 of 333,
    mean regret 0.39 -> 0.36). Not where no trial learned clearly (:func:`_unclear_pick`):
    there neither loss tells the candidates apart."""
    by_train = [t for t in learned if math.isfinite(t.train_end)]
    if not by_train:
        return best
    train_best = min(by_train, key=lambda t: t.train_end)
    if train_best.lr >= best.lr:
        return best
    notes.append(
        f"the held-out loss favoured {best.lr:.3g} and the training loss {train_best.lr:.3g}: the lower is kept"
        " (a held-out loss over a few batches can raise a short trial's choice by noise, not lower it)."
    )
    return train_best


#: how far below a cliff the search saw (decades) the highest stable trial is taken at chance level
CLIFF_MARGIN = 1.0


def _below_cliff(
    unclear: Trial, done: list[Trial], cliff_lr: float, start_level: float | None, notes: list[str]
) -> Trial:
    """Where no trial learned clearly and the pick :func:`_unclear_pick` made is the highest trial
    and lies within :data:`CLIFF_MARGIN` decades under ``cliff_lr``: the next lower stable trial,
    with a note; else ``unclear``. The callers name the cliff: the fallback, the top of a range
    test that stopped at a NaN or a divergence (3007dcb); after a shallow descent, where the
    curve read for ``x*`` rose, only when its pass stopped at a NaN (:func:`_read_pass_went_nan`).

    Why: at chance level the highest stable candidate is the bet on a narrow window under the
    cliff, but a ramp passes its cliff in a few updates where a full run holds its peak for
    hundreds, so a full run's cliff lies below the ramp's. Deep plain nets under SGD showed it: a
    6-layer GELU net whose zoom pass went NaN, and whose top trial (the curve's own reading, 0.13-
    0.15 decades under the rise) stayed at chance like the trials below it, diverged in full runs
    from 1.8 and learned from 0.3 to 1. Why only after a NaN there: a pass whose loss merely rose
    past its divergence threshold gives no such bound -- on the benchmark's seen tasks, stepping
    below those too moved 6 more suggestions, 5 of them for the worse (an MLP whose best LR lies
    just above where its zoom curve rose). Where the top trial is more than a decade under the
    cliff, or a trial ran stably above it (no cliff at all), it stands."""
    below = math.log10(cliff_lr / unclear.lr)
    if unclear.lr < max(t.lr for t in done) or not 0 < below <= CLIFF_MARGIN + SAME_DECADES:
        return unclear  # a trial that ran stably above where a curve 'diverged' says that was no cliff
    lower = _unclear_pick([t for t in done if t.lr < unclear.lr], start_level)
    if lower is None:
        return unclear
    notes.append(
        f"no trial learned clearly and the highest ({unclear.lr:.3g}) is within a decade of where the search"
        f" blew up ({cliff_lr:.3g}): a full run holds a peak only below its cliff, which lies under a fast"
        f" ramp's, so the suggestion is the next lower stable trial ({lower.lr:.3g})."
    )
    return lower


def _unclear_pick(done: list[Any], start_level: float | None = None) -> Any | None:
    """Where no trial learned clearly (none fell by :data:`SHALLOW_DESCENT` of its own start),
    the highest LR among the stable ones (finite, ended within that band of its start, and --
    where any such is left -- not risen in its warm-up,
    :func:`~lrkit.finder.trials.rose_in_warm_up`); else ``None`` (the best score decides).

    Why: after a shallow descent or none, every candidate sits at the network's starting level
    and the trials' small ups and downs are batch noise; a narrow window a network learns in
    lies near the top, below where the test blew up, so the highest stable candidate is the
    better bet than the noisiest lowest loss. A trial whose loss climbed in its warm-up and came
    back only to its start is past the edge the starting model takes, not a window."""
    stable = [t for t in done if not t.diverged and _relative(t) < SHALLOW_DESCENT]
    if not stable or min(_relative(t) for t in stable) < -SHALLOW_DESCENT:
        return None
    calm = [t for t in stable if not rose_in_warm_up(t, start_level)]
    return max(calm or stable, key=lambda t: t.lr)


#: a trial whose training loss of its last quarter ends under this fraction of its first tenth
#: has fitted its training batches almost exactly (a non-negative loss near its floor of 0)
FIT_FRACTION = 0.03


def _fitted(t: Any) -> bool:
    """Whether a trial fitted its training batches almost exactly: a non-negative training loss
    that ended under :data:`FIT_FRACTION` of where it started.

    Why it matters (small data, adaptive optimizers): a short trial that already drove the
    training loss to its floor has run out of data to learn from; a full run several times
    longer spends most of its updates at that peak on examples it has fitted, where an
    adaptive optimizer's normalised steps stay large as the gradients vanish -- the held-out
    loss then grows (over-confidence) or spikes. The range test and the trials' own scores
    cannot see this (both favour the highest LR that survives a short run)."""
    start, end = float(t.train_start), float(t.train_end)
    return math.isfinite(start) and math.isfinite(end) and start > 0 and 0 <= end < FIT_FRACTION * start


def _blew_up(t: Trial, start_level: float | None) -> bool:
    """Whether a trial diverged or blew up in its warm-up (:func:`~lrkit.finder.trials.blew_up_in_warm_up`)."""

    return t.diverged or blew_up_in_warm_up(float(t.train_start), start_level)
