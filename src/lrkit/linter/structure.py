"""The structure of a schedule tree as the linter reads it: its nodes with their start steps,
the family that shapes the curve's end, and the warm-up length the structure declares.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from lrkit.schedules import (
    Constant,
    CosineRestarts,
    Cyclic,
    Floor,
    Linear,
    Scale,
    Schedule,
    Sequence,
    Warmup,
    WarmupStableDecay,
)

__all__ = ["walk", "contains", "unwrap", "last_piece", "periodic", "warmup_steps_of"]


def walk(schedule: Schedule, start: int = 0) -> Iterable[tuple[Schedule, int]]:
    """Every node of the schedule tree with the absolute step where it starts."""
    yield schedule, start
    if isinstance(schedule, Scale | Floor):
        yield from walk(schedule.schedule, start)
    elif isinstance(schedule, Warmup):
        yield from walk(schedule.schedule, start + schedule.warmup_steps)
    elif isinstance(schedule, Sequence):
        for piece, s in zip(schedule.pieces, (0, *schedule.boundaries), strict=True):
            yield from walk(piece, start + s)


def contains(schedule: Schedule, kinds: tuple[type, ...]) -> bool:
    return any(isinstance(node, kinds) for node, _ in walk(schedule))


def unwrap(schedule: Schedule) -> Schedule:
    while isinstance(schedule, Scale | Floor):
        schedule = schedule.schedule
    return schedule


def last_piece(schedule: Schedule) -> Schedule:
    """The family that shapes the end of the curve."""
    node = unwrap(schedule)
    while True:
        if isinstance(node, Warmup):
            node = unwrap(node.schedule)
        elif isinstance(node, Sequence):
            node = unwrap(node.pieces[-1])
        else:
            return node


def periodic(schedule: Schedule) -> bool:
    return contains(schedule, (Cyclic, CosineRestarts))


def warmup_steps_of(schedule: Schedule, context: Mapping[str, Any] | None = None) -> int | None:
    """Length of the warm-up in updates: from the reader's context, else from the schedule's
    structure (``warmup`` node, ``wsd`` warm-up, a rising linear first piece); ``None`` when
    the schedule has no recognisable warm-up structure (the caller may then read the curve)."""
    ctx = context or {}
    for key in ("warmup_steps", "lr_warmup_iters"):
        value = ctx.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return int(value)
    node = unwrap(schedule)
    if isinstance(node, Warmup):
        return node.warmup_steps
    if isinstance(node, WarmupStableDecay):
        return node.warmup_steps
    if node.type_name in ("hf_lambda", "nemo"):
        return int(node.warmup_steps)  # type: ignore[attr-defined]
    if node.type_name == "megatron":
        return node.first_update_reaching(node.warmup_steps)  # type: ignore[attr-defined]
    if isinstance(node, Sequence) and node.boundaries:
        first = unwrap(node.pieces[0])
        if isinstance(first, Linear) and first.start < first.end:
            return node.boundaries[0]
        if isinstance(first, Warmup) and isinstance(unwrap(first.schedule), Constant):
            return first.warmup_steps
    return None
