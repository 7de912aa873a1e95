"""``digits``: a small convolutional classifier on scikit-learn's bundled handwritten digits.

The data ships inside scikit-learn (1797 grey 8x8 images, 10 classes): no download. A fixed
split keeps 360 images held out for :func:`evaluate`; training batches of 64 are drawn from
the other 1437 in an order that depends only on the trial seed (a reshuffle each epoch).
Optimizer: SGD with Nesterov momentum 0.9 -- the setting where the LR schedule matters most.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import torch
from torch import nn

from lrkit.tasks.base import Task

__all__ = ["make_task", "BATCH_SIZE", "HELD_OUT"]

BATCH_SIZE = 64
HELD_OUT = 360
#: seed of the train/held-out split; fixed so every trial sees the same split
_SPLIT_SEED = 0


@lru_cache(maxsize=1)
def _data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0  # pixel intensities are 0..16
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(_SPLIT_SEED))
    test, train = order[:HELD_OUT], order[HELD_OUT:]
    return x[train], y[train], x[test], y[test]


def _make_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def _make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)


def _batches(seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    x, y, _, _ = _data()
    gen = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(order) - BATCH_SIZE + 1, BATCH_SIZE):
            idx = order[i : i + BATCH_SIZE]
            yield x[idx], y[idx]


def _loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return nn.functional.cross_entropy(model(x), y)


def _evaluate(model: nn.Module) -> float:
    _, _, x, y = _data()
    was_training = model.training
    model.eval()
    with torch.no_grad():
        loss = nn.functional.cross_entropy(model(x), y).item()
    model.train(was_training)
    return float(loss)


def accuracy(model: nn.Module) -> float:
    """Held-out accuracy in [0, 1] (for people; comparisons rank by :func:`_evaluate`'s loss)."""
    _, _, x, y = _data()
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean().item())


def make_task() -> Task:
    """The embedded ``digits`` task (500 updates of batch 64, about 22 epochs)."""
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        from lrkit.errors import ConfigError

        raise ConfigError(
            "the digits task reads its images from scikit-learn, which is not installed.",
            field="task",
            value="digits",
            fix="pip install 'lrkit[tasks]' (or use --task charlm, which needs nothing more).",
        )
    return Task(
        name="digits",
        description="CNN (2 conv layers, 16/32 channels) on scikit-learn's 8x8 digits, SGD+Nesterov momentum, "
        "batch 64; "
        "metric: held-out cross-entropy",
        make_model=_make_model,
        make_optimizer=_make_optimizer,
        batches=_batches,
        loss_fn=_loss,
        evaluate=_evaluate,
        default_steps=500,
    )
