"""NeMo ``optim.sched`` curves against NeMo's formulas.

NeMo is not installed here; the reference is a scalar transcription of
``nemo/core/optim/lr_scheduler.py`` (NVIDIA/NeMo: ``WarmupPolicy``, ``WarmupHoldPolicy``,
``WarmupAnnealHoldPolicy``, ``_cosine_annealing``, ``_linear_warmup_with_cosine_annealing``,
``_poly_decay``, ``_noam_hold_annealing`` and the policy classes), evaluated at
``last_epoch = k`` for update ``k`` (PyTorch Lightning steps the scheduler after every
optimizer update). Requirement: max relative difference <= 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.config import load_config
from lrkit.errors import ConfigError

TOL = 1e-9


def _cosine_annealing(initial_lr, step, max_steps, min_lr):
    mult = 0.5 * (1 + math.cos(math.pi * step / max_steps))
    return (initial_lr - min_lr) * mult + min_lr


def _linear_warmup_with_cosine_annealing(max_lr, warmup_steps, step, decay_steps, min_lr):
    if warmup_steps > 0 and step <= warmup_steps:
        return max_lr * float(step) / float(warmup_steps)
    if step > warmup_steps + decay_steps:
        return min_lr
    decay_ratio = float(step - warmup_steps) / float(decay_steps)
    return min_lr + 0.5 * (math.cos(math.pi * decay_ratio) + 1.0) * (max_lr - min_lr)


def _poly_decay(initial_lr, step, decay_steps, power, min_lr, cycle):
    if cycle:
        multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
        decay_steps *= multiplier
    else:
        step = min(step, decay_steps)
    p = step / decay_steps
    return (initial_lr - min_lr) * math.pow(1.0 - p, power) + min_lr


def ref_lr(
    name,
    base,
    step,
    *,
    max_steps,
    warmup=0,
    hold=None,
    constant=0,
    min_lr=0.0,
    power=1.0,
    cycle=False,
    d_model=1.0,
    decay_rate=0.5,
):
    """NeMo's get_lr for one policy at last_epoch = step (hold = NeMo's hold_steps argument)."""
    w = warmup
    if name == "NoamAnnealing":
        s = max(1, step)
        norm = d_model ** (-0.5)
        mult = norm * min(s ** (-0.5), s * (w ** (-1.5))) if w > 0 else norm * s ** (-0.5)
        out = base * mult
        return max(out, min_lr) if s > w else out
    if name == "CosineAnnealing":
        decay_steps = max_steps - (constant + w)
        if w > 0 and step <= w:
            return (
                base * (step + 1) / (w + 1)
                if constant == 0
                else _linear_warmup_with_cosine_annealing(base, w, step, decay_steps, min_lr)
            )
        if constant > 0 and (w + decay_steps) < step <= max_steps:
            return _linear_warmup_with_cosine_annealing(base, w, step, decay_steps, min_lr)
        if step > max_steps:
            return min_lr
        if constant == 0:
            return _cosine_annealing(base, step - w, max_steps - w, min_lr)
        return _linear_warmup_with_cosine_annealing(base, w, step, decay_steps, min_lr)
    hold_abs = (hold + w) if hold is not None else 0
    if step <= w and w > 0:
        return base * (step + 1) / (w + 1)
    hold_family = (
        "WarmupHoldPolicy",
        "PolynomialHoldDecayAnnealing",
        "NoamHoldAnnealing",
        "WarmupHoldAnnealLinear",
        "WarmupHoldAnnealOneMinusSquareRoot",
    )
    if name in hold_family and w <= step < hold_abs:
        return base
    if step > max_steps:
        return min_lr
    if name in ("WarmupPolicy", "WarmupHoldPolicy"):
        return base
    if name == "WarmupAnnealing":
        mult = (step - w) / (max_steps - w)
        return min_lr + (1 - mult) * (base - min_lr)
    if name == "InverseSquareRootAnnealing":
        return base / ((step + 1) / (w + 1)) ** 0.5
    if name == "SquareAnnealing":
        ms = max_steps - w
        return max(base * ((ms - (step - w)) / ms) ** 2, min_lr)
    if name == "SquareRootAnnealing":
        return max(base * ((max_steps - step) / max_steps) ** 0.5, min_lr)
    if name == "PolynomialDecayAnnealing":
        return _poly_decay(base, step - w, max_steps - w, power, min_lr, cycle)
    if name == "PolynomialHoldDecayAnnealing":
        return _poly_decay(base, step - hold_abs, max_steps - max(w, hold_abs), power, min_lr, cycle)
    if name == "WarmupHoldAnnealLinear":
        ratio = (step - hold_abs) / (max_steps - hold_abs)
        return base - (base - min_lr) * ratio
    if name == "WarmupHoldAnnealOneMinusSquareRoot":
        mult = 1 - ((step - hold_abs) / (max_steps - hold_abs)) ** 0.5
        return max(min_lr, base * mult)
    # NoamHoldAnnealing
    hold_steps = hold_abs - w if hold_abs > 0 else 0
    twd = max(1, w**decay_rate)
    thd = max(1, (step - hold_steps) ** decay_rate)
    return max(base * twd / thd, min_lr)


def max_rel_diff(ours, ref, peak):
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12 * peak)))


CASES = [
    ("CosineAnnealing", {"warmup_steps": 50, "min_lr": 1e-5}),
    ("CosineAnnealing", {"warmup_ratio": 0.05, "constant_steps": 100, "min_lr": 2e-5}),
    ("CosineAnnealing", {"constant_ratio": 0.2, "min_lr": 0.0, "warmup_steps": 0}),
    ("WarmupPolicy", {"warmup_steps": 30, "min_lr": 1e-6}),
    ("WarmupHoldPolicy", {"warmup_steps": 30, "hold_steps": 100, "min_lr": 1e-6}),
    ("WarmupAnnealing", {"warmup_ratio": 0.1, "min_lr": 1e-5}),
    ("InverseSquareRootAnnealing", {"warmup_steps": 40, "min_lr": 1e-6}),
    ("NoamAnnealing", {"warmup_steps": 40, "d_model": 512, "min_lr": 1e-6}),
    ("NoamHoldAnnealing", {"warmup_steps": 40, "hold_ratio": 0.2, "decay_rate": 1.0, "min_lr": 1e-6}),
    ("PolynomialDecayAnnealing", {"warmup_steps": 20, "power": 2.0, "min_lr": 1e-5}),
    ("PolynomialDecayAnnealing", {"warmup_steps": 20, "power": 1.0, "cycle": True, "min_lr": 1e-5}),
    ("PolynomialHoldDecayAnnealing", {"warmup_steps": 20, "hold_steps": 80, "power": 0.5, "min_lr": 1e-5}),
    ("SquareAnnealing", {"warmup_steps": 25}),
    ("SquareRootAnnealing", {"warmup_steps": 25, "min_lr": 1e-5}),
    ("WarmupHoldAnnealLinear", {"warmup_steps": 40, "hold_steps": 200, "min_lr": 1e-5}),
    ("WarmupHoldAnnealLinear", {"warmup_ratio": 0.05, "min_lr": 0.0}),
    ("WarmupHoldAnnealOneMinusSquareRoot", {"warmup_steps": 40, "hold_ratio": 0.5, "min_lr": 2e-5}),
    ("WarmupHoldAnnealOneMinusSquareRoot", {"warmup_steps": 0, "hold_steps": 0}),
]


@pytest.mark.parametrize("name,sched", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_matches_nemo_formula(name, sched):
    base, max_steps = 2e-4, 800
    cfg = {
        "trainer": {"max_steps": max_steps},
        "model": {"optim": {"name": "adamw", "lr": base, "sched": {"name": name, **sched}}},
    }
    r = load_config(cfg)
    assert r.format == "nemo" and r.total_steps == max_steps
    w = sched.get("warmup_steps", int(sched.get("warmup_ratio", 0) * max_steps))
    hold = sched.get("hold_steps", int(sched["hold_ratio"] * max_steps) if "hold_ratio" in sched else None)
    const = sched.get("constant_steps", int(sched.get("constant_ratio", 0) * max_steps))
    min_lr = sched.get("min_lr", 1e-5 if name == "SquareAnnealing" else 0.0)
    steps = 1000
    ref = np.array(
        [
            ref_lr(
                name,
                base,
                k,
                max_steps=max_steps,
                warmup=w,
                hold=hold,
                constant=const,
                min_lr=min_lr,
                power=sched.get("power", 1.0),
                cycle=sched.get("cycle", False),
                d_model=sched.get("d_model", 1.0),
                decay_rate=sched.get("decay_rate", 0.5),
            )
            for k in range(steps)
        ]
    )
    ours = r.lr_schedule(np.arange(steps))
    assert max_rel_diff(ours, ref, base) <= TOL


def test_hold_anneal_without_hold_steps_anneals_from_step_0_with_a_finding():
    # NeMo's WarmupHoldPolicy sets its hold end to 0 without hold_steps, so the anneal's progress
    # counts from step 0 and the LR drops when the warm-up ends; hold_steps: 0 anneals from the warm-up's end
    def read(extra):
        sched = {"name": "WarmupHoldAnnealLinear", "warmup_steps": 100, **extra}
        return load_config(
            {"trainer": {"max_steps": 1000}, "model": {"optim": {"name": "adamw", "lr": 1.0, "sched": sched}}}
        )

    bare, held = read({}), read({"hold_steps": 0})
    assert bare.lr_schedule(101) == pytest.approx(1 - 101 / 1000)
    assert held.lr_schedule(101) == pytest.approx(1 - 1 / 900)
    codes = [f.rule for f in bare.findings]
    assert "nemo-anneal-not-shifted" in codes and "nemo-anneal-not-shifted" not in [f.rule for f in held.findings]


def test_hold_anneal_ending_exactly_at_max_steps_is_refused_as_nemo_divides_by_zero():
    sched = {"name": "WarmupHoldAnnealOneMinusSquareRoot", "warmup_steps": 100, "hold_steps": 900}
    with pytest.raises(ConfigError) as err:
        load_config({"trainer": {"max_steps": 1000}, "model": {"optim": {"name": "adamw", "lr": 1.0, "sched": sched}}})
    assert err.value.field.endswith("hold_steps") and "divides by zero" in str(err.value)


def test_constant_steps_is_a_floor_tail_finding():
    r = load_config("src/lrkit/examples/nemo_cosine_constant_steps.yaml")
    rules = {f.rule for f in r.findings}
    assert {"nemo-constant-steps-floor", "first-update-at-zero"} <= rules
    lrs = r.lr_schedule(np.arange(10_000))
    assert lrs[0] == 0.0
    assert np.all(lrs[9000:] == pytest.approx(2e-5))


def test_nemo_errors():
    with pytest.raises(ConfigError) as err:
        load_config({"model": {"optim": {"lr": 1e-3, "sched": {"name": "CosineAnealing", "max_steps": 10}}}})
    assert err.value.field == "model.optim.sched.name" and "CosineAnnealing" in str(err.value)
    with pytest.raises(ConfigError, match="max_steps"):
        load_config({"model": {"optim": {"lr": 1e-3, "sched": {"name": "CosineAnnealing"}}}})
    with pytest.raises(ConfigError) as err:
        load_config(
            {"model": {"optim": {"lr": 1e-3, "sched": {"name": "CosineAnnealing", "max_steps": 10, "hold_steps": 3}}}}
        )
    assert err.value.field == "model.optim.sched.hold_steps"


def test_noam_peak_finding_reports_the_curves_own_peak():
    cfg = {
        "trainer": {"max_steps": 800},
        "model": {
            "optim": {
                "name": "adamw",
                "lr": 2.0,
                "sched": {"name": "NoamAnnealing", "warmup_steps": 40, "d_model": 512},
            }
        },
    }
    r = load_config(cfg)
    (f,) = [f for f in r.findings if f.rule == "noam-peak-scaled"]
    lrs = r.lr_schedule(np.arange(800))
    assert f.evidence["peak"] == pytest.approx(lrs.max(), rel=1e-12)
    assert int(lrs.argmax()) == 40


def _nemo(sched, trainer=None, lr=2e-4):
    cfg = {"model": {"optim": {"name": "adamw", "lr": lr, "sched": sched}}}
    if trainer is not None:
        cfg["trainer"] = trainer
    return cfg


def test_trainer_max_steps_wins_over_sched_max_steps_as_modelpt_does():
    # ModelPT.setup_optimization: optim.sched.max_steps = trainer.max_steps when that is >= 0
    cfg = _nemo({"name": "CosineAnnealing", "warmup_steps": 10, "min_lr": 1e-5, "max_steps": 750}, {"max_steps": 100})
    r = load_config(cfg)
    assert r.total_steps == 100 and r.context["max_steps"] == 100
    ref = [ref_lr("CosineAnnealing", 2e-4, k, max_steps=100, warmup=10, min_lr=1e-5) for k in range(100)]
    assert max_rel_diff(r.lrs(100), np.array(ref), 2e-4) <= TOL
    assert "decay-horizon-too-short" not in {f.rule for f in r.findings}
    (f,) = [f for f in r.findings if f.rule == "nemo-max-steps-replaced"]
    assert f.evidence == {"sched.max_steps": 750, "trainer.max_steps": 100}
    # the run length from epochs (trainer.max_steps -1): sched.max_steps is what NeMo uses
    r = load_config(_nemo(cfg["model"]["optim"]["sched"], {"max_steps": -1, "max_epochs": 3}))
    assert r.context["max_steps"] == 750


def test_total_steps_stands_for_trainer_max_steps_and_fills_mandatory():
    cfg = _nemo({"name": "CosineAnnealing", "warmup_steps": 10}, {"max_steps": "???"})
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert err.value.field == "trainer.max_steps" and "--set trainer.max_steps=" in err.value.fix
    r = load_config(cfg, total_steps=200)
    assert r.total_steps == 200 and r.context["max_steps"] == 200
    with pytest.raises(ConfigError, match="--total-steps"):
        load_config(_nemo({"name": "CosineAnnealing", "warmup_steps": 10}, {"max_epochs": 5}))


def test_degenerate_constant_steps_is_shown_with_an_error_finding():
    # warm-up + constant_steps >= max_steps: NeMo runs the warm-up and then min_lr (no division)
    sched = {"name": "CosineAnnealing", "warmup_steps": 60, "constant_steps": 50, "min_lr": 1e-5}
    r = load_config(_nemo(sched, {"max_steps": 100}))
    ref = [ref_lr("CosineAnnealing", 2e-4, k, max_steps=100, warmup=60, constant=50, min_lr=1e-5) for k in range(100)]
    assert max_rel_diff(r.lrs(100), np.array(ref), 2e-4) <= TOL
    assert [f.severity for f in r.findings if f.rule == "nemo-no-decay"] == ["error"]


def test_sched_args_form():
    # prepare_lr_scheduler: sched.args.params are the scheduler's keyword arguments
    sched = {"name": "CosineAnnealing", "args": {"name": "auto", "params": {"warmup_steps": 10, "min_lr": 1e-5}}}
    a = load_config(_nemo(sched, {"max_steps": 100}))
    b = load_config(_nemo({"name": "CosineAnnealing", "warmup_steps": 10, "min_lr": 1e-5}, {"max_steps": 100}))
    np.testing.assert_array_equal(a.lrs(100), b.lrs(100))


def test_torch_schedulers_registered_in_nemo():
    r = load_config(_nemo({"name": "StepLR", "step_size": 30, "gamma": 0.5}, {"max_steps": 100}))
    assert r.lrs(100)[29] == pytest.approx(2e-4) and r.lrs(100)[30] == pytest.approx(1e-4)
    # ExponentialLR is an epoch scheduler in NeMo: one factor per epoch of updates
    cfg = _nemo({"name": "ExponentialLR", "gamma": 0.9}, {"max_epochs": 4})
    with pytest.raises(ConfigError, match="per epoch"):
        load_config(cfg)
    r = load_config(cfg, total_steps=40)
    assert r.lrs(40)[9] == pytest.approx(2e-4) and r.lrs(40)[10] == pytest.approx(1.8e-4)
    assert "nemo-epoch-scheduler" in {f.rule for f in r.findings}


def test_sched_args_keys_beside_params_are_ignored_as_nemo_does():
    sched = {"name": "CosineAnnealing", "max_steps": -1, "args": {"name": "auto", "warmup_ratio": 0.1}}
    r = load_config(_nemo(sched, {"max_steps": 100}))
    assert r.context["warmup_steps"] == 0  # CosineAnnealingParams' default, not 0.1
    (f,) = [f for f in r.findings if f.rule == "nemo-args-ignored"]
    assert f.evidence["ignored"] == ["model.optim.sched.args.warmup_ratio"]


def test_set_replaces_an_interpolation_to_a_mandatory_value():
    cfg = {"max_epochs": "???", **_nemo({"name": "ExponentialLR", "gamma": 0.9}, {"max_epochs": "${max_epochs}"})}
    with pytest.raises(ConfigError) as err:
        load_config(cfg, total_steps=40)
    assert "--set trainer.max_epochs=" in err.value.fix
    assert load_config(cfg, total_steps=40, overrides={"trainer.max_epochs": "4"}).lrs(40)[10] == pytest.approx(1.8e-4)
    assert load_config(cfg, total_steps=40, overrides=["max_epochs=4"]).lrs(40)[10] == pytest.approx(1.8e-4)


NEMO2 = """
optim:
  _target_: nemo.lightning.MegatronOptimizerModule
  config:
    _target_: megatron.core.optimizer.OptimizerConfig
    optimizer: adam
    lr: 2.0e-4
  lr_scheduler:
    _target_: nemo.lightning.pytorch.optim.CosineAnnealingScheduler
    max_steps: ${trainer.max_steps}
    warmup_steps: 20
    constant_steps: 30
    min_lr: 1.0e-5
