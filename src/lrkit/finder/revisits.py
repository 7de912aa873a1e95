"""How many times the range test saw each training example (the data's size relative to the search).

``data`` may be any iterable (a plain generator has no ``len``), so the examples are counted
as they pass: each batch's first tensor (``batch``, ``batch[0]``, or the first value of a
dict; dim 0 = examples) gets one fingerprint per example, the weighted sum of its first
:data:`FEATURES` values, computed on the batch's device (no host read until the end). The
number of *passes* is ``examples drawn / distinct fingerprints``: about 1 on a large data set,
``updates * batch size / N`` on a set of ``N`` examples the test went round many times. A
batch without a tensor is not counted; with no counted batch ``passes`` is ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from lrkit.finder.batches import first_tensor

__all__ = ["ExampleCounter", "example_prints"]

#: values of each example that enter its fingerprint (a cap on the cost for large inputs)
FEATURES = 64


def _weights(cols: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A fixed irregular weight per value (0.5-1.5; golden-ratio steps, so no two coincide)."""
    return (torch.arange(cols, device=device, dtype=dtype) * 0.6180339887498949) % 1.0 + 0.5


def _fingerprints(x: torch.Tensor, cache: dict[Any, torch.Tensor] | None = None) -> torch.Tensor:
    """One float per example (row): a fixed irregular weighting of its first values; equal rows
    give equal fingerprints whatever batch they come in (a row-wise sum, not a matmul). The
    weights are built once per shape and device (building them cost 8x the sum)."""
    dtype = torch.float32 if x.device.type == "mps" else torch.float64  # MPS has no float64
    rows = x.detach().reshape(x.shape[0], -1)[:, :FEATURES].to(dtype)
    key = (rows.shape[1], rows.device, dtype)
    w = cache.get(key) if cache is not None else None
    if w is None:
        w = _weights(rows.shape[1], rows.device, dtype)
        if cache is not None:
            cache[key] = w
    return (rows * w).sum(dim=1)


def example_prints(batch: Any, cache: dict[Any, torch.Tensor] | None = None) -> torch.Tensor | None:
    """One fingerprint per example of ``batch`` (on its device), or ``None`` without a tensor."""
    x = first_tensor(batch)
    return None if x is None else _fingerprints(x, cache)


class ExampleCounter:
    """An iterable over ``data`` that fingerprints the examples it yields (see module doc)."""

    def __init__(self, data: Iterable[Any]) -> None:
        self.data = data
        self._prints: list[torch.Tensor] = []
        self._weights: dict[Any, torch.Tensor] = {}

    def __iter__(self) -> Iterator[Any]:
        return self._counted(iter(self.data))

    def _counted(self, it: Iterator[Any]) -> Iterator[Any]:
        for batch in it:
            fp = example_prints(batch, self._weights)
            if fp is not None:
                self._prints.append(fp)
            yield batch

    def prints(self) -> np.ndarray:
        """The finite fingerprints of every example drawn so far (repeats included)."""
        if not self._prints:
            return np.zeros(0)
        fp = torch.cat([p.to("cpu", torch.float64) for p in self._prints]).numpy()
        return fp[np.isfinite(fp)]

    def passes(self) -> float | None:
        """Examples drawn / distinct examples (``None`` when no batch had a tensor)."""
        if not self._prints:
            return None
        fp = self.prints()
        distinct = len(np.unique(fp))
        return float(len(fp) / distinct) if distinct else None
