"""Feedback controllers: decisions, bounds, noise, NaN, torch parity and config errors."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy import stats
from torch.optim.lr_scheduler import ReduceLROnPlateau

import lrkit
from lrkit import ConfigError
from lrkit.feedback import (
    AdaptiveController,
    AdaptiveLearningRate,
    PlateauController,
    average_metric,
    controller_from_dict,
    trend_t_statistic,
)
from lrkit.schedules import Constant, warmup_cosine

torch.set_num_threads(1)


def make_optimizer(lrs=(0.1,)) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups)


def group_lrs(opt) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


# -- the trend test ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=40))
def test_trend_t_statistic_matches_scipy_linregress(values):
    slope, t = trend_t_statistic(values)
    y = np.asarray(values)
    if np.ptp(y) < 1e-6 * max(1.0, np.abs(y).max()):
        return  # (near-)constant input: scipy's stderr is 0/0 there
    ref = stats.linregress(np.arange(len(y)), y)
    assert slope == pytest.approx(ref.slope, rel=1e-6, abs=1e-9)
    if ref.stderr > 1e-9 * max(1.0, abs(ref.slope)) and math.isfinite(t):
        assert t == pytest.approx(ref.slope / ref.stderr, rel=1e-5, abs=1e-6)


def test_trend_t_statistic_edge_cases():
    assert trend_t_statistic([2.3] * 10) == (0.0, 0.0)  # flat: no trend, even with rounding
    # subnormal-sized values: the squared residuals underflow unless scaled (hypothesis found it)
    slope, t = trend_t_statistic([0.0, 0.0, 3.757355653228735e-162, 0.0])
    assert slope > 0 and math.isfinite(t) and t > 0
    assert trend_t_statistic([1.0, 2.0]) == (0.0, 0.0)  # too short to test
    slope, t = trend_t_statistic([1.0, 2.0, 3.0, 4.0])
    assert slope == 1.0 and t == math.inf  # exactly on a rising line
    assert trend_t_statistic([4.0, 3.0, 2.0])[1] == -math.inf


# -- AdaptiveController ---------------------------------------------------------------------------
def feed(ctrl, values):
    scales = []
    for v in values:
        ctrl.update(v)
        scales.append(ctrl.factor(0))
    return scales


def guide_rule_changes(values) -> tuple[int, float]:
    """(LR changes, final LR / initial_lr) of the guide's rule (lrkit.AdaptiveLearningRate)."""
    opt = make_optimizer((1e-4,))
    alr = AdaptiveLearningRate(opt, initial_lr=1e-4, min_lr=1e-6)
    changes, prev = 0, alr.lr
    for v in values:
        changes += alr.update_lr(float(v)) != prev
        prev = alr.lr
    return changes, alr.lr / 1e-4


@pytest.mark.parametrize("seed", range(4))
def test_adaptive_ignores_noise_the_guide_reacts_to(seed):
    rng = np.random.default_rng(seed)
    flat = 2.0 + 0.1 * rng.standard_normal(4000)
    slow_decline = 2.0 * np.exp(-np.arange(4000) / 4000) + 0.1 * rng.standard_normal(4000)
    for values in (flat, slow_decline):
        ctrl = AdaptiveController()
        assert set(feed(ctrl, values)) == {1.0}
        assert ctrl.num_changes == 0
    # the guide's rule flips on the same noise and drifts down (x0.8 vs x1.05 at even odds)
    changes, ratio = guide_rule_changes(flat)
    assert changes > len(flat) / 2 and ratio < 0.05


def test_adaptive_reacts_to_a_real_rise_and_recovers_on_a_fall():
    rng = np.random.default_rng(0)
    ctrl = AdaptiveController(window=20, patience=1)
    rise = 2.0 + 0.05 * np.arange(120) + 0.1 * rng.standard_normal(120)
    scales = feed(ctrl, rise)
    # two significant blocks of 20 -> the first decrease at update 40
    assert scales[38] == 1.0 and scales[39] == pytest.approx(0.8)
    assert scales[-1] == pytest.approx(0.8**3)
    fall = rise[-1] - 0.05 * np.arange(700) + 0.1 * rng.standard_normal(700)
    scales = feed(ctrl, fall)
    assert scales[-1] == 1.0 and max(scales) == 1.0  # back to the schedule, never above max_scale
    assert all(b >= a for a, b in itertools.pairwise(scales))


