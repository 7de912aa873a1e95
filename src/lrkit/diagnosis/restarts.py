"""LR restarts inside one log: a run resumed (on new data, from an adapter, by a new trainer)
whose scheduler started again from its first step while the step counter went on.

The logged LR tells it: it had decayed to ``~0`` (at most :data:`RESTART_LOW` of the peak of the
stretch so far, reached by a descent: the point before the low is at most half that peak), then
it rises again -- a new warm-up, or a jump back up -- to at least :data:`RESTART_RISE` times the
low and :data:`RESTART_MIN_PEAK` of the earlier peak. Such a restart starts a new segment; the
loss usually jumps there (new data, a fresh optimizer state) and that jump is no instability.

A schedule that restarts by design is not a resume: restarts at **regular periods** (equal
within :data:`PERIOD_TOLERANCE`, or growing by one constant factor: SGDR's ``T_0``/``T_mult``,
a triangular cyclical LR) are left to the whole-log reading, and so are one or two restarts
whose periods cannot be told regular when the LR returns to its earlier peak (within
:data:`SAME_PEAK`): lrkit cannot tell those from a configured cycle, so nothing changes for
them. A config whose schedule is cyclic is never split.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from lrkit.diagnosis.formatting import at_step, fmt_lr, fmt_step
from lrkit.findings import Finding

__all__ = ["LRRestarts", "find_lr_restarts", "restart_note"]

#: the LR fell to at most this share of the peak of the stretch so far before it rose again
RESTART_LOW = 0.1
#: ... having passed through at most this share of it on the point before the low (a descent, not a glitch)
DESCENT = 0.5
#: the rise after the low reaches this many times the low ...
RESTART_RISE = 5.0
#: ... and this share of the earlier peak
RESTART_MIN_PEAK = 0.05
#: periods equal within this (relative), or consecutive period ratios equal within it: a configured cycle
PERIOD_TOLERANCE = 0.15
#: restarted peaks within this (relative) of each other: the LR came back to where it was
SAME_PEAK = 0.05


@dataclass(frozen=True)
class LRRestarts:
    """Where the logged LR restarted: ``indices`` into the logged steps (the first point of each
    new segment), ``steps`` those steps, and ``peaks`` the LR peak of each segment (one more
    than the restarts)."""

    indices: tuple[int, ...]
    steps: tuple[int, ...]
    peaks: tuple[float, ...]

    @property
    def last(self) -> int:
        """The index where the last segment starts."""
        return self.indices[-1]


def _candidates(v: np.ndarray) -> tuple[list[int], list[float]]:
    """The restart indices in a finite, non-negative LR series (the first point of each new
    segment: the first risen LR, or the LR of exactly 0 the new warm-up starts from) and the peak
    of each segment."""
    starts: list[int] = []
    peaks: list[float] = []
    seg, i, n = 0, 2, v.size
    while i < n:
        peak = float(v[seg:i].max())
        low = float(v[i - 1])
        if peak > 0 and v[i] > low and low <= RESTART_LOW * peak and v[i - 2] <= DESCENT * peak:
            j = i
            while j + 1 < n and v[j + 1] >= v[j]:
                j += 1  # the new warm-up (or the jump) up to its first maximum
            top = float(v[j])
            if top >= RESTART_RISE * low and top >= RESTART_MIN_PEAK * peak:
                # an LR of exactly 0 after a non-zero one is the new warm-up's first step (a decay
                # logs its last update above 0): that row belongs to the new segment
                first = i - 1 if low == 0 and v[i - 2] > 0 else i
                starts.append(first)
                peaks.append(peak)
                seg, i = first, j + 1
                continue
        i += 1
    peaks.append(float(v[seg:].max()) if n else 0.0)
    return starts, peaks


def _regular(periods: list[float], spacing: float = 0.0) -> bool:
    """Equal within the tolerance (2+ periods), or a constant growth ratio (3+ periods).

    ``spacing``: the steps between logged rows. A restart is seen at the first row after it, so
    each period is known only to within ``spacing``: the tolerance widens by that error relative
    to the shortest period (twice over for a difference of two periods, four times for a ratio
    of two ratios). SGDR logged every 5 updates at periods 76, 114, 171 reads 80, 110, 175."""
    if not periods or min(periods) <= 0:
        return False
    rel = spacing / min(periods)
    if len(periods) >= 2 and max(periods) <= (1 + PERIOD_TOLERANCE + 2 * rel) * min(periods):
        return True
    if len(periods) >= 3:
        ratios = [b / a for a, b in itertools.pairwise(periods)]
        return max(ratios) <= (1 + PERIOD_TOLERANCE + 4 * rel) * min(ratios)
    return False


def find_lr_restarts(steps: np.ndarray, lrs: np.ndarray | None) -> LRRestarts | None:
    """The LR restarts of a logged LR column that are resumes (see the module docstring), or
    ``None`` (no restart, or restarts that look configured)."""
    if lrs is None:
        return None
    m = np.isfinite(lrs) & (lrs >= 0)
    idx = np.nonzero(m)[0]
    if idx.size < 4:
        return None
    s, v = steps[m], lrs[m]
    starts, peaks = _candidates(v)
    if not starts:
        return None
    bounds = [int(s[0]), *(int(s[k]) for k in starts)]
    periods = [float(b - a) for a, b in itertools.pairwise(bounds)]
    # the first period may include a warm-up the later cycles lack: judge the later ones alone when there are enough
    spacing = float(np.median(np.diff(s))) if s.size > 1 else 0.0
    if _regular(periods, spacing) or (len(periods) >= 3 and _regular(periods[1:], spacing)):
        return None
    if len(starts) <= 2 and max(peaks) <= (1 + SAME_PEAK) * min(peaks):
        return None
    return LRRestarts(
        indices=tuple(int(idx[k]) for k in starts),
        steps=tuple(int(s[k]) for k in starts),
        peaks=tuple(peaks),
    )


def restart_note(r: LRRestarts, first_step: int, unit: str) -> Finding:
    """The ``info`` finding that names the restarts and says only the last segment was judged."""
    where = ", ".join(fmt_step(k) for k in r.steps)
    n = len(r.steps)
    return Finding(
        rule="lr-restart",
        severity="info",
        message=(
            f"The logged LR fell to ~0 and started again {n} time{'s' if n > 1 else ''} (at {unit}s {where}): "
            f"a resumed run whose schedule restarted. Only the last segment ({at_step(r.steps[-1], unit)} on, "
            f"peak LR {fmt_lr(r.peaks[-1])}) is judged; a loss jump at a restart is the new start, not a spike."
        ),
        fix="to judge an earlier segment, pass its rows alone.",
        evidence={"restart_steps": list(r.steps), "segment_peaks": list(r.peaks), "first_step": first_step},
        source="diagnose",
    )
