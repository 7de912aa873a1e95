""":func:`diagnose`: check the inputs, keep the last segment of a resumed run whose logged LR
restarted (:mod:`lrkit.diagnosis.restarts`), read the curve and the LR in use, run the detectors
and pick the verdict (the most severe class found) and the peak LR to try next;
:func:`diagnose_log`: the same on a :class:`~lrkit.monitor.RunLog` (its eval loss and LR
columns, the reader's notes), as ``lrkit diagnose`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from lrkit.diagnosis.advice import fix_lower_peak, lr_phrase
from lrkit.diagnosis.curve import LossCurve, edge_levels, read_curve
from lrkit.diagnosis.formatting import STEP_UNITS, at_step, nice
from lrkit.diagnosis.instability import find_divergence, find_lasting_damage, find_oscillation, find_spikes
from lrkit.diagnosis.lr_context import LRInUse, lr_context
from lrkit.diagnosis.lr_log import find_lr_log_issues
from lrkit.diagnosis.model import CLASSES, GOOD, RULE_CLASS, Diagnosis
from lrkit.diagnosis.outcome import (
    find_at_chance,
    find_converged,
    find_end_above_start,
    find_frozen,
    find_never_learned,
)
from lrkit.diagnosis.overfit import eval_gain, find_overfitting
from lrkit.diagnosis.progress import find_plateau_or_slow
from lrkit.diagnosis.restarts import LRRestarts, find_lr_restarts, restart_note
from lrkit.diagnosis.short import find_short_log
from lrkit.errors import ConfigError
from lrkit.findings import Finding

__all__ = ["MIN_POINTS", "diagnose", "diagnose_log"]

#: finite training losses the curve's shape is read from; a shorter log (down to
#: MIN_SHORT_POINTS) gets only the findings lrkit.diagnosis.short reads
MIN_POINTS = 5
MIN_SHORT_POINTS = 2
#: below this many training points a longer eval-loss series is read instead
SHORT_LOG = 8


def _as_array(name: str, values: Any) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError(
            f"must be a sequence of numbers, got {type(values).__name__}.",
            field=name,
            fix="pass a list or numpy array of numbers.",
        ) from None
    return arr


def _check_step_values(name: str, s: np.ndarray) -> None:
    """Steps (training or eval) are whole numbers >= 0."""
    bad = ~np.isfinite(s) | (s < 0) | (s != np.round(s))
    if s.size and bad.any():
        raise ConfigError(
            f"{name} must be whole numbers >= 0, got {float(s[bad][0]):g}.",
            field=name,
            value=float(s[bad][0]),
            fix="pass optimizer update counts.",
        )


def _checked_warmup(warmup_steps: Any) -> int | None:
    if warmup_steps is None:
        return None
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int | np.integer) or warmup_steps < 0:
        raise ConfigError(
            f"must be a whole number of steps >= 0, got {warmup_steps!r}.",
            field="warmup_steps",
            value=warmup_steps,
            fix="pass the warm-up length in optimizer updates, or leave it out.",
        )
    return int(warmup_steps)


def _checked_inputs(steps: Any, losses: Any, lrs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(steps, losses, lrs)`` as arrays sorted by step (``lrs`` ``None`` when absent or all
    unknown); a :class:`ConfigError` for mismatched lengths, steps that are not distinct whole
    numbers >= 0, or too few points."""
    s = _as_array("steps", steps)
    y = _as_array("losses", losses)
    if s.size != y.size:
        raise ConfigError(f"{s.size} steps but {y.size} losses.", field="losses", fix="give one loss per step.")
    lr_arr = None if lrs is None else _as_array("lrs", lrs)
    if lr_arr is not None and lr_arr.size != s.size:
        raise ConfigError(f"{s.size} steps but {lr_arr.size} LRs.", field="lrs", fix="give one LR per step.")
    _check_step_values("steps", s)
    if lr_arr is not None and np.any(lr_arr < 0):  # nan (unknown) compares False
        raise ConfigError(
            f"LRs must be >= 0, got {float(lr_arr[lr_arr < 0][0]):g}.",
            field="lrs",
            value=float(lr_arr[lr_arr < 0][0]),
            fix="pass the absolute LR of each step (NaN where it is not known).",
        )
    order = np.argsort(s, kind="stable")
    s, y = s[order].astype(np.int64), y[order]
    if lr_arr is not None:
        lr_arr = lr_arr[order]
        if not np.isfinite(lr_arr).any():
            lr_arr = None
    if s.size > 1 and np.any(np.diff(s) == 0):
        raise ConfigError("steps repeat.", field="steps", fix="give one loss per optimizer update (merge repeats).")
    if s.size < MIN_SHORT_POINTS:
        raise ConfigError(
            f"{s.size} point is too few to read a loss curve.",
            field="losses",
            value=int(s.size),
            fix=f"log at least {MIN_SHORT_POINTS} steps ({MIN_POINTS} for the curve's shape; a few hundred is better).",
        )
    return s, y, lr_arr


