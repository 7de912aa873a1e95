"""Diagnose a loss curve and say what to change in the learning-rate schedule.

:func:`diagnose` classifies a run as **healthy** or names what went wrong, with evidence
(step ranges, sizes, the LR at that moment) and advice from the guide's troubleshooting table,
tied to the schedule in use:

============== ============================================ ======================================
class          what it looks like                           advice (guide)
============== ============================================ ======================================
diverging      NaN/inf loss, or the loss climbs and stays   lower the peak LR, lengthen warm-up
               far above its best
spikes         sudden jumps far above the recent level      clip gradients, lower the peak,
               (recovered or not)                           longer warm-up
oscillating    the loss swings up and down repeatedly       reduce the LR, smoother decay
plateau        no progress for a long stretch, then a drop  cyclical LR or adaptive scheduling
               (or no progress under a constant LR)
slow           still falling at the end about as fast as    increase the LR, decay more slowly
               on average (the curve has not bent)
============== ============================================ ======================================

How the curve is read (all in log-loss when every loss is positive, so sizes are ratios):
the *trend* is a centred running median over ``w = clip(n / 25, 5, 101)`` points; the *noise*
``sigma`` is 1.4826 x the median absolute deviation of the loss around that trend. A spike is a
point at least ``max(6 sigma, log 1.25)`` above the median of the ``w`` points before it. The
LR at a step comes from the logged LRs, else from the schedule (the schedule algebra), else it
is unknown and the advice is relative.
"""

from __future__ import annotations

import math
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules.base import Schedule

__all__ = ["diagnose", "Diagnosis", "CLASSES", "fmt_lr", "fmt_step"]

#: verdicts, most severe first
CLASSES = ("diverging", "spikes", "oscillating", "plateau", "slow", "healthy")
_RULE_CLASS = {
    "diverging": "diverging",
    "loss-spike": "spikes",
    "oscillating": "oscillating",
    "plateau": "plateau",
    "slow-convergence": "slow",
}
MIN_POINTS = 8


# -- formatting ---------------------------------------------------------------------------------


def fmt_lr(x: float | None) -> str:
    """``3.1e-4`` style (two significant figures)."""
    if x is None or not math.isfinite(x):
        return "?"
    if x == 0:
        return "0"
    mant, exp = f"{x:.1e}".split("e")
    return f"{mant}e{int(exp)}"


def fmt_step(s: int | float) -> str:
    return f"{int(s):,}"


def _nice(x: float) -> float:
    """Two significant figures."""
    if x <= 0 or not math.isfinite(x):
        return x
    return float(f"{x:.1e}")


def _nice_steps(x: float) -> int:
    if x <= 100:
        return int(math.ceil(x))
    mag = 10 ** (len(str(int(x))) - 2)
    return int(math.ceil(x / mag) * mag)


