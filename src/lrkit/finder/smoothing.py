"""Smoothing of range-test losses: the online EMA and the offline zero-phase smoother.

* :func:`ema` is the bias-corrected exponential moving average used while the test runs
  (and reported as ``FinderResult.losses``): ``m_k = beta*m_{k-1} + (1-beta)*x_k``,
  ``s_k = m_k / (1 - beta**(k+1))``. Without the correction the first values are pulled
  towards 0, which fakes a descent at the start of every curve.
* :func:`local_linear` is what the suggestion reads: a running median (kills single-batch
  outliers) followed by a Gaussian-weighted local-linear fit in log LR. It is non-causal,
  so it does not shift the curve towards larger LRs the way an EMA of the same strength
  does, and its local-linear form has no boundary bias at either end of the curve.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ema", "EMA", "running_median", "local_linear", "local_linear_operator", "noise_sigma", "difference_noise"]


def ema(values: np.ndarray, beta: float) -> np.ndarray:
    """Bias-corrected EMA of ``values`` (``beta`` in ``[0, 1)``; 0 returns a copy)."""
    return EMA(beta).update(np.asarray(values, dtype=np.float64))


class EMA:
    """Streaming form of :func:`ema` (fed a block of values at a time)."""

    def __init__(self, beta: float) -> None:
        self.beta = beta
        self.m = 0.0
        self.k = 0

    def update(self, values: np.ndarray) -> np.ndarray:
        out = np.empty(len(values))
        for i, v in enumerate(values):
            self.m = self.beta * self.m + (1.0 - self.beta) * float(v)
            self.k += 1
            out[i] = self.value
        return out

    @property
    def value(self) -> float:
        """The bias-corrected average of everything fed so far (NaN before the first value)."""
        return self.m / (1.0 - self.beta**self.k) if self.k else float("nan")


def running_median(y: np.ndarray, width: int) -> np.ndarray:
    """Median over a centred window of ``width`` points (odd), shrunk at the ends."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    half = max(width, 1) // 2
    if half == 0 or n < 3:
        return y.copy()
    padded = np.pad(y, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return np.partition(windows, half, axis=1)[:, half]


def local_linear_operator(x: np.ndarray, bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """Matrices ``(A, B)`` of the Gaussian-kernel local-linear smoother on the points ``x``:
    ``A @ y`` are the fitted values and ``B @ y`` the fitted slopes of any ``y``.

    At ``x_i`` the smoother fits ``a + b (x - x_i)`` by weighted least squares with weights
    ``w_ij = exp(-((x_j - x_i) / bandwidth)**2 / 2)``; being linear in ``y``, it is a matrix,
    computed once and reused for every bootstrap replica of a curve.
    """
    x = np.asarray(x, dtype=np.float64)
    d = x[None, :] - x[:, None]  # d[i, j] = x_j - x_i
    w = np.exp(-0.5 * (d / bandwidth) ** 2)
    s0 = w.sum(1, keepdims=True)
    s1 = (w * d).sum(1, keepdims=True)
    s2 = (w * d * d).sum(1, keepdims=True)
    det = s0 * s2 - s1 * s1
    safe = np.abs(det) > 1e-300
    det = np.where(safe, det, 1.0)
    A = np.where(safe, w * (s2 - s1 * d) / det, w / s0)  # a lone point: the weighted mean
    B = np.where(safe, w * (s0 * d - s1) / det, 0.0)
    return A, B


def local_linear(x: np.ndarray, y: np.ndarray, bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-kernel local-linear regression of ``y`` on ``x``: value and slope at each x
    (see :func:`local_linear_operator`)."""
    A, B = local_linear_operator(x, bandwidth)
    y = np.asarray(y, dtype=np.float64)
    return A @ y, B @ y


def noise_sigma(residuals: np.ndarray) -> float:
    """Robust standard deviation (1.4826 * median absolute deviation)."""
    r = np.asarray(residuals, dtype=np.float64)
    if r.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(r - np.median(r))))


def difference_noise(values: np.ndarray) -> float:
    """Noise of one value around a slow trend: :func:`noise_sigma` of successive differences over
    ``sqrt(2)`` (two successive values differ by ``sqrt(2)`` times the noise, whatever the trend
    under them); 0 under 2 values."""
    return noise_sigma(np.diff(np.asarray(values, dtype=np.float64))) / math.sqrt(2)
