"""The LR in use at each logged step: from the logged LRs, else from the schedule (the schedule
algebra), else unknown; with the warm-up length and the kind of schedule the advice names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule

__all__ = ["LRInUse", "lr_context"]


@dataclass
class LRInUse:
    lrs: np.ndarray | None  # LR at each logged step (NaN where unknown)
    schedule: Schedule | None
    warmup_steps: int | None
    kind: str  # "constant", "warm-up then decay", "cyclic", ... (for the advice)
    run_end: int = 0  # last logged step + 1
    total_steps: int | None = None  # the run's planned length, when the config or schedule says
    unit: str = "step"  # what a step of the log counts ("step" or "epoch"), for the advice's wording

    @property
    def run_steps(self) -> int:
        """The run length advice is sized for: the planned length if known, else the logged one."""
        return max(self.total_steps or 0, self.run_end)

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
            return self.schedule.maximum(max(self.run_end, 1))
        return None


def lr_context(
    steps: np.ndarray, lrs: np.ndarray | None, schedule: Any, warmup_steps: int | None
) -> tuple[LRInUse, str | None]:
    sched: Schedule | None = None
    name: str | None = None
    total: int | None = None
    if schedule is not None:
        if isinstance(schedule, Schedule):
            sched = schedule
            h = getattr(schedule, "horizon", None)
            total = int(h) if isinstance(h, int | float) and math.isfinite(h) and h > 0 else None
        elif hasattr(schedule, "lr_schedule"):  # a ResolvedConfig: its absolute LR curve
            sched = schedule.lr_schedule
            planned = getattr(schedule, "total_steps", None)
            total = int(planned) if isinstance(planned, int | float) and planned > 0 else None
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
        return LRInUse(None, None, warmup_steps, "unknown", horizon, total), name
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
    return LRInUse(lrs, sched, warmup_steps, kind, horizon, total), name
