"""NeMo RL (DTensor path) curves against the real torch schedulers, driven as NeMo RL drives them.

Reference: NeMo RL's DTensor policy worker (``nemo_rl/models/policy/dtensor_policy_worker.py``)
imports each ``policy.scheduler[i].name``, builds it on the optimizer with its kwargs,
combines a list with ``torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers,
milestones)``, uses ``LambdaLR(lambda: 1)`` when there is no scheduler, and calls
``scheduler.step()`` once per algorithm step after all optimizer updates of that step. The
LR of step ``k`` is the optimizer's LR after ``k`` such calls. Requirement: max relative
difference <= 1e-9 over the whole run.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import torch

from lrkit.config import load_config
from lrkit.errors import ConfigError

TOL = 1e-9


def _import(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def drive_nemo_rl(cfg: dict, steps: int) -> np.ndarray:
    """The LR of every step as NeMo RL's worker produces it with the real torch classes."""
    policy = cfg["policy"]
    param = torch.nn.Parameter(torch.zeros(2))
    opt_cls = _import(policy["optimizer"]["name"])
    optimizer = opt_cls([param], **policy["optimizer"]["kwargs"])
    sched_cfg = policy.get("scheduler")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if sched_cfg is None:
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda epoch: 1)
        elif isinstance(sched_cfg, dict):
            scheduler = _import(sched_cfg["name"])(optimizer, **sched_cfg["kwargs"])
        else:
            schedulers, milestones = [], None
            for entry in sched_cfg:
                if "name" in entry:
                    schedulers.append(_import(entry["name"])(optimizer, **entry["kwargs"]))
                else:
                    milestones = entry["milestones"]
            scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers, milestones)
        out = []
        for _ in range(steps):
            out.append(optimizer.param_groups[0]["lr"])
            scheduler.step()
    return np.asarray(out, dtype=np.float64)


def max_rel_diff(ours: np.ndarray, ref: np.ndarray, peak: float) -> float:
    """max |ours - ref| / max(|ref|, 1e-12 * peak): relative, with a floor so exact zeros compare."""
    denom = np.maximum(np.abs(ref), 1e-12 * peak)
    return float(np.max(np.abs(ours - ref) / denom))


def _cfg(scheduler, lr=5e-6, steps=500, opt="torch.optim.AdamW"):
    cfg = {"grpo": {"max_num_steps": steps}, "policy": {"optimizer": {"name": opt, "kwargs": {"lr": lr}}}}
    if scheduler is not None:
        cfg["policy"]["scheduler"] = scheduler
    return cfg


def L(name, **kw):
    return {"name": f"torch.optim.lr_scheduler.{name}", "kwargs": kw}


