"""The guide's ``debug_lr_schedule``, fixed: it previews the real curve and never steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lrkit.errors import ConfigError
from lrkit.guide import cosine_annealing_schedule, debug_lr_schedule
from lrkit.schedules import warmup_cosine


def _opt(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def test_previews_a_scheduler_without_advancing_it(capsys):
    opt = _opt()
    sched = cosine_annealing_schedule(opt, total_steps=300, warmup_steps=30)
    lrs = debug_lr_schedule(sched, 300, every=100)
    # the guide's loop printed the same LR every time; this is the real curve
    assert len(set(lrs.tolist())) > 250
    assert sched.last_epoch == 0 and opt.param_groups[0]["lr"] == lrs[0]
    stepped = []
    for _ in range(300):
        stepped.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert stepped == lrs.tolist()
    assert capsys.readouterr().out.splitlines() == [f"Step {k}: LR = {lrs[k]:.2e}" for k in (0, 100, 200)]


def test_schedule_and_config_targets():
    sched = warmup_cosine(200, 20)
    assert np.array_equal(debug_lr_schedule(sched, 200, every=50), sched(np.arange(200)))
    cfg = {
        "training": {
            "optimizer": {"type": "sgd", "lr": 0.5},
            "scheduler": {"type": "cosine_annealing", "warmup_steps": 10},
        }
    }
    lrs = debug_lr_schedule(cfg, 100, every=100)
    assert lrs[0] == pytest.approx(0.05) and lrs.max() == pytest.approx(0.5)


def test_bad_arguments_name_the_field():
    with pytest.raises(ConfigError, match="group"):
        debug_lr_schedule(cosine_annealing_schedule(_opt(), 100, 10), 100, group=3)
    with pytest.raises(ConfigError, match="group"):
        debug_lr_schedule(cosine_annealing_schedule(_opt(), 100, 10), 100, group="0")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="total_steps"):
        debug_lr_schedule(warmup_cosine(10, 1), 0)
