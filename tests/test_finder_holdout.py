"""The held-out split the finder carves from a tiny training set when no val_data is given."""

from __future__ import annotations

import collections
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from lrkit.finder import find_lr
from lrkit.finder.holdout import MIN_HELD, Split, _Uncuttable, carve, take_rows
from lrkit.finder.revisits import ExampleCounter, example_prints


def _examples(n: int, dim: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=g), torch.randint(0, 2, (n,), generator=g)


def _epochs(x: torch.Tensor, y: torch.Tensor, batch: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - batch + 1, batch):
            j = perm[i : i + batch]
            yield x[j], y[j]


def _rows(batch) -> set[float]:
    fp = example_prints(batch)
    return set() if fp is None else {float(v) for v in fp}


# -- cutting batches by rows --------------------------------------------------------------------
def test_take_rows_keeps_every_container_and_cuts_every_part():
    x, y = _examples(5)
    mask = torch.tensor([True, False, True, False, False])
    cut = take_rows((x, y), mask, 5)
    assert isinstance(cut, tuple) and torch.equal(cut[0], x[mask]) and torch.equal(cut[1], y[mask])
    assert isinstance(take_rows([x, y], mask, 5), list)
    pair = collections.namedtuple("pair", "inputs targets")
    nt = take_rows(pair(x, y), mask, 5)
    assert isinstance(nt, pair) and nt.targets.shape == (2,)
    d = take_rows({"input_ids": x, "labels": y}, mask, 5)
    assert set(d) == {"input_ids", "labels"} and d["labels"].shape == (2,)

    class Encoding(collections.UserDict):  # transformers' BatchEncoding is a UserDict
        pass

    enc = take_rows(Encoding(input_ids=x, labels=y), torch.tensor([0, 4]), 5)
    assert isinstance(enc, Encoding) and torch.equal(enc["input_ids"], x[[0, 4]])
    assert torch.equal(take_rows(((x, x), y), mask, 5)[0][1], x[mask])  # nested
    # the same walk moves batches to a device and finds their examples: the mapping's type stays
    from lrkit.finder.engine import _to_device

    moved = _to_device(Encoding(input_ids=x, labels=y), torch.device("cpu"))
    assert isinstance(moved, Encoding) and moved["labels"] is y
    assert example_prints(Encoding(input_ids=x, labels=y)) is not None


@pytest.mark.parametrize(
    "batch",
    [
        (torch.zeros(5, 2), ["a", "b", "c", "d", "e"]),  # a list of strings: not cut-able generically
        (torch.zeros(5, 2), torch.tensor(3.0)),  # a 0-d tensor
        (torch.zeros(5, 2), torch.zeros(4)),  # another dim 0
        (torch.zeros(5, 2), None),
    ],
)
def test_a_part_that_cannot_be_cut_by_rows_is_refused(batch):
    with pytest.raises(_Uncuttable):
        take_rows(batch, torch.ones(5, dtype=torch.bool), 5)


# -- carving the split ----------------------------------------------------------------------------
def _counted(x, y, batch=5, draws=200):
    c = ExampleCounter(_epochs(x, y, batch))
    list(itertools.islice(iter(c), draws))
    return c


def test_the_split_holds_out_a_quarter_of_the_examples_and_the_trials_never_train_on_them():
    x, y = _examples(40)
    c = _counted(x, y)
    split = carve(c.prints(), _epochs(x, y, 5, seed=2))
    assert split is not None and split.examples == 40 and split.held_found == 10 == len(split.held)
    val_rows = set().union(*(_rows(b) for b in split.val))
    assert len(val_rows) == 10 and val_rows == {float(v) for v in split.held}
    assert sum(len(b[0]) for b in split.val) == 10  # each held-out example once
    assert all(len(b[0]) <= 5 for b in split.val)  # regrouped at the data's batch size
    seen: set[float] = set()
    for b in itertools.islice(iter(split.trained_on(list(itertools.islice(_epochs(x, y, 5), 16)))), 200):
        assert len(b[0]) >= 2 and len(b[0]) == len(b[1])
        seen |= _rows(b)
    assert seen and not (seen & val_rows)
    assert len(seen) == 30  # every other example is still trained on
    # the same draw again: the split does not depend on the order the data came in
    again = carve(_counted(x, y).prints(), _epochs(x, y, 5, seed=3))
    assert again is not None and np.array_equal(again.held, split.held)


def test_equal_rows_count_as_one_example():
    x, y = _examples(30)
    x[1], y[1] = x[0], y[0]  # a duplicate
    c = _counted(x, y)
    split = carve(c.prints(), _epochs(x, y, 5, seed=2))
    assert split is not None and split.examples == 29


def test_too_small_a_set_or_a_batch_it_cannot_cut_is_not_split():
    x, y = _examples(4 * MIN_HELD - 4)
    assert carve(_counted(x, y).prints(), _epochs(x, y, 5)) is None  # too few to hold out
    x, y = _examples(40)
    c = _counted(x, y)
    texts = ((bx, [str(v) for v in by.tolist()]) for bx, by in _epochs(x, y, 5))
    assert carve(c.prints(), texts) is None


def test_a_batch_left_with_one_row_is_skipped():
    held = np.sort(example_prints((torch.tensor([[1.0], [2.0]]),)).numpy())
    split = Split(held=held, val=[], examples=3, held_found=2)
    batch = (torch.tensor([[1.0], [2.0], [3.0]]),)
    assert list(split.train_batches([batch])) == []  # BatchNorm cannot train on one row
    whole = (torch.tensor([[3.0], [4.0]]),)
    assert list(split.train_batches([whole])) == [whole]  # nothing held out: the batch itself


