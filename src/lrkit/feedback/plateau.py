"""``ReduceLROnPlateau`` as a scale on a schedule.

The decision rule is torch's, step for step. With ``best`` the best metric so far:

    better(a)  mode=min, rel: a < best - |best| * threshold      abs: a < best - threshold
               mode=max, rel: a > best + |best| * threshold      abs: a > best + threshold

A better metric becomes ``best`` and resets the bad count; anything else (NaN and inf
included: they are never better) adds one. During ``cooldown`` updates after a reduction bad
updates are not counted. When the bad count exceeds ``patience`` every group is reduced:

    lr_old = nominal_g * scale_g,   lr_new = max(lr_old * factor, min_lr_g)
    if lr_old - lr_new > eps:  scale_g = lr_new / nominal_g

where ``nominal_g`` is the group's LR without the controller (``base_lr_g * schedule_g`` at the
step the decision applies to), which :class:`lrkit.Scheduler` reports through
:meth:`PlateauController.set_reference_lrs` before each update. On a constant schedule this is
exactly ``ReduceLROnPlateau``: same metrics, same LRs. Used without a Scheduler, ``nominal`` is
1.0 and ``min_lr``/``eps`` apply to the scale itself.

One deliberate difference from torch: the relative threshold is taken of ``|best|``. torch uses
``best * threshold``, which for a negative metric (an RL reward, a log-likelihood) counts a
slightly *worse* value as an improvement; for positive metrics (losses) both agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from lrkit.errors import ConfigError
from lrkit.feedback.base import FeedbackController, check_choice, check_real, check_steps

__all__ = ["PlateauController"]


class PlateauController(FeedbackController):
    """Reduce the LR scale when the metric stops improving (``ReduceLROnPlateau`` semantics).

    Args:
        mode: ``"min"`` (lower is better: a loss) or ``"max"`` (accuracy, reward).
        factor: multiplier of the LR on a reduction, in (0, 1).
        patience: updates with no improvement tolerated; the next one reduces.
        threshold: how much better than ``best`` a metric must be to count as an improvement.
        threshold_mode: ``"rel"`` (a fraction of ``|best|``) or ``"abs"`` (metric units).
        cooldown: updates after a reduction during which bad updates are not counted.
        min_lr: absolute LR a reduction never goes below; one value or one per group.
        eps: a reduction smaller than this (in LR units) is skipped.
        sync, process_group: see :class:`~lrkit.feedback.base.FeedbackController`.

    ``min_lr`` bounds the reductions, as torch's does; if the schedule itself later decays
    below it, use the Scheduler's ``min_lr`` for a floor that always holds.
    """

    type_name = "plateau"
    _state_keys = ("best", "num_bad", "cooldown_left", "scales", "num_reductions")

    def __init__(
        self,
        *,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
        sync: bool = True,
        process_group: Any = None,
    ) -> None:
        super().__init__(sync=sync, process_group=process_group)
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.reduce_factor = check_real("factor", factor, low=0.0, low_open=True)
        if self.reduce_factor >= 1.0:
            raise ConfigError(
                f"must be < 1 (it multiplies the LR on a plateau), got {factor!r}.",
                field="factor",
                value=factor,
                fix="use e.g. 0.1 or 0.5.",
            )
        self.patience = check_steps("patience", patience, minimum=0)
        self.threshold = check_real("threshold", threshold, low=0.0, fix="use e.g. 1e-4.")
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = check_steps("cooldown", cooldown, minimum=0)
        if isinstance(min_lr, Sequence) and not isinstance(min_lr, str):
            if len(min_lr) == 0:
                raise ConfigError(
                    "is an empty list.", field="min_lr", value=[], fix="give one value per group or one for all."
                )
            self.min_lr: float | list[float] = [
                check_real(f"min_lr[{i}]", v, low=0.0, fix="use e.g. 1e-6.") for i, v in enumerate(min_lr)
            ]
        else:
            self.min_lr = check_real("min_lr", min_lr, low=0.0, fix="use e.g. 1e-6.")
        self.eps = check_real("eps", eps, low=0.0, fix="use e.g. 1e-8.")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad = 0
        self.cooldown_left = 0
        #: per-group scale; empty until the first reduction (all groups at 1.0)
        self.scales: list[float] = []
        self.num_reductions = 0
        self._reference: list[float] | None = None

    # -- the decision -------------------------------------------------------------------------
    def set_reference_lrs(self, lrs: Sequence[float]) -> None:
        """Each group's LR without this controller, for the step the next decision applies to
        (called by :class:`lrkit.Scheduler` before :meth:`update`). ``min_lr`` and ``eps`` are
        compared with ``nominal * scale``, as torch compares them with the group's LR."""
        self._reference = [float(v) for v in lrs]

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if math.isinf(best):  # the first finite metric always improves on the start value
            return a < best if self.mode == "min" else a > best
        if self.threshold_mode == "rel":
            margin = abs(best) * self.threshold
        else:
            margin = self.threshold
        return a < best - margin if self.mode == "min" else a > best + margin

    def _decide(self, value: float) -> None:
        if self.is_better(value, self.best):
            self.best = value
            self.num_bad = 0
        else:
            self.num_bad += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.num_bad = 0
        if self.num_bad > self.patience:
            self._reduce()
            self.cooldown_left = self.cooldown
            self.num_bad = 0

    def _n_groups(self) -> int:
        if self._reference is not None:
            return len(self._reference)
        if isinstance(self.min_lr, list):
            return len(self.min_lr)
        return max(len(self.scales), 1)

    def _min_lrs(self, n: int) -> list[float]:
        if not isinstance(self.min_lr, list):
            return [self.min_lr] * n
        if len(self.min_lr) != n:
            raise ConfigError(
                f"has {len(self.min_lr)} entries but there are {n} parameter groups.",
                field="min_lr",
                value=self.min_lr,
                fix=f"give one min_lr per parameter group ({n}) or a single value for all.",
            )
        return self.min_lr

    def _reduce(self) -> None:
        n = self._n_groups()
        scales = self.scales if self.scales else [1.0]
        if len(scales) == 1 and n > 1:
            scales = scales * n
        if len(scales) != n:
            raise ConfigError(
                f"the controller holds scales for {len(scales)} parameter groups, the optimizer has {n}.",
                field="state_dict.scales",
                value=scales,
                fix="resume with the same parameter groups as the run that wrote the checkpoint.",
            )
        nominal = self._reference if self._reference is not None else [1.0] * n
        floors = self._min_lrs(n)
        new_scales = list(scales)
        for g in range(n):
            old = nominal[g] * scales[g]
            new = max(old * self.reduce_factor, floors[g])
            if old - new > self.eps and nominal[g] > 0:
                new_scales[g] = new / nominal[g]
        if new_scales != scales:
            self.num_reductions += 1
        self.scales = new_scales

    def factor(self, group: int = 0) -> float:
        """The scale of parameter group ``group`` (1.0 until the first reduction)."""
        if not self.scales:
            return 1.0
        if len(self.scales) == 1:
            return self.scales[0]
        if not 0 <= group < len(self.scales):
            raise ConfigError(
                f"parameter group {group} has no scale (the controller knows {len(self.scales)} groups).",
                field="group",
                value=group,
                fix="use the controller with the optimizer whose groups it was built for.",
            )
        return self.scales[group]

    # -- plain data ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "mode": self.mode,
            "factor": self.reduce_factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_lr": list(self.min_lr) if isinstance(self.min_lr, list) else self.min_lr,
            "eps": self.eps,
            "sync": self.sync,
        }

    def _load(self, state: Mapping[str, Any]) -> None:
        scales = state["scales"]
        if not isinstance(scales, Sequence) or not all(
            isinstance(s, int | float) and math.isfinite(s) and s >= 0 for s in scales
        ):
            raise ConfigError(
                "the saved scales are not a list of finite numbers >= 0.",
                field="state_dict.scales",
                value=scales,
                fix="load a state written by PlateauController.state_dict().",
            )
        self.best = float(state["best"])
        self.num_bad = int(state["num_bad"])
        self.cooldown_left = int(state["cooldown_left"])
        self.scales = [float(s) for s in scales]
        self.num_reductions = int(state["num_reductions"])
