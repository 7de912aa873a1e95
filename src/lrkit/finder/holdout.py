"""A held-out split the finder carves out of a tiny training set itself (no ``val_data`` given).

Why: on a data set the range test went round many times (``passes >= REVISIT_PASSES``), the
confirmation trials' training loss cannot tell a peak that learns the task from one that
memorises it -- both fit the few examples, and label noise is memorised fastest at the
highest LR that survives. Judged by a held-out loss the trials see the difference (on the
benchmark, ``val_data=`` sank no run where the training loss sank several), so where the user
gave none the finder sets examples aside:

* the examples are the distinct per-example fingerprints the range test counted
  (:mod:`lrkit.finder.revisits`); a fixed-seed draw of :data:`HOLDOUT_FRACTION` of them is
  *held out* (equal rows share a fingerprint, so a duplicated example is never on both sides);
* the trials train on every batch with the held-out rows removed (a batch left with fewer than
  two rows is skipped: BatchNorm cannot train on one); telling them apart costs one host read
  per batch, on a data set small enough to be split;
* the held-out rows, gathered from one more read of the data (no loss is computed), are
  regrouped into batches of the data's batch size and judge the trials, exactly like
  ``val_data``.

Only batches the finder can cut by rows are split: a tensor, or tuples, lists, named tuples and
mappings of tensors that all share the first tensor's dim 0 (the examples). Anything else (a
string list, a 0-d tensor, a custom batch object) leaves the trials as they were.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch

from lrkit.finder.batches import map_batch
from lrkit.finder.revisits import example_prints

__all__ = ["HOLDOUT_FRACTION", "Split", "carve"]

#: share of the distinct examples held out of the trials to judge them
HOLDOUT_FRACTION = 0.25
#: fewest examples on either side of a split (a smaller set is not split)
MIN_HELD, MIN_KEPT = 6, 12
#: reads of the data (in units of its estimated length) spent looking for the held-out rows
_COLLECT_PASSES = 3


class _Uncuttable(Exception):
    """A batch whose parts cannot all be cut along the examples' dimension."""


def take_rows(batch: Any, rows: torch.Tensor, n: int) -> Any:
    """``batch`` restricted to ``rows`` (a bool mask or index tensor over its ``n`` examples),
    keeping its container types; raises :class:`_Uncuttable` for any part that is not a tensor
    with dim 0 of length ``n``."""

    def cut(v: Any) -> Any:
        if not isinstance(v, torch.Tensor) or v.ndim == 0 or v.shape[0] != n:
            raise _Uncuttable
        return v[rows.to(v.device)]

    return map_batch(batch, cut)


def _cat(parts: list[Any]) -> Any:
    """Concatenate same-structured cut batches along dim 0 (raises on any mismatch)."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts, dim=0)
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(_cat([p[i] for p in parts]) for i in range(len(first))))
    if isinstance(first, list | tuple):
        return type(first)(_cat([p[i] for p in parts]) for i in range(len(first)))
    if isinstance(first, Mapping):
        joined = {k: _cat([p[k] for p in parts]) for k in first}
        return joined if type(first) is dict else cast(Any, type(first))(joined)
    raise _Uncuttable


@dataclass(frozen=True)
class Split:
    """The examples held out of the trials (their fingerprints) and their batches."""

    held: np.ndarray  # sorted fingerprints of the held-out examples
    val: list[Any]  # the held-out rows, regrouped into batches
    examples: int  # distinct examples the range test counted
    held_found: int  # held-out examples gathered into ``val``
    # the fingerprint weights and ``held`` on each device, built once (not per batch)
    _on_device: dict[Any, torch.Tensor] = field(default_factory=dict, compare=False, repr=False)

    def _mask(self, batch: Any) -> tuple[torch.Tensor, int] | None:
        fp = example_prints(batch, self._on_device)
        if fp is None:
            return None
        key = ("held", fp.device, fp.dtype)
        held = self._on_device.get(key)
        if held is None:
            held = self._on_device[key] = torch.as_tensor(self.held, device=fp.device, dtype=fp.dtype)
        return torch.isin(fp, held), int(fp.shape[0])

    def trained_on(self, data: Iterable[Any]) -> Iterable[Any]:
        """``data`` as the trials read it: each pass a fresh pass of ``data`` without the held-out rows."""
        return _Without(self, data)

    def train_batches(self, batches: Iterable[Any]) -> Iterator[Any]:
        """``batches`` without their held-out rows (a batch left with under two rows is skipped)."""
        for batch in batches:
            m = self._mask(batch)
            if m is None:
                yield batch
                continue
            held, n = m
            kept = int(n - int(held.sum()))
            if kept == n:
                yield batch
            elif kept >= 2:
                yield take_rows(batch, ~held, n)


class _Without:
    def __init__(self, split: Split, data: Iterable[Any]) -> None:
        self.split, self.data = split, data

    def __iter__(self) -> Iterator[Any]:
        return self.split.train_batches(self.data)


def carve(prints: np.ndarray, batches: Iterator[Any], *, fraction: float = HOLDOUT_FRACTION) -> Split | None:
    """Hold out ``fraction`` of the distinct examples ``prints`` (the range test's count) and
    gather their rows from ``batches`` (the data read again); ``None`` when the set is too small
    to split (:data:`MIN_HELD`, :data:`MIN_KEPT`), a batch cannot be cut by rows, or too few
    held-out rows turn up within :data:`_COLLECT_PASSES` reads of the data."""
    distinct = np.unique(prints[np.isfinite(prints)])
    n_held = round(fraction * len(distinct))
    if n_held < MIN_HELD or len(distinct) - n_held < MIN_KEPT:
        return None
    held = np.sort(np.random.default_rng(0).choice(distinct, size=n_held, replace=False))
    found: dict[float, Any] = {}
    rows_per_batch: list[int] = []
    limit = None
    for read, batch in enumerate(batches, 1):
        fp = example_prints(batch)
        if fp is None:
            return None
        values = fp.cpu().numpy()
        n = len(values)
        rows_per_batch.append(n)
        new = [i for i, v in enumerate(values) if v not in found and _member(held, v)]
        try:
            if read == 1:
                take_rows(batch, torch.ones(n, dtype=torch.bool), n)  # the structure is cut-able at all
            if new:
                picked = take_rows(batch, torch.as_tensor(new, dtype=torch.long), n)
                for j, i in enumerate(new):
                    found[float(values[i])] = take_rows(picked, torch.as_tensor([j]), len(new))
        except _Uncuttable:
            return None
        if len(found) == n_held:
            break
        if limit is None:
            limit = _COLLECT_PASSES * math.ceil(len(distinct) / max(1, n)) + 1
        if read >= limit:
            break
    if len(found) < MIN_HELD:
        return None
    size = int(np.median(rows_per_batch))
    rows = [found[k] for k in sorted(found)]
    return Split(held=held, val=_regroup(rows, size), examples=len(distinct), held_found=len(found))


def _member(sorted_values: np.ndarray, v: float) -> bool:
    i = int(np.searchsorted(sorted_values, v))
    return i < len(sorted_values) and sorted_values[i] == v


def _regroup(rows: list[Any], size: int) -> list[Any]:
    """One-row batches joined into batches of ``size`` rows (kept one row each where their
    shapes differ, e.g. sequences padded per batch)."""
    groups = [rows[i : i + size] for i in range(0, len(rows), size)]
    try:
        return [_cat(g) for g in groups]
    except (RuntimeError, _Uncuttable, KeyError, IndexError, TypeError):
        return rows