def test_adaptive_bounds_and_factors():
    ctrl = AdaptiveController(window=3, patience=0, decrease_factor=0.5, min_scale=0.1)
    feed(ctrl, np.arange(60.0))
    assert ctrl.scale == 0.1  # clamped, never below min_scale
    ctrl = AdaptiveController(window=3, patience=0, increase_factor=2.0, max_scale=4.0)
    feed(ctrl, -np.arange(60.0))
    assert ctrl.scale == 4.0
    ctrl = AdaptiveController(window=3, patience=0, increase_factor=1.0)
    feed(ctrl, -np.arange(60.0))
    assert ctrl.scale == 1.0 and ctrl.num_changes == 0


def test_adaptive_patience_and_cooldown():
    ctrl = AdaptiveController(window=3, patience=2)
    assert feed(ctrl, [0, 1, 2, 3, 4, 5]) == [1.0] * 6  # two rising blocks: still patient
    assert feed(ctrl, [6, 7, 8])[-1] == 0.8  # the third one acts
    ctrl = AdaptiveController(window=3, patience=0, cooldown=4)
    scales = feed(ctrl, np.arange(20.0))
    # decision after 3; 4 ignored; next block of 3 -> at 10; then 17
    # a block of 3 acts at update 2; 4 ignored; the next block acts at 9; then at 16
    changes = [i for i in range(1, 20) if scales[i] != scales[i - 1]]
    assert changes == [2, 9, 16] and scales[2] == 0.8


def test_adaptive_nan_counts_as_a_rise_and_never_reaches_the_lr():
    ctrl = AdaptiveController(window=5, patience=0)
    for v in (1.0, 2.0, math.nan):
        ctrl.update(v)
    assert ctrl.scale == 0.8
    assert all(math.isfinite(v) for v in ctrl.history)
    ctrl.update(math.inf)
    ctrl.update(-math.inf)  # for a loss, -inf is as broken as +inf
    assert ctrl.scale == pytest.approx(0.8**3)
    opt = make_optimizer()
    sched = lrkit.Scheduler(opt, Constant(1.0), controller=AdaptiveController(window=3, patience=0))
    for v in (math.nan, torch.tensor(float("nan")), 1.0, math.inf):
        sched.step(v)
        assert all(math.isfinite(lr) and lr > 0 for lr in group_lrs(opt))
    assert group_lrs(opt) == [pytest.approx(0.1 * 0.8**3)]


def test_adaptive_mode_max_treats_a_falling_score_as_bad():
    ctrl = AdaptiveController(window=4, patience=0, mode="max")
    feed(ctrl, [0.9, 0.8, 0.7, 0.6])
    assert ctrl.scale == 0.8


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"window": 2}, "window"),
        ({"t_threshold": -1}, "t_threshold"),
        ({"patience": -1}, "patience"),
        ({"patience": 1.5}, "patience"),
        ({"decrease_factor": 1.0}, "decrease_factor"),
        ({"decrease_factor": 0}, "decrease_factor"),
        ({"increase_factor": 0.9}, "increase_factor"),
        ({"min_scale": 0}, "min_scale"),
        ({"min_scale": 1.5}, "min_scale"),
        ({"max_scale": 0.5}, "max_scale"),
        ({"mode": "minimum"}, "mode"),
        ({"sync": "yes"}, "sync"),
    ],
)
def test_adaptive_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ConfigError) as err:
        AdaptiveController(**kwargs)
    assert err.value.field == field and err.value.fix