def diagnose(
    steps: Sequence[int] | np.ndarray,
    losses: Sequence[float] | np.ndarray,
    lrs: Sequence[float] | np.ndarray | None = None,
    *,
    schedule: Any = None,
    warmup_steps: int | None = None,
    eval_steps: Sequence[int] | np.ndarray | None = None,
    eval_losses: Sequence[float] | np.ndarray | None = None,
    step_unit: str = "step",
) -> Diagnosis:
    """Classify a training loss curve and say what to change in the LR schedule.

    Args:
        steps: optimizer updates (``k`` = updates already taken), one per loss; need not be
            contiguous (a log every 10 steps is fine) but must be distinct.
        losses: the training loss at each step (NaN/inf allowed: that is divergence).
        lrs: the LR used at each step (absolute), if logged.
        schedule: the absolute LR schedule in use (a :class:`~lrkit.Schedule`) or a loaded config
            (``lrkit.load_config(...)``: its ``lr_schedule`` and ``context["warmup_steps"]``); used
            for the LR at a step when ``lrs`` is not given, and to name the warm-up.
        warmup_steps: warm-up length, when neither the config nor the LR curve shows it.
        eval_steps, eval_losses: the evaluation loss and the steps it was measured at (any
            number of points, e.g. once per epoch); read for overfitting.
        step_unit: what a step counts, ``"step"`` (optimizer updates) or ``"epoch"`` (a log with
            one row per epoch); the messages and advice speak in it.

    Returns:
        a :class:`Diagnosis`; ``verdict`` is one of :data:`CLASSES`. When the logged LR restarted
        inside the log (a resumed run, :mod:`lrkit.diagnosis.restarts`), only the last segment is
        judged, an ``info`` finding ``lr-restart`` names the restarts, and the summary has
        ``lr_restart_steps``.
    """
    s, y, lr_arr = _checked_inputs(steps, losses, lrs)
    if step_unit not in STEP_UNITS:
        raise ConfigError(
            f"step_unit must be one of {', '.join(STEP_UNITS)}.",
            field="step_unit",
            value=step_unit,
            fix='pass "epoch" for a log with one row per epoch, else "step".',
        )
    es, ey = _eval_arrays(eval_steps, eval_losses)
    restarts = _resumes(s, y, lr_arr, schedule)
    if restarts is not None:
        # a resumed run whose schedule restarted: judge its last segment, as for runs appended to one log
        k = restarts.last
        s, y, lr_arr = s[k:], y[k:], lr_arr[k:] if lr_arr is not None else None
        es, ey = es[es >= s[0]], ey[es >= s[0]]
    lr = replace(lr_context(s, lr_arr, schedule, _checked_warmup(warmup_steps))[0], unit=step_unit)
    bad = ~np.isfinite(y)
    # the curve is read up to the first NaN/inf; the run's end level is that NaN/inf
    cut = int(np.argmax(bad)) if bad.any() else s.size
    nonfinite_step = int(s[cut]) if bad.any() else None
    start, end = edge_levels(y[:cut])
    summary = _summary(s, y, lr, ey, start, float(y[cut]) if bad.any() else end)
    notes = [] if restarts is None else [restart_note(restarts, int(s[0]), step_unit)]
    if restarts is not None:
        summary["lr_restart_steps"] = list(restarts.steps)
    if bad.any() and cut < MIN_POINTS:
        # too few finite points before the NaN to read a trend: still a divergence
        return _finish([_early_nonfinite(lr, s, cut), *notes], summary, lr)
    if cut < MIN_POINTS:
        return _finish([*find_short_log(s, y, lr_arr, es, ey, lr), *notes], summary, lr)
    c = read_curve(s[:cut], y[:cut], unit=step_unit)
    summary.update({"best_loss": float(np.min(c.y)), "noise": c.sigma, "noise_is_log": c.log, "lr_peak": lr.peak()})
    if ey.size:
        summary["best_eval_loss"] = float(np.min(ey))
        summary["best_eval_step"] = int(es[int(np.argmin(ey))])
    return _finish([*_detect(c, lr, s, lr_arr, es, ey, nonfinite_step), *notes], summary, lr)


