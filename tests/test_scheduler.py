"""lrkit.Scheduler, the torch adapter: base LRs, floors, tensor LRs, construction from plain
kwargs, SequentialLR (the way NeMo RL combines schedulers), errors and checkpoints."""

from __future__ import annotations

import importlib
import io
import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from torch.optim import lr_scheduler as L

import lrkit
from lrkit import ConfigError, ResumeWarning, Scheduler, SchedulerInterface
from lrkit.schedules import Constant, Cosine, Linear, Sequence, StepDecay, Warmup, from_dict, warmup_cosine


def lrs_of(opt) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def run(opt, sched, n: int) -> list[list[float]]:
    """LRs of every group before each of ``n`` updates."""
    out = []
    for _ in range(n):
        out.append(lrs_of(opt))
        opt.step()
        sched.step()
    return out


# -- what the groups get ----------------------------------------------------------------------


def test_is_a_torch_lr_scheduler(optimizer_factory) -> None:
    sched = Scheduler(optimizer_factory(), Cosine(1.0, 10))
    assert isinstance(sched, L.LRScheduler)
    assert "Scheduler(" in repr(sched)


def test_each_group_scales_its_own_base_lr(optimizer_factory) -> None:
    opt = optimizer_factory(3, [0.1, 0.01, 0.0])
    schedule = warmup_cosine(50, 5)
    sched = Scheduler(opt, schedule)
    got = np.array(run(opt, sched, 60))
    factors = schedule(np.arange(60))
    for g, base in enumerate([0.1, 0.01, 0.0]):
        assert got[:, g].tolist() == (base * factors).tolist()
    assert sched.base_lrs == [0.1, 0.01, 0.0]
    assert sched.get_last_lr() == lrs_of(opt)


def test_first_update_uses_schedule_at_zero(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.5)
    Scheduler(opt, Warmup(Constant(1.0), 4))
    assert lrs_of(opt) == [0.5 * 0.25]  # set at construction: update 0 never runs at the raw base LR


def test_per_group_schedules(optimizer_factory) -> None:
    opt = optimizer_factory(3, [0.1, 0.2, 0.3])
    default = Cosine(1.0, 30)
    special = StepDecay(1.0, 7, 0.5)
    sched = Scheduler(opt, default, group_schedules=[None, special, {"type": "constant", "value": 0.5}])
    got = np.array(run(opt, sched, 40))
    ks = np.arange(40)
    assert got[:, 0].tolist() == (0.1 * default(ks)).tolist()
    assert got[:, 1].tolist() == (0.2 * special(ks)).tolist()
    assert got[:, 2].tolist() == [0.3 * 0.5] * 40


@pytest.mark.parametrize(
    ("kwargs", "floors"),
    [
        ({"min_lr": 0.004}, [0.004, 0.004]),
        ({"min_lr": [0.004, 0.0]}, [0.004, 0.0]),
        ({"min_lr_ratio": 0.1}, [0.1 * 0.1, 0.1 * 0.02]),
        ({"min_lr_ratio": [0.1, 0.5]}, [0.1 * 0.1, 0.5 * 0.02]),
    ],
)
def test_floors_hold_everywhere_including_warmup(optimizer_factory, kwargs, floors) -> None:
    opt = optimizer_factory(2, [0.1, 0.02])
    schedule = warmup_cosine(100, 20)
    sched = Scheduler(opt, schedule, **kwargs)
    got = np.array(run(opt, sched, 130))
    factors = schedule(np.arange(130))
    for g, (base, floor) in enumerate(zip([0.1, 0.02], floors, strict=True)):
        assert got[:, g].tolist() == np.maximum(base * factors, floor).tolist()
        assert got[0, g] >= floor  # warm-up is floored too
        assert np.all(got[100:, g] == max(floor, base * factors[100]))


def test_lrs_at_is_the_same_numbers_as_stepping(optimizer_factory) -> None:
    opt = optimizer_factory(2, [0.1, 0.03])
    sched = Scheduler(opt, warmup_cosine(3000, 100), min_lr_ratio=0.1)
    ahead = [sched.lrs_at(k) for k in (0, 5, 2999, 5000, 4095, 4096, 17)]
    got = run(opt, sched, 5001)
    assert ahead == [got[k] for k in (0, 5, 2999, 5000, 4095, 4096, 17)]
    assert sched.get_lr() == sched.lrs_at(sched.last_epoch)


# -- tensor LRs -------------------------------------------------------------------------------