# -- result -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` found.

    Attributes:
        verdict: the most severe class found (``CLASSES`` order), ``"healthy"`` if none.
        findings: one :class:`~lrkit.Finding` per problem (``rule`` is ``diverging``,
            ``loss-spike``, ``oscillating``, ``plateau`` or ``slow-convergence``), with evidence
            and a fix; ``info`` findings are notes that do not change the verdict.
        suggested_lr: the peak LR to try next (absolute), when the LR in use is known and the
            verdict calls for a change.
        summary: facts about the curve (points, first/best/last loss, noise, LR range).
    """

    verdict: str
    findings: tuple[Finding, ...]
    suggested_lr: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.verdict == "healthy"

    @property
    def classes(self) -> tuple[str, ...]:
        """Every class found (warnings and errors), most severe first."""
        found = {_RULE_CLASS[f.rule] for f in self.findings if f.severity != "info"}
        return tuple(c for c in CLASSES if c in found) or ("healthy",)

    def of(self, cls: str) -> list[Finding]:
        """Findings of one class (``"spikes"``, ``"diverging"``, ...)."""
        return [f for f in self.findings if _RULE_CLASS.get(f.rule) == cls]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "classes": list(self.classes),
            "suggested_lr": self.suggested_lr,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        lines = [f"verdict: {self.verdict}"]
        for f in self.findings:
            lines.append(f"- [{f.severity}] {f.message}")
            if f.fix:
                lines.append(f"  fix: {f.fix}")
        if self.suggested_lr is not None:
            lines.append(f"suggested peak LR: {fmt_lr(self.suggested_lr)}")
        return "\n".join(lines)


# -- curve helpers ------------------------------------------------------------------------------


_CHUNK_ELEMENTS = 1 << 22  # windows evaluated per block: bounded memory on million-step logs


def _forward_medians(x: np.ndarray, w: int) -> np.ndarray:
    """``median(x[i:i + w])`` for ``i = 0 .. n - w``, a block of windows at a time."""
    n = x.size
    if n < w:
        return np.empty(0)
    win = np.lib.stride_tricks.sliding_window_view(x, w)
    out = np.empty(win.shape[0])
    rows = max(1, _CHUNK_ELEMENTS // w)
    for start in range(0, win.shape[0], rows):
        out[start : start + rows] = np.median(win[start : start + rows], axis=1)
    return out


def _rolling_median(z: np.ndarray, w: int) -> np.ndarray:
    """Centred running median over ``w`` points (fewer at the edges)."""
    n = z.size
    w = max(1, min(w, n))
    if w == 1:
        return z.copy()
    half = w // 2
    out = np.empty(n)
    inner = _forward_medians(z, w)  # window [i - half, i - half + w) for i = half .. n - w + half
    out[half : half + inner.size] = inner
    for i in range(half):
        out[i] = np.median(z[: i - half + w])
    for i in range(half + inner.size, n):
        out[i] = np.median(z[i - half :])
    return out


def _smooth(z: np.ndarray, w: int) -> np.ndarray:
    """:func:`_rolling_median` for wide windows: exact at every ``w // 20``-th point and linearly
    interpolated between (a wide median moves slowly), so the cost stays ~``20 n``."""
    n = z.size
    if w <= 151 or n <= w:
        return _rolling_median(z, w)
    half = w // 2
    idx = np.unique(np.append(np.arange(0, n, max(1, w // 20)), n - 1))
    vals = np.array([np.median(z[max(0, i - half) : i - half + w]) for i in idx])
    return np.interp(np.arange(n), idx, vals)


def _causal_median(z: np.ndarray, w: int) -> np.ndarray:
    """Median of the ``w`` points *before* each point (NaN for the first three)."""
    n = z.size
    out = np.full(n, np.nan)
    for i in range(3, min(w, n)):
        out[i] = np.median(z[:i])
    if n > w >= 3:
        out[w:] = _forward_medians(z[:-1], w)
    return out


def _forward_min(x: np.ndarray, s: int) -> np.ndarray:
    """``min(x[i:i + s])`` (truncated at the end) for every ``i``, in O(n) (van Herk / Gil-Werman)."""
    n = x.size
    s = max(1, min(s, n))
    m = -(-n // s) * s + s
    pad = np.full(m, np.inf)
    pad[:n] = x
    blocks = pad.reshape(-1, s)
    prefix = np.minimum.accumulate(blocks, axis=1).reshape(-1)
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    i = np.arange(n)
    return np.minimum(suffix[i], prefix[i + s - 1])


@dataclass
class _Curve:
    steps: np.ndarray
    y: np.ndarray  # raw losses (finite)
    z: np.ndarray  # log losses, or the losses when some are <= 0
    log: bool
    w: int
    trend: np.ndarray
    sigma: float

    @property
    def n(self) -> int:
        return int(self.z.size)

    def ratio(self, dz: float) -> float:
        """A difference in z as a ratio of losses (log space) or an absolute difference."""
        return math.exp(dz) if self.log else dz

    def sigma_trend(self) -> float:
        return 1.25 * self.sigma / math.sqrt(self.w)

    def size(self, rel_log: float, scale: float | None = None) -> float:
        """A threshold of ``rel_log`` in log space, or the same fraction of the loss scale."""
        if self.log:
            return rel_log
        s = scale if scale is not None else float(np.median(np.abs(self.y))) or 1.0
        return (math.exp(rel_log) - 1.0) * s


def _curve(steps: np.ndarray, y: np.ndarray) -> _Curve:
    log = bool(np.all(y > 0))
    z = np.log(y) if log else y.astype(np.float64)
    n = z.size
    w = int(np.clip(n // 25, 5, 101))
    if w % 2 == 0:
        w += 1
    trend = _rolling_median(z, w)
    resid = z - trend
    mad = float(np.median(np.abs(resid - np.median(resid))))
    floor = 0.005 if log else 0.005 * (float(np.median(np.abs(y))) or 1.0)
    return _Curve(steps=steps, y=y, z=z, log=log, w=w, trend=trend, sigma=max(1.4826 * mad, floor))


# -- the LR in use --------------------------------------------------------------------------------


@dataclass
class _LR:
    lrs: np.ndarray | None  # LR at each logged step (NaN where unknown)
    schedule: Schedule | None
    warmup_steps: int | None
    kind: str  # "constant", "warm-up then decay", "cyclic", ... (for the advice)
    run_end: int = 0  # last logged step + 1

    def at(self, steps: np.ndarray, i: int) -> float | None:
        if self.lrs is not None and math.isfinite(self.lrs[i]):
            return float(self.lrs[i])
        if self.schedule is not None:
            return float(self.schedule(int(steps[i])))
        return None

    @property
    def known(self) -> bool:
        return self.lrs is not None or self.schedule is not None

    def peak(self) -> float | None:
        if self.lrs is not None and np.isfinite(self.lrs).any():
            return float(np.nanmax(self.lrs))
        if self.schedule is not None:
            return float(self.schedule.peak(max(self.run_end, 1)))
        return None


def _lr_context(
    steps: np.ndarray, lrs: np.ndarray | None, schedule: Any, warmup_steps: int | None
) -> tuple[_LR, str | None]:
    sched: Schedule | None = None
    name: str | None = None
    if schedule is not None:
        if isinstance(schedule, Schedule):
            sched = schedule
        elif hasattr(schedule, "lr_schedule"):  # a ResolvedConfig: its absolute LR curve
            sched = schedule.lr_schedule
            ctx = getattr(schedule, "context", None) or {}
            if warmup_steps is None and isinstance(ctx.get("warmup_steps"), int | float):
                warmup_steps = int(ctx["warmup_steps"])
            name = getattr(schedule, "source", None)
        else:
            raise ConfigError(
                f"schedule must be an lrkit Schedule or a loaded config, got {type(schedule).__name__}.",
                field="schedule",
                fix="pass lrkit.load_config(path) or a schedule from lrkit.schedules.",
            )
    horizon = int(steps[-1]) + 1
    if lrs is not None:
        curve = np.where(np.isfinite(lrs), lrs, np.nan)
        xs = steps
    elif sched is not None:
        xs = np.arange(horizon)
        curve = sched(xs)
    else:
        return _LR(None, None, warmup_steps, "unknown", horizon), name
    finite = np.isfinite(curve)
    kind = "unknown"
    if finite.any():
        c, x = curve[finite], xs[finite]
        top = float(c.max())
        if warmup_steps is None and c[0] < 0.9 * top:
            # warm-up: the LR rises from the start to its first maximum
            first_top = int(np.argmax(c >= 0.999 * top))
            if first_top > 0 and np.all(np.diff(c[: first_top + 1]) >= -1e-12 * top):
                warmup_steps = int(x[first_top]) + 1
        tail = c[x >= (warmup_steps or 0)]
        if top > 0 and float(c.min()) >= 0.99 * top:
            kind = "constant"
        elif tail.size > 2 and np.sum(np.diff(tail) > 1e-12 * top) > 2:
            kind = "cyclic"
        elif tail.size and tail[-1] < 0.99 * top:
            kind = "decaying"
        else:
            kind = "constant after warm-up"
    if sched is not None:
        type_name = getattr(sched, "type_name", "")
        if type_name in ("cyclic", "cosine_restarts", "one_cycle"):
            kind = "cyclic" if type_name != "one_cycle" else "one-cycle"
    return _LR(lrs, sched, warmup_steps, kind, horizon), name


# -- detectors ------------------------------------------------------------------------------------


def _diverging(c: _Curve, nonfinite_step: int | None, lr: _LR, all_steps: np.ndarray) -> Finding | None:
    t = c.trend
    ib = int(np.argmin(t))
    rise = float(t[-1] - t[ib])
    progress = float(max(t[0] - t[ib], 0.0))
    st = c.sigma_trend()
    blown = rise > max(c.size(math.log(1.5)), 0.5 * progress, 8 * st)
    # a blow-up the model never recovers from: it jumped far above its start and ended no better
    jump = np.nonzero(c.z > c.z[0] + max(c.size(math.log(3.0)), 10 * c.sigma))[0]
    dead = (
        jump.size > 0
        and jump[0] < c.n - c.w
        and float(t[-1]) > float(t[0]) - max(c.size(math.log(1.05)), 4 * st)
    )
    if dead and not blown and nonfinite_step is None:
        i0 = int(jump[0])
        lr_on = lr.at(c.steps, i0)
        return Finding(
            rule="diverging",
            severity="error",
            message=(
                f"Diverged: the loss jumped to {c.y[int(np.argmax(c.z))]:.4g} at step {fmt_step(c.steps[i0])}"
                f"{_lr_phrase(lr, int(c.steps[i0]), lr_on)} and never got below where it started "
                f"({_fmt_loss(c, t[0])} -> {_fmt_loss(c, t[-1])})."
            ),
            fix=_fix_lower_peak(lr, int(c.steps[i0]), lr_on, factor=0.5, extra="and clip gradients (max_norm=1.0)"),
            evidence={
                "onset_step": int(c.steps[i0]),
                "lr_at_onset": lr_on,
                "best_step": int(c.steps[ib]),
                "best_loss": _loss(c, t[ib]),
                "final_loss": _loss(c, t[-1]),
            },
            source="diagnose",
        )
    if nonfinite_step is None and not blown:
        return None
    onset_i: int | None = None
    if blown or (nonfinite_step is not None and rise > max(c.size(math.log(1.1)), 4 * st)):
        thr = t[ib] + max(c.size(math.log(1.1)), 3 * st)
        after = np.nonzero(t[ib:] > thr)[0]
        if after.size:
            # the climb starts where the trend last sat at its best level before crossing
            onset_i = ib + int(after[0])
            low = t[ib] + max(3 * st, c.size(math.log(1.02)))
            back = np.nonzero(t[ib:onset_i] <= low)[0]
            if back.size:
                onset_i = ib + int(back[-1]) + 1  # the last step the trend sat near its best
    if onset_i is not None:
        onset_step = int(c.steps[onset_i])
        lr_on = lr.at(c.steps, onset_i)
    else:
        onset_step = int(nonfinite_step)  # type: ignore[arg-type]
        idx = int(np.searchsorted(all_steps, onset_step))
        lr_on = lr.at(all_steps, min(idx, all_steps.size - 1))
    evidence: dict[str, Any] = {
        "onset_step": onset_step,
        "lr_at_onset": lr_on,
        "best_step": int(c.steps[ib]),
        "best_loss": float(np.exp(t[ib]) if c.log else t[ib]),
        "final_loss": float(np.exp(t[-1]) if c.log else t[-1]),
    }
    if nonfinite_step is not None:
        evidence["nonfinite_step"] = int(nonfinite_step)
    what = (
        f"the loss became NaN/inf at step {fmt_step(nonfinite_step)}"
        if nonfinite_step is not None
        else f"the loss climbed from {evidence['best_loss']:.4g} (step {fmt_step(evidence['best_step'])}) "
        f"to {evidence['final_loss']:.4g} and stayed there"
    )
    if onset_i is not None and nonfinite_step is not None:
        what += f" after climbing since step {fmt_step(onset_step)}"
    elif onset_i is not None:
        what += f" (climb from step {fmt_step(onset_step)})"
    where = _lr_phrase(lr, onset_step, lr_on)
    message = f"Diverged: {what}{where}."
    fix = _fix_lower_peak(lr, onset_step, lr_on, factor=0.5, extra="and clip gradients (max_norm=1.0)")
    if nonfinite_step is not None:
        fix += " If the LR was already small, look for fp16 overflow or a bad batch at that step."
    return Finding(
        rule="diverging",
        severity="error",
        message=message,
        fix=fix,
        evidence=evidence,
        source="diagnose",
    )


def _lr_phrase(lr: _LR, step: int, value: float | None) -> str:
    if value is None:
        return ""
    w = lr.warmup_steps
    if w and step < w:
        return f" while warm-up ({fmt_step(w)} steps) was raising the LR, at {fmt_lr(value)}"
    if w and step < 2 * w:
        return f" just after warm-up had raised the LR to {fmt_lr(value)}"
    return f" at LR {fmt_lr(value)}"


def _fix_lower_peak(lr: _LR, step: int, lr_on: float | None, *, factor: float, extra: str = "") -> str:
    tail = f" {extra}" if extra else ""
    if lr_on is None:
        return (
            f"lower the peak LR to about {factor:.0%} of its value{',' if tail else ''}{tail}"
            f" or lengthen warm-up (guide: reduce initial learning rate or increase warm-up)."
        )
    target = _nice(lr_on * factor)
    w = lr.warmup_steps
    if w and step < 2 * w:
        return (
            f"lower the peak to about {fmt_lr(target)} or lengthen warm-up to {fmt_step(_nice_steps(2 * w))} steps"
            f"{',' if tail else ''}{tail}."
        )
    if not w and lr.known and step < max(200, 0.05 * lr.run_end):
        # an early blow-up at the full LR: the classic case for a warm-up
        warm = _nice_steps(max(2 * (step + 1), 0.02 * lr.run_end))
        return f"lower the peak to about {fmt_lr(target)} or add a warm-up of about {fmt_step(warm)} steps{',' if tail else ''}{tail}."
    return f"lower the peak to about {fmt_lr(target)}{',' if tail else ''}{tail}."


def _spikes(c: _Curve, lr: _LR) -> list[Finding]:
    base = _causal_median(c.z, c.w)
    excess = c.z - base
    # minibatch noise is rarely constant (in log-loss it grows as the loss falls): a local scale
    local = 1.4826 * _smooth(np.abs(c.z - c.trend), 4 * c.w + 1)
    sig = np.maximum(local, c.sigma if c.n < 8 * c.w else 0.0)
    sig = np.maximum(sig, 0.005 if c.log else 1e-12)
    thr_arr = np.maximum(6 * sig, c.size(math.log(1.25)))
    big_arr = np.maximum(12 * sig, c.size(math.log(2.0)))
    cand = np.nonzero(np.nan_to_num(excess - thr_arr, nan=-np.inf) > 0)[0]
    if cand.size == 0:
        return []
    # group candidates that are close together into events
    gap = max(2, c.w // 4)
    events: list[list[int]] = [[int(cand[0])]]
    for i in cand[1:]:
        if i - events[-1][-1] <= gap:
            events[-1].append(int(i))
        else:
            events.append([int(i)])
    out: list[Finding] = []
    for ev in events:
        start, end = ev[0], ev[-1]
        peak_i = max(ev, key=lambda i: excess[i])
        # one odd batch is data noise; a spike is sustained or very large
        if len(ev) < 3 and excess[peak_i] < big_arr[peak_i]:
            continue
        thr = float(thr_arr[peak_i])
        tol = max(2 * float(sig[peak_i]), c.size(math.log(1.1)))
        level = float(base[start])
        later = c.trend[end + 1 :]
        raw_later = c.z[end + 1 :]
        rec = np.nonzero((later <= level + tol) & (raw_later <= level + thr))[0]
        recovered = bool(rec.size)
        if not recovered and c.n - 1 - end < c.w:
            continue  # at the very end of the log: too soon to tell
        rec_step = int(c.steps[end + 1 + int(rec[0])]) if recovered else None
        lr_at = lr.at(c.steps, peak_i)
        size = c.ratio(float(excess[peak_i]))
        size_txt = f"{size:.1f}x the loss before it" if c.log else f"+{size:.3g} over the loss before it"
        span = (
            f"step {fmt_step(c.steps[start])}"
            if start == end
            else f"steps {fmt_step(c.steps[start])}-{fmt_step(c.steps[end])}"
        )
        if recovered:
            msg = (
                f"Loss spike at {span}: {size_txt}{_lr_phrase(lr, int(c.steps[peak_i]), lr_at)}; "
                f"recovered by step {fmt_step(rec_step)}."  # type: ignore[arg-type]
            )
            fix = (
                "clip gradients (max_norm=1.0) and "
                + _fix_lower_peak(lr, int(c.steps[peak_i]), lr_at, factor=0.7)
                + " Spikes that keep coming mean the LR is near the edge of stability."
            )
        else:
            msg = (
                f"Loss spike at {span}: {size_txt}{_lr_phrase(lr, int(c.steps[peak_i]), lr_at)}; "
                "the loss did not come back to its earlier level."
            )
            fix = (
                "resume from a checkpoint before the spike and "
                + _fix_lower_peak(lr, int(c.steps[peak_i]), lr_at, factor=0.5, extra="and clip gradients")
            )
        out.append(
            Finding(
                rule="loss-spike",
                severity="warning" if recovered else "error",
                message=msg,
                fix=fix,
                evidence={
                    "start_step": int(c.steps[start]),
                    "end_step": int(c.steps[end]),
                    "peak_step": int(c.steps[peak_i]),
                    "size": size,
                    "size_is_ratio": c.log,
                    "loss_before": float(np.exp(level) if c.log else level),
                    "peak_loss": float(c.y[peak_i]),
                    "recovered": recovered,
                    "recovered_at": rec_step,
                    "lr": lr_at,
                },
                source="diagnose",
            )
        )
    return out


def _reversals(s: np.ndarray, h: float) -> list[int]:
    """Indices of the turning points of ``s`` that move at least ``h`` (a zig-zag filter)."""
    turns: list[int] = []
    hi = lo = ext = 0
    direction = 0
    for i in range(1, s.size):
        if direction == 0:
            hi = i if s[i] > s[hi] else hi
            lo = i if s[i] < s[lo] else lo
            if s[hi] - s[lo] >= h:
                direction, ext = (1, hi) if hi > lo else (-1, lo)
        elif direction == 1:
            if s[i] > s[ext]:
                ext = i
            elif s[ext] - s[i] >= h:
                turns.append(ext)
                direction, ext = -1, i
        else:
            if s[i] < s[ext]:
                ext = i
            elif s[i] - s[ext] >= h:
                turns.append(ext)
                direction, ext = 1, i
    return turns


def _oscillating(c: _Curve, lr: _LR) -> Finding | None:
    n = c.n
    region: tuple[int, int] | None = None
    detail = ""
    # fast: the loss alternates up/down step after step with large swings
    d = np.diff(c.z)
    if d.size >= 40:
        sgn = np.sign(d)
        flips = (sgn[1:] * sgn[:-1] < 0).astype(float)
        win = 39
        frac = np.convolve(flips, np.ones(win) / win, mode="valid")
        amp = _forward_medians(np.abs(d), win + 1)[: frac.size]
        hit = np.nonzero((frac >= 0.95) & (amp > c.size(math.log(1.15))))[0]
        if hit.size:
            region = (int(hit[0]), int(min(hit[-1] + win + 1, n - 1)))
            ratio = c.ratio(float(np.median(amp[hit])))
            detail = (
                f"it alternates up and down every step by about {ratio:.2f}x"
                if c.log
                else f"it alternates up and down every step by about {ratio:.3g}"
            )
    if region is None:
        ws = 5
        smooth = _rolling_median(c.z, ws)
        h = max(6 * 1.25 * c.sigma / math.sqrt(ws), c.size(math.log(1.2)))
        turns = _reversals(smooth, h)
        if len(turns) >= 6:
            gaps = np.diff(turns).astype(float)
            cv = float(gaps.std() / gaps.mean()) if gaps.size and gaps.mean() > 0 else 1.0
            swings = np.abs(np.diff(smooth[turns]))
            if cv < 0.75:
                region = (turns[0], turns[-1])
                ratio = c.ratio(float(np.median(swings)))
                period = 2 * float(np.mean(np.diff(c.steps[turns])))
                detail = (
                    f"it swings by about {ratio:.2f}x with a period of about {fmt_step(round(period))} steps"
                    if c.log
                    else f"it swings by about {ratio:.3g} with a period of about {fmt_step(round(period))} steps"
                )
    if region is None:
        return None
    a, b = region
    mid = (a + b) // 2
    lr_at = lr.at(c.steps, mid)
    msg = (
        f"Oscillating loss over steps {fmt_step(c.steps[a])}-{fmt_step(c.steps[b])}: {detail}"
        f"{_lr_phrase(lr, int(c.steps[mid]), lr_at)}."
    )
    if lr.kind in ("cyclic", "one-cycle"):
        fix = (
            "the swings follow the cyclical schedule; if they undo progress, lower max_lr"
            + (f" to about {fmt_lr(_nice(lr_at * 0.5))}" if lr_at else "")
            + " or switch to a smooth decay (cosine)."
        )
    else:
        fix = (
            "reduce the LR" + (f" to about {fmt_lr(_nice(lr_at * 0.5))}" if lr_at else " by about half")
            + " or use a smoother decay (cosine instead of steps); larger batches also damp it"
            " (guide: smoother decay or reduce learning rate)."
        )
    return Finding(
        rule="oscillating",
        severity="warning",
        message=msg,
        fix=fix,
        evidence={"start_step": int(c.steps[a]), "end_step": int(c.steps[b]), "lr": lr_at, "detail": detail},
        source="diagnose",
    )


def _flat_runs(c: _Curve) -> list[tuple[int, int]]:
    """Maximal index ranges where the trend makes no progress over the next ``L`` points."""
    n = c.n
    t = _smooth(c.z, max(c.w, n // 20 | 1))
    L = max(c.w, n // 10)
    if n <= L + 2:
        return []
    tol = max(4 * c.sigma_trend(), c.size(math.log(1.02)))
    future_best = _forward_min(t, L + 1)
    flat = (t - future_best) < tol
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if flat[i]:
            j = i
            while j + 1 < n and flat[j + 1]:
                j += 1
            runs.append((i, min(j + L, n - 1) if j < n - 1 else j))
            i = j + 1
        else:
            i += 1
    return runs


def _plateau_and_slow(c: _Curve, lr: _LR, steps_all: np.ndarray) -> list[Finding]:
    out: list[Finding] = []
    n = c.n
    t = _smooth(c.z, max(c.w, n // 20 | 1))
    st = c.sigma_trend()
    total = float(t[0] - t[-1])
    no_progress = total < max(6 * st, c.size(math.log(1.03)))
    # slow: the curve has not bent -- still falling at the end about as fast as on average
    i80 = int(0.8 * (n - 1))
    span = float(c.steps[-1] - c.steps[0]) or 1.0
    end_span = float(c.steps[-1] - c.steps[i80]) or 1.0
    end_drop = float(t[i80] - t[-1])
    # the bend is judged on the loss itself: in log-loss a geometric decay is a straight line,
    # and a loss that fell 50x is not slow however straight its log is
    lin = np.exp(t) if c.log else t
    lin_total = float(lin[0] - lin[-1])
    lin_end = float(lin[i80] - lin[-1])
    rate_ratio = (lin_end / end_span) / (lin_total / span) if lin_total > 0 else 0.0
    peak = lr.peak()
    lr_end = lr.at(c.steps, n - 1)
    if no_progress or (rate_ratio > 0.5 and end_drop > 4 * st):
        ref = peak if peak is not None else lr_end
        factor = 10.0 if no_progress else 3.0
        if no_progress:
            msg = (
                f"No progress: the loss went from {_fmt_loss(c, t[0])} to {_fmt_loss(c, t[-1])} over "
                f"{fmt_step(c.steps[-1] - c.steps[0])} steps"
                + (f" with the LR at most {fmt_lr(ref)}" if ref else "")
                + "."
            )
        else:
            msg = (
                f"Slow convergence: the loss is still falling at the end ({_fmt_loss(c, t[i80])} -> "
                f"{_fmt_loss(c, t[-1])} over the last {fmt_step(end_span)} steps, {rate_ratio:.0%} of the "
                "average rate): the curve has not bent"
                + (f"; the LR peaked at {fmt_lr(ref)}" if ref else "")
                + "."
            )
        fix = (
            f"increase the peak LR to about {fmt_lr(_nice(ref * factor))} (try `lrkit find` for the largest "
            "stable LR)"
            if ref
            else f"increase the LR (about {factor:.0f}x; `lrkit find` locates the largest stable LR)"
        )
        if ref and lr_end is not None and peak and lr_end < 0.2 * peak and not no_progress:
            fix += (
                f"; the LR had already decayed to {fmt_lr(lr_end)} while the loss still fell, so also decay "
                "more slowly (a later or longer decay)"
            )
        fix += " (guide: increase learning rate or adjust decay schedule)."
        out.append(
            Finding(
                rule="slow-convergence",
                severity="warning",
                message=msg,
                fix=fix,
                evidence={
                    "start_loss": _loss(c, t[0]),
                    "end_loss": _loss(c, t[-1]),
                    "end_rate_ratio": rate_ratio,
                    "no_progress": no_progress,
                    "lr_peak": ref,
                    "suggested_lr": _nice(ref * factor) if ref else None,
                },
                source="diagnose",
            )
        )
        return out
    # plateaus
    for a, b in _flat_runs(c):
        length = c.steps[b] - c.steps[a]
        if b - a < max(0.25 * n, 10) or a == 0:
            continue
        level = float(np.median(t[a : b + 1]))
        lr_a, lr_b = lr.at(c.steps, a), lr.at(c.steps, b)
        if b < n - 1:
            after = t[b:]
            drop = level - float(after.min())
            if drop < max(8 * st, c.size(math.log(1.1))):
                continue
            dropped_with_lr = (
                lr_b is not None
                and b + 1 < n
                and (lr_next := lr.at(c.steps, min(n - 1, b + max(1, c.w)))) is not None
                and lr_next < 0.6 * lr_b
            )
            severity = "info" if dropped_with_lr else "warning"
            msg = (
                f"Plateau over steps {fmt_step(c.steps[a])}-{fmt_step(c.steps[b])} ({fmt_step(length)} steps) at "
                f"loss {_fmt_loss(c, level)}"
                + (f" with the LR at {fmt_lr(lr_a)}" if lr_a else "")
                + (f"; it fell by {c.ratio(drop):.2f}x afterwards." if c.log else f"; it fell by {drop:.3g} afterwards.")
            )
            if dropped_with_lr:
                fix = "the drop came when the LR was lowered: decaying earlier (or a cosine decay) would save those steps."
            else:
                fix = (
                    "try a cyclical LR (lrkit.schedules.Cyclic"
                    + (f" between {fmt_lr(_nice(lr_a / 4))} and {fmt_lr(lr_a)}" if lr_a else "")
                    + ") or adaptive scheduling (lrkit.PlateauController: halve the LR after a few hundred "
                    "steps without improvement) (guide: cyclical LR or adaptive scheduling)."
                )
        else:
            # flat until the end: converged, or stuck under an LR that never comes down
            constant = lr_a is not None and lr_b is not None and lr_b >= 0.5 * lr_a
            if not constant or b - a < 0.3 * n:
                severity = "info"
            else:
                severity = "warning"
            if lr_a is None:
                severity = "info"
            msg = (
                f"The loss stopped improving from step {fmt_step(c.steps[a])} ({fmt_step(length)} steps at about "
                f"{_fmt_loss(c, level)})"
                + (f" with the LR held near {fmt_lr(lr_b)}" if constant else "")
                + "."
            )
            if constant:
                fix = (
                    f"decay the LR over that stretch (e.g. cosine from {fmt_lr(lr_b)} to {fmt_lr(_nice(lr_b / 10))}), "
                    "or use adaptive scheduling (lrkit.PlateauController) (guide: cyclical LR or adaptive scheduling)."
                )
            else:
                fix = "if the loss should go lower, try a cyclical LR or adaptive scheduling; otherwise the run has converged."
        out.append(
            Finding(
                rule="plateau",
                severity=severity,  # type: ignore[arg-type]
                message=msg,
                fix=fix,
                evidence={
                    "start_step": int(c.steps[a]),
                    "end_step": int(c.steps[b]),
                    "loss": _loss(c, level),
                    "lr": lr_a,
                },
                source="diagnose",
            )
        )
    return out


def _loss(c: _Curve, v: float) -> float:
    return float(math.exp(v)) if c.log else float(v)


def _fmt_loss(c: _Curve, v: float) -> str:
    return f"{_loss(c, v):.4g}"


# -- entry point --------------------------------------------------------------------------------


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

    Returns:
        a :class:`Diagnosis`; ``verdict`` is one of :data:`CLASSES`.
    """
    s = _as_array("steps", steps)
    y = _as_array("losses", losses)
    if s.size != y.size:
        raise ConfigError(
            f"{s.size} steps but {y.size} losses.", field="losses", fix="give one loss per step."
        )
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
    lr, _ = _lr_context(s, lr_arr, schedule, warmup_steps)

    bad = ~np.isfinite(y)
    nonfinite_step = int(s[np.argmax(bad)]) if bad.any() else None
    cut = int(np.argmax(bad)) if bad.any() else s.size
    findings: list[Finding] = []
    summary: dict[str, Any] = {
        "points": int(s.size),
        "first_step": int(s[0]),
        "last_step": int(s[-1]),
        "first_loss": float(y[0]),
        "last_loss": float(y[-1]),
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
                f"{_lr_phrase(lr, nonfinite_step, lr_at)}.",  # type: ignore[arg-type]
                fix=_fix_lower_peak(lr, nonfinite_step, lr_at, factor=0.5, extra="and clip gradients (max_norm=1.0)"),  # type: ignore[arg-type]
                evidence={"nonfinite_step": nonfinite_step, "onset_step": nonfinite_step, "lr_at_onset": lr_at},
                source="diagnose",
            )
        )
        return _finish(findings, summary, lr)
    c = _curve(s[:cut], y[:cut])
    summary.update(
        {
            "best_loss": float(np.min(c.y)),
            "noise": c.sigma,
            "noise_is_log": c.log,
            "lr_peak": lr.peak(),
        }
    )
    div = _diverging(c, nonfinite_step, lr, s)
    if div is not None:
        findings.append(div)
    osc = _oscillating(c, lr)
    spikes = _spikes(c, lr)
    if osc is not None:
        a, b = osc.evidence["start_step"], osc.evidence["end_step"]
        spikes = [f for f in spikes if not (a <= f.evidence["peak_step"] <= b)]
        findings.append(osc)
    if div is not None:
        # the climb into a divergence is not a separate spike
        onset = div.evidence["onset_step"]
        spikes = [f for f in spikes if f.evidence["recovered"] or f.evidence["peak_step"] < onset]
    findings.extend(spikes)
    if div is None and osc is None:
        findings.extend(_plateau_and_slow(c, lr, s))
    return _finish(findings, summary, lr)