#: schedule types that restart by design: their log is never split at a restart
_CYCLIC_TYPES = ("cyclic", "cosine_restarts")


def _resumes(s: np.ndarray, y: np.ndarray, lr_arr: np.ndarray | None, schedule: Any) -> LRRestarts | None:
    """The LR restarts to split the log at (:mod:`lrkit.diagnosis.restarts`): none under a
    configured cyclic schedule, nor when the last segment has under :data:`MIN_POINTS` finite
    losses (too short to judge alone: the whole log is read as before)."""
    sched = getattr(schedule, "lr_schedule", schedule)
    if getattr(sched, "type_name", "") in _CYCLIC_TYPES:
        return None
    found = find_lr_restarts(s, lr_arr)
    if found is None or np.isfinite(y[found.last :]).sum() < MIN_POINTS:
        return None
    return found


def _summary(s: np.ndarray, y: np.ndarray, lr: LRInUse, ey: np.ndarray, start: float, end: float) -> dict[str, Any]:
    return {
        "points": int(s.size),
        "first_step": int(s[0]),
        "last_step": int(s[-1]),
        "first_loss": float(y[0]),
        "last_loss": float(y[-1]),
        "start_loss": start,
        "end_loss": end,
        "eval_points": int(ey.size),
        "lr_known": lr.known,
        "schedule_kind": lr.kind,
        "warmup_steps": lr.warmup_steps,
        "step_unit": lr.unit,
    }


def _early_nonfinite(lr: LRInUse, s: np.ndarray, cut: int) -> Finding:
    """A NaN/inf loss within the first :data:`MIN_POINTS` points, too early to read a trend."""
    step = int(s[cut])
    lr_at = lr.at(s, cut)
    return Finding(
        rule="diverging",
        severity="error",
        message=f"Diverged: the loss became NaN/inf at {at_step(step, lr.unit)}{lr_phrase(lr, step, lr_at)}.",
        fix=fix_lower_peak(lr, step, lr_at, factor=0.5, extra="and clip gradients (max_norm=1.0)"),
        evidence={"nonfinite_step": step, "onset_step": step, "lr_at_onset": lr_at},
        source="diagnose",
    )


def _detect(
    c: LossCurve,
    lr: LRInUse,
    s: np.ndarray,
    lr_arr: np.ndarray | None,
    es: np.ndarray,
    ey: np.ndarray,
    nonfinite_step: int | None,
) -> list[Finding]:
    """Run the detectors, most severe first; a stuck run gets no other loss finding, a diverged
    one no overfitting, converged or progress finding, and a spike inside an oscillation or the
    climb into a divergence is not reported again."""
    # the logged LR column tells schedule bugs whatever the loss did
    findings = find_lr_log_issues(s, lr_arr, unit=c.unit)
    # a blow-up in the first points (which the centred trend starts at) or a level above the start
    div = find_divergence(c, nonfinite_step, lr, s) or find_end_above_start(c, lr) or find_lasting_damage(c, lr, es, ey)
    if div is not None:
        findings.append(div)
    else:
        stuck = (
            find_frozen(c)
            or find_never_learned(c, eval_gain(ey), lr, eval_points=int(ey.size))
            or find_at_chance(c, es, ey)
        )
        if stuck is not None:
            return [*findings, stuck]
    over = find_overfitting(c, es, ey) if div is None else None
    osc = find_oscillation(c, lr)
    findings.extend(f for f in (over, osc) if f is not None)
    findings.extend(_separate_spikes(find_spikes(c, lr), osc, div))
    if div is None:
        findings.extend(_progress(c, lr, s, es, ey, quiet=osc is None and over is None))
    return findings


