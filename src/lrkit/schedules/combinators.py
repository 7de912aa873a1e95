"""Schedules built from schedules: sequence (join), warm-up, floor and scale."""

from __future__ import annotations

import itertools
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Nested, Schedule, register
from lrkit.schedules.checks import NONNEG, STEPS, Each, Real, Steps

__all__ = ["Sequence", "Warmup", "Floor", "Scale", "Shift", "check_boundaries", "join"]


def check_boundaries(boundaries: Any, n_pieces: int) -> None:
    """:class:`Sequence`'s rule for its boundaries (also read by config readers before they build
    the pieces): one per piece after the first, strictly increasing (every piece at least one step)."""
    bs = list(boundaries)
    if any(b <= a for a, b in itertools.pairwise(bs)):
        raise ConfigError(
            f"must be strictly increasing (every piece at least one step), got {bs}.",
            field="boundaries",
            value=bs,
            fix="sort the boundaries and drop pieces of zero length.",
        )
    if len(bs) != n_pieces - 1:
        raise ConfigError(
            f"{n_pieces} pieces need {n_pieces - 1} boundaries, got {len(bs)}.",
            field="boundaries",
            value=bs,
            fix="give one boundary (the absolute step where the next piece starts) between each two pieces.",
        )


@register("sequence")
@dataclass(frozen=True)
class Sequence(Schedule):
    """Run ``pieces[0]`` until ``boundaries[0]``, then ``pieces[1]`` until ``boundaries[1]``...

    Each piece sees the steps since its own start: for ``b[i-1] <= t < b[i]`` the value is
    ``pieces[i](t - b[i-1])`` (with ``b[-1] = 0``), like optax's ``join_schedules`` and
    torch's ``SequentialLR``. ``len(pieces) == len(boundaries) + 1``.
    """

    pieces: tuple[Schedule, ...] = ()
    boundaries: tuple[int, ...] = ()

    _checks = {
        "pieces": Each(Nested(), "a list of schedules"),
        "boundaries": Each(Steps(minimum=1), "a list of steps"),
    }

    def _validate(self) -> None:
        if not self.pieces:
            raise ConfigError("needs at least one piece.", field="pieces", value=[], fix="add a schedule to pieces.")
        check_boundaries(self.boundaries, len(self.pieces))

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        if not self.boundaries:
            return self.pieces[0]._evaluate(t)
        idx = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), t, side="right")
        starts = (0, *self.boundaries)
        out = np.empty_like(t)
        for i, piece in enumerate(self.pieces):
            mask = idx == i
            if mask.any():
                out[mask] = piece._evaluate(t[mask] - starts[i])
        return out

    @property
    def horizon(self) -> float | None:
        last = self.pieces[-1].horizon
        if last is None:
            return None
        return (self.boundaries[-1] if self.boundaries else 0) + last

    def phase_starts(self, until: int | None = None) -> list[int]:
        starts = (0, *self.boundaries)
        ends: tuple[int | None, ...] = (*self.boundaries, None)
        out = set(self.boundaries)
        for piece, start, end in zip(self.pieces, starts, ends, strict=True):
            limits = [x for x in (until, None if end is None else end - 1) if x is not None]
            local = None if not limits else min(limits) - start
            if local is not None and local < 0:
                continue
            out.update(start + b for b in piece.phase_starts(local))
        return sorted(b for b in out if until is None or b <= until)


def join(pieces: SequenceABC[Schedule], boundaries: SequenceABC[int]) -> Sequence:
    """``Sequence(pieces, boundaries)`` -- optax's name for it."""
    return Sequence(pieces, boundaries)  # type: ignore[arg-type]  # Sequence checks and normalises both


