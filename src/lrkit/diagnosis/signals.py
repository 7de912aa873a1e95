"""Window statistics on a loss series: running medians (centred, causal, and a cheap one for
wide windows), a forward running minimum and a zig-zag turning-point filter. Each is
vectorized or bounded in memory so a million-step log stays cheap.
"""

from __future__ import annotations

import numpy as np

__all__ = ["causal_median", "forward_medians", "forward_min", "reversals", "rolling_median", "wide_rolling_median"]

_CHUNK_ELEMENTS = 1 << 22  # windows evaluated per block: bounded memory on million-step logs


def forward_medians(x: np.ndarray, w: int) -> np.ndarray:
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


def rolling_median(z: np.ndarray, w: int) -> np.ndarray:
    """Centred running median over ``w`` points (fewer at the edges)."""
    n = z.size
    w = max(1, min(w, n))
    if w == 1:
        return z.copy()
    half = w // 2
    out = np.empty(n)
    inner = forward_medians(z, w)  # window [i - half, i - half + w) for i = half .. n - w + half
    out[half : half + inner.size] = inner
    for i in range(half):
        out[i] = np.median(z[: i - half + w])
    for i in range(half + inner.size, n):
        out[i] = np.median(z[i - half :])
    return out


def wide_rolling_median(z: np.ndarray, w: int) -> np.ndarray:
    """:func:`rolling_median` for wide windows: exact at every ``w // 20``-th point and linearly
    interpolated between (a wide median moves slowly), so the cost stays ~``20 n``."""
    n = z.size
    if w <= 151 or n <= w:
        return rolling_median(z, w)
    half = w // 2
    idx = np.unique(np.append(np.arange(0, n, max(1, w // 20)), n - 1))
    vals = np.array([np.median(z[max(0, i - half) : i - half + w]) for i in idx])
    return np.interp(np.arange(n), idx, vals)


def causal_median(z: np.ndarray, w: int) -> np.ndarray:
    """Median of the ``w`` points *before* each point (NaN for the first three)."""
    n = z.size
    out = np.full(n, np.nan)
    for i in range(3, min(w, n)):
        out[i] = np.median(z[:i])
    if n > w >= 3:
        out[w:] = forward_medians(z[:-1], w)
    return out


def forward_min(x: np.ndarray, s: int) -> np.ndarray:
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


def reversals(s: np.ndarray, h: float) -> list[int]:
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
