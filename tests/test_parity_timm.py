"""lrkit's families against timm's schedulers (``step_update``, i.e. per optimizer update).

timm's warm-up runs from ``warmup_lr_init`` at t=0 to the base LR at t=warmup_t; with
``warmup_prefix=True`` the decay starts after it, otherwise the decay runs on the absolute
clock and the warm-up overwrites its first steps. Both are lrkit compositions:
``Sequence([Linear(init, peak, W), decay], [W])`` and
``Sequence([Linear(init, peak, W), Shift(decay, W)], [W])``.
Max relative difference <= 1e-9 over 10,000 updates.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _extras import require_installed

from lrkit.schedules import CosineRestarts, Linear, MultiStep, Polynomial, Sequence, Shift, StepDecay

require_installed("timm", "parity with timm's schedulers")

N = 10_000
BASE = 0.1
RTOL = 1e-9


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff = np.abs(a - b)
    den = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(diff == 0, 0.0, diff / np.where(den == 0, 1.0, den))))


def timm_lrs(cls, n: int = N, **kwargs) -> np.ndarray:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=BASE)
    sched = cls(opt, t_in_epochs=False, **kwargs)
    out = np.empty(n)
    for k in range(n):
        sched.step_update(k)
        out[k] = opt.param_groups[0]["lr"]
    return out


def _cosine_cases():
    return {
        "single-cycle": (dict(t_initial=N, lr_min=1e-4), CosineRestarts(BASE, N, end=1e-4, max_cycles=1)),
        "lr_min-0": (dict(t_initial=N), CosineRestarts(BASE, N, end=0.0, max_cycles=1)),
        "cycle_mul-2-decay": (
            dict(t_initial=100, lr_min=1e-5, cycle_mul=2, cycle_decay=0.5, cycle_limit=10),
            CosineRestarts(BASE, 100, 2.0, 1e-5, 0.5, 10),
        ),
        "cycle_mul-1.5": (
            dict(t_initial=100, lr_min=1e-5, cycle_mul=1.5, cycle_decay=0.8, cycle_limit=12),
            CosineRestarts(BASE, 100, 1.5, 1e-5, 0.8, 12),
        ),
        "cycle_mul-1-limit": (
            dict(t_initial=700, lr_min=1e-5, cycle_decay=0.8, cycle_limit=5),
            CosineRestarts(BASE, 700, 1.0, 1e-5, 0.8, 5),
        ),
        "warmup-prefix": (
            dict(t_initial=N - 1000, lr_min=1e-5, warmup_t=1000, warmup_lr_init=1e-6, warmup_prefix=True),
            Sequence([Linear(1e-6, BASE, 1000), CosineRestarts(BASE, N - 1000, end=1e-5, max_cycles=1)], [1000]),
        ),
        "warmup-no-prefix": (
            dict(t_initial=N, lr_min=1e-5, warmup_t=1000, warmup_lr_init=1e-6),
            Sequence([Linear(1e-6, BASE, 1000), Shift(CosineRestarts(BASE, N, end=1e-5, max_cycles=1), 1000)], [1000]),
        ),
        "warmup-from-0-cycles": (
            dict(t_initial=1500, cycle_mul=2, cycle_limit=3, warmup_t=200, warmup_prefix=True),
            Sequence([Linear(0.0, BASE, 200), CosineRestarts(BASE, 1500, 2.0, 0.0, 1.0, 3)], [200]),
        ),
    }


@pytest.mark.parametrize("case", list(_cosine_cases()))
def test_cosine_lr_scheduler(timm_sched, case: str) -> None:
    kwargs, schedule = _cosine_cases()[case]
    expected = timm_lrs(timm_sched.cosine_lr.CosineLRScheduler, **kwargs)
    assert max_rel_diff(schedule(np.arange(N)), expected) <= RTOL


def test_step_lr_scheduler(timm_sched) -> None:
    expected = timm_lrs(timm_sched.step_lr.StepLRScheduler, decay_t=300, decay_rate=0.9)
    assert max_rel_diff(BASE * StepDecay(1.0, 300, 0.9)(np.arange(N)), expected) <= RTOL


def test_step_lr_scheduler_with_warmup_prefix(timm_sched) -> None:
    expected = timm_lrs(
        timm_sched.step_lr.StepLRScheduler,
        decay_t=300,
        decay_rate=0.5,
        warmup_t=50,
        warmup_lr_init=1e-4,
        warmup_prefix=True,
    )
    ours = Sequence([Linear(1e-4, BASE, 50), StepDecay(BASE, 300, 0.5)], [50])
    assert max_rel_diff(ours(np.arange(N)), expected) <= RTOL


def test_multistep_lr_scheduler_applies_milestone_one_update_early(timm_sched) -> None:
    """timm's MultiStepLRScheduler applies milestone m at t = m - 1 (kept on purpose by timm);
    lrkit's MultiStep is torch's convention, so the lrkit milestones are timm's minus one."""
    decay_t = [1, 100, 2000, 7000]
    expected = timm_lrs(timm_sched.multistep_lr.MultiStepLRScheduler, decay_t=decay_t, decay_rate=0.3)
    ours = MultiStep(BASE, tuple(m - 1 for m in decay_t), 0.3)
    assert max_rel_diff(ours(np.arange(N)), expected) <= RTOL


def test_poly_lr_scheduler(timm_sched) -> None:
    expected = timm_lrs(timm_sched.poly_lr.PolyLRScheduler, t_initial=8000, power=0.5, lr_min=1e-5)
    assert max_rel_diff(Polynomial(BASE, 1e-5, 8000, 0.5)(np.arange(N)), expected) <= RTOL


def test_poly_lr_scheduler_power_2_with_warmup(timm_sched) -> None:
    expected = timm_lrs(
        timm_sched.poly_lr.PolyLRScheduler, t_initial=N - 300, power=2.0, lr_min=1e-6, warmup_t=300, warmup_prefix=True
    )
    ours = Sequence([Linear(0.0, BASE, 300), Polynomial(BASE, 1e-6, N - 300, 2.0)], [300])
    assert max_rel_diff(ours(np.arange(N)), expected) <= RTOL