def _finish(findings: list[Finding], summary: dict[str, Any], lr: _LR) -> Diagnosis:
    serious = [f for f in findings if f.severity != "info"]
    found = {_RULE_CLASS[f.rule] for f in serious}
    verdict = next((c for c in CLASSES if c in found), "healthy")
    suggested: float | None = None
    for f in serious:
        if _RULE_CLASS[f.rule] != verdict:
            continue
        ev = f.evidence
        if f.rule == "diverging" and ev.get("lr_at_onset"):
            suggested = _nice(ev["lr_at_onset"] * 0.5)
        elif f.rule == "loss-spike" and ev.get("lr"):
            cand = _nice(ev["lr"] * (0.7 if ev["recovered"] else 0.5))
            suggested = cand if suggested is None else min(suggested, cand)
        elif f.rule == "oscillating" and ev.get("lr"):
            suggested = _nice(ev["lr"] * 0.5)
        elif f.rule == "slow-convergence" and ev.get("suggested_lr"):
            suggested = ev["suggested_lr"]
        if suggested is not None and f.rule != "loss-spike":
            break
    order = {c: i for i, c in enumerate(CLASSES)}
    sev = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(findings, key=lambda f: (sev[f.severity], order[_RULE_CLASS[f.rule]]))
    return Diagnosis(verdict=verdict, findings=tuple(findings), suggested_lr=suggested, summary=summary)


class _CallableModule(types.ModuleType):
    """``lrkit.diagnose`` is both this module and the function: importing the submodule binds
    the name on the package, so calling it must still run :func:`diagnose`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Diagnosis:
        return diagnose(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