def test_bad_metrics_are_config_errors():
    ctrl = AdaptiveController()
    for bad in (None, "0.5", True, torch.ones(3)):
        with pytest.raises(ConfigError) as err:
            ctrl.update(bad)
        assert err.value.field == "metric"
    ctrl.update(np.float32(1.5))
    ctrl.update(torch.tensor([2.5]))
    assert ctrl.history == [1.5, 2.5]


# -- PlateauController: parity with torch ------------------------------------------------------
losses_st = st.lists(
    st.one_of(
        st.floats(0.01, 10.0),
        st.sampled_from([1.0, 1.0, 0.5, math.nan, math.inf]),  # repeats make plateaus
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    losses=losses_st,
    mode=st.sampled_from(["min", "max"]),
    threshold_mode=st.sampled_from(["rel", "abs"]),
    threshold=st.sampled_from([0.0, 1e-4, 0.01, 0.2]),
    patience=st.integers(0, 4),
    cooldown=st.integers(0, 3),
    factor=st.sampled_from([0.1, 0.5, 0.9]),
    min_lr=st.sampled_from([0.0, 1e-3, [1e-3, 5e-4]]),
    eps=st.sampled_from([1e-8, 0.0, 1e-3]),
)
def test_plateau_matches_reduce_lr_on_plateau(
    losses, mode, threshold_mode, threshold, patience, cooldown, factor, min_lr, eps
):
    kwargs = dict(
        mode=mode,
        threshold_mode=threshold_mode,
        threshold=threshold,
        patience=patience,
        cooldown=cooldown,
        factor=factor,
        min_lr=min_lr,
        eps=eps,
    )
    ref_opt, opt = make_optimizer((0.1, 0.02)), make_optimizer((0.1, 0.02))
    ref = ReduceLROnPlateau(ref_opt, **kwargs)
    sched = lrkit.Scheduler(opt, Constant(1.0), controller=PlateauController(**kwargs))
    prev_ref, prev = group_lrs(ref_opt), group_lrs(opt)
    for loss in losses:
        ref.step(loss)
        sched.step(loss)
        now_ref, now = group_lrs(ref_opt), group_lrs(opt)
        # the same decisions at the same steps ...
        assert [a != b for a, b in zip(prev_ref, now_ref, strict=True)] == [
            a != b for a, b in zip(prev, now, strict=True)
        ]
        # ... and the same LRs (lrkit multiplies a scale, torch the LR itself: rounding only)
        assert now == pytest.approx(now_ref, rel=1e-12, abs=1e-18)
        prev_ref, prev = now_ref, now


def test_plateau_counts_nan_as_no_improvement():
    ctrl = PlateauController(patience=1, factor=0.5)
    for v in (1.0, math.nan, math.inf):
        ctrl.update(v)
    assert ctrl.best == 1.0 and ctrl.factor(0) == 0.5


def test_plateau_relative_threshold_uses_abs_best_for_negative_metrics():
    # torch: best * (1 + threshold) for mode=max; for a negative reward that is *below* best
    ctrl = PlateauController(mode="max", threshold=0.1, patience=0, factor=0.5)
    ctrl.update(-10.0)
    ctrl.update(-10.5)  # worse than best: must count as bad
    assert ctrl.best == -10.0 and ctrl.factor(0) == 0.5
    opt = make_optimizer()
    ref = ReduceLROnPlateau(opt, mode="max", threshold=0.1, patience=0, factor=0.5)
    ref.step(-10.0)
    ref.step(-10.5)
    assert ref.best == -10.5  # torch's quirk, documented in lrkit.feedback.plateau


def test_plateau_on_a_decaying_schedule_scales_it():
    opt = make_optimizer((0.1, 0.01))
    schedule = warmup_cosine(100, 10)
    ctrl = PlateauController(patience=2, factor=0.5, min_lr=[0.0, 0.004])
    sched = lrkit.Scheduler(opt, schedule, controller=ctrl)
    for k in range(1, 60):
        sched.step(1.0)
        nominal = [0.1 * schedule(k), 0.01 * schedule(k)]
        assert group_lrs(opt) == pytest.approx([n * ctrl.factor(g) for g, n in enumerate(nominal)], rel=1e-12)
    assert ctrl.factor(0) == pytest.approx(0.5**19)
    # group 1: each reduction stops at min_lr (0.004) measured on the LR at that step:
    # 0.005 -> 0.004 (warm-up), 0.0064 -> 0.004, 0.005 -> 0.004, then the LR is below 0.004
    assert ctrl.factor(1) == pytest.approx(0.4, rel=1e-12)


def test_plateau_standalone_without_a_scheduler():
    ctrl = PlateauController(patience=0, factor=0.5, min_lr=0.2)
    for v in (3.0, 3.0, 3.0, 3.0):
        ctrl.update(v)
    assert ctrl.factor(0) == 0.2  # min_lr bounds the scale itself when no LRs are known


def test_plateau_min_lr_list_must_match_the_groups():
    opt = make_optimizer((0.1, 0.1))
    ctrl = {"type": "plateau", "patience": 0, "min_lr": [0.0, 0.0, 0.0]}
    sched = lrkit.Scheduler(opt, Constant(1.0), controller=ctrl)
    sched.step(1.0)
    with pytest.raises(ConfigError) as err:
        sched.step(1.0)
    assert err.value.field == "min_lr"


# -- through lrkit.Scheduler ---------------------------------------------------------------------
def test_cosine_with_warmup_times_an_adaptive_scale():
    opt = make_optimizer((0.1, 0.05))
    schedule = warmup_cosine(200, 20)
    ctrl = AdaptiveController(window=5, patience=0)
    sched = lrkit.Scheduler(opt, schedule, controller=ctrl, min_lr=[1e-3, 1e-3])
    rng = np.random.default_rng(1)
    losses = np.concatenate([2.0 - 0.01 * np.arange(60), 1.4 + 0.05 * np.arange(40), 3.4 - 0.02 * np.arange(99)])
    for k, loss in enumerate(losses + 0.001 * rng.standard_normal(losses.size), start=1):
        sched.step(float(loss))
        expected = [max(base * schedule(k) * ctrl.scale, 1e-3) for base in (0.1, 0.05)]
        assert group_lrs(opt) == expected
        assert sched.get_last_lr() == expected
    assert ctrl.num_changes >= 2


def test_scheduler_controller_from_a_dict_and_errors_carry_the_path():
    opt = make_optimizer()
    sched = lrkit.Scheduler(opt, {"type": "constant", "value": 1.0}, controller={"type": "plateau", "patience": 0})
    assert isinstance(sched.controller, PlateauController)
    sched.step(1.0)
    sched.step(1.0)
    assert group_lrs(opt) == [pytest.approx(0.01)]
    with pytest.raises(ConfigError) as err:
        lrkit.Scheduler(make_optimizer(), Constant(1.0), controller={"type": "adaptive", "windw": 5})
    assert err.value.field == "controller.windw" and "Did you mean 'window'" in str(err.value)
    with pytest.raises(ConfigError) as err:
        lrkit.Scheduler(make_optimizer(), Constant(1.0)).step(0.5)
    assert err.value.field == "metric"


# -- controller_from_dict ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("d", "field", "text"),
    [
        ({}, "type", "add type"),
        ({"type": "platau"}, "type", "Did you mean 'plateau'"),
        ({"type": "cosine"}, "type", "adaptive, plateau"),
        ({"type": ["plateau"]}, "type", "adaptive, plateau"),
        ({"type": "plateau", "patiense": 3}, "patiense", "Did you mean 'patience'"),
        ({"type": "plateau", "process_group": None}, "process_group", "use only"),
        ({"type": "plateau", "factor": 1.5}, "factor", "1.5"),
        ({"type": "plateau", "threshold_mode": "relative"}, "threshold_mode", "'rel'"),
        ({"type": "plateau", "min_lr": [1e-6, "x"]}, "min_lr[1]", "'x'"),
        ({"type": "adaptive", "window": "ten"}, "window", "'ten'"),
        ({"type": "adaptive", "min_scale": -1}, "min_scale", "-1"),
    ],
)
def test_controller_from_dict_errors(d, field, text):
    with pytest.raises(ConfigError) as err:
        controller_from_dict(d)
    assert err.value.field == field
    assert text in str(err.value) and err.value.fix


