"""A loss-trend controller that reacts to real trends, not to noise.

Metrics are taken in blocks of ``window`` finite values ``y_0..y_{n-1}`` (oldest first). At the
end of each block a least-squares line ``y_i ~ a + b * i`` is fitted and its slope is tested
against the scatter around the line:

    b   = sum((i - i_mean) * (y_i - y_mean)) / S_xx,      S_xx = sum((i - i_mean)^2)
    s   = sqrt(sum((y_i - a - b * i)^2) / (n - 2))         (residual standard error)
    t   = b / (s / sqrt(S_xx))                             (slope in standard errors)

``t > t_threshold`` is a rise (the loss gets worse), ``t < -t_threshold`` a fall, anything in
between is noise and resets both counts. Blocks do not overlap, so successive verdicts are
independent tests: with the defaults (``window=20``, ``t_threshold=3``, ``patience=1``) pure
noise triggers a change with probability about ``0.004**2`` per pair of blocks. A NaN or inf
metric is a rise verdict on its own and is never stored. After ``patience + 1`` rises in a row
the scale is multiplied by ``decrease_factor`` (not below ``min_scale``); after ``patience + 1``
falls in a row by ``increase_factor`` (not above ``max_scale``). After a change the block
restarts (it would mix two LRs) and ``cooldown`` further updates are ignored.

The scale multiplies every group's schedule alike, so per-group LR ratios are kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.feedback.base import FeedbackController, check_choice, check_real, check_steps

__all__ = ["AdaptiveController", "trend_t_statistic"]

#: relative size under which a slope or a residual counts as exactly zero (float64 rounding)
_TINY = 1e-12


def trend_t_statistic(values: Any) -> tuple[float, float]:
    """``(slope, t)`` of the least-squares line through ``values`` (per step, in metric units).

    ``t`` is the slope divided by its standard error (``n - 2`` degrees of freedom): ``+inf`` /
    ``-inf`` for values exactly on a sloped line, ``0.0`` for a flat or too short window.
    """
    y = np.asarray(values, dtype=np.float64)
    n = y.size
    if n < 3:
        return 0.0, 0.0
    size = float(np.abs(y).max())
    if size == 0.0:
        return 0.0, 0.0
    # in units of the largest value: squared residuals of tiny (even subnormal) values would
    # underflow to a zero standard error; t does not depend on the unit
    u = y / size
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    sxx = float(x @ x)
    uc = u - u.mean()
    slope = float(x @ uc) / sxx
    if abs(slope) * (n - 1) <= _TINY:
        return 0.0, 0.0
    ssr = float(np.sum((uc - slope * x) ** 2))
    if ssr <= _TINY**2 * n:
        return slope * size, math.copysign(math.inf, slope)
    se = math.sqrt(ssr / (n - 2) / sxx)
    return slope * size, slope / se


class AdaptiveController(FeedbackController):
    """Scale the schedule down while the loss trend rises, up (to ``max_scale``) while it falls.

    Args:
        window: finite metrics per block, each block one trend test (>= 3). The reaction time
            to a real trend is about ``(patience + 1) * window`` updates.
        t_threshold: how many standard errors the slope must be from 0 to count as a trend
            (3.0: about 0.4% one-sided false alarms per block at ``window=20``).
        patience: significant verdicts (or non-finite metrics) in a row tolerated before
            acting (0: act on the first one).
        cooldown: updates ignored after a change (metrics are not recorded).
        decrease_factor: scale multiplier on a rise, in (0, 1) (the guide's 0.8).
        increase_factor: scale multiplier on a fall, >= 1 (the guide's 1.05; 1.0 never
            increases).
        min_scale, max_scale: bounds of the scale (``min_scale <= 1 <= max_scale``); the scale
            starts at 1.0, the schedule's own LR.
        mode: ``"min"`` when lower is better (a loss), ``"max"`` when higher is (accuracy,
            reward): then a falling metric is the bad trend.
        sync, process_group: see :class:`~lrkit.feedback.base.FeedbackController`.
    """

    type_name = "adaptive"
    _state_keys = ("scale", "history", "rises", "falls", "cooldown_left", "num_changes", "last_slope", "last_t")

    def __init__(
        self,
        *,
        window: int = 20,
        t_threshold: float = 3.0,
        patience: int = 1,
        cooldown: int = 0,
        decrease_factor: float = 0.8,
        increase_factor: float = 1.05,
        min_scale: float = 0.01,
        max_scale: float = 1.0,
        mode: str = "min",
        sync: bool = True,
        process_group: Any = None,
    ) -> None:
        super().__init__(sync=sync, process_group=process_group)
        self.window = check_steps("window", window, minimum=3, fix="use at least 3 points (10-50 is typical).")
        self.t_threshold = check_real("t_threshold", t_threshold, low=0.0, fix="use e.g. 3.0.")
        self.patience = check_steps("patience", patience, minimum=0)
        self.cooldown = check_steps("cooldown", cooldown, minimum=0)
        self.decrease_factor = check_real("decrease_factor", decrease_factor, low=0.0, low_open=True)
        if self.decrease_factor >= 1.0:
            raise ConfigError(
                f"must be < 1 (it multiplies the scale when the loss rises), got {decrease_factor!r}.",
                field="decrease_factor",
                value=decrease_factor,
                fix="use e.g. 0.8.",
            )
        self.increase_factor = check_real(
            "increase_factor", increase_factor, low=1.0, fix="use e.g. 1.05, or 1.0 to never increase."
        )
        self.min_scale = check_real("min_scale", min_scale, low=0.0, low_open=True, high=1.0, fix="use e.g. 0.01.")
        self.max_scale = check_real("max_scale", max_scale, low=1.0, fix="use 1.0 to never exceed the schedule.")
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.scale = 1.0
        self.history: list[float] = []
        self.rises = 0
        self.falls = 0
        self.cooldown_left = 0
        self.num_changes = 0
        #: slope and t statistic of the last trend fit (for logging; 0.0 before the window fills)
        self.last_slope = 0.0
        self.last_t = 0.0

    def _decide(self, value: float) -> None:
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            return
        if math.isfinite(value):
            self.history.append(value if self.mode == "min" else -value)
            if len(self.history) < self.window:
                return
            self.last_slope, self.last_t = trend_t_statistic(self.history)
            # blocks do not overlap: each verdict is an independent test, so patience + 1
            # verdicts in a row really are that much less likely to be noise
            self.history.clear()
            verdict = 1 if self.last_t > self.t_threshold else -1 if self.last_t < -self.t_threshold else 0
        else:
            verdict = 1
        if verdict > 0:
            self.rises, self.falls = self.rises + 1, 0
        elif verdict < 0:
            self.rises, self.falls = 0, self.falls + 1
        else:
            self.rises = self.falls = 0
        if self.rises > self.patience:
            self._change(max(self.scale * self.decrease_factor, self.min_scale))
        elif self.falls > self.patience:
            self._change(min(self.scale * self.increase_factor, self.max_scale))

    def _change(self, new: float) -> None:
        self.rises = self.falls = 0
        if new != self.scale:
            self.scale = new
            self.cooldown_left = self.cooldown
            self.num_changes += 1
            # a block that straddles the change mixes two LRs
            self.history.clear()

    def factor(self, group: int = 0) -> float:
        """The current scale (the same for every group)."""
        return self.scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "window": self.window,
            "t_threshold": self.t_threshold,
            "patience": self.patience,
            "cooldown": self.cooldown,
            "decrease_factor": self.decrease_factor,
            "increase_factor": self.increase_factor,
            "min_scale": self.min_scale,
            "max_scale": self.max_scale,
            "mode": self.mode,
            "sync": self.sync,
        }

    def _load(self, state: Mapping[str, Any]) -> None:
        scale = float(state["scale"])
        if not (math.isfinite(scale) and scale > 0):
            raise ConfigError(
                f"the saved scale {scale!r} is not a finite positive number.",
                field="state_dict.scale",
                value=scale,
                fix="load a state written by AdaptiveController.state_dict().",
            )
        self.scale = scale
        self.history = [float(v) for v in state["history"]][-self.window :]
        self.rises = int(state["rises"])
        self.falls = int(state["falls"])
        self.cooldown_left = int(state["cooldown_left"])
        self.num_changes = int(state["num_changes"])
        self.last_slope = float(state.get("last_slope", 0.0))
        self.last_t = float(state.get("last_t", 0.0))
