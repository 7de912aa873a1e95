"""The result of reading any config: :class:`ResolvedConfig`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lrkit.findings import Finding
from lrkit.schedules.base import Schedule
from lrkit.schedules.combinators import Scale

__all__ = ["ResolvedConfig"]


@dataclass(frozen=True)
class ResolvedConfig:
    """A config read into lrkit's terms.

    Attributes:
        schedule: the FACTOR curve: ``schedule(k)`` multiplies the optimizer's base LR
            (``peak_lr``) for update ``k`` (``k`` updates already taken).
        peak_lr: base LR of the optimizer (its first/default parameter group).
        total_steps: run length in optimizer updates (NeMo RL: algorithm steps), when known.
            An explicit ``total_steps`` argument wins over the file's run length.
        format: ``"lrkit" | "nemo_rl" | "nemo_rl_megatron" | "megatron" | "hf" | "nemo"``.
        source: file path, ``"<dict>"`` or ``"<stdin>"``.
        findings: framework quirks the reader reproduced (first update at LR 0, a cosine that
            rises again after its end, milestones that cut a piece short, ...).
        context: structural facts for the linter, plain data (``warmup_steps``,
            ``decay_steps``, ``declared_horizon``, ``pieces``, ``milestones``, ...).
        optimizer: the optimizer spec as plain data (``{"type": ..., "lr": ..., ...}``); never
            imported while reading.
        raw: the resolved plain config (interpolations and ``defaults:`` applied).
        controller: the feedback controller spec (``{"type": "plateau", ...}``), if any.
    """

    schedule: Schedule
    peak_lr: float
    total_steps: int | None
    format: str
    source: str
    findings: tuple[Finding, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)
    optimizer: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    controller: dict[str, Any] | None = None

    @property
    def lr_schedule(self) -> Schedule:
        """The absolute LR curve: ``Scale(schedule, peak_lr)``."""
        return Scale(self.schedule, self.peak_lr)

    def lrs(self, steps: int | None = None):
        """Absolute LRs for updates ``0..steps-1`` (default: ``total_steps``) as a numpy array."""
        import numpy as np

        n = steps if steps is not None else self.total_steps
        if n is None:
            from lrkit.errors import ConfigError

            raise ConfigError(
                "the run length is unknown.",
                field="total_steps",
                fix="pass total_steps=... (the number of optimizer updates in the run).",
            )
        return self.lr_schedule(np.arange(int(n)))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data summary (schedule as its dict form), for JSON output."""
        return {
            "format": self.format,
            "source": self.source,
            "peak_lr": self.peak_lr,
            "total_steps": self.total_steps,
            "schedule": self.schedule.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
            "context": dict(self.context),
            "optimizer": self.optimizer,
            "controller": self.controller,
        }