def test_tensor_lrs_are_filled_in_place(optimizer_factory) -> None:
    opt = optimizer_factory(2, [0.1, 0.01], tensor_lr=True)
    tensors = [g["lr"] for g in opt.param_groups]
    schedule = warmup_cosine(40, 4)
    sched = Scheduler(opt, schedule)
    for k in range(50):
        for g, t, base in zip(opt.param_groups, tensors, [0.1, 0.01], strict=True):
            assert g["lr"] is t
            assert isinstance(g["lr"], torch.Tensor)
            assert g["lr"].item() == base * schedule(k)
        opt.step()
        sched.step()
    assert all(isinstance(b, float) for b in sched.base_lrs)
    assert all(isinstance(v, float) for v in sched.get_last_lr())


def test_a_group_that_switches_to_a_tensor_lr_keeps_it(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.1)
    sched = Scheduler(opt, Cosine(1.0, 100))
    sched.step()
    t = torch.tensor(0.0, dtype=torch.float64)
    opt.param_groups[0]["lr"] = t
    sched.step()
    assert opt.param_groups[0]["lr"] is t
    assert t.item() == 0.1 * Cosine(1.0, 100)(2)


def test_new_param_group_dicts_after_optimizer_load_are_followed(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.1)
    sched = Scheduler(opt, Cosine(1.0, 100))
    state = opt.state_dict()
    opt.load_state_dict(state)  # torch rebuilds the group dicts
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 * Cosine(1.0, 100)(1)


# -- construction from plain data (NeMo RL, YAML) ---------------------------------------------------

NEMO_YAML = """
policy:
  optimizer:
    name: torch.optim.AdamW
    kwargs: {lr: 3.0e-4}
  scheduler:
    - name: torch.optim.lr_scheduler.LinearLR
      kwargs: {start_factor: 0.01, end_factor: 1.0, total_iters: 10}
    - name: lrkit.Scheduler
      kwargs:
        schedule: {type: cosine, steps: 90, end: 0.1}
        min_lr_ratio: 0.1
    - milestones: [10]
"""


