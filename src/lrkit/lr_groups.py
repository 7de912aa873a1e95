"""The one place that computes and writes the learning rates of an optimizer's parameter groups.

Every lrkit component that sets LRs (:class:`lrkit.Scheduler`, the finder, the guide's
``AdaptiveLearningRate``) goes through :func:`write_lrs_at` (:func:`write_lrs` for a plain list of
LRs), so a tensor LR (``lr=torch.tensor(...)``, used by ``torch.compile``d optimizers) is always
updated in place and never replaced by a float.
:func:`compute_lrs` is the scheduler's formula, for every group and step at once.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from lrkit.schedules.base import Schedule

__all__ = ["as_float_lr", "compute_lrs", "read_lrs", "write_lrs", "write_lrs_at"]


def write_lrs(param_groups: Sequence[MutableMapping[str, Any]], lrs: Iterable[float]) -> None:
    """Set ``group["lr"] = lr`` for each group and LR, pairwise (through :func:`write_lrs_at`)."""
    write_lrs_at(param_groups, [(lr,) for lr in lrs], 0)


def write_lrs_at(
    param_groups: Sequence[MutableMapping[str, Any]], columns: Sequence[Sequence[float]], index: int
) -> None:
    """Set ``group["lr"] = columns[g][index]`` for each group ``g``: the one LR write.

    A float LR is replaced; a tensor LR (anything with ``fill_``) is filled in place (``fill_``), so code that holds the
    tensor (a compiled optimizer step) sees the new value and its dtype and device are kept.
    Columns, not one row of LRs, because this is the scheduler's hot path: its table holds one list of LRs per group
    (``columns[g][k]``, group ``g`` at the block's ``k``-th step), and building a row per step (or tuple rows for a
    whole block) cost more than the rest of a step. Groups and columns are paired like ``zip`` pairs them (the
    shorter ends the write: a group added after the columns were made keeps its LR), but by a counter: a ``zip``
    object and its iterators cost a noticeable share of a step, as would checking the lengths.
    """
    g = 0
    for column in columns:
        try:
            group = param_groups[g]
        except IndexError:
            return
        g += 1  # noqa: SIM113 - enumerate's object would cost a share of a step, like zip's
        current = group["lr"]
        # a float LR (the common case) costs one class check; a tensor is told by its fill_, so
        # this module does not import torch (lrkit.feedback must not)
        if current.__class__ is not float and hasattr(current, "fill_"):
            current.fill_(column[index])
        else:
            group["lr"] = column[index]


def as_float_lr(value: Any) -> float:
    """An LR as a Python float (a tensor LR through ``.item()``)."""
    return float(value.item()) if hasattr(value, "item") else float(value)


def read_lrs(param_groups: Iterable[MutableMapping[str, Any]]) -> list[float]:
    """Every group's current LR as a float."""
    return [as_float_lr(group["lr"]) for group in param_groups]


def compute_lrs(
    steps: np.ndarray,
    base_lrs: Sequence[float],
    schedules: Sequence[Schedule],
    factors: Sequence[float] | None = None,
    floors: Sequence[float] | None = None,
) -> np.ndarray:
    """The LR of group ``g`` before update ``k``, for every group and every step in ``steps``::

        lr_g(k) = max(base_lr_g * schedule_g(k) * factor_g, floor_g)

    ``factors`` (a feedback controller's scales) default to 1 and ``floors`` to no floor.
    Returns a float64 array of shape ``(len(base_lrs), len(steps))``. Elementwise float64
    arithmetic, so each value is bitwise the one a single-step evaluation gives, whatever the
    other steps are (that is what makes a resumed run exact). A schedule object shared by
    several groups is evaluated once.
    """
    values: dict[int, np.ndarray] = {}
    columns = []
    for sched in schedules:
        v = values.get(id(sched))
        if v is None:
            v = values[id(sched)] = sched(steps)
        columns.append(v)
    lrs = np.asarray(base_lrs, dtype=np.float64)[:, None] * np.stack(columns)
    if factors is not None:
        lrs = lrs * np.asarray(factors, dtype=np.float64)[:, None]
    if floors is not None:
        lrs = np.maximum(lrs, np.asarray(floors, dtype=np.float64)[:, None])
    return lrs