def test_controller_from_dict_rejects_non_mappings():
    with pytest.raises(ConfigError):
        controller_from_dict(["plateau"])  # type: ignore[arg-type]


@pytest.mark.parametrize("d", [None, ["plateau"], {"type": "adaptive"}])
def test_a_controller_class_from_dict_builds_its_own_type_or_says_why(d):
    with pytest.raises(ConfigError):
        PlateauController.from_dict(d)  # type: ignore[arg-type]
    built = PlateauController.from_dict({"patience": 3})
    assert isinstance(built, PlateauController) and built.to_dict() == PlateauController(patience=3).to_dict()


def test_controller_dicts_round_trip_and_yaml_numbers():
    for ctrl in (
        AdaptiveController(window=7, mode="max", increase_factor=1.0),
        PlateauController(min_lr=[1e-6, 0.0], threshold_mode="abs", cooldown=2),
    ):
        again = controller_from_dict(ctrl.to_dict())
        assert type(again) is type(ctrl) and again.to_dict() == ctrl.to_dict()
        untyped = {k: v for k, v in ctrl.to_dict().items() if k != "type"}
        assert type(ctrl).from_dict(untyped).to_dict() == ctrl.to_dict()
    # PyYAML reads 1e-6 (no dot) as a string: it is still a number here
    ctrl = controller_from_dict({"type": "plateau", "min_lr": "1e-6", "patience": "3"})
    assert ctrl.min_lr == 1e-6 and ctrl.patience == 3