def _import(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def build_like_nemo_rl(opt, entries: list[dict]):
    """NeMo RL's DTensor path: each ``{name, kwargs}`` is ``cls(optimizer, **kwargs)``; with a
    ``milestones`` entry they are combined by SequentialLR."""
    scheds = [_import(e["name"])(opt, **e.get("kwargs", {})) for e in entries if "name" in e]
    milestones = [e["milestones"] for e in entries if "milestones" in e]
    if milestones:
        return L.SequentialLR(opt, scheds, milestones=milestones[0])
    assert len(scheds) == 1
    return scheds[0]


def test_built_from_yaml_kwargs_alone(optimizer_factory) -> None:
    kwargs = yaml.safe_load(
        "schedule: {type: warmup, warmup_steps: 5, schedule: {type: cosine, steps: 45}}\nmin_lr: 1.0e-5"
    )
    opt = optimizer_factory(1, 3e-4)
    sched = build_like_nemo_rl(opt, [{"name": "lrkit.Scheduler", "kwargs": kwargs}])
    expected = Warmup(Cosine(1.0, 45), 5)
    got = [r[0] for r in run(opt, sched, 60)]
    assert got == [max(3e-4 * expected(k), 1e-5) for k in range(60)]


def test_inside_sequential_lr_the_nemo_rl_way(optimizer_factory) -> None:
    cfg = yaml.safe_load(NEMO_YAML)["policy"]
    opt = optimizer_factory(1, cfg["optimizer"]["kwargs"]["lr"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: SequentialLR's initial-step notes
        seq = build_like_nemo_rl(opt, cfg["scheduler"])
        got = [r[0] for r in run(opt, seq, 120)]
    peak = 3e-4
    warm = [peak * (0.01 + (1.0 - 0.01) * k / 10) for k in range(10)]
    cosine = Cosine(1.0, 90, 0.1)
    # the lrkit piece sees its own clock: its step 0 is the milestone
    assert got[:10] == pytest.approx(warm, rel=1e-12)
    assert got[10:] == [max(peak * cosine(k - 10), 0.1 * peak) for k in range(10, 120)]
    assert got[100:] == [0.1 * peak] * 20  # holds the floor, never climbs back


def test_sequential_lr_checkpoint_resumes_both_pieces(optimizer_factory) -> None:
    cfg = yaml.safe_load(NEMO_YAML)["policy"]

    def fresh():
        opt = optimizer_factory(1, 3e-4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return opt, build_like_nemo_rl(opt, cfg["scheduler"])

    for cut in (4, 37):
        opt, seq = fresh()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            run(opt, seq, cut)
            buf = io.BytesIO()
            torch.save({"s": seq.state_dict(), "o": opt.state_dict()}, buf)
            expected = run(opt, seq, 80)
            buf.seek(0)
            ckpt = torch.load(buf, weights_only=False)  # SequentialLR's own state is not plain data
            opt2, seq2 = fresh()
            opt2.load_state_dict(ckpt["o"])
            seq2.load_state_dict(ckpt["s"])
            assert run(opt2, seq2, 80) == expected


def test_sequential_lr_resume_with_lrkit_as_the_first_piece(optimizer_factory) -> None:
    """Past the milestone a torch piece sets the LRs (recursively, from the group's LR): loading
    the lrkit piece's state must not write its stale warm-up LR over the restored one."""

    def fresh():
        opt = optimizer_factory(1, 0.1)
        return opt, L.SequentialLR(
            opt,
            [Scheduler(opt, Linear(0.1, 1.0, 10)), L.CosineAnnealingLR(opt, T_max=50, eta_min=1e-3)],
            milestones=[10],
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for cut in (5, 30):
            opt, seq = fresh()
            run(opt, seq, cut)
            buf = io.BytesIO()
            torch.save({"s": seq.state_dict(), "o": opt.state_dict()}, buf)
            expected = run(opt, seq, 30)
            buf.seek(0)
            ckpt = torch.load(buf, weights_only=False)
            opt2, seq2 = fresh()
            opt2.load_state_dict(ckpt["o"])
            seq2.load_state_dict(ckpt["s"])
            assert run(opt2, seq2, 30) == expected


def test_step_with_an_int_is_torchs_epoch(optimizer_factory) -> None:
    opt = optimizer_factory(1, 1.0)
    sched = Scheduler(opt, Linear(1.0, 0.0, 10))
    for _ in range(5):
        sched.step()
    sched.step(0)
    assert sched.last_epoch == 0 and lrs_of(opt) == [1.0]
    sched.step(7)
    assert lrs_of(opt) == [Linear(1.0, 0.0, 10)(7)]
    with pytest.raises(ConfigError):
        sched.step(-1)


def test_resume_with_torch_last_epoch_argument(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.1)
    sched = Scheduler(opt, Cosine(1.0, 50))
    run(opt, sched, 20)
    # torch's convention: last_epoch is the last step taken, construction advances to the next
    resumed = Scheduler(opt, Cosine(1.0, 50), last_epoch=19)  # initial_lr is in the groups
    assert resumed.last_epoch == 20
    assert lrs_of(opt) == [0.1 * Cosine(1.0, 50)(20)]


# -- user schedules -------------------------------------------------------------------------


class HalfLife(SchedulerInterface):
    """Halve every ``half_life`` steps (a user-written schedule)."""

    def get_lr(self, step: int) -> float:
        return self.base_lr * 0.5 ** (step / self.config.get("half_life", 10))


def test_scheduler_interface_by_name_in_dicts_and_the_adapter(optimizer_factory) -> None:
    assert isinstance(from_dict({"type": "HalfLife", "half_life": 4}), HalfLife)
    opt = optimizer_factory(2, [0.2, 0.1])
    sched = Scheduler(opt, {"type": "HalfLife", "half_life": 4}, min_lr=0.01)
    got = run(opt, sched, 30)
    assert got == [[max(b * 0.5 ** (k / 4), 0.01) for b in (0.2, 0.1)] for k in range(30)]
    state = sched.state_dict()
    assert state["schedule"] == {"type": "HalfLife", "half_life": 4}
    seq = Sequence([HalfLife(half_life=3), Constant(0.1)], [9])
    assert from_dict(yaml.safe_load(yaml.safe_dump(seq.to_dict()))) == seq


def test_scheduler_interface_bad_values_are_config_errors(optimizer_factory) -> None:
    class Broken(SchedulerInterface):
        def get_lr(self, step):
            return float("nan") if step > 3 else 1.0

    with pytest.raises(ConfigError) as info:
        Scheduler(optimizer_factory(), Broken())
    assert "get_lr" in str(info.value)


# -- feedback controller hook (the adapter side; the controllers are tested elsewhere) ----------


class HalveOnRise:
    """Minimal object satisfying lrkit.scheduler.Controller."""

    def __init__(self) -> None:
        self.scale, self.last = 1.0, math.inf

    def update(self, metric: float) -> None:
        if metric > self.last:
            self.scale *= 0.5
        self.last = metric

    def factor(self, group: int) -> float:
        return self.scale

    def state_dict(self) -> dict:
        return {"scale": self.scale, "last": self.last}

    def load_state_dict(self, state) -> None:
        self.scale, self.last = state["scale"], state["last"]

    def to_dict(self) -> dict:
        return {"type": "halve_on_rise"}


def test_controller_scales_then_floor_applies(optimizer_factory) -> None:
    opt = optimizer_factory(1, 1.0)
    sched = Scheduler(opt, Constant(1.0), controller=HalveOnRise(), min_lr=0.3)
    for metric in (1.0, 0.9, 1.1):
        sched.step(metric)
    assert lrs_of(opt) == [0.5]
    sched.step(torch.tensor(2.0))  # tensors are metrics too
    assert lrs_of(opt) == [0.3]
    assert sched.lrs_at(10**6) == [0.3]


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field_name"),
    [
        ({}, "schedule"),
        ({"schedule": {"type": "cosin", "steps": 10}}, "schedule.type"),
        ({"schedule": {"type": "cosine", "steps": -1}}, "schedule.steps"),
        ({"schedule": 3}, "schedule"),
        ({"schedule": "constant", "min_lr": -1.0}, "min_lr"),
        ({"schedule": "constant", "min_lr": [0.1]}, "min_lr"),
        ({"schedule": "constant", "min_lr": "1e-5"}, "min_lr"),
        ({"schedule": "constant", "min_lr_ratio": 2.0}, "min_lr_ratio"),
        ({"schedule": "constant", "min_lr": 0.1, "min_lr_ratio": 0.1}, "min_lr_ratio"),
        ({"schedule": "constant", "group_schedules": [None]}, "group_schedules"),
        ({"schedule": "constant", "group_schedules": [None, {"type": "nope"}]}, "group_schedules[1].type"),
        ({"schedule": "constant", "controller": 5}, "controller"),
        ({"schedule": "constant", "last_epoch": -2}, "last_epoch"),
        ({"schedule": "constant", "last_epoch": 10}, "last_epoch"),
        ({"schedule": "constant", "shedule": "cosine"}, "shedule"),
    ],
)
def test_bad_arguments_are_config_errors(optimizer_factory, kwargs, field_name) -> None:
    opt = optimizer_factory(2, [0.1, 0.2])
    with pytest.raises(ConfigError) as info:
        Scheduler(opt, **kwargs)
    err = info.value
    assert err.field == field_name, str(err)
    assert err.fix or "Did you mean" in str(err)
    assert str(err).startswith(field_name)


def test_unknown_argument_suggests_the_right_one(optimizer_factory) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'min_lr_ratio'"):
        Scheduler(optimizer_factory(), "constant", min_lr_ration=0.1)


def test_not_an_optimizer_and_bad_steps(optimizer_factory) -> None:
    with pytest.raises(ConfigError) as info:
        Scheduler(torch.nn.Linear(2, 2), "constant")
    assert info.value.field == "optimizer"
    sched = Scheduler(optimizer_factory(), "constant")
    with pytest.raises(ConfigError):
        sched.step(0.5)  # a metric without a controller
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(ConfigError):
            sched.lrs_at(bad)


def test_loading_another_schedulers_state_is_a_config_error(optimizer_factory) -> None:
    opt = optimizer_factory()
    torch_state = L.StepLR(opt, 3).state_dict()
    sched = Scheduler(optimizer_factory(), "constant")
    with pytest.raises(ConfigError):
        sched.load_state_dict(torch_state)
    with pytest.raises(ConfigError):
        sched.load_state_dict({"nothing": 1})


# -- checkpoints ------------------------------------------------------------------------------------


def _plain(x: Any) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in x.items())
    if isinstance(x, list):
        return all(_plain(v) for v in x)
    return x is None or type(x) in (int, float, str, bool)


def test_state_dict_is_plain_data_and_loads_with_weights_only(optimizer_factory) -> None:
    opt = optimizer_factory(2, [0.1, 0.2], tensor_lr=True)
    sched = Scheduler(opt, warmup_cosine(100, 10), group_schedules=[None, Cosine(1.0, 50)], min_lr=[0.0, 0.001])
    run(opt, sched, 33)
    state = sched.state_dict()
    assert _plain(state)
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    assert torch.load(buf, weights_only=True) == state


def test_fresh_scheduler_continues_bitwise(optimizer_factory) -> None:
    schedule = warmup_cosine(10_000, 500, min_ratio=0.1)
    opt = optimizer_factory(8, [0.1 * (i + 1) for i in range(8)])
    sched = Scheduler(opt, schedule)
    run(opt, sched, 4100)  # crosses a tabulation block
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    expected = run(opt, sched, 3000)
    buf.seek(0)
    opt2 = optimizer_factory(8, [0.1 * (i + 1) for i in range(8)])
    sched2 = Scheduler(opt2, schedule)
    sched2.load_state_dict(torch.load(buf, weights_only=True))
    assert run(opt2, sched2, 3000) == expected


def test_load_rewrites_the_lr_for_the_restored_step(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.1)
    sched = Scheduler(opt, Cosine(1.0, 100))
    run(opt, sched, 30)
    state = sched.state_dict()
    opt2 = optimizer_factory(1, 0.1)
    sched2 = Scheduler(opt2, Cosine(1.0, 100))
    sched2.load_state_dict(state)
    assert lrs_of(opt2) == lrs_of(opt)


def test_resume_warning_when_the_checkpoint_schedule_differs(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.1)
    sched = Scheduler(opt, Cosine(1.0, 100))
    run(opt, sched, 30)
    state = sched.state_dict()
    sched2 = Scheduler(optimizer_factory(1, 0.1), Cosine(1.0, 200))
    with pytest.warns(ResumeWarning, match="schedule"):
        sched2.load_state_dict(state)
    # the config wins: the new schedule continues at the checkpoint's step
    assert sched2.get_last_lr() == [0.1 * Cosine(1.0, 200)(30)]


def test_resume_warning_for_other_base_lrs_and_floors(optimizer_factory) -> None:
    opt = optimizer_factory(1, 0.1)
    sched = Scheduler(opt, Cosine(1.0, 100), min_lr=0.001)
    run(opt, sched, 10)
    state = sched.state_dict()
    sched2 = Scheduler(optimizer_factory(1, 0.5), Cosine(1.0, 100), min_lr=0.002)
    with pytest.warns(ResumeWarning) as record:
        sched2.load_state_dict(state)
    messages = " ".join(str(w.message) for w in record)
    assert "base LRs" in messages and "min_lr" in messages
    assert sched2.base_lrs == [0.1]  # the checkpoint's curve continues
    with pytest.raises(ConfigError):
        Scheduler(optimizer_factory(2, 0.1), Cosine(1.0, 100)).load_state_dict(state)


def test_resume_warning_when_group_schedules_differ(optimizer_factory) -> None:
    opt = optimizer_factory(2, 0.1)
    sched = Scheduler(opt, Cosine(1.0, 100), group_schedules=[None, Cosine(1.0, 50)])
    run(opt, sched, 5)
    sched2 = Scheduler(optimizer_factory(2, 0.1), Cosine(1.0, 100), group_schedules=[None, Cosine(1.0, 60)])
    with pytest.warns(ResumeWarning, match="per-group"):
        sched2.load_state_dict(sched.state_dict())


def test_base_lr_of_a_user_schedule_must_be_a_number() -> None:
    with pytest.raises(ConfigError) as info:
        HalfLife(base_lr="3e-4")
    assert info.value.field == "base_lr"


def test_no_warning_for_an_identical_schedule_rebuilt_from_yaml(optimizer_factory) -> None:
    schedule = warmup_cosine(1000, 50, min_ratio=0.05)
    opt = optimizer_factory()
    sched = Scheduler(opt, schedule)
    run(opt, sched, 12)
    rebuilt = from_dict(yaml.safe_load(yaml.safe_dump(schedule.to_dict())))
    sched2 = Scheduler(optimizer_factory(), rebuilt)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResumeWarning)
        sched2.load_state_dict(sched.state_dict())


def test_lazy_export() -> None:
    assert lrkit.Scheduler is Scheduler


def test_an_int_metric_feeds_the_controller_and_never_restarts_the_schedule():
    from lrkit.feedback import PlateauController
    from lrkit.schedules import warmup_cosine

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    sched = Scheduler(opt, warmup_cosine(100, 10), controller=PlateauController(patience=0, factor=0.5))
    for metric in (5, 5, 5):
        opt.step()
        sched.step(metric)
    assert sched.last_epoch == 3
    assert sched.get_last_lr()[0] < 0.1 * warmup_cosine(100, 10)(3)


def test_an_absolute_floor_never_unfreezes_a_group_created_at_lr_0():
    from lrkit.schedules import warmup_cosine

    w, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.0}], lr=0.1)
    sched = Scheduler(opt, warmup_cosine(100, 10), min_lr=1e-3)
    seen = []
    for _ in range(150):
        seen.append(sched.get_last_lr())
        opt.step()
        sched.step()
    assert all(lrs[1] == 0.0 for lrs in seen)
    assert min(lrs[0] for lrs in seen) == 1e-3


