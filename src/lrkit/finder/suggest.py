"""The suggestion rule: from a range-test curve to a peak LR and a bracketing range.

Reading of the curve (all in ``x = log10(lr)``; see ``docs/finder.md`` for why and how it
was validated):

1. Smooth the raw losses without lag: running median (width 5), values past divergence
   capped at the start level plus the total drop, then a Gaussian local-linear
   fit with a bandwidth of ``max(3, n/25)`` steps of the ramp. The noise level ``sigma`` is
   the robust spread of the residuals.
2. The *divergence point* ``x_div`` is where the smoothed loss is lowest: beyond it larger
   LRs make the loss worse. If it is the last point, the ramp never reached divergence
   (``end_lr`` too small) and the answer is marked unsure.
3. The *descending region* runs from where the smoothed loss first falls clearly (by 3
   times its own noise and 5% of the total drop) below its starting level (``x_start``),
   which skips flat starts, to ``x_div``. Its total drop ``depth`` must exceed 6 times the
   noise of the smoothed curve, else there is no suggestion (the loss never clearly fell).
4. The *anchor* ``x_90`` is where the smoothed loss has made 90% of its drop from the start
   level to the minimum: the end of the useful descent, a level crossing of the whole
   descending region (noise moves it far less than the single steepest point).
5. The suggestion is ``x* = x_90 + OFFSET_DECADES`` (``-0.1``: a factor 1.26 below the
   anchor), never past ``x_div``. The anchor and the one constant were chosen by
   leave-one-task-out cross-validation over 17 small real tasks (``benchmarks/
   finder_quality.py --cv``); the offset accounts for the range test's short horizon and
   for the cliff that usually sits just above the best peak LR of a full run.
6. How sure: the rule is re-read on 32 wild-bootstrap replicas of the curve (residuals
   with random signs); ``w`` is half the 10-90% spread of their suggestions (decades). The
   range is ``x* +- sqrt(w**2 + e**2)`` with ``e = RULE_ERROR_DECADES`` (0.4), the 68%
   quantile of the rule's cross-validated error on those tasks, its top capped at the
   divergence point. ``confidence`` is ``high`` for ``w <= 0.15``, ``medium`` for
   ``w <= 0.35``, else ``low`` -- and ``low`` whenever the ramp did not diverge (the
   smoothed loss never rose clearly past its lowest point, and the test did not stop at a
   NaN or a divergence) or most replicas lose the descent in the noise. It describes the curve, not the task: even at
   ``high`` the grid-best LR is outside the range on about a third of tasks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.finder.smoothing import local_linear_operator, noise_sigma, running_median

__all__ = [
    "Suggestion",
    "CurveReading",
    "anchor_points",
    "descent_point",
    "read_curve",
    "suggest",
    "steepest_lr",
    "valley_lr",
]

#: fraction of the drop (start level -> minimum) that defines the reported descent centre
DESCENT_FRACTION = 0.75
#: the rule is ``anchor_points(r)[ANCHOR] + OFFSET_DECADES`` (see :func:`anchor_points`)
ANCHOR = "descent90"
#: decades added to the anchor (fixed by leave-one-task-out cross-validation)
OFFSET_DECADES = -0.10
#: 68% quantile of the rule's cross-validated |log10(suggestion / grid-best LR)| on the
#: benchmark tasks (decades); part of the range's width, so the range reflects how far off
#: the rule itself tends to be, not only how noisy this curve is
RULE_ERROR_DECADES = 0.4
#: ``stopped_reason`` values of a pass that blew up by itself: the cliff lies just past its last loss
CLIFF_STOPS = frozenset({"diverged", "nan"})
#: the note of a curve with no descent (a search that falls back replaces it with its own)
NOTE_NO_DESCENT = "the loss never clearly decreased: lower start_lr, raise end_lr or check the model/data."
#: the note of a curve already falling at its first LR (advice for the caller's ramp, not a pass the finder placed)
NOTE_FALLING_AT_START = "the loss was already falling at start_lr: a lower start_lr would show the flat start."


@dataclass(frozen=True)
class CurveReading:
    """What the rule sees in a curve (indices into the curve; LRs as floats)."""

    x: np.ndarray  # log10 LR
    smooth: np.ndarray  # zero-phase smoothed loss
    slope: np.ndarray  # d smooth / d log10 LR
    sigma: float  # noise of one raw loss around the smooth curve
    i_start: int  # descent starts
    i_half: int  # DESCENT_FRACTION of the drop made (the descent point)
    i_div: int  # lowest smoothed loss (divergence point)
    depth: float  # smooth[start level] - smooth[i_div]
    diverged: bool  # the loss rose clearly after i_div
    significant: bool  # depth clearly above the noise
    capped: np.ndarray  # raw losses with the values past divergence capped


@dataclass(frozen=True)
class Suggestion:
    """A suggested peak LR with the range that brackets it and how sure the rule is."""

    lr: float | None
    low: float | None
    high: float | None
    confidence: str  # "high" | "medium" | "low" | "none"
    descent_start_lr: float | None = None
    descent_centre_lr: float | None = None
    divergence_lr: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: the curve reached its cliff: the smoothed loss rose clearly past its lowest point, or the
    #: test stopped at a NaN or a divergence (``stopped``); False where nothing bounds ``lr`` from above
    diverged: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


def _prepare(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Running median of the losses and the raw losses, both capped past divergence, and
    the smoothing bandwidth in log10 LR."""
    n = len(x)
    pre = running_median(y, 5 if n >= 15 else 3)
    # past divergence the loss explodes; those values only say "diverged" and would drag the
    # smoothed minimum towards smaller LRs, so cap them at the start level plus the drop
    # (capping commutes with the median, so the median is taken once)
    level = float(np.median(pre[: max(3, n // 20)]))
    cap = level + max(level - float(np.min(pre)), 0.0)
    dx = (x[-1] - x[0]) / max(n - 1, 1)
    return np.minimum(pre, cap), np.minimum(y, cap), max(3.0, n / 25.0) * dx


def read_curve(lrs: np.ndarray, losses: np.ndarray, _ops: dict | None = None) -> CurveReading | None:
    """Locate the descent and the divergence point of a range-test curve (None if < 8 points)."""
    lrs = np.asarray(lrs, dtype=np.float64)
    y = np.asarray(losses, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(lrs) & (lrs > 0)
    lrs, y = lrs[ok], y[ok]
    n = len(y)
    if n < 8:
        return None
    x = np.log10(lrs)
    pre, capped, h = _prepare(x, y)
    key = (n, float(x[0]), float(x[-1]), h)
    if _ops is not None and _ops.get("key") == key:
        A, B = _ops["A"], _ops["B"]
    else:
        A, B = local_linear_operator(x, h)
        if _ops is not None:
            _ops.update(key=key, A=A, B=B)
    s, slope = A @ pre, B @ pre
    sigma = noise_sigma(capped - s)
    # noise left in the smoothed curve: a Gaussian kernel of h/dx points averages ~2.5 h/dx
    sigma_s = sigma / math.sqrt(2.5 * max(1.0, n / 25.0))
    i_div = int(np.argmin(s))
    head = max(3, n // 20)
    level = float(np.median(s[:head]))
    depth = level - float(s[i_div])
    tol = max(3.0 * sigma_s, 0.05 * max(depth, 0.0))
    below = np.nonzero(s[: i_div + 1] < level - tol)[0]
    i_start = int(below[0]) if below.size else i_div
    q_level = level - DESCENT_FRACTION * depth
    reached = np.nonzero(s[i_start : i_div + 1] <= q_level)[0]
    i_half = i_start + int(reached[0]) if reached.size else i_div
    after = s[i_div:]
    rise = float(np.max(after) - s[i_div]) if after.size > 1 else 0.0
    diverged = i_div < n - 1 and rise > max(tol, 0.1 * max(depth, 0.0))
    significant = depth > max(6.0 * sigma_s, 1e-12 * (1.0 + abs(level)))
    return CurveReading(x, s, slope, sigma, i_start, i_half, i_div, depth, bool(diverged), bool(significant), capped)


def descent_point(r: CurveReading, fraction: float) -> float:
    """log10 LR where the smoothed loss has first made ``fraction`` of its drop from the
    start level to the minimum, searched over the descending region."""
    head = max(3, len(r.smooth) // 20)
    level = float(np.median(r.smooth[:head]))
    seg = r.smooth[r.i_start : r.i_div + 1]
    reached = np.nonzero(seg <= level - fraction * r.depth)[0]
    return float(r.x[r.i_start + int(reached[0])] if reached.size else r.x[r.i_div])


def anchor_points(r: CurveReading) -> dict[str, float]:
    """The candidate anchors of a rule, in log10 LR (the cross-validation in
    ``benchmarks/finder_quality.py --cv`` scores ``anchor + offset`` for each)."""
    seg = slice(r.i_start, r.i_div + 1)
    pts = {
        "divergence": float(r.x[r.i_div]),
        "steepest": float(r.x[r.i_start + int(np.argmin(r.slope[seg]))]),
    }
    for q in (0.5, 0.75, 0.9):
        pts[f"descent{int(q * 100)}"] = descent_point(r, q)
    pts["mid75"] = (pts["descent75"] + pts["divergence"]) / 2.0
    pts["mid50"] = (pts["descent50"] + pts["divergence"]) / 2.0
    return pts


def _rule(r: CurveReading) -> float:
    """log10 of the suggested LR from a curve reading: ``anchor + offset``, never past the
    divergence point."""
    x = anchor_points(r)[ANCHOR] + OFFSET_DECADES
    return float(min(x, r.x[r.i_div]))


def suggest(
    lrs: np.ndarray, losses: np.ndarray, *, stopped: str | None = None, bootstrap: int = 32, seed: int = 0
) -> Suggestion:
    """The suggested peak LR for a warm-up + decay run, with its range (see module doc).

    ``stopped`` is the test's ``stopped_reason``: ``"nan"`` or ``"diverged"`` (:data:`CLIFF_STOPS`)
    says the test blew up just past its last recorded loss -- a NaN is dropped from the curve,
    so the rise may not show in it -- which counts as reaching the cliff (``diverged``)."""
    try:
        lrs = np.asarray(lrs, dtype=np.float64)
        losses = np.asarray(losses, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            "lrs and losses must be sequences of numbers.",
            field="losses",
            value=losses,
            fix="pass the range test's lrs and raw losses, e.g. result.lrs, result.raw_losses.",
        ) from None
    if lrs.ndim != 1 or lrs.shape != losses.shape:
        raise ConfigError(
            f"lrs {lrs.shape} and losses {losses.shape} must be 1-D and of the same length.",
            field="losses",
            value=losses.shape,
            fix="pass one loss per LR of the ramp.",
        )
    if stopped is not None:
        from lrkit.finder.result import STOP_REASONS  # result imports this module

        if not isinstance(stopped, str) or stopped not in STOP_REASONS:
            raise ConfigError(
                f"not a stopped_reason: {stopped!r}.",
                field="stopped",
                value=stopped,
                fix=f"pass the range test's stopped_reason ({', '.join(STOP_REASONS)}), or leave it out.",
            )
    ops: dict = {}
    r = read_curve(lrs, losses, ops)
    if r is None:
        return Suggestion(None, None, None, "none", notes=("too few finite losses to read the curve (need 8).",))
    notes: list[str] = []
    if not r.significant or r.i_div <= r.i_start:
        return Suggestion(
            None,
            None,
            None,
            "none",
            divergence_lr=float(10 ** r.x[r.i_div]),
            notes=(NOTE_NO_DESCENT,),
        )
    x_star = _rule(r)
    # wild bootstrap: each residual keeps its place and size, with a random sign, so the
    # larger noise near divergence stays there; the replica is read again
    rng = np.random.default_rng(seed)
    resid = r.capped - r.smooth
    reps = []
    for _ in range(bootstrap):
        signs = rng.choice(np.array([-1.0, 1.0]), size=len(resid))
        rb = read_curve(10**r.x, r.smooth + resid * signs, ops)
        if rb is not None and rb.significant and rb.i_div > rb.i_start:
            reps.append(_rule(rb))
    # how sure: the half-width of the replicas' 10-90% spread (the rule's sensitivity to
    # this curve's noise), combined with the rule's own error measured on real tasks
    half = float(np.subtract(*np.percentile(reps, [90, 10]))) / 2.0 if len(reps) >= 2 else math.inf
    width = math.sqrt(half**2 + RULE_ERROR_DECADES**2) if math.isfinite(half) else 1.0
    lo, hi = x_star - width, x_star + width
    diverged = r.diverged or stopped in CLIFF_STOPS
    if diverged:  # never point past where the test itself diverged
        hi = max(min(hi, float(r.x[r.i_div])), x_star)
    confidence = "high" if half <= 0.15 else "medium" if half <= 0.35 else "low"
    if not diverged:
        confidence = "low"
        notes.append("the loss did not diverge before end_lr: raise end_lr to see where it does.")
    if len(reps) < bootstrap // 2:
        confidence = "low"
        notes.append("the curve is too noisy for the descent to be located reliably.")
    if r.i_start == 0 and r.slope[0] < 0:
        notes.append(NOTE_FALLING_AT_START)
    return Suggestion(
        lr=float(10**x_star),
        low=float(10**lo),
        high=float(10**hi),
        confidence=confidence,
        descent_start_lr=float(10 ** r.x[r.i_start]),
        descent_centre_lr=float(10 ** r.x[r.i_half]),
        divergence_lr=float(10 ** r.x[r.i_div]),
        notes=tuple(notes),
        diverged=bool(diverged),
    )


def steepest_lr(lrs: np.ndarray, losses: np.ndarray, skip_start: int = 10, skip_end: int = 5) -> float | None:
    """torch-lr-finder's rule, for comparison: LR of the most negative ``np.gradient`` of
    the (already EMA-smoothed) losses against the step index, ends trimmed."""
    kept = list(lrs)[skip_start : len(lrs) - skip_end if skip_end else None]
    losses = np.asarray(list(losses)[skip_start : len(losses) - skip_end if skip_end else None], dtype=np.float64)
    if len(losses) < 2:
        return None
    return float(kept[int(np.gradient(losses).argmin())])


def valley_lr(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """fastai's ``valley`` rule, for comparison: the longest strictly descending subsequence
    of the (EMA-smoothed) losses, then the point about 1/2 of the way along it
    (``start + int(len/3) + int(len/6)``)."""
    losses = np.asarray(losses, dtype=np.float64)
    n = len(losses)
    if n < 2:
        return None
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(list(lrs)[idx])