@register("warmup")
@dataclass(frozen=True)
class Warmup(Schedule):
    """Linear warm-up of ``warmup_steps`` updates in front of ``schedule``.

    For ``t < W``: ``init + (target - init) * min((t + 1) / W, 1)``; then ``schedule(t - W)``.
    ``target`` defaults to ``schedule(0)``, so the curve is continuous where the schedule
    starts; give it explicitly when the schedule may have no steps of its own (a decay of
    zero length already sits at its floor at its step 0, and warming up to the floor would
    train at the floor throughout). The first update runs at ``init + (target - init) / W``
    -- never at 0 -- and update ``W - 1`` runs at ``target``. ``W = 1`` therefore means no
    visible warm-up; ``W = 0`` is ``schedule`` itself.
    """

    schedule: Schedule = None  # type: ignore[assignment]
    warmup_steps: int = 0
    init: float = 0.0
    target: float | None = None

    _checks = {
        "schedule": Nested("to warm up into"),
        "warmup_steps": STEPS,
        "init": NONNEG,
        "target": Real(low=0.0, optional=True),
    }

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        w = self.warmup_steps
        if w == 0:
            return self.schedule._evaluate(t)
        warm = t < w
        out = np.empty_like(t)
        rest = ~warm
        if rest.any():
            out[rest] = self.schedule._evaluate(t[rest] - w)
        if warm.any():
            target = self.target
            if target is None:
                target = float(self.schedule._evaluate(np.zeros(1))[0])
            # min(.., 1): between update W-1 and W (fractional steps) the ramp stays at target;
            # the two-product form lands exactly on target (init + (target - init) can round off)
            f = np.minimum((t[warm] + 1.0) / w, 1.0)
            out[warm] = (1.0 - f) * self.init + f * target
        return out

    @property
    def horizon(self) -> float | None:
        inner = self.schedule.horizon
        return None if inner is None else self.warmup_steps + inner

    def phase_starts(self, until: int | None = None) -> list[int]:
        w = self.warmup_steps
        inner = self.schedule.phase_starts(None if until is None else until - w)
        out = ([w] if w else []) + [w + b for b in inner]
        return [b for b in out if until is None or b <= until]


@register("floor")
@dataclass(frozen=True)
class Floor(Schedule):
    """``max(schedule(t), min_value)``: a hard lower bound (a clamp, not a rescale).

    To anneal *towards* a floor instead, give the family its ``end`` value (cosine, linear,
    polynomial, wsd); to floor at a ratio of the peak use ``min_value = ratio * peak``.
    """

    schedule: Schedule = None  # type: ignore[assignment]
    min_value: float = 0.0

    _checks = {"schedule": Nested("to bound"), "min_value": NONNEG}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        return np.maximum(self.schedule._evaluate(t), self.min_value)

    @property
    def horizon(self) -> float | None:
        return self.schedule.horizon

    def phase_starts(self, until: int | None = None) -> list[int]:
        return self.schedule.phase_starts(until)


@register("scale")
@dataclass(frozen=True)
class Scale(Schedule):
    """``factor * schedule(t)``: turns a factor curve into absolute LRs or back."""

    schedule: Schedule = None  # type: ignore[assignment]
    factor: float = 1.0

    _checks = {"schedule": Nested("to scale"), "factor": NONNEG}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        return self.factor * self.schedule._evaluate(t)

    @property
    def horizon(self) -> float | None:
        return self.schedule.horizon

    def phase_starts(self, until: int | None = None) -> list[int]:
        return self.schedule.phase_starts(until)


@register("shift")
@dataclass(frozen=True)
class Shift(Schedule):
    """``schedule(t + steps)``: the same curve entered ``steps`` updates in.

    Inside a :class:`Sequence` a piece normally restarts at its own step 0; a shifted piece
    continues on the absolute clock instead. That is timm's warm-up without
    ``warmup_prefix`` (the warm-up replaces the first ``W`` steps of the cosine rather than
    delaying it): ``Sequence([Linear(init, peak, W), Shift(cosine, W)], [W])``.
    """

    schedule: Schedule = None  # type: ignore[assignment]
    steps: int = 0

    _checks = {"schedule": Nested("to shift"), "steps": STEPS}

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        return self.schedule._evaluate(t + self.steps) if self.steps else self.schedule._evaluate(t)

    @property
    def horizon(self) -> float | None:
        inner = self.schedule.horizon
        return None if inner is None else max(inner - self.steps, 0)

    def phase_starts(self, until: int | None = None) -> list[int]:
        s = self.steps
        inner = self.schedule.phase_starts(None if until is None else until + s)
        return [b - s for b in inner if b > s]