def _separate_spikes(spikes: list[Finding], osc: Finding | None, div: Finding | None) -> list[Finding]:
    """Spikes that are neither part of an oscillation nor the climb into a divergence."""
    if osc is not None:
        a, b = osc.evidence["start_step"], osc.evidence["end_step"]
        spikes = [f for f in spikes if not (a <= f.evidence["peak_step"] <= b)]
    if div is not None:
        onset = div.evidence["onset_step"]
        spikes = [f for f in spikes if f.evidence["recovered"] or f.evidence["peak_step"] < onset]
    return spikes


def _progress(
    c: LossCurve, lr: LRInUse, s: np.ndarray, es: np.ndarray, ey: np.ndarray, *, quiet: bool
) -> list[Finding]:
    """Converged; else, when nothing louder was found (``quiet``), plateau or slow convergence."""
    conv = find_converged(c)
    if conv is not None:
        return [conv]
    if not quiet:
        return []
    improving = _eval_improving(es, ey, s)
    return find_plateau_or_slow(c, lr, eval_improving=improving, eval_flat=ey.size >= 3 and not improving)


def _eval_arrays(eval_steps: Any, eval_losses: Any) -> tuple[np.ndarray, np.ndarray]:
    if eval_losses is None:
        if eval_steps is not None:
            raise ConfigError(
                "eval_steps is given without eval_losses.", field="eval_losses", fix="pass both, or neither."
            )
        return np.empty(0, dtype=np.int64), np.empty(0)
    ey = _as_array("eval_losses", eval_losses)
    es = np.arange(ey.size) if eval_steps is None else _as_array("eval_steps", eval_steps)
    _check_step_values("eval_steps", es[np.isfinite(es)])
    if es.size != ey.size:
        raise ConfigError(
            f"{es.size} eval steps but {ey.size} eval losses.", field="eval_losses", fix="give one eval loss per step."
        )
    keep = np.isfinite(ey) & np.isfinite(es)
    order = np.argsort(es[keep], kind="stable")
    return es[keep][order].astype(np.int64), ey[keep][order]


def _eval_improving(es: np.ndarray, ey: np.ndarray, steps: np.ndarray) -> bool:
    """Whether the eval loss still improved by 3% over the last 30% of the run: the median of
    its last 3 points there against the median of its last 3 points before (medians, so one
    noisy eval does not decide)."""
    if ey.size < 2:
        return False
    cut = steps[0] + 0.7 * (steps[-1] - steps[0])
    before, late = ey[es <= cut], ey[es > cut]
    if before.size == 0 or late.size == 0:
        return False
    return bool(np.median(late[-3:]) < 0.97 * np.median(before[-3:]))