# -- the guide's AdaptiveLearningRate ----------------------------------------------------------
class GuideReference:
    """The guide's class, as published (the compatibility target on finite losses)."""

    def __init__(self, optimizer, initial_lr=1e-4, min_lr=1e-6):
        self.optimizer, self.initial_lr, self.min_lr, self.loss_history = optimizer, initial_lr, min_lr, []

    def update_lr(self, current_loss):
        self.loss_history.append(current_loss)
        if len(self.loss_history) < 10:
            return
        recent = self.loss_history[-10:]
        trend = (recent[-1] - recent[0]) / len(recent)
        current_lr = self.optimizer.param_groups[0]["lr"]
        new_lr = max(current_lr * 0.8, self.min_lr) if trend > 0 else min(current_lr * 1.05, self.initial_lr)
        for group in self.optimizer.param_groups:
            group["lr"] = new_lr


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 5.0), min_size=0, max_size=120))
@example([0.0] * 9 + [5e-324])  # a rise the guide's division by 10 underflows to no rise (found by hypothesis)
def test_guide_class_matches_the_guide_on_finite_losses(losses):
    ref_opt, opt = make_optimizer((1e-4,)), make_optimizer((1e-4,))
    ref, ours = GuideReference(ref_opt), AdaptiveLearningRate(opt, initial_lr=1e-4, min_lr=1e-6)
    for loss in losses:
        ref.update_lr(loss)
        assert ours.update_lr(loss) == ref_opt.param_groups[0]["lr"]
        assert group_lrs(opt) == group_lrs(ref_opt)


