"""The common shapes, built from the families: warm-up then cosine, linear or constant.

Each takes ``total_steps`` (the run length in optimizer updates) and ``warmup_steps`` and
returns a factor schedule (peak ``1.0`` unless ``peak`` is given) that reaches its floor at
step ``total_steps`` and stays there.
"""

from __future__ import annotations

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, check_arguments, check_real, check_steps
from lrkit.schedules.combinators import Warmup
from lrkit.schedules.primitives import Constant, Cosine, Linear

__all__ = ["warmup_cosine", "warmup_linear", "warmup_constant"]


def _split(total_steps: int, warmup_steps: int) -> tuple[int, int]:
    total = check_steps("total_steps", total_steps, minimum=1)
    warm = check_steps("warmup_steps", warmup_steps)
    if warm > total:
        raise ConfigError(
            f"warm-up of {warm} steps is longer than the run of {total}.",
            field="warmup_steps",
            value=warm,
            fix=f"use warmup_steps <= total_steps (5-10% of the run is typical: {max(1, total // 20)}).",
        )
    return total, warm


def _end(peak: float, min_value: float | None, min_ratio: float | None) -> float:
    if min_value is not None and min_ratio is not None:
        raise ConfigError(
            "give min_value or min_ratio, not both.", field="min_value", value=min_value, fix="drop one of them."
        )
    if min_ratio is not None:
        return peak * check_real("min_ratio", min_ratio, low=0.0, high=1.0)
    end = check_real("min_value", min_value or 0.0, low=0.0)
    if end > peak:
        raise ConfigError(
            f"floor {end:g} is above the peak {peak:g}.",
            field="min_value",
            value=end,
            fix="use a floor below the peak (often 10% of it, or 0).",
        )
    return end


@check_arguments
def warmup_cosine(
    total_steps: int,
    warmup_steps: int = 0,
    *,
    peak: float = 1.0,
    min_value: float | None = None,
    min_ratio: float | None = None,
) -> Schedule:
    """lrkit warm-up over ``warmup_steps``, then cosine from ``peak`` to the floor at
    ``total_steps``: ``Warmup(Cosine(peak, total_steps - warmup_steps, end), warmup_steps,
    target=peak)``. ``warmup_steps == total_steps`` warms up to ``peak`` and then holds the
    floor (the decay has no steps), never a division by zero."""
    total, warm = _split(total_steps, warmup_steps)
    peak = check_real("peak", peak, low=0.0)
    return Warmup(Cosine(peak=peak, steps=total - warm, end=_end(peak, min_value, min_ratio)), warm, target=peak)


@check_arguments
def warmup_linear(
    total_steps: int,
    warmup_steps: int = 0,
    *,
    peak: float = 1.0,
    min_value: float | None = None,
    min_ratio: float | None = None,
) -> Schedule:
    """lrkit warm-up, then a straight line from ``peak`` to the floor at ``total_steps``."""
    total, warm = _split(total_steps, warmup_steps)
    peak = check_real("peak", peak, low=0.0)
    return Warmup(Linear(start=peak, end=_end(peak, min_value, min_ratio), steps=total - warm), warm, target=peak)


@check_arguments
def warmup_constant(warmup_steps: int = 0, *, peak: float = 1.0) -> Schedule:
    """lrkit warm-up, then ``peak`` for ever."""
    warm = check_steps("warmup_steps", warmup_steps)
    return Warmup(Constant(check_real("peak", peak, low=0.0)), warm)
