"""Hugging Face curves against ``transformers.get_scheduler`` itself (the real implementation).

Reference: ``transformers.optimization.get_scheduler(name, optimizer, num_warmup_steps,
num_training_steps, scheduler_specific_kwargs)`` with the Trainer's warm-up rule
(``TrainingArguments.get_warmup_steps``: a count, or ``ceil(ratio * max_steps)``); the Trainer
steps the scheduler after every optimizer update, so the LR of update ``k`` is the LR after
``k`` calls of ``step()``. The comparison runs 30% past ``max_steps`` to cover what happens
after the end. Requirement: max relative difference <= 1e-9.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from transformers import get_scheduler

from lrkit.config import load_config
from lrkit.errors import ConfigError

TOL = 1e-9


def drive_hf(args: dict, steps: int) -> np.ndarray:
    param = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.AdamW([param], lr=args["learning_rate"])
    n = args["max_steps"]
    ws = args.get("warmup_steps", 0)
    warmup = int(ws) if ws >= 1 else math.ceil(n * ws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = get_scheduler(
            args["lr_scheduler_type"],
            optimizer,
            num_warmup_steps=warmup,
            num_training_steps=n,
            scheduler_specific_kwargs=args.get("lr_scheduler_kwargs") or {},
        )
        out = []
        for _ in range(steps):
            out.append(optimizer.param_groups[0]["lr"])
            sched.step()
    return np.asarray(out)


def max_rel_diff(ours, ref, peak):
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12 * peak)))


CASES = [
    ("linear", 100, {}),
    ("linear", 0, {}),
    ("cosine", 50, {}),
    ("cosine", 0.05, {"num_cycles": 1.5}),
    ("cosine_with_restarts", 40, {"num_cycles": 3}),
    ("cosine_with_restarts", 0, {"num_cycles": 2.5}),
    ("polynomial", 60, {"lr_end": 1e-6, "power": 2.0}),
    ("polynomial", 10, {}),
    ("constant", 0, {}),
    ("constant_with_warmup", 77, {}),
    ("inverse_sqrt", 100, {}),
    ("inverse_sqrt", 50, {"timescale": 300}),
    ("cosine_with_min_lr", 0.03, {"min_lr_rate": 0.1}),
    ("cosine_with_min_lr", 30, {"min_lr": 1e-5, "num_cycles": 0.75}),
    ("cosine_warmup_with_min_lr", 40, {"min_lr_rate": 0.05}),
    ("cosine_warmup_with_min_lr", 40, {"min_lr_rate": 0.05, "warmup_lr_rate": 0.1}),
    ("warmup_stable_decay", 100, {"num_decay_steps": 200, "min_lr_ratio": 0.1}),
    ("warmup_stable_decay", 100, {"num_decay_steps": 300, "warmup_type": "cosine", "decay_type": "1-sqrt"}),
    (
        "warmup_stable_decay",
        50,
        {
            "num_decay_steps": 250,
            "num_stable_steps": 400,
            "warmup_type": "1-sqrt",
            "decay_type": "cosine",
            "num_cycles": 0.5,
            "min_lr_ratio": 0.02,
        },
    ),
]


@pytest.mark.parametrize("name,warmup,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_transformers_get_scheduler(name, warmup, kwargs):
    args = {
        "learning_rate": 1e-4,
        "lr_scheduler_type": name,
        "warmup_steps": warmup,
        "max_steps": 1000,
        "lr_scheduler_kwargs": kwargs,
    }
    steps = 1300
    resolved = load_config(args, format="hf")
    ref = drive_hf(args, steps)
    ours = resolved.lr_schedule(np.arange(steps))
    assert max_rel_diff(ours, ref, 1e-4) <= TOL


def test_every_curve_type_is_covered():
    from transformers import SchedulerType

    covered = {c[0] for c in CASES}
    curves = {s.value for s in SchedulerType} - {"reduce_lr_on_plateau", "greedy"}
    assert curves <= covered


def test_quirks_are_findings():
    r = load_config(
        {
            "learning_rate": 1e-4,
            "lr_scheduler_type": "cosine",
            "warmup_steps": 10,
            "max_steps": 100,
            "lr_scheduler_kwargs": {"num_cycles": 1.0},
        }
    )
    rules = {f.rule for f in r.findings}
    assert {"first-update-at-zero", "lr-rises-again"} <= rules
    assert r.lr_schedule(0) == 0.0
    clean = load_config({"learning_rate": 1e-4, "lr_scheduler_type": "cosine", "warmup_steps": 0, "max_steps": 100})
    assert not {"first-update-at-zero", "lr-rises-again"} & {f.rule for f in clean.findings}
    # run longer than max_steps: the cosine climbs back
    longer = load_config({"learning_rate": 1e-4, "lr_scheduler_type": "cosine", "max_steps": 100}, total_steps=150)
    assert "lr-rises-again" in {f.rule for f in longer.findings}


def test_epochs_and_steps_per_epoch():
    r = load_config(
        {"learning_rate": 1e-4, "lr_scheduler_type": "linear", "num_train_epochs": 2.5, "steps_per_epoch": 100}
    )
    assert r.total_steps == 250
    with pytest.raises(ConfigError, match="max_steps"):
        load_config({"learning_rate": 1e-4, "lr_scheduler_type": "linear", "num_train_epochs": 3})


def test_plateau_becomes_a_controller_and_greedy_is_refused():
    r = load_config(
        {"learning_rate": 1e-4, "lr_scheduler_type": "reduce_lr_on_plateau", "lr_scheduler_kwargs": {"patience": 3}}
    )
    assert r.controller == {"type": "plateau", "patience": 3, "factor": 0.1}
    with pytest.raises(ConfigError, match="greedy"):
        load_config({"learning_rate": 1e-4, "lr_scheduler_type": "greedy", "max_steps": 10})


def test_bad_kwargs_name_the_field():
    with pytest.raises(ConfigError) as err:
        load_config(
            {
                "learning_rate": 1e-4,
                "lr_scheduler_type": "cosine",
                "max_steps": 10,
                "lr_scheduler_kwargs": {"num_cycle": 1},
            }
        )
    assert err.value.field == "lr_scheduler_kwargs.num_cycle"
    assert "num_cycles" in str(err.value)


@pytest.mark.parametrize("warmup_steps", [0, 1, 7, 7.9, 0.5, 0.05, 0.999, 1.0, 250])
def test_warmup_steps_follow_transformers_get_warmup_steps(warmup_steps):
    from types import SimpleNamespace

    from transformers import TrainingArguments

    n = 120
    r = load_config({"learning_rate": 1.0, "lr_scheduler_type": "linear", "warmup_steps": warmup_steps, "max_steps": n})
    # transformers' own rule, run on the value (a count from 1 up, a ratio of max_steps below)
    assert r.context["warmup_steps"] == TrainingArguments.get_warmup_steps(
        SimpleNamespace(warmup_steps=warmup_steps), n
    )


@pytest.mark.parametrize(("ratio", "warmup"), [(1.0, 120), (0.5, 60), (0.001, 1), (0.0, 0)])
def test_warmup_ratio_is_always_a_ratio(ratio, warmup):
    # transformers 4's warmup_ratio: 1.0 is the whole run (ceil(1.0 * 120)), not the count 1 warmup_steps reads
    r = load_config({"learning_rate": 1.0, "lr_scheduler_type": "linear", "warmup_ratio": ratio, "max_steps": 120})
    assert r.context["warmup_steps"] == warmup


@pytest.mark.parametrize("ratio", [1.5, -0.1])
def test_warmup_ratio_outside_0_1_is_refused_as_transformers_4_refuses_it(ratio):
    # transformers 4 raised "warmup_ratio must lie in range [0,1]"; 5 has no warmup_ratio at all
    with pytest.raises(ConfigError) as err:
        load_config({"learning_rate": 1.0, "lr_scheduler_type": "linear", "warmup_ratio": ratio, "max_steps": 120})
    assert err.value.field == "warmup_ratio" and err.value.value == ratio and err.value.fix
