"""NeMo's T5InverseSquareRootAnnealing (nemo/core/optim/lr_scheduler.py, on SquareRootConstantPolicy):
absolute LRs 1/sqrt(constant_steps) up to constant_steps, 1/sqrt(step) up to max_steps, min_lr after;
optim.lr is not used. What NeMo cannot construct is refused with NeMo's reason."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit.config import load_config, to_config
from lrkit.errors import ConfigError

T5 = "T5InverseSquareRootAnnealing"


def _cfg(lr: float = 1e-3, max_steps: int = 1000, **sched) -> dict:
    # a NeMo 1.x model config: ModelPT copies trainer.max_steps into the policy's max_steps
    return {
        "trainer": {"max_steps": max_steps},
        "model": {"optim": {"name": "adamw", "lr": lr, "sched": {"name": T5, **sched}}},
    }


def _ref(step: int, constant: float, max_steps: int, min_lr: float) -> float:
    # SquareRootConstantPolicy.get_lr then T5InverseSquareRootAnnealing._get_lr, at last_epoch = step
    if step <= constant:
        return 1 / (constant**0.5)
    if step > max_steps:
        return min_lr
    return 1 / (step**0.5)


def test_t5_is_drawn_in_absolute_lrs_with_its_finding():
    r = load_config(_cfg(constant_steps=100, min_lr=1e-5))
    assert r.format == "nemo" and r.total_steps == 1000
    lrs = r.lrs(1100)
    assert lrs[0] == pytest.approx(0.1) and lrs[100] == pytest.approx(0.1)
    assert lrs[101] == pytest.approx(1 / math.sqrt(101)) and lrs[1000] == pytest.approx(1 / math.sqrt(1000))
    assert lrs[1001] == pytest.approx(1e-5)
    (f,) = [f for f in r.findings if f.rule == "nemo-lr-unused"]
    assert f.severity == "warning" and "optim.lr=0.001" in f.message and "constant_steps: 1000000" in f.fix
    assert f.source == "model.optim.sched.name"


@settings(max_examples=60, deadline=None)
@given(
    constant=st.one_of(st.integers(1, 3000), st.floats(0.5, 3000.0)),
    max_steps=st.integers(1, 3000),
    min_lr=st.sampled_from([0.0, 1e-5, 0.5, 2.0]),
    lr=st.sampled_from([1e-4, 1e-2, 3.0]),
)
def test_t5_matches_nemo_formula_whatever_optim_lr_says(constant, max_steps, min_lr, lr):
    r = load_config(_cfg(lr=lr, max_steps=max_steps, constant_steps=constant, min_lr=min_lr))
    n = int(max(constant, max_steps)) + 20
    ref = np.array([_ref(k, constant, max_steps, min_lr) for k in range(n)])
    ours = r.lrs(n)
    assert np.max(np.abs(ours - ref) / np.maximum(ref, 1e-300)) <= 1e-12


@pytest.mark.parametrize(
    ("sched", "field", "words"),
    [
        ({}, "constant_steps", "TypeError"),  # 1 / None ** 0.5
        ({"constant_ratio": 0.1}, "constant_steps", "constant_ratio does not stand in"),
        ({"constant_steps": 0}, "constant_steps", "divides by zero"),
        ({"constant_steps": -4}, "constant_steps", "not a real number"),
        ({"constant_steps": 10, "constant_ratio": 0.1}, "constant_ratio", "NeMo asserts one"),
        ({"constant_steps": 10, "warmup_steps": 5}, "warmup_steps", "no such argument"),
        ({"constant_steps": 10, "hold_steps": 5}, "hold_steps", "unknown key"),
    ],
)
def test_what_nemo_cannot_construct_is_refused_naming_the_field(sched, field, words):
    with pytest.raises(ConfigError) as err:
        load_config(_cfg(**sched))
    assert err.value.field == f"model.optim.sched.{field}" and words in str(err.value) and err.value.fix


def test_speechlm2_style_policy_target_is_read_with_the_curves_peak():
    cfg = {
        "trainer": {"max_steps": 400},
        "model": {
            "optimizer": {"_target_": "torch.optim.AdamW", "lr": 3e-4},
            "lr_scheduler": {"_target_": f"nemo.core.optim.lr_scheduler.{T5}", "constant_steps": 25, "max_steps": 400},
        },
    }
    r = load_config(cfg)
    assert r.peak_lr == pytest.approx(0.2) and r.lrs(30)[26] == pytest.approx(1 / math.sqrt(26))
    assert "nemo-lr-unused" in {f.rule for f in r.findings}


def test_nemo2_t5_module_is_refused_as_nemo_cannot_build_it():
    cfg = {
        "trainer": {"max_steps": 100},
        "optim": {
            "_target_": "nemo.lightning.MegatronOptimizerModule",
            "config": {"lr": 1e-3},
            "lr_scheduler": {"_target_": "nemo.lightning.pytorch.optim.T5InverseSquareRootAnnealingScheduler"},
        },
    }
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert err.value.field == "optim.lr_scheduler._target_" and "without constant_steps" in str(err.value)


def test_t5_round_trips_through_the_nemo_writer():
    r = load_config(_cfg(constant_steps=100, min_lr=1e-5))
    out = to_config(r, "nemo")
    assert out["model"]["optim"]["sched"]["constant_steps"] == 100
    back = load_config(out)
    assert np.allclose(back.lrs(1100), r.lrs(1100), rtol=1e-12, atol=0)


def test_args_name_auto_is_refused_as_nemo_has_no_params_class_for_t5_and_its_class_is_read():
    def read(args_name):
        args = {"name": args_name, "params": {"constant_steps": 400}}
        return load_config(
            {"trainer": {"max_steps": 1000}, "model": {"optim": {"lr": 1e-3, "sched": {"name": T5, "args": args}}}}
        )

    with pytest.raises(ConfigError) as err:
        read("auto")
    assert err.value.field == "model.optim.sched.args.name" and "SquareRootConstantSchedulerParams" in err.value.fix
    assert read("SquareRootConstantSchedulerParams").lrs(10)[0] == pytest.approx(0.05)