# -- find_lr ------------------------------------------------------------------------------------
class _Spy(nn.Module):
    """A small MLP that records the rows it trains on (train mode) and evaluates on (eval mode)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(3, 32), nn.ReLU(), nn.Linear(32, 2))
        self.in_trials: set[float] = set()  # trained on after the first held-out evaluation
        self.evaluated: set[float] = set()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = {float(v) for v in example_prints((x,))}
        if not self.training:
            self.evaluated |= rows
        elif self.evaluated:  # the held-out loss is read once before the first trial
            self.in_trials |= rows
        return self.net(x)


def _tiny_noisy(n: int = 40):
    x, y = _examples(n, seed=5)
    y = (x[:, 0] > 0).long()
    y[:8] = 1 - y[:8]  # label noise: what a memorising peak learns
    return x, y


def _loss(model, batch):
    x, y = batch
    return nn.functional.cross_entropy(model(x), y)


def test_on_tiny_data_the_trials_are_judged_on_examples_they_never_trained_on():
    x, y = _tiny_noisy()
    model = _Spy()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    res = find_lr(model, opt, _epochs(x, y, 5), _loss)
    assert res.held_out == 10 and res.to_dict()["held_out"] == 10
    assert res.trials and all(t.judged_by == "val" for t in res.trials)
    assert any("judged by the loss on the 10 held out" in n for n in res.notes)
    assert len(model.evaluated) == 10 and not (model.in_trials & model.evaluated)
    assert len(model.in_trials) == 30


def test_no_split_with_val_data_a_step_fn_or_plenty_of_data():
    x, y = _tiny_noisy()
    model = _Spy()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    vx, _ = _examples(10, seed=9)
    res = find_lr(model, opt, _epochs(x, y, 5), _loss, val_data=[(vx, (vx[:, 0] > 0).long())])
    assert res.held_out == 0 and not any("held out" in n for n in res.notes)

    def step(m, o, batch):
        o.zero_grad()
        loss = _loss(m, batch)
        loss.backward()
        o.step()
        return loss

    res = find_lr(model, opt, _epochs(x, y, 5), step_fn=step)
    assert res.held_out == 0 and all(t.judged_by == "train" for t in res.trials)
    big_x, _ = _examples(4000, seed=6)
    res = find_lr(model, opt, _epochs(big_x, (big_x[:, 0] > 0).long(), 5), _loss)
    assert res.held_out == 0 and all(t.judged_by == "train" for t in res.trials)


# -- trials that all over-fitted the held-out examples --------------------------------------------
def test_when_even_the_lowest_trial_overfitted_the_suggestion_is_half_a_decade_below_it():
    from lrkit.finder.choice import _none_learned_choice
    from lrkit.finder.trials import Trial

    def trial(lr, score, judged_by="val", train_end=0.2):
        return Trial(lr, 60, score, 1.0, judged_by, 62, 1.0, train_end, 0.1)

    notes: list[str] = []
    overfit = [trial(0.01, 2.0), trial(0.03, 4.0), trial(0.1, 9.0)]
    assert _none_learned_choice(overfit, None, notes) == pytest.approx(0.01 / 10**0.5)
    assert "over-fitted" in notes[-1] and "0.01" in notes[-1]
    # a held-out loss that stays level (a hard task, a small noisy held-out set): the lowest trial
    for done in (
        [trial(0.01, 1.05), trial(0.03, 1.3)],
        [trial(0.01, 2.0, judged_by="train"), trial(0.03, 3.0, judged_by="train")],
        [trial(0.01, 2.0, train_end=1.1), trial(0.03, 3.0, train_end=1.2)],  # nothing learned at all
        [trial(0.01, 1.05), trial(0.03, float("inf"))],  # the higher diverged, the lowest did not
    ):
        notes.clear()
        assert _none_learned_choice(done, 1.0, notes) == 0.01
        assert "no trial learned anything" in notes[-1]


def test_when_every_trial_diverged_or_climbed_in_its_warm_up_the_suggestion_is_below_the_lowest():
    from lrkit.finder.choice import _none_learned_choice
    from lrkit.finder.trials import Trial

    def trial(lr, first_tenth, score):  # judged by training loss, from a start level of 0.53
        return Trial(lr, 66, score, first_tenth, "train", 66, first_tenth, score, 0.4, 0.3)

    notes: list[str] = []
    climbed = [trial(0.79, 18.0, 1.42), trial(2.5, 5244.0, 13.6), trial(7.9, 2e6, 133.0)]
    assert _none_learned_choice(climbed, 0.53, notes) == pytest.approx(0.79 / 10**0.5)
    assert "rose in its warm-up" in notes[-1]
    diverged = [trial(0.01, 0.6, float("inf")), trial(0.03, 0.6, float("inf"))]
    assert _none_learned_choice(diverged, 0.53, []) == pytest.approx(0.01 / 10**0.5)
    # the lowest stayed calm (first tenth at the start level): it is the suggestion, as before
    calm_lowest = [trial(0.79, 0.55, 0.6), trial(2.5, 5244.0, 13.6)]
    assert _none_learned_choice(calm_lowest, 0.53, []) == 0.79