def diagnose_log(log: Any, *, schedule: Any = None, warmup_steps: int | None = None) -> Diagnosis:
    """:func:`diagnose` on a :class:`~lrkit.monitor.RunLog`: its training loss, LR column and
    eval loss. When the training loss has fewer than 8 points and the eval loss has more (and
    at least :data:`MIN_POINTS`), the eval loss is read instead (and a note says so). The summary gains
    ``columns`` (the columns used) and ``notes`` (the reader's and this function's). The
    messages count in the log's step unit (:attr:`~lrkit.monitor.RunLog.step_unit`: epochs when
    an ``epoch`` column is the step)."""
    steps, losses, lrs = log.loss_curve()
    if lrs is not None and log.lrs is not None:
        lrs = _lr_in_effect(log.steps, log.lrs, steps)
    es, ey = log.eval_curve()
    notes = list(getattr(log, "notes", ()))
    step_unit = getattr(log, "step_unit", "step")
    if schedule is not None and lrs is None and step_unit != "step":
        # lrkit cannot tell the updates per epoch: say what was assumed rather than convert silently
        notes.append(
            f"the log counts {step_unit}s and has no LR column: the schedule's LR at update k is read at "
            f"{step_unit} k (right for a scheduler stepped once per {step_unit}; for one stepped every update, "
            "log the LR or a step column)."
        )
    loss_col = log.loss_col
    if steps.size < SHORT_LOG and ey.size > steps.size and ey.size >= MIN_POINTS:
        notes.append(
            f"the training loss ({log.loss_col}) has only {steps.size} points; reading the eval loss "
            f"({log.eval_col}, {ey.size} points) instead."
        )
        lrs = None if log.lrs is None else _lr_in_effect(log.steps, log.lrs, es)
        steps, losses, loss_col = es, ey, log.eval_col
        es, ey = np.empty(0, dtype=np.int64), np.empty(0)
    result = diagnose(
        steps,
        losses,
        lrs,
        schedule=schedule,
        warmup_steps=warmup_steps,
        eval_steps=es,
        eval_losses=ey,
        step_unit=step_unit,
    )
    result.summary["columns"] = {"step": log.step_col, "loss": loss_col, "lr": log.lr_col, "eval": log.eval_col}
    result.summary["notes"] = notes
    return result


def _lr_in_effect(logged_steps: np.ndarray, logged_lrs: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The LR in effect at each of ``steps``: the last one logged at or before it (NaN before the
    first). An LR monitor often logs on rows of its own, once per epoch or only when the LR
    changes (Lightning's ``LearningRateMonitor`` logs a constant LR once), and that value holds
    until the next one."""
    known = np.isfinite(logged_lrs)
    at, values = logged_steps[known], logged_lrs[known]
    idx = np.searchsorted(at, steps, side="right") - 1
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], np.nan) if values.size else np.full(steps.size, np.nan)


def _spike_peak(ev: dict[str, Any], lr: LRInUse) -> float | None:
    if not ev.get("lr"):
        return None
    # a spike late in the decay, at a fraction of the peak, is no reason to cut the peak 3x or more
    top = lr.peak() or ev["lr"]
    ref = ev["lr"] if ev["lr"] >= 0.5 * top else top
    return nice(ref * (0.7 if ev["recovered"] else 0.5))


#: the peak LR to try next, per rule, from a finding's evidence (``None``: no suggestion)
_NEXT_PEAK: dict[str, Callable[[dict[str, Any], LRInUse], float | None]] = {
    "diverging": lambda ev, lr: nice(ev["lr_at_onset"] * 0.5) if ev.get("lr_at_onset") else None,
    "loss-spike": _spike_peak,
    "oscillating": lambda ev, lr: nice(ev["lr"] * 0.5) if ev.get("lr") else None,
    "slow-convergence": lambda ev, lr: ev.get("suggested_lr") or None,
}


def _suggested_lr(serious: list[Finding], verdict: str, lr: LRInUse) -> float | None:
    """The most cautious peak LR the verdict's findings suggest (several spikes: the lowest);
    none for a verdict that needs no LR change."""
    if verdict in GOOD:
        return None
    cands = [
        peak
        for f in serious
        if RULE_CLASS[f.rule] == verdict and f.rule in _NEXT_PEAK
        if (peak := _NEXT_PEAK[f.rule](f.evidence, lr)) is not None
    ]
    return min(cands, default=None)


def _finish(findings: list[Finding], summary: dict[str, Any], lr: LRInUse) -> Diagnosis:
    """The verdict (the most severe class among the warnings and errors; ``converged`` when only
    that note stands), the peak LR to try next, and the findings sorted by severity, then class."""
    serious = [f for f in findings if f.severity != "info"]
    found = {RULE_CLASS[f.rule] for f in serious}
    verdict = next((c for c in CLASSES if c in found), "healthy")
    if verdict == "healthy" and any(f.rule == "converged" for f in findings):
        verdict = "converged"
    order = {c: i for i, c in enumerate(CLASSES)}
    sev = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(findings, key=lambda f: (sev[f.severity], order[RULE_CLASS[f.rule]]))
    return Diagnosis(
        verdict=verdict, findings=tuple(findings), suggested_lr=_suggested_lr(serious, verdict, lr), summary=summary
    )