trainer:
  max_steps: 200
"""


def test_nemo2_yaml_cosine_annealing_scheduler():
    from lrkit.config import load_config_text

    r = load_config_text(NEMO2)
    assert r.format == "nemo" and r.peak_lr == 2e-4 and r.total_steps == 200
    ref = [ref_lr("CosineAnnealing", 2e-4, k, max_steps=200, warmup=20, constant=30, min_lr=1e-5) for k in range(200)]
    assert max_rel_diff(r.lrs(200), np.array(ref), 2e-4) <= TOL


def test_nemo2_module_defaults_are_its_own():
    from lrkit.config import load_config_text

    # no max_steps: the module's default 10 is used (NeMo 2 does not copy the trainer's), with a warning
    r = load_config_text(
        NEMO2.replace("    max_steps: ${trainer.max_steps}\n", "")
        .replace("warmup_steps: 20", "warmup_steps: 2")
        .replace("constant_steps: 30", "constant_steps: 3")
    )
    assert r.context["max_steps"] == 10
    assert {"nemo-default-max-steps", "decay-horizon-too-short"} <= {f.rule for f in r.findings}
    with pytest.raises(ConfigError, match="asserts one of them"):
        load_config_text(
            NEMO2.replace("CosineAnnealingScheduler", "WarmupAnnealingScheduler").replace(
                "    warmup_steps: 20\n    constant_steps: 30\n", "    warmup_ratio: 0.1\n"
            )
        )


def test_policy_instantiated_directly_speechlm2_shape():
    # model.lr_scheduler: {_target_: nemo.core.optim.lr_scheduler.CosineAnnealing, ...}: the keys are
    # the class's arguments as written (instantiate(cfg.lr_scheduler, optimizer))
    cfg = {
        "model": {
            "optimizer": {"_target_": "torch.optim.AdamW", "lr": 2e-4},
            "lr_scheduler": {
                "_target_": "nemo.core.optim.lr_scheduler.CosineAnnealing",
                "warmup_steps": 10,
                "min_lr": 1e-6,
                "max_steps": 300,
            },
        },
        "trainer": {"max_steps": 300},
    }
    r = load_config(cfg)
    assert r.format == "nemo" and r.total_steps == 300
    ref = [ref_lr("CosineAnnealing", 2e-4, k, max_steps=300, warmup=10, min_lr=1e-6) for k in range(300)]
    assert max_rel_diff(r.lrs(300), np.array(ref), 2e-4) <= TOL
