""":func:`diagnose`: check the inputs, read the curve and the LR in use, run the detectors and
pick the verdict (the most severe class found) and the peak LR to try next;
:func:`diagnose_log`: the same on a :class:`~lrkit.monitor.RunLog` (its eval loss and LR
columns, the reader's notes), as ``lrkit diagnose`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lrkit.diagnosis.advice import fix_lower_peak, lr_phrase
from lrkit.diagnosis.curve import edge_levels, read_curve
from lrkit.diagnosis.formatting import fmt_step, nice
from lrkit.diagnosis.instability import find_divergence, find_oscillation, find_spikes
from lrkit.diagnosis.lr_context import LRInUse, lr_context
from lrkit.diagnosis.lr_log import find_lr_log_issues
from lrkit.diagnosis.model import CLASSES, GOOD, RULE_CLASS, Diagnosis
from lrkit.diagnosis.outcome import find_converged, find_end_above_start, find_frozen, find_never_learned
from lrkit.diagnosis.overfit import eval_gain, find_overfitting
from lrkit.diagnosis.progress import find_plateau_or_slow
from lrkit.errors import ConfigError
from lrkit.findings import Finding

__all__ = ["MIN_POINTS", "diagnose", "diagnose_log"]

MIN_POINTS = 5
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


def diagnose(
    steps: Sequence[int] | np.ndarray,
    losses: Sequence[float] | np.ndarray,
    lrs: Sequence[float] | np.ndarray | None = None,
    *,
    schedule: Any = None,
    warmup_steps: int | None = None,
    eval_steps: Sequence[int] | np.ndarray | None = None,
    eval_losses: Sequence[float] | np.ndarray | None = None,
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

    Returns:
        a :class:`Diagnosis`; ``verdict`` is one of :data:`CLASSES`.
    """
    s = _as_array("steps", steps)
    y = _as_array("losses", losses)
    if s.size != y.size:
        raise ConfigError(f"{s.size} steps but {y.size} losses.", field="losses", fix="give one loss per step.")
    lr_arr = None if lrs is None else _as_array("lrs", lrs)
    if lr_arr is not None and lr_arr.size != s.size:
        raise ConfigError(f"{s.size} steps but {lr_arr.size} LRs.", field="lrs", fix="give one LR per step.")
    if s.size and (not np.all(np.isfinite(s)) or np.any(s < 0) or np.any(s != np.round(s))):
        raise ConfigError("steps must be whole numbers >= 0.", field="steps", fix="pass optimizer update counts.")
    order = np.argsort(s, kind="stable")
    s, y = s[order].astype(np.int64), y[order]
    if lr_arr is not None:
        lr_arr = lr_arr[order]
        if not np.isfinite(lr_arr).any():
            lr_arr = None
    if s.size > 1 and np.any(np.diff(s) == 0):
        raise ConfigError("steps repeat.", field="steps", fix="give one loss per optimizer update (merge repeats).")
    if s.size < MIN_POINTS:
        raise ConfigError(
            f"{s.size} points are too few to read a loss curve.",
            field="losses",
            value=int(s.size),
            fix=f"log at least {MIN_POINTS} steps (a few hundred is better).",
        )
    lr, _ = lr_context(s, lr_arr, schedule, warmup_steps)
    es, ey = _eval_arrays(eval_steps, eval_losses)

    bad = ~np.isfinite(y)
    nonfinite_step = int(s[np.argmax(bad)]) if bad.any() else None
    cut = int(np.argmax(bad)) if bad.any() else s.size
    findings: list[Finding] = []
    start, end = edge_levels(y[:cut])
    if bad.any():
        end = float(y[np.argmax(bad)])  # the run ended in NaN/inf
    summary: dict[str, Any] = {
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
    }
    if cut < MIN_POINTS:
        # too few finite points before the NaN to read a trend: still a divergence
        lr_at = lr.at(s, cut)
        findings.append(
            Finding(
                rule="diverging",
                severity="error",
                message=f"Diverged: the loss became NaN/inf at step {fmt_step(nonfinite_step)}"  # type: ignore[arg-type]
                f"{lr_phrase(lr, nonfinite_step, lr_at)}.",  # type: ignore[arg-type]
                fix=fix_lower_peak(lr, nonfinite_step, lr_at, factor=0.5, extra="and clip gradients (max_norm=1.0)"),  # type: ignore[arg-type]
                evidence={"nonfinite_step": nonfinite_step, "onset_step": nonfinite_step, "lr_at_onset": lr_at},
                source="diagnose",
            )
        )
        return _finish(findings, summary, lr)
    c = read_curve(s[:cut], y[:cut])
    summary.update(
        {
            "best_loss": float(np.min(c.y)),
            "noise": c.sigma,
            "noise_is_log": c.log,
            "lr_peak": lr.peak(),
        }
    )
    if ey.size:
        summary["best_eval_loss"] = float(np.min(ey))
        summary["best_eval_step"] = int(es[int(np.argmin(ey))])
    # the logged LR column tells schedule bugs whatever the loss did
    findings.extend(find_lr_log_issues(s, lr_arr))
    div = find_divergence(c, nonfinite_step, lr, s)
    if div is None:
        # a blow-up in the first points (which the centred trend starts at) or a level above the start
        div = find_end_above_start(c, lr)
    if div is not None:
        findings.append(div)
    stuck = find_frozen(c) if div is None else None
    if stuck is None and div is None:
        stuck = find_never_learned(c, eval_gain(ey), lr)
    if stuck is not None:
        findings.append(stuck)
        return _finish(findings, summary, lr)
    over = find_overfitting(c, es, ey) if div is None else None
    if over is not None:
        findings.append(over)
    osc = find_oscillation(c, lr)
    spikes = find_spikes(c, lr)
    if osc is not None:
        a, b = osc.evidence["start_step"], osc.evidence["end_step"]
        spikes = [f for f in spikes if not (a <= f.evidence["peak_step"] <= b)]
        findings.append(osc)
    if div is not None:
        # the climb into a divergence is not a separate spike
        onset = div.evidence["onset_step"]
        spikes = [f for f in spikes if f.evidence["recovered"] or f.evidence["peak_step"] < onset]
    findings.extend(spikes)
    conv = find_converged(c) if div is None else None
    if conv is not None:
        findings.append(conv)
    elif div is None and osc is None and over is None:
        improving = _eval_improving(es, ey, s)
        findings.extend(
            find_plateau_or_slow(c, lr, s, eval_improving=improving, eval_flat=ey.size >= 3 and not improving)
        )
    return _finish(findings, summary, lr)


