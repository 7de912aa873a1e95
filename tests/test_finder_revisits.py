"""The tiny-data rule: where the range test went round a tiny data set many times and the
chosen trial (adaptive optimizer) still could not fit it, the next lower trial is the suggestion."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from lrkit.finder import find_lr
from lrkit.finder.revisits import ExampleCounter


class _NoisyFloor(nn.Module):
    """A 'model' whose training loss falls with the LRs it was trained at towards a floor at a
    quarter of its start (what it cannot learn), and blows up above LR 2."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.register_buffer("progress", torch.zeros(()))
        self.opt: torch.optim.Optimizer | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert self.opt is not None
        lr = float(self.opt.param_groups[0]["lr"])
        with torch.no_grad():
            self.progress += min(lr, 1.0) * 20
        blow = 0.0 if lr < 2.0 else 10.0 ** (3 * (math.log10(lr) - 0.3))
        return torch.tensor(0.5 + 1.5 * math.exp(-float(self.progress) / 50) + blow) + 0.0 * self.w.sum()


def _setup(optimizer_cls):
    model = _NoisyFloor()
    model.opt = optimizer_cls(model.parameters(), lr=1.0)
    return model, model.opt


def _loss(model, batch):
    return model(batch[0])


def _tiny():
    # 8 distinct examples: a 100-update range test draws each of them 50 times
    return [(torch.arange(4.0).reshape(4, 1) + 4 * i, torch.zeros(4)) for i in range(2)]


def _large():
    # every batch new: each example drawn once
    g = torch.Generator().manual_seed(0)
    while True:
        yield torch.randn(4, 3, generator=g), torch.zeros(4)


def test_on_tiny_data_an_adaptive_trial_that_could_not_fit_it_gives_way_to_the_next_lower():
    tiny = find_lr(*_setup(torch.optim.Adam), _tiny(), _loss)
    large = find_lr(*_setup(torch.optim.Adam), _large(), _loss)
    sgd = find_lr(*_setup(torch.optim.SGD), _tiny(), _loss)
    # the same curve and trials in all three: only the data's size and the optimizer differ
    assert [round(t.lr, 12) for t in tiny.trials] == [round(t.lr, 12) for t in large.trials]
    chosen = min((t for t in large.trials if t.score < t.start_score), key=lambda t: t.score)
    assert large.suggestion == pytest.approx(chosen.lr) and chosen.train_end >= 0.15 * chosen.train_start
    assert sgd.suggestion == pytest.approx(large.suggestion)  # plain SGD: left alone
    below = max(t.lr for t in tiny.trials if t.lr < chosen.lr and t.score < t.start_score)
    assert tiny.suggestion == pytest.approx(below)
    assert tiny.confidence == "low" and any("went round the training data" in n for n in tiny.notes)
    assert not any("went round" in n for n in large.notes + sgd.notes)


def test_a_tiny_set_the_trial_fitted_is_left_alone():
    from lrkit.finder.choice import _below_unfitted_tiny
    from lrkit.finder.trials import Trial

    low = Trial(0.01, 40, 0.6, 1.0, "train", 40, 1.0, 0.6, 0.5)
    fitted = Trial(0.1, 40, 0.05, 1.0, "train", 40, 1.0, 0.05, 0.04)  # ended at 5% of its start
    stuck = Trial(0.1, 40, 0.3, 1.0, "train", 40, 1.0, 0.3, 0.2)  # kept 30%
    notes: list[str] = []
    assert _below_unfitted_tiny(fitted, [low, fitted], 20.0, notes) is fitted and not notes
    assert _below_unfitted_tiny(stuck, [low, stuck], 3.0, notes) is stuck and not notes  # not tiny
    assert _below_unfitted_tiny(stuck, [low, stuck], None, notes) is stuck and not notes  # not counted
    assert _below_unfitted_tiny(stuck, [stuck], 20.0, notes) is stuck  # nothing lower
    assert _below_unfitted_tiny(stuck, [low, stuck], 20.0, notes) is low and "0.01" in notes[0]


def test_the_counter_counts_passes_over_any_iterable():
    data = [(torch.arange(6.0).reshape(3, 2) + 6 * i, torch.zeros(3)) for i in range(4)]  # 12 examples
    c = ExampleCounter(data)
    for _ in range(5):
        list(c)
    assert c.passes() == pytest.approx(5.0)
    gen = ({"input_ids": torch.arange(8).reshape(2, 4) + 8 * i} for i in itertools.count())
    c = ExampleCounter(gen)
    list(itertools.islice(c, 10))
    assert c.passes() == pytest.approx(1.0)
    # the same example in another batch and position is the same example
    a, b = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[3.0, 4.0], [5.0, 6.0], [1.0, 2.0]])
    c = ExampleCounter([(a,), (b,)])
    list(c)
    assert c.passes() == pytest.approx(5 / 3)
    assert ExampleCounter(["b", "c"]).passes() is None  # nothing to count
    c = ExampleCounter(["b"])
    list(c)
    assert c.passes() is None