CASES = {
    "warmup_cosine": [
        L("LinearLR", start_factor=0.1, end_factor=1.0, total_iters=50),
        L("CosineAnnealingLR", T_max=450, eta_min=5e-7),
        {"milestones": [50]},
    ],
    "cosine_past_tmax": [
        L("LinearLR", start_factor=0.1, end_factor=1.0, total_iters=50),
        L("CosineAnnealingLR", T_max=200, eta_min=1e-7),
        {"milestones": [50]},
    ],
    "nemo_rl_default": [
        L("LinearLR", start_factor=0.1, end_factor=1.0, total_iters=50),
        L("ConstantLR", factor=1.0, total_iters=10_000_000_000),
        {"milestones": [50]},
    ],
    "warmup_shorter_than_milestone": [
        L("LinearLR", start_factor=0.01, end_factor=1.0, total_iters=30),
        L("CosineAnnealingLR", T_max=400),
        {"milestones": [60]},
    ],
    "milestone_cuts_warmup": [
        L("LinearLR", start_factor=0.2, end_factor=1.0, total_iters=80),
        L("ExponentialLR", gamma=0.995),
        {"milestones": [40]},
    ],
    "three_pieces": [
        L("ConstantLR", factor=0.5, total_iters=20),
        L("StepLR", step_size=37, gamma=0.7),
        L("PolynomialLR", total_iters=150, power=2.0),
        {"milestones": [25, 300]},
    ],
    "multistep": [
        L("LinearLR", start_factor=0.5, total_iters=10),
        L("MultiStepLR", milestones=[100, 200, 200, 350], gamma=0.5),
        {"milestones": [10]},
    ],
    "linear_decay": [
        L("LinearLR", start_factor=0.05, end_factor=1.0, total_iters=25),
        L("LinearLR", start_factor=1.0, end_factor=0.0, total_iters=475),
        {"milestones": [25]},
    ],
    "single_cosine_dict": L("CosineAnnealingLR", T_max=500, eta_min=1e-7),
    "single_cosine_periodic": L("CosineAnnealingLR", T_max=120),
    "warm_restarts": [
        L("LinearLR", start_factor=0.1, total_iters=10),
        L("CosineAnnealingWarmRestarts", T_0=40, T_mult=2, eta_min=1e-8),
        {"milestones": [10]},
    ],
    "onecycle": L("OneCycleLR", max_lr=1e-5, total_steps=500, pct_start=0.25, three_phase=True),
    "cyclic": L(
        "CyclicLR",
        base_lr=1e-6,
        max_lr=5e-6,
        step_size_up=30,
        step_size_down=70,
        mode="triangular2",
        cycle_momentum=False,
    ),
    "none": None,
    "lrkit_scheduler_in_sequence": [
        L("LinearLR", start_factor=0.1, total_iters=20),
        {
            "name": "lrkit.Scheduler",
            "kwargs": {"schedule": {"type": "cosine", "steps": 480, "end": 0.1}, "min_lr": 1e-6},
        },
        {"milestones": [20]},
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_sequential_lr(name):
    cfg = _cfg(CASES[name])
    resolved = load_config(cfg)
    assert resolved.format == "nemo_rl"
    assert resolved.total_steps == 500
    ref = drive_nemo_rl(cfg, 500)
    ours = resolved.lr_schedule(np.arange(500))
    assert max_rel_diff(ours, ref, resolved.peak_lr) <= TOL, name


def test_lrkit_scheduler_as_nemo_rl_scheduler():
    sched = {
        "name": "lrkit.Scheduler",
        "kwargs": {
            "schedule": {
                "type": "warmup",
                "warmup_steps": 20,
                "schedule": {"type": "cosine", "steps": 480, "end": 0.1},
            },
            "min_lr": 1e-6,
        },
    }
    cfg = _cfg(sched)
    ref = drive_nemo_rl(cfg, 500)
    ours = load_config(cfg).lr_schedule(np.arange(500))
    assert max_rel_diff(ours, ref, 5e-6) <= TOL


def test_sgd_and_long_run_stays_exact():
    cfg = _cfg(
        [
            L("LinearLR", start_factor=0.001, total_iters=500),
            L("CosineAnnealingLR", T_max=9500, eta_min=0.0),
            {"milestones": [500]},
        ],
        lr=0.1,
        steps=10_000,
        opt="torch.optim.SGD",
    )
    ref = drive_nemo_rl(cfg, 10_000)
    ours = load_config(cfg).lr_schedule(np.arange(10_000))
    assert max_rel_diff(ours, ref, 0.1) <= TOL


def test_unpreviewable_classes_are_named():
    from lrkit.errors import ConfigError

    for name, words in [
        ("torch.optim.lr_scheduler.LambdaLR", "arbitrary Python function"),
        ("my_pkg.MyScheduler", "cannot preview arbitrary classes"),
    ]:
        with pytest.raises(ConfigError) as err:
            load_config(_cfg({"name": name, "kwargs": {}}))
        assert err.value.field == "policy.scheduler.name" and words in str(err.value) and name in str(err.value)
    with pytest.raises(ConfigError, match="inside a SequentialLR"):
        load_config(
            _cfg([L("LinearLR", total_iters=5), L("OneCycleLR", max_lr=1e-5, total_steps=100), {"milestones": [5]}])
        )
    with pytest.raises(ConfigError, match="milestones"):
        load_config(_cfg([L("LinearLR", total_iters=5), L("ConstantLR", factor=1.0)]))
    with pytest.raises(ConfigError) as err:
        load_config(_cfg([L("LinearLR", total_iters=5), L("ConstantLR", factor=1.0), {"milestones": [5, 9]}]))
    assert err.value.field == "policy.scheduler[2].milestones"
    with pytest.raises(ConfigError) as err:
        load_config(_cfg([L("LinearLR", total_iters=5), L("ConstantLR"), L("ConstantLR"), {"milestones": [9, 5]}]))
    assert "increasing" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config(_cfg([L("LinearLR", total_iters=5), L("CosineAnnealingLR", T_max=0), {"milestones": [5]}]))
    assert err.value.field == "policy.scheduler[1].kwargs.T_max"


def test_cosine_past_tmax_is_a_finding():
    r = load_config(_cfg(CASES["cosine_past_tmax"]))
    (f,) = [f for f in r.findings if f.rule == "lr-rises-again"]
    assert f.evidence["lowest_at"] == 250
    values = r.lr_schedule(np.arange(500))
    assert values[449] > 0.9 * 1e-6  # climbed back near the peak, as torch does


def test_context_for_the_linter():
    r = load_config(_cfg(CASES["warmup_cosine"]))
    assert r.context["milestones"] == [50]
    assert [p["start"] for p in r.context["pieces"]] == [0, 50]
    assert r.context["pieces"][1]["kwargs"]["T_max"] == 450
    assert r.context["warmup_steps"] == 50
    assert r.optimizer == {"type": "torch.optim.AdamW", "lr": 5e-6}


def test_one_item_list_needs_milestones_as_nemo_rl_does():
    # NeMo RL's worker builds SequentialLR(optimizer, schedulers, milestones) and milestones is
    # only set by a {milestones: [...]} entry: a one-item list without it fails there too
    one = [{"name": "lrkit.Scheduler", "kwargs": {"schedule": {"type": "cosine", "steps": 499, "end": 0.1}}}]
    with pytest.raises(ConfigError) as err:
        load_config(_cfg(one))
    assert "one scheduler" in str(err.value) and "milestones: []" in err.value.fix
    as_list = load_config(_cfg([*one, {"milestones": []}]))
    as_mapping = load_config(_cfg(one[0]))
    np.testing.assert_allclose(as_list.lrs(500), as_mapping.lrs(500), rtol=0, atol=0)
    assert as_list.lrs(500)[-1] == pytest.approx(5e-7)


def test_misspelt_class_in_a_one_item_list_is_named_first():
    bad = [{"name": "lrkit.Schedular", "kwargs": {"schedule": {"type": "cosine", "steps": 499}}}]
    with pytest.raises(ConfigError) as err:
        load_config(_cfg(bad))
    assert err.value.field == "policy.scheduler[0].name" and "milestones" not in str(err.value)


def test_max_num_steps_minus_one_means_run_length_from_epochs():
    cfg = _cfg(CASES["warmup_cosine"])
    cfg["grpo"]["max_num_steps"] = -1
    r = load_config(cfg)
    assert r.total_steps is None
    (f,) = [f for f in r.findings if f.rule == "total-steps-unknown"]
    assert "max_num_epochs" in f.message and f.source == "grpo.max_num_steps"
    assert load_config(cfg, total_steps=500).total_steps == 500


def test_override_marker_replaces_the_parent_section(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "policy:\n  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-5}}\n"
        "  scheduler:\n    - name: torch.optim.lr_scheduler.LinearLR\n"
        "      kwargs: {start_factor: 0.1, total_iters: 10}\n"
        "    - name: torch.optim.lr_scheduler.ConstantLR\n      kwargs: {factor: 1.0, total_iters: 100000}\n"
        "    - milestones: [10]\n"
        "data: {train: {data_path: '${oc.env:LRKIT_TEST_UNSET_DATA}/x'}, shuffle: true}\n"
        "grpo: {max_num_steps: 100}\n"
    )
    (tmp_path / "child.yaml").write_text("defaults: base.yaml\ndata:\n  _override_: true\n  other: 1\n")
    r = load_config(tmp_path / "child.yaml")
    assert r.raw["data"] == {"other": 1}  # replaced, not merged
    assert r.lrs(100)[0] == pytest.approx(1e-6)