def test_guide_class_fixes():
    # NaN is a rise (the guide raised the LR on it) and never lands in an LR or the history
    opt = make_optimizer((1e-4,))
    alr = AdaptiveLearningRate(opt)
    alr.update_lr(float("nan"))
    assert group_lrs(opt) == [pytest.approx(0.8e-4)] and alr.loss_history == []
    for v in [1.0] * 9 + [torch.tensor(float("inf"))]:
        alr.update_lr(v)
    assert all(math.isfinite(v) for v in alr.loss_history) and math.isfinite(group_lrs(opt)[0])
    # other groups keep their ratio to group 0; bounds apply to group 0
    opt = make_optimizer((1e-4, 1e-5))
    alr = AdaptiveLearningRate(opt, initial_lr=1e-4, min_lr=5e-5)
    for v in range(40):
        alr.update_lr(float(v))
    assert group_lrs(opt) == [pytest.approx(5e-5), pytest.approx(5e-6)]
    # a starting LR above initial_lr is clamped, not first reduced above the bound
    opt = make_optimizer((1e-3,))
    alr = AdaptiveLearningRate(opt, initial_lr=1e-4)
    for v in range(10):
        alr.update_lr(float(v))
    assert group_lrs(opt) == [pytest.approx(0.8e-4)]
    # tensor LRs (compiled optimizers) stay tensors
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=torch.tensor(1e-4))
    alr = AdaptiveLearningRate(opt)
    alr.update_lr(float("nan"))
    assert isinstance(opt.param_groups[0]["lr"], torch.Tensor)
    assert float(opt.param_groups[0]["lr"]) == pytest.approx(0.8e-4)
    assert len(alr.loss_history) <= alr.window


def test_guide_class_bad_arguments():
    with pytest.raises(ConfigError) as err:
        AdaptiveLearningRate(object())
    assert err.value.field == "optimizer"
    with pytest.raises(ConfigError) as err:
        AdaptiveLearningRate(make_optimizer(), initial_lr=1e-4, min_lr=1e-3)
    assert err.value.field == "min_lr"
    with pytest.raises(ConfigError) as err:
        AdaptiveLearningRate(make_optimizer(), initial_lr=0)
    assert err.value.field == "initial_lr"


# -- imports and the single-process sync path ----------------------------------------------------
def test_average_metric_without_a_process_group_is_the_identity():
    assert average_metric(1.25) == 1.25
    assert math.isnan(average_metric(math.nan))


def test_importing_feedback_does_not_import_torch():
    code = "import sys, lrkit.feedback; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_lazy_exports():
    assert lrkit.AdaptiveController is AdaptiveController
    assert lrkit.PlateauController is PlateauController
    assert lrkit.AdaptiveLearningRate is AdaptiveLearningRate


def test_docs_examples_run(capsys):
    """Every ```python block of docs/feedback.md runs (each in its own namespace) and its own
    asserts hold; ```py blocks would be illustrations only."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "feedback.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/feedback.md[python block {i}]", "exec"), {"__name__": f"docs_feedback_{i}"})
    out = capsys.readouterr().out
    assert "plan x adaptive scale" in out and "Did you mean 'patience'" in out


@pytest.mark.parametrize(
    ("backend", "expected"),
    [("gloo", "cpu"), ("nccl", "cuda:3"), ("cpu:gloo,cuda:nccl", "cpu"), ("mpi", "cpu")],
)
def test_collective_device_follows_the_backend(monkeypatch, backend, expected):
    from lrkit.feedback import collective_device

    monkeypatch.setattr(torch.distributed, "get_backend", lambda group=None: backend)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    assert str(collective_device()) == expected


def test_controller_types_register_themselves_in_feedback_base():
    from lrkit.feedback import base

    assert base.CONTROLLER_TYPES["plateau"] is PlateauController
    assert base.CONTROLLER_TYPES["adaptive"] is AdaptiveController

    class Halver(base.FeedbackController):
        type_name = "test_halver"

        def __init__(self, *, sync: bool = True, process_group=None) -> None:
            super().__init__(sync=sync, process_group=process_group)

        def _decide(self, value: float) -> None:
            pass

        def factor(self, group: int = 0) -> float:
            return 0.5

        def to_dict(self):
            return {"type": self.type_name}

    try:
        built = base.controller_from_dict({"type": "test_halver", "sync": False})
        assert isinstance(built, Halver) and built.factor() == 0.5
    finally:
        del base.CONTROLLER_TYPES["test_halver"]


def test_controller_settings_written_as_yaml_11_strings_are_numbers():
    ctrl = controller_from_dict({"type": "plateau", "min_lr": "1e-6", "threshold": "1_0e-4"})
    assert ctrl.min_lr == 1e-6 and ctrl.threshold == 1e-3