@pytest.mark.parametrize("metric", ["0.5", [0.5], torch.tensor([1.0, 2.0]), object()])
def test_a_metric_that_is_not_one_number_is_a_config_error(metric: Any) -> None:
    from lrkit.feedback import PlateauController

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    sched = Scheduler(opt, Constant(1.0), controller=PlateauController())
    with pytest.raises(ConfigError) as info:
        sched.step(metric)
    assert info.value.field == "metric"
    assert sched.last_epoch == 0  # the bad call did not advance the schedule


@pytest.mark.parametrize(
    "change,field",
    [
        ({"last_epoch": "a"}, "state_dict.last_epoch"),
        ({"last_epoch": -7}, "state_dict.last_epoch"),
        ({"_step_count": None}, "state_dict._step_count"),
        ({"base_lrs": ["a"]}, "state_dict.base_lrs[0]"),
        ({"base_lrs": 5}, "state_dict.base_lrs"),
    ],
)
def test_a_damaged_checkpoint_is_a_config_error_naming_the_entry(change: dict, field: str) -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    sched = Scheduler(opt, Constant(1.0))
    with pytest.raises(ConfigError) as info:
        sched.load_state_dict(sched.state_dict() | change)
    assert info.value.field == field
    assert sched.last_epoch == 0  # nothing was half-restored


