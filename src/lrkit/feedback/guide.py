"""The guide's ``AdaptiveLearningRate``, kept compatible, with its bugs fixed.

It stays importable from ``lrkit`` for the guide's users and keeps the guide's API
(``update_lr(loss)`` writes the LR itself). New code should use the current API instead: a
:class:`lrkit.Scheduler` with ``controller=AdaptiveController(...)`` (a noise-tested trend
rule that scales any schedule) or ``PlateauController``.

The rule is the guide's: once 10 losses are recorded, the trend is the newest minus the one 10
updates back, over 10; if it is above 0 the LR is multiplied by 0.8 (not below ``min_lr``),
otherwise by 1.05 (not above ``initial_lr``).

Fixed here:

- a NaN or inf loss counts as a rise (the guide's ``nan > 0`` is false, so it *raised* the LR
  on a diverging run); it reduces at once and is kept out of the history, so it cannot poison
  the next 10 comparisons and is never written into an LR;
- the LR is this object's own state, always within ``[min_lr, initial_lr]`` (the guide re-read
  ``param_groups[0]['lr']``, so a starting LR above ``initial_lr`` was first reduced *above*
  the bound and then snapped down);
- other parameter groups keep their ratio to group 0 (the guide wrote group 0's LR into every
  group, silently erasing per-group LRs such as a smaller LR for embeddings); with one group,
  as in the guide, nothing changes;
- the history is bounded (the guide's list grew by one float per step forever);
- the loss is averaged across ``torch.distributed`` ranks first, so all replicas agree;
- ``state_dict``/``load_state_dict`` make a resumed run continue exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lrkit.errors import ConfigError, ResumeWarning
from lrkit.feedback.base import check_bool, check_real, check_steps, metric_value
from lrkit.feedback.distributed import average_metric
from lrkit.lr_groups import read_lrs, write_lrs

__all__ = ["AdaptiveLearningRate"]

_DECREASE = 0.8
_INCREASE = 1.05


class AdaptiveLearningRate:
    """Adjust an optimizer's LR from the loss trend (the guide's rule, made safe).

    Args:
        optimizer: a ``torch.optim.Optimizer`` (anything with ``param_groups``).
        initial_lr: upper bound of group 0's LR (the guide's "never above the starting LR").
        min_lr: lower bound of group 0's LR.
        window: losses compared (the guide's 10).
        sync: average the loss over ``torch.distributed`` ranks when a process group is up.
        process_group: the group to average over (``None``: the default group).

    Group 0's LR starts at its value in the optimizer, clamped into ``[min_lr, initial_lr]``;
    the constructor does not touch the optimizer. Each :meth:`update_lr` call writes
    ``lr * ratio_g`` into group ``g``, where ``ratio_g`` is group ``g``'s LR over group 0's at
    construction.
    """

    def __init__(
        self,
        optimizer: Any,
        initial_lr: float = 1e-4,
        min_lr: float = 1e-6,
        *,
        window: int = 10,
        sync: bool = True,
        process_group: Any = None,
    ) -> None:
        groups = getattr(optimizer, "param_groups", None)
        if not groups:
            raise ConfigError(
                f"expected a torch optimizer with parameter groups, got {type(optimizer).__name__}.",
                field="optimizer",
                value=optimizer,
                fix="pass the optimizer, e.g. torch.optim.AdamW(model.parameters(), lr=1e-4).",
            )
        self.optimizer = optimizer
        self.initial_lr = check_real("initial_lr", initial_lr, low=0.0, low_open=True, fix="use e.g. 1e-4.")
        self.min_lr = check_real("min_lr", min_lr, low=0.0, fix="use e.g. 1e-6.")
        if self.min_lr > self.initial_lr:
            raise ConfigError(
                f"min_lr {self.min_lr:g} is above initial_lr {self.initial_lr:g}.",
                field="min_lr",
                value=min_lr,
                fix="use a min_lr below initial_lr.",
            )
        self.window = check_steps("window", window, minimum=2)
        self.sync = check_bool("sync", sync)
        self.process_group = process_group
        lrs = read_lrs(groups)
        self.ratios = [lr / lrs[0] if lrs[0] > 0 else 1.0 for lr in lrs]
        self.lr = min(max(lrs[0], self.min_lr), self.initial_lr)
        #: the last ``window`` finite losses, oldest first (rank-averaged)
        self.loss_history: list[float] = []

    def update_lr(self, current_loss: Any) -> float:
        """Record ``current_loss`` and adjust the LR; returns group 0's LR after the update.

        Call once per optimizer update (or per evaluation) on every rank."""
        loss = metric_value(current_loss)
        if self.sync:
            loss = average_metric(loss, group=self.process_group)
        if not math.isfinite(loss):
            self._write(max(self.lr * _DECREASE, self.min_lr))
            return self.lr
        self.loss_history.append(loss)
        del self.loss_history[: -self.window]
        if len(self.loss_history) < self.window:
            return self.lr
        # the guide's trend is the mean slope over the window, (newest - oldest) / window: divided
        # as it does, so a rise that underflows to 0 there (a subnormal difference) is none here either
        trend = (self.loss_history[-1] - self.loss_history[0]) / self.window
        if trend > 0:
            self._write(max(self.lr * _DECREASE, self.min_lr))
        else:
            self._write(min(self.lr * _INCREASE, self.initial_lr))
        return self.lr

    step = update_lr

    def _write(self, lr: float) -> None:
        self.lr = lr
        write_lrs(self.optimizer.param_groups, [lr * ratio for ratio in self.ratios])

    def get_last_lr(self) -> list[float]:
        """The LR of every group as last set (or as it will be set, before the first change)."""
        return [self.lr * r for r in self.ratios]

    def state_dict(self) -> dict[str, Any]:
        """Plain data (safe for ``torch.load(weights_only=True)``)."""
        return {
            "type": "guide_adaptive",
            "config": {"initial_lr": self.initial_lr, "min_lr": self.min_lr, "window": self.window},
            "lr": self.lr,
            "ratios": list(self.ratios),
            "loss_history": list(self.loss_history),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output and write the restored LR into the optimizer."""
        if not isinstance(state, Mapping) or state.get("type") != "guide_adaptive":
            raise ConfigError(
                "not an AdaptiveLearningRate state.",
                field="state_dict",
                fix="load the dict returned by AdaptiveLearningRate.state_dict().",
            )
        config = {"initial_lr": self.initial_lr, "min_lr": self.min_lr, "window": self.window}
        if dict(state.get("config", config)) != config:
            import warnings

            warnings.warn(
                f"the checkpoint's settings {dict(state['config'])} differ from these {config}; keeping these bounds.",
                ResumeWarning,
                stacklevel=2,
            )
        ratios = [float(r) for r in state["ratios"]]
        if len(ratios) != len(self.optimizer.param_groups):
            raise ConfigError(
                f"the checkpoint has {len(ratios)} parameter groups, the optimizer has "
                f"{len(self.optimizer.param_groups)}.",
                field="state_dict.ratios",
                value=ratios,
                fix="build the optimizer with the same parameter groups as the run that wrote the checkpoint.",
            )
        self.ratios = ratios
        self.loss_history = [float(v) for v in state["loss_history"]][-self.window :]
        self._write(min(max(float(state["lr"]), self.min_lr), self.initial_lr))

    def __repr__(self) -> str:
        return f"AdaptiveLearningRate(lr={self.lr:g}, initial_lr={self.initial_lr:g}, min_lr={self.min_lr:g})"
