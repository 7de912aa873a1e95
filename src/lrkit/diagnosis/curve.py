"""The loss curve as the detectors read it: log-loss when every loss is positive (so sizes are
ratios), its trend (a centred running median over ``w = clip(n / 25, 5, 101)`` points), its
noise ``sigma`` (1.4826 x the median absolute deviation around the trend, or of the second
differences over sqrt(6) when that is larger), the run's start and
end levels (medians of the first ``clip(n / 20, 1, 5)`` and the last ``clip(n / 10, 1, 25)``
points: one pair of numbers that every message quotes) and the log's resolution (the smallest
non-zero step between logged values: 1e-4 for a loss logged to 4 decimals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.diagnosis.signals import rolling_median

__all__ = [
    "LossCurve",
    "edge_counts",
    "edge_levels",
    "level_noise",
    "fmt_loss",
    "loss_value",
    "read_curve",
    "resolution",
]


@dataclass
class LossCurve:
    steps: np.ndarray
    y: np.ndarray  # raw losses (finite)
    z: np.ndarray  # log losses, or the losses when some are <= 0
    log: bool
    w: int
    trend: np.ndarray
    sigma: float
    start: float = float("nan")  # start level (loss units)
    end: float = float("nan")  # end level (loss units)
    resolution: float = 0.0  # smallest non-zero step between logged values (loss units)
    unit: str = "step"  # what a step of the log counts ("step" or "epoch"), for messages

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


def read_curve(steps: np.ndarray, y: np.ndarray, unit: str = "step") -> LossCurve:
    log = bool(np.all(y > 0))
    z = np.log(y) if log else y.astype(np.float64)
    n = z.size
    w = int(np.clip(n // 25, 5, 101))
    if w % 2 == 0:
        w += 1
    trend = rolling_median(z, w)
    resid = z - trend
    mad = float(np.median(np.abs(resid - np.median(resid))))
    if n > 3:
        # residuals around a running median read noise low: one point of each window is its own
        # median (0.72x the true spread at w = 5 on independent noise), and on a monotone stretch
        # the median is the point itself, so a clean decay reads as noiseless. Second differences
        # (variance 6 sigma^2) cancel a local slope and see every point's noise.
        d2 = np.diff(z, 2)
        mad = max(mad, float(np.median(np.abs(d2 - np.median(d2)))) / np.sqrt(6.0))
    floor = 0.005 if log else 0.005 * (float(np.median(np.abs(y))) or 1.0)
    start, end = edge_levels(y)
    return LossCurve(
        steps=steps,
        y=y,
        z=z,
        log=log,
        w=w,
        trend=trend,
        sigma=max(1.4826 * mad, floor),
        start=start,
        end=end,
        resolution=resolution(y),
        unit=unit,
    )


def edge_levels(y: np.ndarray) -> tuple[float, float]:
    """Start and end level of a run: medians of its first ``clip(n / 20, 1, 5)`` and last
    ``clip(n / 10, 1, 25)`` finite points (a single noisy point does not move them)."""
    y = y[np.isfinite(y)]
    if y.size == 0:
        return float("nan"), float("nan")
    k0, k1 = edge_counts(y.size)
    return float(np.median(y[:k0])), float(np.median(y[-k1:]))


def edge_counts(n: int) -> tuple[int, int]:
    """How many points the start and end levels of an ``n``-point run are medians of."""
    return int(np.clip(n // 20, 1, 5)), int(np.clip(n // 10, 1, 25))


def level_noise(c: LossCurve, k: int) -> float:
    """Standard error (z units) of a median of ``k`` points: ``1.2533 sigma / sqrt(k)``."""
    return 1.2533 * c.sigma / math.sqrt(max(k, 1))


def resolution(y: np.ndarray) -> float:
    """The smallest non-zero difference between logged values (0 when all are equal)."""
    u = np.unique(y[np.isfinite(y)])
    d = np.diff(u)
    d = d[d > 0]
    return float(d.min()) if d.size else 0.0


def loss_value(c: LossCurve, v: float) -> float:
    return float(math.exp(v)) if c.log else float(v)


def fmt_loss(c: LossCurve, v: float) -> str:
    return f"{loss_value(c, v):.4g}"
