"""LR range test: a suggested peak LR you can trust, leaving the model as it was found.

``lrkit.find_lr(model, optimizer, data, loss_fn)`` ramps the LR (an lrkit schedule, applied
per group), trains on fresh batches, stops at NaN or divergence, restores model, optimizer
and RNG states bitwise, and reads the curve (descent and divergence point) into a
suggestion with a range. ``LearningRateFinder`` is the guide's API on the same engine.

Modules: :mod:`~lrkit.finder.engine` (the loop and ``find_lr``), :mod:`~lrkit.finder.search`
(the zoom pass and the confirmation trials), :mod:`~lrkit.finder.choice` (from the trials to
the suggestion), :mod:`~lrkit.finder.snapshot` (snapshot/restore), :mod:`~lrkit.finder.ramp`
(the LR ramp schedule), :mod:`~lrkit.finder.smoothing`, :mod:`~lrkit.finder.suggest` (the
curve rule), :mod:`~lrkit.finder.result` (``FinderResult``).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

import torch
from torch.optim import Optimizer

from lrkit.errors import ConfigError, did_you_mean
from lrkit.finder.engine import find_lr, run_range_test
from lrkit.finder.result import STOP_REASONS, FinderResult
from lrkit.finder.snapshot import Snapshot
from lrkit.finder.suggest import Suggestion, suggest

__all__ = [
    "find_lr",
    "FinderResult",
    "LearningRateFinder",
    "Snapshot",
    "Suggestion",
    "suggest",
    "run_range_test",
    "STOP_REASONS",
]


class LearningRateFinder:
    """The guide's finder API, fixed: ``LearningRateFinder(model, optimizer, dataloader)
    .find_lr(start_lr, end_lr, num_steps) -> (lrs, losses)``.

    Unlike the guide's loop it draws a new batch every step (the guide re-read the first),
    runs ``backward()`` and ``optimizer.step()`` (the guide never trained), stops at NaN or
    divergence, and restores the model and optimizer afterwards. The loss comes from
    ``model.training_step(batch)`` when the model has one, else from ``loss_fn`` /
    ``criterion``. ``losses`` are the bias-corrected EMA; :attr:`result` holds the full
    :class:`FinderResult` (suggestion, range, raw losses) of the last call.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: Optimizer,
        dataloader: Iterable[Any],
        loss_fn: Any = None,
        *,
        criterion: Any = None,
        **options: Any,
    ) -> None:
        # the ramp goes to .find_lr(), the loss to the named arguments; the rest to find_lr
        taken = ("model", "optimizer", "data", "loss_fn", "criterion", "start_lr", "end_lr", "num_steps")
        allowed = [p for p in inspect.signature(find_lr).parameters if p not in taken]
        for key in options:
            if key not in allowed:
                raise ConfigError(
                    f"unknown option {key!r} for LearningRateFinder().{did_you_mean(key, allowed)}",
                    field=key,
                    value=options[key],
                    fix=f"the options are {', '.join(allowed)}; start_lr, end_lr and num_steps go to .find_lr().",
                )
        self.model = model
        self.optimizer = optimizer
        self.dataloader = dataloader
        self.loss_fn = loss_fn
        self.criterion = criterion
        self.options = options
        self.lr_history: list[float] = []
        self.loss_history: list[float] = []
        self.result: FinderResult | None = None

    def find_lr(
        self, start_lr: float = 1e-7, end_lr: float = 1e-1, num_steps: int = 100
    ) -> tuple[list[float], list[float]]:
        """Run the range test; returns ``(lrs, smoothed losses)`` as lists of floats."""
        self.result = find_lr(
            self.model,
            self.optimizer,
            self.dataloader,
            self.loss_fn,
            criterion=self.criterion,
            start_lr=start_lr,
            end_lr=end_lr,
            num_steps=num_steps,
            **self.options,
        )
        self.lr_history = [float(v) for v in self.result.lrs]
        self.loss_history = [float(v) for v in self.result.losses]
        return self.lr_history, self.loss_history

    @property
    def suggestion(self) -> float | None:
        """The last run's suggested peak LR."""
        return None if self.result is None else self.result.suggestion