def _eval_arrays(eval_steps: Any, eval_losses: Any) -> tuple[np.ndarray, np.ndarray]:
    if eval_losses is None:
        return np.empty(0, dtype=np.int64), np.empty(0)
    ey = _as_array("eval_losses", eval_losses)
    es = np.arange(ey.size) if eval_steps is None else _as_array("eval_steps", eval_steps)
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
    ``columns`` (the columns used) and ``notes`` (the reader's and this function's)."""
    steps, losses, lrs = log.loss_curve()
    es, ey = log.eval_curve()
    notes = list(getattr(log, "notes", ()))
    loss_col = log.loss_col
    if steps.size < SHORT_LOG and ey.size > steps.size and ey.size >= MIN_POINTS:
        notes.append(
            f"the training loss ({log.loss_col}) has only {steps.size} points; reading the eval loss "
            f"({log.eval_col}, {ey.size} points) instead."
        )
        lr_all = log.lrs
        lrs = None if lr_all is None else np.interp(es, log.steps, np.nan_to_num(lr_all, nan=np.nanmax(lr_all)))
        steps, losses, loss_col = es, ey, log.eval_col
        es, ey = np.empty(0, dtype=np.int64), np.empty(0)
    result = diagnose(steps, losses, lrs, schedule=schedule, warmup_steps=warmup_steps, eval_steps=es, eval_losses=ey)
    result.summary["columns"] = {"step": log.step_col, "loss": loss_col, "lr": log.lr_col, "eval": log.eval_col}
    result.summary["notes"] = notes
    return result


def _finish(findings: list[Finding], summary: dict[str, Any], lr: LRInUse) -> Diagnosis:
    serious = [f for f in findings if f.severity != "info"]
    found = {RULE_CLASS[f.rule] for f in serious}
    verdict = next((c for c in CLASSES if c in found), "healthy")
    if verdict == "healthy" and any(f.rule == "converged" for f in findings):
        verdict = "converged"
    suggested: float | None = None
    for f in serious:
        if RULE_CLASS[f.rule] != verdict:
            continue
        ev = f.evidence
        if f.rule == "diverging" and ev.get("lr_at_onset"):
            suggested = nice(ev["lr_at_onset"] * 0.5)
        elif f.rule == "loss-spike" and ev.get("lr"):
            # a spike late in the decay, at a fraction of the peak, is no reason to cut the peak 3x or more
            top = lr.peak() or ev["lr"]
            ref = ev["lr"] if ev["lr"] >= 0.5 * top else top
            cand = nice(ref * (0.7 if ev["recovered"] else 0.5))
            suggested = cand if suggested is None else min(suggested, cand)
        elif f.rule == "oscillating" and ev.get("lr"):
            suggested = nice(ev["lr"] * 0.5)
        elif f.rule == "slow-convergence" and ev.get("suggested_lr"):
            suggested = ev["suggested_lr"]
        if suggested is not None and f.rule != "loss-spike":
            break
    if verdict in GOOD:
        suggested = None
    order = {c: i for i, c in enumerate(CLASSES)}
    sev = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(findings, key=lambda f: (sev[f.severity], order[RULE_CLASS[f.rule]]))
    return Diagnosis(verdict=verdict, findings=tuple(findings), suggested_lr=suggested, summary=summary)
