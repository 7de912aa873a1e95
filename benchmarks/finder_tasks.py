"""Small real tasks for judging LR suggestions (data ships with installed packages).

Each task is a model family, an optimizer, a dataset split into train/held-out, and a full
run length. Everything is seeded and CPU-sized (one thread, well under a second per run):

* scikit-learn's bundled datasets: digits (8x8 images, 10 classes), iris, wine,
  breast_cancer (classification), diabetes (regression, standardised target);
* a character model on the source code of Python standard-library modules.

The tasks cover plain SGD, SGD with momentum and AdamW; shallow and deeper nets (the deep
tanh MLP and the CNN have flat starts in a range test); linear models; regression.

Two suites: :func:`tasks` is the one the suggestion rule was designed against; :func:`holdout`
was written after the rule was frozen (other models, optimizer settings, batch sizes, a GRU,
and the compare engineer's embedded ``lrkit.tasks`` digits CNN) and is only ever used to
check that the rule generalises -- never to change it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["BenchTask", "TASKS", "HOLDOUT", "get"]


@dataclass(frozen=True)
class BenchTask:
    name: str
    description: str
    make_model: Callable[[int], nn.Module]
    make_optimizer: Callable[[nn.Module, float], torch.optim.Optimizer]
    batches: Callable[[int], Iterator[Any]]
    loss_fn: Callable[[nn.Module, Any], torch.Tensor]
    evaluate: Callable[[nn.Module], float]
    steps: int  # optimizer updates in a full run
    grid: tuple[float, float]  # peak-LR grid bounds for the grid search


def _split(X: np.ndarray, y: np.ndarray, seed: int = 0, held: float = 0.25):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))
    cut = int(len(X) * (1 - held))
    return X[idx[:cut]], y[idx[:cut]], X[idx[cut:]], y[idx[cut:]]


def _standardise(Xtr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-8
    return (Xtr - mu) / sd, (Xte - mu) / sd


def _epochs(X: torch.Tensor, Y: torch.Tensor, batch: int) -> Callable[[int], Iterator[Any]]:
    def gen(seed: int) -> Iterator[Any]:
        g = torch.Generator().manual_seed(seed)
        n = len(X)
        while True:
            perm = torch.randperm(n, generator=g)
            for i in range(0, n - batch + 1, batch):
                j = perm[i : i + batch]
                yield X[j], Y[j]

    return gen


def _ce(model: nn.Module, batch: Any) -> torch.Tensor:
    x, y = batch
    return nn.functional.cross_entropy(model(x), y)


def _mse(model: nn.Module, batch: Any) -> torch.Tensor:
    x, y = batch
    return nn.functional.mse_loss(model(x).squeeze(-1), y)


def _evaluator(X: torch.Tensor, Y: torch.Tensor, loss) -> Callable[[nn.Module], float]:
    def ev(model: nn.Module) -> float:
        was = model.training
        model.eval()
        with torch.no_grad():
            v = float(loss(model, (X, Y)))
        model.train(was)
        return v if np.isfinite(v) else float("inf")

    return ev


def _mlp(sizes: list[int], act: type[nn.Module] = nn.ReLU) -> Callable[[int], nn.Module]:
    def make(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-2], sizes[1:-1], strict=True):
            layers += [nn.Linear(a, b), act()]
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        return nn.Sequential(*layers)

    return make


def _sgd(momentum: float = 0.0, wd: float = 0.0):
    return lambda m, lr: torch.optim.SGD(m.parameters(), lr=lr, momentum=momentum, weight_decay=wd)


def _adamw(wd: float = 0.01):
    return lambda m, lr: torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=wd)


def _sk(name: str, regression: bool = False):
    import sklearn.datasets as ds

    X, y = getattr(ds, f"load_{name}")(return_X_y=True)
    X = X.astype(np.float64)
    Xtr, ytr, Xte, yte = _split(X, y)
    Xtr, Xte = _standardise(Xtr, Xte)
    if regression:
        mu, sd = ytr.mean(), ytr.std()
        ytr, yte = (ytr - mu) / sd, (yte - mu) / sd
        conv = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    else:
        conv = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return (
        torch.tensor(Xtr, dtype=torch.float32),
        conv(ytr),
        torch.tensor(Xte, dtype=torch.float32),
        conv(yte),
    )


class _CharMLP(nn.Module):
    def __init__(self, vocab: int, context: int, dim: int = 16, hidden: int = 128) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.net = nn.Sequential(nn.Linear(context * dim, hidden), nn.GELU(), nn.Linear(hidden, vocab))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.emb(x).flatten(1))


class _CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 16, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.view(-1, 1, 8, 8))


def _char_data(context: int = 12):
    import collections
    import textwrap

    text = inspect.getsource(collections) + inspect.getsource(textwrap)
    text = "".join(c for c in text if 32 <= ord(c) < 127 or c == "\n")
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    windows = ids.unfold(0, context + 1, 1)
    X, Y = windows[:, :-1], windows[:, -1]
    cut = int(len(X) * 0.9)
    # held-out: every 7th window of the tail, to keep evaluation cheap
    return len(chars), X[:cut], Y[:cut], X[cut::7], Y[cut::7]


def _build() -> dict[str, BenchTask]:
    tasks: dict[str, BenchTask] = {}

    def add(name, desc, make_model, make_opt, data, loss, batch, steps, grid):
        Xtr, Ytr, Xte, Yte = data
        tasks[name] = BenchTask(
            name, desc, make_model, make_opt, _epochs(Xtr, Ytr, batch), loss, _evaluator(Xte, Yte, loss), steps, grid
        )

    digits = _sk("digits")
    add(
        "digits-mlp-sgd", "digits, MLP 64-64-10, plain SGD", _mlp([64, 64, 10]), _sgd(), digits, _ce, 32, 300,
        (1e-3, 10.0),
    )
    add(
        "digits-mlp-momentum",
        "digits, MLP 64-128-10, SGD momentum 0.9",
        _mlp([64, 128, 10]),
        _sgd(0.9),
        digits,
        _ce,
        64,
        300,
        (1e-4, 3.0),
    )
    add(
        "digits-mlp-adamw",
        "digits, MLP 64-128-10, AdamW",
        _mlp([64, 128, 10]),
        _adamw(),
        digits,
        _ce,
        64,
        300,
        (1e-5, 1.0),
    )
    add(
        "digits-deep-tanh-sgdm",
        "digits, 6-layer tanh MLP (flat start), SGD momentum 0.9",
        _mlp([64, 32, 32, 32, 32, 32, 10], nn.Tanh),
        _sgd(0.9),
        digits,
        _ce,
        64,
        300,
        (1e-4, 3.0),
    )
    add(
        "digits-cnn-sgdm",
        "digits, small CNN, SGD momentum 0.9",
        lambda s: (torch.manual_seed(s), _CNN())[1],
        _sgd(0.9),
        digits,
        _ce,
        64,
        250,
        (1e-4, 3.0),
    )
    add(
        "wine-linear-sgd",
        "wine, softmax regression, plain SGD",
        _mlp([13, 3]),
        _sgd(),
        _sk("wine"),
        _ce,
        16,
        200,
        (1e-3, 30.0),
    )
    add(
        "breast-cancer-mlp-adamw",
        "breast_cancer, MLP 30-32-2, AdamW",
        _mlp([30, 32, 2]),
        _adamw(),
        _sk("breast_cancer"),
        _ce,
        32,
        200,
        (1e-5, 1.0),
    )
    add(
        "iris-mlp-sgdm",
        "iris, MLP 4-16-3, SGD momentum 0.9",
        _mlp([4, 16, 3]),
        _sgd(0.9),
        _sk("iris"),
        _ce,
        16,
        200,
        (1e-4, 3.0),
    )
    add(
        "diabetes-mlp-sgdm",
        "diabetes regression (MSE), MLP 10-32-1, SGD momentum 0.9",
        _mlp([10, 32, 1]),
        _sgd(0.9),
        _sk("diabetes", regression=True),
        _mse,
        32,
        300,
        (1e-4, 1.0),
    )
    vocab, Xtr, Ytr, Xte, Yte = _char_data()
    add(
        "stdlib-char-mlp-adamw",
        "next character of stdlib source (collections, textwrap), embedding + MLP, AdamW",
        lambda s: (torch.manual_seed(s), _CharMLP(vocab, Xtr.shape[1]))[1],
        _adamw(),
        (Xtr, Ytr, Xte, Yte),
        _ce,
        64,
        300,
        (1e-5, 1.0),
    )
    return tasks


class _CharGRU(nn.Module):
    def __init__(self, vocab: int, dim: int = 32, hidden: int = 64) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.gru = nn.GRU(dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.gru(self.emb(x))
        return self.out(h[:, -1])


def _build_holdout() -> dict[str, BenchTask]:
    tasks: dict[str, BenchTask] = {}

    def add(name, desc, make_model, make_opt, data, loss, batch, steps, grid):
        Xtr, Ytr, Xte, Yte = data
        tasks[name] = BenchTask(
            name, desc, make_model, make_opt, _epochs(Xtr, Ytr, batch), loss, _evaluator(Xte, Yte, loss), steps, grid
        )

    add(
        "h-wine-mlp-adamw", "wine, MLP 13-32-3, AdamW", _mlp([13, 32, 3]), _adamw(), _sk("wine"), _ce, 16, 200,
        (1e-5, 1.0),
    )
    add(
        "h-breast-linear-sgdm",
        "breast_cancer, logistic regression, SGD momentum 0.9",
        _mlp([30, 2]),
        _sgd(0.9),
        _sk("breast_cancer"),
        _ce,
        32,
        200,
        (1e-4, 10.0),
    )
    add(
        "h-digits-mlp-sgd-wd-bs16",
        "digits, MLP 64-32-10, plain SGD, weight decay 5e-4, batch 16",
        _mlp([64, 32, 10]),
        _sgd(0.0, 5e-4),
        _sk("digits"),
        _ce,
        16,
        400,
        (1e-3, 10.0),
    )
    add(
        "h-iris-mlp-adamw", "iris, MLP 4-32-3, AdamW", _mlp([4, 32, 3]), _adamw(), _sk("iris"), _ce, 16, 200,
        (1e-5, 1.0),
    )
    add(
        "h-diabetes-linear-sgd",
        "diabetes regression (MSE), linear model, plain SGD",
        _mlp([10, 1]),
        _sgd(),
        _sk("diabetes", regression=True),
        _mse,
        16,
        200,
        (1e-4, 3.0),
    )
    vocab, Xtr, Ytr, Xte, Yte = _char_data(context=16)
    add(
        "h-stdlib-char-gru-adamw",
        "next character of stdlib source, GRU, AdamW",
        lambda s: (torch.manual_seed(s), _CharGRU(vocab))[1],
        _adamw(),
        (Xtr, Ytr, Xte, Yte),
        _ce,
        32,
        250,
        (1e-5, 1.0),
    )
    from lrkit.tasks import get_task

    t = get_task("digits")
    tasks["h-lrkit-digits-cnn-nesterov"] = BenchTask(
        "h-lrkit-digits-cnn-nesterov",
        "lrkit.tasks 'digits' (CNN, SGD + Nesterov momentum), not written for the finder",
        t.make_model,
        t.make_optimizer,
        t.batches,
        t.loss_fn,
        t.evaluate,
        t.default_steps,
        (1e-4, 3.0),
    )
    return tasks


_HOLDOUT: dict[str, BenchTask] | None = None


def holdout() -> dict[str, BenchTask]:
    global _HOLDOUT
    if _HOLDOUT is None:
        _HOLDOUT = _build_holdout()
    return _HOLDOUT


HOLDOUT = holdout


_TASKS: dict[str, BenchTask] | None = None


def tasks() -> dict[str, BenchTask]:
    global _TASKS
    if _TASKS is None:
        _TASKS = _build()
    return _TASKS


TASKS = tasks


def get(name: str) -> BenchTask:
    return tasks()[name] if name in tasks() else holdout()[name]