def test_write_lrs_replaces_floats_and_fills_tensors_in_place():
    from lrkit.lr_groups import read_lrs, write_lrs

    lr_tensor = torch.tensor(0.5, dtype=torch.float64)
    groups = [{"lr": 0.1}, {"lr": lr_tensor}]
    write_lrs(groups, [0.2, 0.3])
    assert groups[0]["lr"] == 0.2 and type(groups[0]["lr"]) is float
    assert groups[1]["lr"] is lr_tensor and lr_tensor.item() == 0.3
    assert read_lrs(groups) == [0.2, 0.3]


def test_compute_lrs_is_the_scheduler_formula():
    from lrkit.lr_groups import compute_lrs

    steps = np.arange(5, dtype=np.float64)
    sched = Linear(start=1.0, end=0.0, steps=4)
    got = compute_lrs(steps, [2.0, 1.0], [sched, sched], factors=[0.5, 1.0], floors=[0.3, 0.0])
    assert got.tolist() == [[1.0, 0.75, 0.5, 0.3, 0.3], [1.0, 0.75, 0.5, 0.25, 0.0]]


def test_write_lrs_at_pairs_groups_and_columns_like_zip():
    from lrkit.lr_groups import write_lrs_at

    lr_tensor = torch.tensor(0.5, dtype=torch.float64)
    columns = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    groups: list[dict[str, Any]] = [{"lr": 1.0}, {"lr": lr_tensor}, {"lr": 7.0}]
    write_lrs_at(groups, columns, 2)  # a third group (added later) has no column: it keeps its LR
    assert groups[0]["lr"] == 0.3 and groups[1]["lr"] is lr_tensor and lr_tensor.item() == 0.6
    assert groups[2]["lr"] == 7.0
    write_lrs_at(groups[:1], columns, 0)  # fewer groups than columns: the groups there are written
    assert groups[0]["lr"] == 0.1


def test_last_lr_is_what_was_written_even_after_a_far_lookup_refills_the_table():
    opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in (0.1, 0.2)])
    sched = Scheduler(opt, warmup_cosine(100_000, 10))
    for _ in range(5):
        sched.step()
    written = lrs_of(opt)
    far = sched.lrs_at(90_000)  # tabulates a block far from the current step
    assert far != written
    assert sched.get_last_lr() == written == sched.state_dict()["_last_lr"]
    sched.step()
    assert sched.get_last_lr() == lrs_of(opt) == sched.lrs_at(6)
