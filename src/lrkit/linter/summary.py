"""What a resolved config does over a run, as plain data: key steps, summary figures, a sparkline.

:func:`summarize_config` is what ``lrkit show`` prints (``--json`` prints it as is) and what a
Python caller gets for the same config::

    from lrkit.config import load_config
    from lrkit.linter.summary import summarize_config

    report = summarize_config(load_config("run.yaml"), 20_000)
    report["summary"]["warmup_steps"], report["sparkline"]

Step ``k`` is the LR of update ``k`` (``k`` optimizer updates already taken); every LR is the
absolute LR, ``peak_lr * schedule(k)``, read from the same resolved curve the linter reads.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from lrkit.linter.curve import Curve, evaluate_curve, warmup_from_curve
from lrkit.linter.structure import warmup_steps_of
from lrkit.schedules.base import Schedule

if TYPE_CHECKING:  # the linter reads configs, it does not import the readers
    from lrkit.config.resolved import ResolvedConfig

__all__ = ["summarize_config", "key_steps", "sparkline", "auto_every", "SPARK_WIDTH", "MAX_BOUNDARY_ROWS"]

#: columns of the sparkline (fixed, so output does not depend on the terminal)
SPARK_WIDTH = 60
_SPARKS = "▁▂▃▄▅▆▇█"
#: key steps list the phase boundaries when there are at most this many (else only count them)
MAX_BOUNDARY_ROWS = 40
#: phase boundaries added to the sampled curve (a step-decay run has one per few updates)
_MAX_EXTRA_BOUNDARIES = 10_000


def key_steps(
    schedule: Schedule, total: int, warmup: int, every: int | None
) -> tuple[list[tuple[int, list[str]]], int]:
    """Steps worth listing, each with its notes, and the number of phase boundaries left out.

    The first update, the end of a warm-up of ``warmup`` updates, every phase boundary (when
    there are at most :data:`MAX_BOUNDARY_ROWS`), every ``every``-th step (``0``/``None``: none)
    and the last update ``total - 1``.
    """
    notes: dict[int, list[str]] = {}

    def note(step: int, text: str) -> None:
        if 0 <= step < total:
            notes.setdefault(step, [])
            if text not in notes[step]:
                notes[step].append(text)

    note(0, "first update")
    if 0 < warmup < total:
        note(warmup, "warm-up ended")
    bounds = [b for b in schedule.phase_starts(total - 1) if 0 < b < total]
    listed = bounds if len(bounds) <= MAX_BOUNDARY_ROWS else []  # dense boundaries (step decay) drown the table
    for b in listed:
        note(b, "phase boundary")
    if every:
        for s in range(every, total, every):
            notes.setdefault(s, [])
    note(total - 1, "last update")
    return sorted(notes.items()), len(bounds) - len(listed)


def auto_every(total: int) -> int:
    """A round step about a tenth of the run: the smallest of 1, 2, 5 or 10 times a power of ten
    that is at least ``max(total / 10, 1)``."""
    raw = max(total / 10, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return int(m * mag)
    return int(10 * mag)  # pragma: no cover


def sparkline(steps: np.ndarray, values: np.ndarray, total: int, top: float, width: int = SPARK_WIDTH) -> str:
    """``width`` block characters, each the mean LR of an equal share of the run, scaled to
    ``top`` (the peak). ``steps``/``values`` may be a sample of the run; an unsampled share shows
    the lowest block."""
    width = max(1, min(width, total))
    edges = np.linspace(0, total, width + 1)
    idx = np.clip(np.searchsorted(edges, steps, side="right") - 1, 0, width - 1)
    sums = np.bincount(idx, weights=values, minlength=width)
    counts = np.bincount(idx, minlength=width)
    means = np.divide(sums, counts, out=np.zeros(width), where=counts > 0)
    if top <= 0:
        return _SPARKS[0] * width
    levels = np.clip(np.round(means / top * (len(_SPARKS) - 1)), 0, len(_SPARKS) - 1).astype(int)
    return "".join(_SPARKS[i] for i in levels)


def _declared_horizon(cfg: ResolvedConfig) -> float | None:
    value = (cfg.context or {}).get("declared_horizon")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _warmup(cfg: ResolvedConfig, curve: Curve, peak: float) -> int:
    """From the config's structure, else (a fully sampled curve only) from the curve's rise."""
    warm = warmup_steps_of(cfg.schedule, cfg.context)
    if warm is None:
        warm = warmup_from_curve(curve.values if curve.full else np.array([]), peak)
    return int(warm)


def _lrs_at(cfg: ResolvedConfig, curve: Curve, steps: np.ndarray) -> np.ndarray:
    """Absolute LRs at ``steps``: the curve's value where it was sampled, else the schedule's."""
    s, v = curve.steps, curve.values
    pos = np.searchsorted(s, steps)
    at = np.minimum(pos, s.size - 1)
    exact = (pos < s.size) & (s[at] == steps)
    return np.where(exact, v[at], np.asarray(cfg.lr_schedule(steps), dtype=np.float64))


def _figures(cfg: ResolvedConfig, curve: Curve, total: int, warm: int) -> dict[str, Any]:
    v, s, w = curve.values, curve.steps, curve.weights
    peak = float(v.max())
    low_i = int(np.argmin(v))
    area = float(np.sum(v * w))
    horizon = cfg.schedule.horizon
    final = float(v[-1]) if int(s[-1]) == total - 1 else float(cfg.lr_schedule(total - 1))
    return {
        "peak": peak,
        "peak_step": int(s[int(np.argmax(v))]),
        "final": final,
        "minimum": float(v[low_i]),
        "minimum_step": int(s[low_i]),
        "warmup_steps": warm,
        "warmup_fraction": warm / total,
        "share_at_90pct_of_peak": float(np.sum(w[v >= 0.9 * peak]) / total) if peak > 0 else 0.0,
        "area": area,
        "mean_lr": area / total,
        "horizon": None if horizon is None else float(horizon),
        "declared_horizon": _declared_horizon(cfg),
    }


def summarize_config(cfg: ResolvedConfig, total_steps: int, *, every: int | None = None) -> dict[str, Any]:
    """Key steps, summary figures and sparkline of ``cfg`` over a run of ``total_steps`` updates.

    Args:
        cfg: a config read by :func:`lrkit.config.load_config` (or any reader).
        total_steps: run length in optimizer updates (``>= 1``).
        every: also list every ``every``-th step; ``None``: about a tenth of the run
            (:func:`auto_every`), as ``lrkit show`` does; ``0``: none.

    Returns:
        plain data (what ``lrkit show --json`` prints, less ``findings``): ``source``, ``format``,
        ``total_steps``, ``peak_lr`` (the base LR), ``key_steps`` (``step``, ``lr``,
        ``fraction_of_peak`` = lr / curve peak, ``notes``), ``boundaries_not_listed``,
        ``summary`` (``peak``, ``final``, ``minimum`` and their steps, ``warmup_steps``,
        ``area`` = sum of the LR over the updates, ``mean_lr`` = area / total_steps,
        ``share_at_90pct_of_peak``, ``horizon``, ``declared_horizon``) and ``sparkline``.
    """
    total = int(total_steps)
    step = auto_every(total) if every is None else every
    schedule, scale = cfg.schedule, float(cfg.peak_lr)
    bounds_all = schedule.phase_starts(total - 1)
    extra = bounds_all[:_MAX_EXTRA_BOUNDARIES] if len(bounds_all) else ()
    curve = evaluate_curve(schedule, total=total, scale=scale, extra=extra)
    peak = float(curve.values.max())
    warm = _warmup(cfg, curve, peak)
    rows, hidden = key_steps(schedule, total, warm, step)
    row_values = _lrs_at(cfg, curve, np.asarray([r for r, _ in rows], dtype=np.int64))
    return {
        "source": cfg.source,
        "format": cfg.format,
        "total_steps": total,
        "peak_lr": scale,
        "key_steps": [
            {
                "step": int(k),
                "lr": float(lr),
                "fraction_of_peak": float(lr / peak) if peak > 0 else 0.0,
                "notes": nts,
            }
            for (k, nts), lr in zip(rows, row_values, strict=True)
        ],
        "boundaries_not_listed": hidden,
        "summary": _figures(cfg, curve, total, warm),
        "sparkline": sparkline(curve.steps, curve.values, total, peak),
    }
