"""The LR ramp of a range test, as an lrkit schedule.

The ramp is a factor curve ``f(k)`` with ``f(0) = 1`` and ``f(num_steps - 1) = end / start``;
group ``g`` trains update ``k`` at ``start_g * f(k)`` where ``start_g = start_lr * r_g`` and
``r_g = lr_g / lr_ref`` is the group's LR relative to the reference group (the first with a
non-zero LR). So per-group LR ratios (a smaller LR for a backbone, 0 for a frozen group) hold
throughout the test, and the reported LR is the reference group's.

* ``mode="exp"``: ``Exponential(start=1, gamma=end/start, decay_steps=num_steps-1)``, i.e.
  ``f(k) = (end/start) ** (k / (num_steps-1))``: evenly spaced in log LR.
* ``mode="linear"``: ``Linear(start=1, end=end/start, steps=num_steps-1)``: evenly spaced in LR.
"""

from __future__ import annotations

import math

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules import Exponential, Linear, Schedule

__all__ = ["ramp_schedule", "ramp_lrs", "MODES"]

MODES = ("exp", "linear")


def check_ramp(start_lr: float, end_lr: float, num_steps: int, mode: str) -> None:
    """ConfigError naming the bad argument, if any."""
    for name, v in (("start_lr", start_lr), ("end_lr", end_lr)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise ConfigError(
                f"must be a finite number > 0, got {v!r}.", field=name, value=v, fix="use e.g. 1e-7 and 10."
            )
    if end_lr <= start_lr:
        raise ConfigError(
            f"must be larger than start_lr ({start_lr:g}), got {end_lr:g}.",
            field="end_lr",
            value=end_lr,
            fix="the test ramps the LR up: use e.g. start_lr=1e-7, end_lr=10.",
        )
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 5:
        raise ConfigError(
            f"must be an int >= 5, got {num_steps!r}.", field="num_steps", value=num_steps, fix="use 100 to 200 steps."
        )
    if mode not in MODES:
        raise ConfigError(
            f"unknown ramp mode {mode!r}.", field="mode", value=mode, fix="use 'exp' (default) or 'linear'."
        )


def ramp_schedule(start_lr: float, end_lr: float, num_steps: int, mode: str = "exp") -> Schedule:
    """The factor curve of the ramp (``f(0) = 1``, ``f(num_steps-1) = end_lr/start_lr``)."""
    check_ramp(start_lr, end_lr, num_steps, mode)
    ratio = end_lr / start_lr
    if mode == "exp":
        return Exponential(start=1.0, gamma=ratio, decay_steps=num_steps - 1)
    return Linear(start=1.0, end=ratio, steps=num_steps - 1)


def ramp_lrs(start_lr: float, end_lr: float, num_steps: int, mode: str = "exp") -> np.ndarray:
    """Reference-group LR of each update ``k = 0 .. num_steps-1``."""
    return start_lr * ramp_schedule(start_lr, end_lr, num_steps, mode)(np.arange(num_steps))
