"""lrkit's families against torch's own schedulers, stepped the way a training loop does.

For each pair the LR torch leaves in the optimizer before update k is compared with
``base_lr * schedule(k)``: max relative difference <= 1e-9 over 10,000 updates (or the peer's
natural length). Where lrkit deliberately differs (past the end), the difference is asserted
too, so the documentation in docs/schedules.md cannot drift from the code.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from lrkit import ConfigError, Scheduler
from lrkit.schedules import (
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Linear,
    MultiStep,
    OneCycle,
    Polynomial,
    Sequence,
    StepDecay,
)

N = 10_000
BASE = 0.1
RTOL = 1e-9


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|), with equal values (zeros included) counting as 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = np.abs(a - b)
    den = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(diff == 0, 0.0, diff / np.where(den == 0, 1.0, den))))


def torch_lrs(make, n: int, lr: float = BASE, *, momentum: float = 0.0) -> np.ndarray:
    """LR of group 0 before each of ``n`` updates, optimizer.step() then scheduler.step()."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum)
    sched = make(opt)
    out = np.empty(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation chatter, not ours
        for k in range(n):
            out[k] = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
    return out


CASES = {
    "LinearLR": (lambda o: L.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=2500), Linear(0.01, 1.0, 2500)),
    "LinearLR-decay": (
        lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=7000),
        Linear(1.0, 0.05, 7000),
    ),
    "CosineAnnealingLR": (lambda o: L.CosineAnnealingLR(o, T_max=N), Cosine(1.0, N, 0.0)),
    "CosineAnnealingLR-eta_min": (lambda o: L.CosineAnnealingLR(o, T_max=N, eta_min=1e-3), Cosine(1.0, N, 1e-2)),
    "StepLR": (lambda o: L.StepLR(o, step_size=300, gamma=0.9), StepDecay(1.0, 300, 0.9)),
    "MultiStepLR": (
        lambda o: L.MultiStepLR(o, milestones=[100, 2000, 2000, 7000], gamma=0.3),
        MultiStep(1.0, (100, 2000, 2000, 7000), 0.3),
    ),
    "ExponentialLR": (lambda o: L.ExponentialLR(o, gamma=0.9995), Exponential(1.0, 0.9995)),
    "PolynomialLR": (lambda o: L.PolynomialLR(o, total_iters=8000, power=2.0), Polynomial(1.0, 0.0, 8000, 2.0)),
    "PolynomialLR-sqrt": (lambda o: L.PolynomialLR(o, total_iters=N, power=0.5), Polynomial(1.0, 0.0, N, 0.5)),
    "OneCycleLR-cos": (lambda o: L.OneCycleLR(o, max_lr=BASE, total_steps=N), OneCycle(1.0, N)),
    "OneCycleLR-linear": (
        lambda o: L.OneCycleLR(o, max_lr=BASE, total_steps=N, anneal_strategy="linear", pct_start=0.25),
        OneCycle(1.0, N, pct_start=0.25, anneal="linear"),
    ),
    "OneCycleLR-cos-3phase": (
        lambda o: L.OneCycleLR(o, max_lr=BASE, total_steps=N, three_phase=True, div_factor=10, final_div_factor=100),
        OneCycle(1.0, N, div_factor=10, final_div_factor=100, three_phase=True),
    ),
    "OneCycleLR-linear-3phase": (
        lambda o: L.OneCycleLR(o, max_lr=BASE, total_steps=N, anneal_strategy="linear", three_phase=True),
        OneCycle(1.0, N, anneal="linear", three_phase=True),
    ),
    "CyclicLR-triangular": (
        lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=BASE, step_size_up=700, step_size_down=300, cycle_momentum=False),
        Cyclic(0.1, 1.0, 700, 300),
    ),
    "CyclicLR-triangular2": (
        lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=BASE, step_size_up=700, mode="triangular2", cycle_momentum=False),
        Cyclic(0.1, 1.0, 700, mode="triangular2"),
    ),
    "CyclicLR-exp_range": (
        lambda o: L.CyclicLR(
            o, base_lr=0.01, max_lr=BASE, step_size_up=450, mode="exp_range", gamma=0.9997, cycle_momentum=False
        ),
        Cyclic(0.1, 1.0, 450, mode="exp_range", gamma=0.9997),
    ),
    "CosineAnnealingWarmRestarts-T_mult1": (
        lambda o: L.CosineAnnealingWarmRestarts(o, T_0=700, T_mult=1, eta_min=1e-3),
        CosineRestarts(1.0, 700, 1, 1e-2),
    ),
    "CosineAnnealingWarmRestarts-T_mult2": (
        lambda o: L.CosineAnnealingWarmRestarts(o, T_0=100, T_mult=2),
        CosineRestarts(1.0, 100, 2, 0.0),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_over_10k_updates(name: str) -> None:
    make, schedule = CASES[name]
    expected = torch_lrs(make, N)
    got = BASE * schedule(np.arange(N))
    assert max_rel_diff(got, expected) <= RTOL


@pytest.mark.parametrize("name", ["CosineAnnealingLR", "StepLR", "OneCycleLR-cos-3phase", "CyclicLR-triangular2"])
def test_adapter_reproduces_torch_in_the_optimizer(name: str) -> None:
    """The same comparison through lrkit.Scheduler, i.e. what a training loop really sees."""
    make, schedule = CASES[name]
    n = 3000
    expected = torch_lrs(make, n)
    got = torch_lrs(lambda o: Scheduler(o, schedule), n)
    assert max_rel_diff(got, expected) <= RTOL


def test_sequential_linear_cosine_matches_sequence_with_torch_warmup() -> None:
    """SequentialLR(LinearLR, CosineAnnealingLR): torch's warm-up starts at start_factor and
    reaches the peak at the milestone; ``Sequence([Linear, Cosine])`` is the same curve."""
    w = 500

    def make(o):
        return L.SequentialLR(
            o,
            [L.LinearLR(o, start_factor=1e-3, total_iters=w), L.CosineAnnealingLR(o, T_max=N - w, eta_min=1e-4)],
            milestones=[w],
        )

    expected = torch_lrs(make, N)
    got = BASE * Sequence([Linear(1e-3, 1.0, w), Cosine(1.0, N - w, 1e-3)], [w])(np.arange(N))
    assert max_rel_diff(got, expected) <= RTOL


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("steps", [1, 2, 3, 4, 10, 100])
@pytest.mark.parametrize("pct_start", [0.0, 0.001, 0.1, 0.25, 1 / 3, 0.5, 1.0])
def test_one_cycle_runs_and_refuses_exactly_where_torch_does(steps: int, pct_start: float, three_phase: bool) -> None:
    """Short runs and extreme pct_start: torch starts in the decay at pct_start=0 and raises only
    when pct_start * total_steps == 1 (its first phase has zero length at step 0)."""
    make = lambda o: L.OneCycleLR(o, max_lr=BASE, total_steps=steps, pct_start=pct_start, three_phase=three_phase)  # noqa: E731
    try:
        expected = torch_lrs(make, steps)
    except ZeroDivisionError:
        with pytest.raises(ConfigError, match="pct_start"):
            OneCycle(1.0, steps, pct_start=pct_start, three_phase=three_phase)
        return
    got = BASE * OneCycle(1.0, steps, pct_start=pct_start, three_phase=three_phase)(np.arange(steps))
    assert max_rel_diff(got, expected) <= RTOL


# -- intentional differences (documented in docs/schedules.md) --------------------------------


def test_cosine_holds_its_floor_where_torch_climbs_back() -> None:
    t_max = 100
    torch_curve = torch_lrs(lambda o: L.CosineAnnealingLR(o, T_max=t_max, eta_min=1e-3), 3 * t_max)
    ours = BASE * Cosine(1.0, t_max, 1e-2)(np.arange(3 * t_max))
    assert max_rel_diff(ours[: t_max + 1], torch_curve[: t_max + 1]) <= RTOL
    assert np.all(ours[t_max:] == ours[t_max])
    assert torch_curve[2 * t_max] == pytest.approx(BASE)  # torch is back at the peak


def test_one_cycle_holds_the_final_value_where_torch_raises() -> None:
    n = 100
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=BASE, momentum=0.9)
    sched = L.OneCycleLR(opt, max_lr=BASE, total_steps=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            opt.step()
            sched.step()
        with pytest.raises(ValueError):
            sched.step()
    oc = OneCycle(1.0, n)
    assert oc(n - 1) == oc(n) == oc(10 * n) == pytest.approx(1.0 / 25.0 / 1e4)


def test_one_cycle_drives_momentum_in_torch_only() -> None:
    """OneCycleLR and CyclicLR also cycle momentum by default; lrkit schedules the LR only, so
    the parity cases pass cycle_momentum=False (CyclicLR) or only compare LRs (OneCycleLR)."""
    got = torch_lrs(lambda o: L.OneCycleLR(o, max_lr=BASE, total_steps=200), 200, momentum=0.9)
    assert max_rel_diff(BASE * OneCycle(1.0, 200)(np.arange(200)), got) <= RTOL
