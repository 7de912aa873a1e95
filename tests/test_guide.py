"""The guide's API (shared/seed-guide.md) on lrkit, with a regression test per guide bug.

Each regression test first shows the guide's own snippet doing the wrong thing (so the test
documents a real bug, not a hypothetical one), then that lrkit's function does not.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from lrkit import (
    ConfigError,
    CyclicalLearningRate,
    SchedulerInterface,
    cosine_annealing_schedule,
    linear_warmup_decay_schedule,
    step_decay_schedule,
)
from lrkit.plot import new_figure, plot_curves
from lrkit.schedules import from_dict


def guide_linear_lambda(total_steps: int, warmup_steps: int):
    def lr_lambda(step):
        if step < warmup_steps:
            return step / warmup_steps
        decay_steps = total_steps - warmup_steps
        return max(0.0, 1.0 - (step - warmup_steps) / decay_steps)

    return lr_lambda


def guide_cosine_lambda(total_steps: int, warmup_steps: int):
    def lr_lambda(step):
        if step < warmup_steps:
            return step / warmup_steps
        progress = (step - warmup_steps) / (total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return lr_lambda


def lrs(opt, sched, n: int, group: int = 0) -> list[float]:
    out = []
    for _ in range(n):
        out.append(float(opt.param_groups[group]["lr"]))
        opt.step()
        sched.step()
    return out


# -- regression: the guide's bugs ---------------------------------------------------------------


@pytest.mark.parametrize("make", [linear_warmup_decay_schedule, cosine_annealing_schedule])
def test_first_update_is_not_at_lr_zero(optimizer_factory, make) -> None:
    assert guide_linear_lambda(100, 10)(0) == 0.0 and guide_cosine_lambda(100, 10)(0) == 0.0  # the bug
    opt = optimizer_factory(1, 0.1)
    got = lrs(opt, make(opt, total_steps=100, warmup_steps=10), 12)
    assert got[0] == pytest.approx(0.1 / 10)
    assert got[9] == pytest.approx(0.1)  # the last warm-up update reaches the peak
    assert all(a < b for a, b in itertools.pairwise(got[:10]))


def test_cosine_does_not_rise_past_total_steps(optimizer_factory) -> None:
    guide = [guide_cosine_lambda(100, 10)(k) for k in range(100, 200)]
    assert guide[-1] > 0.9  # the bug: the guide's cosine climbs back to the peak
    opt = optimizer_factory(1, 0.1)
    got = lrs(opt, cosine_annealing_schedule(opt, total_steps=100, warmup_steps=10), 300)
    assert got[100:] == [0.0] * 200
    assert all(b <= a for a, b in itertools.pairwise(got[10:]))


@pytest.mark.parametrize("make", [linear_warmup_decay_schedule, cosine_annealing_schedule])
def test_total_steps_equal_to_warmup_is_not_a_division_by_zero(optimizer_factory, make) -> None:
    with pytest.raises(ZeroDivisionError):  # the bug
        guide_cosine_lambda(50, 50)(50)
    with pytest.raises(ZeroDivisionError):
        guide_linear_lambda(50, 50)(50)
    opt = optimizer_factory(1, 0.1)
    got = lrs(opt, make(opt, total_steps=50, warmup_steps=50), 60)
    assert got[0] == pytest.approx(0.1 / 50)
    assert got[49] == pytest.approx(0.1)  # warms up to the peak, not to the floor
    assert got[50:] == [0.0] * 10  # then the (empty) decay is over: the floor


def test_min_lr_holds_during_warmup(optimizer_factory) -> None:
    guide_first = 1e-3 * guide_cosine_lambda(1000, 100)(0)
    assert guide_first < 1e-5  # the bug: the guide's min_lr only clamps the decay
    opt = optimizer_factory(2, [1e-3, 5e-4])
    sched = cosine_annealing_schedule(opt, total_steps=1000, warmup_steps=100, min_lr=1e-5)
    for g in (0, 1):
        o2 = optimizer_factory(2, [1e-3, 5e-4])
        got = lrs(o2, cosine_annealing_schedule(o2, total_steps=1000, warmup_steps=100, min_lr=1e-5), 1100, g)
        assert min(got) >= 1e-5
        assert got[0] == max([1e-3, 5e-4][g] / 100, 1e-5)
        assert got[1000:] == pytest.approx([1e-5] * 100, rel=1e-12)
    assert sched.min_lr == [1e-5, 1e-5]


def test_linear_schedule_floor_holds_during_warmup(optimizer_factory) -> None:
    opt = optimizer_factory(1, 1.0)
    got = lrs(opt, linear_warmup_decay_schedule(opt, 100, 50, min_lr_ratio=0.1), 120)
    assert got[0] == 0.1 and got[9] == pytest.approx(0.2) and got[100:] == pytest.approx([0.1] * 20, rel=1e-12)
    assert min(got) >= 0.1


def test_min_lr_ratio_is_relative_to_each_group(optimizer_factory) -> None:
    opt = optimizer_factory(2, [1e-3, 1e-4])
    sched = cosine_annealing_schedule(opt, total_steps=200, warmup_steps=20, min_lr_ratio=0.1)
    for _ in range(250):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == pytest.approx([1e-4, 1e-5], rel=1e-12)


def test_linear_decay_matches_the_guide_after_warmup(optimizer_factory) -> None:
    opt = optimizer_factory(1, 1.0)
    got = lrs(opt, linear_warmup_decay_schedule(opt, total_steps=300, warmup_steps=30), 320)
    guide = guide_linear_lambda(300, 30)
    assert got[30:] == pytest.approx([guide(k) for k in range(30, 320)], rel=1e-12, abs=1e-15)


def test_step_decay_is_the_guides_formula(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.1)
    got = lrs(opt, step_decay_schedule(opt, decay_steps=7, decay_rate=0.5), 50)
    assert got == pytest.approx([0.1 * 0.5 ** (k // 7) for k in range(50)], rel=1e-15)


def test_cyclical_learning_rate_is_the_guides_curve(optimizer_factory) -> None:
    def guide(k, base=1e-4, top=1e-3, size=20):
        cycle = k // (2 * size)
        x = abs(k / size - 2 * cycle - 1)
        return base + (top - base) * max(0, 1 - x)

    opt = optimizer_factory(2, [5.0, 7.0])  # the guide sets every group to the same absolute LR
    clr = CyclicalLearningRate(opt, base_lr=1e-4, max_lr=1e-3, step_size=20)
    for g in (0, 1):
        o = optimizer_factory(2, [5.0, 7.0])
        got = lrs(o, CyclicalLearningRate(o, base_lr=1e-4, max_lr=1e-3, step_size=20), 200, g)
        assert got == pytest.approx([guide(k) for k in range(200)], rel=1e-12)
    assert clr.state_dict()["schedule"]["type"] == "cyclic"


@pytest.mark.parametrize(
    ("call", "field_name"),
    [
        (lambda o: linear_warmup_decay_schedule(o, total_steps=100), "warmup_steps"),  # default warm-up 1000 > 100
        (lambda o: cosine_annealing_schedule(o, total_steps=0, warmup_steps=0), "total_steps"),
        (lambda o: cosine_annealing_schedule(o, 100, 10, min_lr=1.0), "min_lr"),
        (lambda o: cosine_annealing_schedule(o, 100, 10, min_lr=0.0, min_lr_ratio=0.1), "min_lr_ratio"),
        (lambda o: step_decay_schedule(o, decay_steps=0), "step_size"),
        (lambda o: CyclicalLearningRate(o, base_lr=1e-2, max_lr=1e-3), "base_lr"),
        (lambda o: CyclicalLearningRate(o, step_size=0), "step_size"),
    ],
)
def test_bad_arguments(optimizer_factory, call, field_name) -> None:
    with pytest.raises(ConfigError) as info:
        call(optimizer_factory(1, 0.1))
    assert info.value.field == field_name


@pytest.mark.parametrize("min_lr", [None, 1e-3])
def test_an_optimizer_that_is_not_one_is_a_config_error(min_lr) -> None:
    with pytest.raises(ConfigError) as info:
        cosine_annealing_schedule(object(), 100, 10, min_lr=min_lr)  # type: ignore[arg-type]
    assert info.value.field == "optimizer"


# -- SchedulerInterface: the guide's CustomScheduler pattern ---------------------------------------


class GuideCustomScheduler(SchedulerInterface):
    """The guide's CustomScheduler, its warm-up corrected to (step + 1) / warmup_steps."""

    def __init__(self, config):
        super().__init__(config)
        self.warmup_steps = config.get("warmup_steps", 1000)
        self.total_steps = config.get("total_steps", 100000)
        self.min_lr = config.get("min_lr", 1e-6)

    def get_lr(self, step):
        if step < self.warmup_steps:
            return self.base_lr * ((step + 1) / self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        return max(self.base_lr * 0.5 * (1.0 + math.cos(math.pi * progress)), self.min_lr)


CFG = {"base_lr": 3e-4, "warmup_steps": 10, "total_steps": 100, "min_lr": 1e-6}


def test_custom_scheduler_is_a_schedule_by_name(tmp_path) -> None:
    s = from_dict({"type": "GuideCustomScheduler", **CFG})
    assert s == GuideCustomScheduler(CFG)
    v = s(np.arange(120))
    assert v[0] == pytest.approx(3e-5) and v[-1] == 1e-6
    assert s(5) == v[5]
    _fig, ax = new_figure()
    plot_curves(ax, [("custom", np.arange(120), v)])
    assert ax.lines and len(ax.lines[0].get_ydata()) == 120


def test_custom_scheduler_in_the_adapter_as_an_absolute_curve(optimizer_factory) -> None:
    from lrkit import Scheduler

    opt = optimizer_factory(1, 1.0)  # base LR 1: the custom schedule gives absolute LRs
    sched = Scheduler(opt, GuideCustomScheduler(CFG))
    got = lrs(opt, sched, 110)
    assert got == [GuideCustomScheduler(CFG).get_lr(k) for k in range(110)]
    assert sched.state_dict()["schedule"] == {"type": "GuideCustomScheduler", **CFG}


def test_custom_scheduler_errors_are_config_errors() -> None:
    class Picky(SchedulerInterface):
        def __init__(self, config):
            super().__init__(config)
            self.n = config["required"]

        def get_lr(self, step):
            return 1.0

    with pytest.raises(ConfigError) as info:
        from_dict({"type": "Picky"})
    assert "Picky" in str(info.value)
    with pytest.raises(ConfigError):
        Picky("not a dict")


def test_torch_optimizer_is_unchanged_by_preview() -> None:
    """Evaluating a schedule never touches an optimizer (no hidden state)."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    GuideCustomScheduler(CFG)(np.arange(1000))
    assert opt.param_groups[0]["lr"] == 0.1


def test_custom_scheduler_by_name_in_a_config_and_the_linter() -> None:
    import lrkit

    s = lrkit.load_schedule({"type": "GuideCustomScheduler", **CFG})
    assert s(np.arange(120)).tolist() == GuideCustomScheduler(CFG)(np.arange(120)).tolist()
    findings = lrkit.lint(GuideCustomScheduler(CFG), total_steps=100)
    assert isinstance(findings, list)
