"""lrkit's own config: every scheduler type, validation errors with path, value and fix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.config import load_config, load_config_text, load_schedule
from lrkit.errors import ConfigError
from lrkit.schedules import SchedulerInterface, warmup_cosine


def cfg(scheduler, *, lr=1e-3, **training):
    return {"training": {"optimizer": {"type": "adamw", "lr": lr}, "scheduler": scheduler, **training}}


def lrs(config, n, **kw):
    return load_config(config, **kw).lr_schedule(np.arange(n))


def test_guide_yaml_reads_as_the_guide_means_it(tmp_path):
    path = tmp_path / "guide.yaml"
    # the guide writes 1e-4 without a dot; YAML 1.1 would read a string, lrkit reads a float (as OmegaConf)
    path.write_text(
        'training:\n  optimizer:\n    type: "adamw"\n    lr: 1e-4\n    weight_decay: 0.01\n'
        '  scheduler:\n    type: "cosine_annealing"\n    warmup_steps: 1000\n    total_steps: 100000\n'
        "    min_lr: 1e-6\n"
    )
    r = load_config(path)
    assert r.format == "lrkit" and r.peak_lr == 1e-4 and r.total_steps == 100_000
    assert r.optimizer == {"type": "adamw", "lr": 1e-4, "weight_decay": 0.01}
    want = warmup_cosine(100_000, 1000, peak=1e-4, min_value=1e-6)
    steps = np.arange(0, 120_000, 7)
    assert np.allclose(r.lr_schedule(steps), want(steps), rtol=1e-12, atol=0)
    assert r.lr_schedule(0) == pytest.approx(1e-7)  # never 0 on the first update
    assert r.lr_schedule(150_000) == pytest.approx(1e-6)  # holds the floor past the end
    assert r.context["warmup_steps"] == 1000 and r.context["declared_horizon"] == 100_000


@pytest.mark.parametrize(
    "sched,checks",
    [
        ({"type": "constant", "warmup_steps": 10}, {0: 0.1, 9: 1.0, 500: 1.0}),
        (
            {"type": "linear", "warmup_steps": 10, "total_steps": 110, "min_lr_ratio": 0.1},
            {10: 1.0, 60: 0.55, 110: 0.1, 999: 0.1},
        ),
        ({"type": "cosine", "total_steps": 100, "min_lr": 1e-4}, {0: 1.0, 50: 0.55, 100: 0.1}),
        ({"type": "step", "step_size": 30, "gamma": 0.5}, {29: 1.0, 30: 0.5, 60: 0.25}),
        ({"type": "step", "step_size": 30, "gamma": 0.1, "min_lr_ratio": 0.05}, {30: 0.1, 60: 0.05}),
        ({"type": "multistep", "milestones": [50, 80], "gamma": 0.1, "warmup_steps": 10}, {49: 1.0, 50: 0.1, 80: 0.01}),
        # a repeated milestone applies gamma twice, as torch's MultiStepLR does (MultiStep's own rule)
        ({"type": "multistep", "milestones": [50, 50], "gamma": 0.1}, {49: 1.0, 50: 0.01, 999: 0.01}),
        ({"type": "exponential", "gamma": 0.5, "decay_steps": 10}, {10: 0.5, 20: 0.25}),
        ({"type": "polynomial", "total_steps": 100, "power": 2.0}, {50: 0.25, 100: 0.0}),
        ({"type": "inverse_sqrt", "warmup_steps": 100}, {100: 1.0, 400: 1 / math.sqrt(4)}),
        (
            {"type": "wsd", "warmup_steps": 10, "total_steps": 100, "decay_steps": 20, "decay_shape": "linear"},
            {50: 1.0, 90: 0.5, 100: 0.0},
        ),
        ({"type": "one_cycle", "total_steps": 100, "max_lr": 2e-3}, {0: 1 / 25}),
        ({"type": "cyclical", "base_lr": 1e-4, "step_size": 10}, {0: 0.1, 10: 1.0, 20: 0.1}),
        ({"type": "cosine_restarts", "period": 50, "min_lr_ratio": 0.0}, {0: 1.0, 25: 0.5, 50: 1.0}),
        ({"type": "piecewise", "boundaries": [10, 20], "values": [1.0, 0.5, 0.25]}, {9: 1.0, 10: 0.5, 25: 0.25}),
        ({"type": "schedule", "schedule": {"type": "linear", "start": 1.0, "end": 0.0, "steps": 10}}, {5: 0.5}),
        ({"schedule": {"type": "constant", "value": 0.5}}, {3: 0.5}),
    ],
)
def test_every_type(sched, checks):
    r = load_config(cfg(sched))
    peak = 1e-3 if sched.get("type") not in ("one_cycle", "cyclical") else r.peak_lr
    for step, factor in checks.items():
        assert r.lr_schedule(step) == pytest.approx(factor * peak, rel=1e-9), (sched, step)


def test_sequence_of_native_pieces():
    seq = {
        "type": "sequence",
        "boundaries": [100],
        "pieces": [{"type": "constant"}, {"type": "cosine", "min_lr_ratio": 0.1}],
    }
    r = load_config(cfg(seq, total_steps=300))
    v = r.lr_schedule(np.array([0, 99, 100, 200, 300]))
    assert v[:3] == pytest.approx([1e-3] * 3)
    assert v[3] == pytest.approx(0.55e-3) and v[4] == pytest.approx(1e-4)
    assert r.context["milestones"] == [100]


def test_warmup_ratio_uses_the_run_length():
    r = load_config(cfg({"type": "cosine", "warmup_ratio": 0.05, "total_steps": 1001}))
    assert r.context["warmup_steps"] == 51  # ceil(0.05 * 1001)


def test_total_steps_from_the_caller():
    with pytest.raises(ConfigError) as err:
        load_config(cfg({"type": "cosine_annealing", "warmup_steps": 10}))
    assert err.value.field == "training.scheduler.total_steps"
    r = load_config(cfg({"type": "cosine_annealing", "warmup_steps": 10}), total_steps=500)
    assert r.total_steps == 500 and r.lr_schedule(500) == pytest.approx(0.0)


def test_the_run_and_the_declared_horizon_differ():
    r = load_config("src/lrkit/examples/flawed_decay_horizon.yaml")
    assert r.total_steps == 20_000 and r.context["declared_horizon"] == 100_000


def test_registered_custom_scheduler_by_name():
    class GuideCosine(SchedulerInterface):
        def get_lr(self, step):
            total = self.config["total_steps"]
            return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    r = load_config(cfg({"type": "GuideCosine"}), total_steps=100)
    assert r.lr_schedule(50) == pytest.approx(0.5e-3)


def test_controller_passes_through():
    r = load_config(cfg({"type": "constant"}, controller={"type": "plateau", "patience": 5}))
    assert r.controller == {"type": "plateau", "patience": 5}


@pytest.mark.parametrize(
    "config,field,words",
    [
        (cfg({"type": "cosine_anealing", "total_steps": 10}), "training.scheduler.type", "cosine_annealing"),
        (
            cfg({"type": "cosine", "total_steps": 10, "warmup_step": 3}),
            "training.scheduler.warmup_step",
            "warmup_steps",
        ),
        (cfg({"type": "cosine", "total_steps": 10, "warmup_steps": 10}), "training.scheduler.warmup_steps", "shorter"),
        (cfg({"type": "cosine", "total_steps": 10, "warmup_steps": 11}), "training.scheduler.warmup_steps", "shorter"),
        (cfg({"type": "cosine", "total_steps": 10, "warmup_steps": -1}), "training.scheduler.warmup_steps", ">= 0"),
        (cfg({"type": "cosine", "total_steps": 10.5}), "training.scheduler.total_steps", "whole"),
        (cfg({"type": "cosine", "total_steps": 0}), "training.scheduler.total_steps", ""),
        (cfg({"type": "cosine", "total_steps": float("nan")}), "training.scheduler.total_steps", "whole"),
        (cfg({"type": "cosine", "total_steps": 10, "min_lr": float("inf")}), "training.scheduler.min_lr", "finite"),
        (cfg({"type": "cosine", "total_steps": 10, "min_lr": 1e-2}), "training.scheduler.min_lr", "above the peak"),
        (
            cfg({"type": "cosine", "total_steps": 10, "min_lr": 1e-5, "min_lr_ratio": 0.1}),
            "training.scheduler.min_lr_ratio",
            "not both",
        ),
        (cfg({"type": "cosine", "total_steps": 10, "warmup_steps": True}), "training.scheduler.warmup_steps", "number"),
        (cfg({"type": "multistep", "milestones": [50, 30]}), "training.scheduler.milestones", "increasing"),
        (
            cfg({"type": "multistep", "milestones": [5, 30], "warmup_steps": 10}),
            "training.scheduler.milestones[0]",
            "warm-up",
        ),
        (
            cfg({"type": "piecewise", "boundaries": [10, 10], "values": [1, 0.5, 0.1]}),
            "training.scheduler.boundaries",
            "increasing",
        ),
        (
            cfg({"type": "sequence", "boundaries": [10, 10], "pieces": [{"type": "constant"}] * 3}),
            "training.scheduler.boundaries",
            "zero length",
        ),
        (
            cfg({"type": "wsd", "total_steps": 100, "warmup_steps": 50, "decay_steps": 60}),
            "training.scheduler.decay_steps",
            "longer",
        ),
        (
            cfg({"type": "one_cycle", "total_steps": 100, "warmup_steps": 5}),
            "training.scheduler.warmup_steps",
            "no warm-up",
        ),
        (
            {"training": {"optimizer": {"type": "adamw", "lr": 0}, "scheduler": {"type": "constant"}}},
            "training.optimizer.lr",
            "greater than 0",
        ),
        (
            {
                "training": {
                    "optimizer": {"type": "adamw", "lr": 1e-3, "weight_decy": 0.1},
                    "scheduler": {"type": "constant"},
                }
            },
            "training.optimizer.weight_decy",
            "weight_decay",
        ),
        (
            {
                "training": {
                    "optimizer": {"type": "sgd", "lr": 0.1, "nesterov": True},
                    "scheduler": {"type": "constant"},
                }
            },
            "training.optimizer.nesterov",
            "momentum",
        ),
        (
            {
                "training": {
                    "optimizer": {"type": "adamw", "lr": 1e-3, "betas": [0.9]},
                    "scheduler": {"type": "constant"},
                }
            },
            "training.optimizer.betas",
            "two",
        ),
        ({"training": {"schedulr": {"type": "constant"}}}, "training.schedulr", "scheduler"),
        (
            {
                "training": {
                    "optimizer": {"type": "adamw", "lr": 1e-3, "param_groups": [{"match": "bias", "weight_decy": 0}]},
                    "scheduler": {"type": "constant"},
                }
            },
            "training.optimizer.param_groups[0].weight_decy",
            "weight_decay",
        ),
        (
            {
                "training": {
                    "optimizer": {"type": "adamw", "lr": 1e-3, "param_groups": [{"match": "bias", "lr": -1}]},
                    "scheduler": {"type": "constant"},
                }
            },
            "training.optimizer.param_groups[0].lr",
            "greater than 0",
        ),
        ({"training": {"optimizer": {"type": "adamw", "lr": 1e-3}}}, "training.scheduler", "no scheduler"),
    ],
)
def test_errors_name_path_value_and_fix(config, field, words):
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert err.value.field == field, str(err.value)
    assert words in str(err.value)
    assert err.value.fix


def test_load_schedule_is_absolute():
    s = load_schedule(cfg({"type": "constant"}, lr=3e-4))
    assert s(10) == pytest.approx(3e-4)
    assert load_schedule(s) is s


def test_bare_algebra_dict_is_a_schedule():
    assert load_schedule({"type": "cosine", "steps": 100})(50) == pytest.approx(0.5)
    # the same name with native keys is the native scheduler
    r = load_config({"type": "cosine", "total_steps": 100, "warmup_steps": 10})
    assert r.context["warmup_steps"] == 10 and r.lr_schedule(0) == pytest.approx(0.1)


def test_lrkit_keys_beside_training_are_refused_not_dropped():
    text = (
        "total_steps: 5000\ntraining:\n  optimizer: {type: adamw, lr: 1.0e-4}\n"
        "  scheduler: {type: cosine_annealing, warmup_steps: 100}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config_text(text)
    assert info.value.field == "total_steps"
    assert "training.total_steps" in str(info.value)


def test_other_top_level_sections_are_left_to_the_training_program():
    text = (
        "model: {hidden: 512}\ntraining:\n  optimizer: {type: adamw, lr: 1.0e-4}\n"
        "  scheduler: {type: cosine_annealing, warmup_steps: 100, total_steps: 1000}\n"
    )
    assert load_config_text(text).total_steps == 1000


def test_a_bad_controller_is_reported_when_the_config_is_read():
    text = (
        "training:\n  optimizer: {type: adamw, lr: 1.0e-4}\n"
        "  scheduler: {type: cosine_annealing, warmup_steps: 100, total_steps: 1000}\n"
        "  controller: {type: plateau, patiense: 3}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config_text(text)
    assert info.value.field == "training.controller.patiense"
    assert "patience" in str(info.value)
