"""DeepSpeed's schedulers: the algebra (DeepSpeedLR) at its edges, and the configs that name them
(a standalone ds_config.json, a Hugging Face / LLaMA-Factory / axolotl config whose deepspeed: has a
"scheduler" section, "auto" values filled as the Trainer fills them or asked for)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit.config import detect_format, load_config, to_config
from lrkit.errors import ConfigError
from lrkit.schedules import from_dict
from lrkit.schedules.compat import DeepSpeedLR, DeepSpeedOneCycle, DeepSpeedRangeTest


def reference(
    name: str, k: int, *, lo=0.0, hi=1e-3, n=1000, wtype="log", total=None, lr=1.0, r0=0.0, c=1e-4, last=-1, opt=None
):
    """DeepSpeed's LR for update k written out by hand: update k runs at iteration k - 1, -1 being
    the value the constructor writes. Built with last_batch_iteration ``last`` other than -1 it
    writes nothing: update 0 trains at the optimizer's LR ``opt`` (``lr`` for WarmupCosineLR), update
    k at iteration k + last."""
    if last != -1 and k == 0:
        return lr if name == "WarmupCosineLR" else opt
    i = k - 1 if last == -1 else k + last
    n = max(2, n)
    if i < 0:
        return 0.0 if name == "WarmupCosineLR" else lo
    if i < n:
        g = math.log(i + 1) / math.log(n) if wtype == "log" else i / n
        return lr * (r0 + g * (1 - r0)) if name == "WarmupCosineLR" else lo + (hi - lo) * g
    if name == "WarmupLR":
        return hi
    if name == "WarmupDecayLR":
        return lo + (hi - lo) * max(0.0, (total - i) / max(1, total - n))
    p = min(1.0, (i - n + 1) / max(1, total - n))
    return lr * max(0.0, c + (1 - c) * (1 + math.cos(math.pi * p)) / 2)


# -- the algebra ---------------------------------------------------------------------------------


@pytest.mark.parametrize("wtype", ["log", "linear"])
@pytest.mark.parametrize("name", ["WarmupLR", "WarmupDecayLR", "WarmupCosineLR"])
def test_each_type_at_its_edges(name, wtype):
    n, total = 10, 50
    kw = {"warmup_num_steps": n, "warmup_type": wtype}
    if name == "WarmupCosineLR":
        kw.update(total_num_steps=total, lr=2e-4, warmup_min_ratio=0.1, cos_min_ratio=0.05)
        ref = {"lr": 2e-4, "r0": 0.1, "c": 0.05}
    else:
        kw.update(warmup_min_lr=1e-6, warmup_max_lr=3e-4)
        ref = {"lo": 1e-6, "hi": 3e-4}
        if name == "WarmupDecayLR":
            kw["total_num_steps"] = total
    s = DeepSpeedLR(name=name, **kw)
    for k in (0, 1, 2, n - 1, n, n + 1, n + 2, total - 1, total, total + 1, total + 2, 10 * total):
        assert s(k) == pytest.approx(reference(name, k, n=n, wtype=wtype, total=total, **ref), rel=1e-12, abs=0.0)


def test_the_first_update_runs_at_the_iteration_minus_one_value():
    assert DeepSpeedLR(warmup_min_lr=1e-5, warmup_max_lr=1e-3, warmup_num_steps=5)(0) == 1e-5
    # log warm-up: iteration 0 is ln(1) = 0 as well, so the second update is at warmup_min_lr too
    assert DeepSpeedLR(warmup_min_lr=1e-5, warmup_max_lr=1e-3, warmup_num_steps=5)(1) == 1e-5
    cos = DeepSpeedLR(name="WarmupCosineLR", total_num_steps=20, lr=1e-3, warmup_min_ratio=0.5, warmup_num_steps=5)
    assert cos(0) == 0.0 and cos(1) == pytest.approx(5e-4)


def test_a_warmup_of_one_step_is_floored_at_two_as_deepspeed_does():
    s = DeepSpeedLR(warmup_min_lr=0.0, warmup_max_lr=1.0, warmup_num_steps=1, warmup_type="linear")
    assert s(np.arange(5)).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_the_cosine_holds_its_floor_past_total_num_steps():
    s = DeepSpeedLR(name="WarmupCosineLR", total_num_steps=30, warmup_num_steps=10, lr=1.0, cos_min_ratio=0.1)
    tail = s(np.arange(30, 200))
    assert np.all(tail == pytest.approx(0.1)) and s.horizon == 30


def test_decay_and_cosine_need_total_num_steps():
    with pytest.raises(ConfigError) as err:
        DeepSpeedLR(name="WarmupDecayLR")
    assert err.value.field == "total_num_steps"
    with pytest.raises(ConfigError):
        DeepSpeedLR(name="WarmupLR", warmup_num_steps=-1)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(["WarmupLR", "WarmupDecayLR", "WarmupCosineLR"]),
    n=st.integers(1, 300),
    extra=st.integers(0, 400),
    wtype=st.sampled_from(["log", "linear"]),
    lo=st.floats(0.0, 1e-4),
    hi=st.floats(1e-4, 1.0),
    ratio=st.floats(0.0, 0.9),
)
def test_matches_the_hand_written_formula_and_round_trips(name, n, extra, wtype, lo, hi, ratio):
    total = n + extra
    kw = {"name": name, "warmup_num_steps": n, "warmup_type": wtype, "warmup_min_lr": lo, "warmup_max_lr": hi}
    if name != "WarmupLR":
        kw["total_num_steps"] = total
    if name == "WarmupCosineLR":
        kw.update(lr=hi, warmup_min_ratio=ratio, cos_min_ratio=ratio / 2)
    s = DeepSpeedLR(**kw)
    ks = np.arange(total + 5)
    ref = [
        reference(name, int(k), lo=lo, hi=hi, n=n, wtype=wtype, total=total, lr=hi, r0=ratio, c=ratio / 2) for k in ks
    ]
    assert np.allclose(s(ks), ref, rtol=1e-12, atol=0.0)
    again = from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s and s.to_dict()["type"] == "deepspeed"


# -- a standalone DeepSpeed config ---------------------------------------------------------------

DS_DECAY = {
    "train_micro_batch_size_per_gpu": 4,
    "gradient_accumulation_steps": 8,
    "optimizer": {"type": "AdamW", "params": {"lr": 3e-4, "betas": [0.9, 0.95], "weight_decay": 0.1}},
    "scheduler": {
        "type": "WarmupDecayLR",
        "params": {"warmup_min_lr": 0, "warmup_max_lr": 3e-4, "warmup_num_steps": 200, "total_num_steps": 2000},
    },
    "zero_optimization": {"stage": 2},
    "bf16": {"enabled": True},
}
DS_COSINE = {
    "optimizer": {"type": "Adam", "params": {"lr": 2e-5}},
    "scheduler": {
        "type": "WarmupCosineLR",
        "params": {"total_num_steps": 1000, "warmup_num_steps": 50, "warmup_type": "linear", "cos_min_ratio": 0.1},
    },
    "zero_optimization": {"stage": 3},
}


def test_a_standalone_deepspeed_config_with_a_scheduler_is_read(tmp_path):
    path = tmp_path / "ds_config.json"
    path.write_text(json.dumps(DS_DECAY))
    cfg = load_config(path)
    assert cfg.format == "deepspeed" and detect_format(DS_DECAY) == "deepspeed"
    assert cfg.total_steps == 2000 and cfg.peak_lr == 3e-4
    ref = [reference("WarmupDecayLR", k, lo=0.0, hi=3e-4, n=200, total=2000) for k in range(2005)]
    assert np.allclose(cfg.lrs(2005), ref, rtol=1e-12, atol=0.0)
    assert "first-update-at-zero" in [f.rule for f in cfg.findings]


def test_a_standalone_warmup_cosine_reads_the_optimizers_lr():
    cfg = load_config(DS_COSINE)
    ref = [
        reference("WarmupCosineLR", k, n=50, wtype="linear", total=1000, lr=2e-5, c=0.1, r0=0.0) for k in range(1100)
    ]
    assert np.allclose(cfg.lrs(1100), ref, rtol=1e-12, atol=0.0)
    assert cfg.lrs(1)[0] == 0.0


def test_auto_values_are_asked_for_by_name_and_filled_by_total_steps_or_set():
    data = json.loads(json.dumps(DS_DECAY))
    data["scheduler"]["params"].update(total_num_steps="auto", warmup_num_steps="auto")
    with pytest.raises(ConfigError) as err:
        load_config(data)
    assert err.value.field == "scheduler.params.total_num_steps" and err.value.value == "auto"
    assert "--total-steps" in err.value.fix and "--set scheduler.params.warmup_num_steps=" in err.value.fix
    with pytest.raises(ConfigError) as err:
        load_config(data, total_steps=500)
    assert err.value.field == "scheduler.params.warmup_num_steps" and "--set" in err.value.fix
    cfg = load_config(data, total_steps=500, overrides=["scheduler.params.warmup_num_steps=50"])
    ref = [reference("WarmupDecayLR", k, lo=0.0, hi=3e-4, n=50, total=500) for k in range(500)]
    assert np.allclose(cfg.lrs(500), ref, rtol=1e-12, atol=0.0)


def test_a_deepspeed_config_without_a_scheduler_still_says_it_sets_no_schedule():
    with pytest.raises(ConfigError, match="sets no LR schedule"):
        load_config({"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": "auto"})


@pytest.mark.parametrize(
    ("scheduler", "field", "match"),
    [
        ({"type": "OneCycle", "params": {"cycle_min_lr": 1e-5}}, "scheduler.params.cycle_max_lr", "OneCycle"),
        ({"type": "WarmupDecay", "params": {}}, "scheduler.type", "WarmupDecayLR"),
        ({"type": "WarmupLR", "params": {"warmup_steps": 10}}, "scheduler.params.warmup_steps", "warmup_num_steps"),
        ({"type": "WarmupLR", "params": {"warmup_num_steps": 10.0}}, "scheduler.params.warmup_num_steps", "integer"),
    ],
)
def test_what_deepspeed_refuses_or_lrkit_does_not_draw_is_named(scheduler, field, match):
    with pytest.raises(ConfigError, match=match) as err:
        load_config({"optimizer": {"type": "Adam", "params": {"lr": 1e-3}}, "scheduler": scheduler})
    assert err.value.field == field


def test_one_cycle_rises_falls_and_decays_as_deepspeed_steps_it():
    params = {"cycle_min_lr": 1e-4, "cycle_max_lr": 1e-3, "cycle_first_step_size": 4, "decay_lr_rate": 0.5}
    cfg = load_config({"scheduler": {"type": "OneCycle", "params": {**params, "decay_step_size": 2}}})
    scale = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25, 0]
    ref = [1e-4 + 9e-4 * x for x in scale] + [1e-4 / (1 + 0.5 * d / 2) for d in range(1, 5)]
    assert np.allclose(cfg.lrs(13), ref, rtol=1e-12, atol=0.0) and cfg.peak_lr == 1e-3
    # two stairs a half: the LR moves every other update
    stairs = DeepSpeedOneCycle(cycle_min_lr=0.0, cycle_max_lr=1.0, cycle_first_step_size=4, cycle_first_stair_count=2)
    assert stairs(np.arange(9)).tolist() == [0.0, 0.0, 0.5, 0.5, 1.0, 0.5, 0.5, 0.0, 0.0]


def test_the_lr_range_test_grows_from_its_start():
    params = {"lr_range_test_min_lr": 1e-5, "lr_range_test_step_size": 10, "lr_range_test_step_rate": 2.0}
    cfg = load_config({"scheduler": {"type": "LRRangeTest", "params": {**params, "lr_range_test_staircase": True}}})
    assert np.allclose(cfg.lrs(25), [1e-5 * (1 + 2.0 * (k // 10)) for k in range(25)], rtol=1e-12, atol=0.0)
    assert "deepspeed-range-test" in [f.rule for f in cfg.findings]
    for s in (DeepSpeedOneCycle(cycle_min_lr=0.1, cycle_max_lr=1.0), DeepSpeedRangeTest(lr_range_test_staircase=True)):
        assert from_dict(json.loads(json.dumps(s.to_dict()))) == s
    back = load_config(to_config(cfg, "deepspeed"))
    assert np.array_equal(back.lrs(25), cfg.lrs(25))


def test_a_torch_scheduler_named_in_the_section_is_built_on_the_optimizers_lr():
    data = {
        "optimizer": {"type": "AdamW", "params": {"lr": 1e-3}},
        "scheduler": {"type": "StepLR", "params": {"step_size": 10, "gamma": 0.5}},
    }
    assert np.allclose(load_config(data).lrs(35), [1e-3 * 0.5 ** (k // 10) for k in range(35)], rtol=1e-12, atol=0)
    data["scheduler"]["params"]["step"] = 3
    with pytest.raises(ConfigError) as err:
        load_config(data)
    assert err.value.field.startswith("scheduler.params")


def test_per_group_lrs_draw_the_first_group():
    params = {"warmup_min_lr": [0.0, 1e-6], "warmup_max_lr": [1e-3, 1e-4], "warmup_num_steps": 10}
    cfg = load_config({"scheduler": {"type": "WarmupLR", "params": params}})
    assert cfg.peak_lr == 1e-3 and "deepspeed-group-lr" in [f.rule for f in cfg.findings]
    cycle = {"cycle_min_lr": [1e-4, 1e-5], "cycle_max_lr": [1e-3, 1e-4], "cycle_first_step_size": 4}
    assert load_config({"scheduler": {"type": "OneCycle", "params": cycle}}).lrs(5)[4] == pytest.approx(1e-3)


def test_an_unknown_warmup_type_warms_up_with_log_as_deepspeed_does():
    data = {"scheduler": {"type": "WarmupLR", "params": {"warmup_max_lr": 1e-3, "warmup_type": "cosine"}}}
    cfg = load_config(data)
    assert "deepspeed-warmup-type" in [f.rule for f in cfg.findings]
    assert cfg.lrs(3)[2] == pytest.approx(1e-3 * math.log(2) / math.log(1000), rel=1e-12)


def test_warmup_lr_without_warmup_max_lr_climbs_to_the_optimizers_lr():
    optimizer = {"type": "Adam", "params": {"lr": 5e-4}}
    cfg = load_config({"optimizer": optimizer, "scheduler": {"type": "WarmupLR", "params": {}}})
    assert cfg.lrs(1002)[-1] == pytest.approx(5e-4, rel=1e-12)
    # DeepSpeed builds it with **params: a section without them fails there
    with pytest.raises(ConfigError) as err:
        load_config({"optimizer": optimizer, "scheduler": {"type": "WarmupLR"}})
    assert err.value.field == "scheduler.params"


# -- a trainer's deepspeed: ----------------------------------------------------------------------

# the Hugging Face examples' ds_config: every scheduler value "auto", filled by the Trainer
DS_AUTO = {
    "fp16": {"enabled": "auto"},
    "optimizer": {"type": "AdamW", "params": {"lr": "auto", "betas": "auto", "eps": "auto", "weight_decay": "auto"}},
    "scheduler": {
        "type": "WarmupDecayLR",
        "params": {
            "warmup_min_lr": "auto",
            "warmup_max_lr": "auto",
            "warmup_num_steps": "auto",
            "total_num_steps": "auto",
        },
    },
    "zero_optimization": {"stage": 2},
    "train_micro_batch_size_per_gpu": "auto",
}
HF_YAML = """output_dir: out
learning_rate: 2.0e-5
lr_scheduler_type: cosine
warmup_ratio: 0.05
max_steps: 600
per_device_train_batch_size: 4
deepspeed: {ds}
"""


def _hf(tmp_path, ds: dict, yaml_text: str = HF_YAML):
    (tmp_path / "ds_config.json").write_text(json.dumps(ds))
    path = tmp_path / "train.yaml"
    path.write_text(yaml_text.format(ds="ds_config.json"))
    return path


def test_a_hf_config_with_a_deepspeed_scheduler_draws_deepspeeds_curve_filled_by_the_trainer(tmp_path):
    cfg = load_config(_hf(tmp_path, DS_AUTO), format="hf")
    # the Trainer fills warmup_min_lr 0, warmup_max_lr learning_rate, warmup_num_steps ceil(0.05 * 600) = 30,
    # total_num_steps max_steps
    ref = [reference("WarmupDecayLR", k, lo=0.0, hi=2e-5, n=30, total=600) for k in range(600)]
    assert np.allclose(cfg.lrs(600), ref, rtol=1e-12, atol=0.0)
    assert cfg.total_steps == 600 and cfg.peak_lr == 2e-5
    assert cfg.findings[0].rule == "deepspeed-scheduler"


def test_a_concrete_value_the_trainer_would_refuse_is_refused_with_its_reason(tmp_path):
    ds = json.loads(json.dumps(DS_AUTO))
    ds["scheduler"]["params"]["total_num_steps"] = 1000
    with pytest.raises(ConfigError, match="Trainer refuses") as err:
        load_config(_hf(tmp_path, ds), format="hf")
    assert err.value.field == "deepspeed.scheduler.params.total_num_steps" and err.value.value == "1000"
    ds["scheduler"]["params"].update(total_num_steps="auto", warmup_max_lr=1e-4)
    with pytest.raises(ConfigError, match="learning_rate"):
        load_config(_hf(tmp_path, ds), format="hf")


def test_a_trainer_without_warm_up_fills_0_which_older_deepspeed_floors_at_2(tmp_path):
    yaml_text = HF_YAML.replace("warmup_ratio: 0.05\n", "")
    cfg = load_config(_hf(tmp_path, DS_AUTO, yaml_text), format="hf")
    assert "deepspeed-warmup-zero" in [f.rule for f in cfg.findings]
    ref = [reference("WarmupDecayLR", k, lo=0.0, hi=2e-5, n=2, total=600) for k in range(600)]
    assert np.allclose(cfg.lrs(600), ref, rtol=1e-12, atol=0.0)


def test_a_trainer_without_a_run_length_is_asked_for_it(tmp_path):
    yaml_text = HF_YAML.replace("max_steps: 600\n", "num_train_epochs: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(_hf(tmp_path, DS_AUTO, yaml_text), format="hf")
    assert err.value.field == "deepspeed.scheduler.params.total_num_steps" and "--total-steps" in err.value.fix
    cfg = load_config(_hf(tmp_path, DS_AUTO, yaml_text), format="hf", total_steps=400)
    ref = [reference("WarmupDecayLR", k, lo=0.0, hi=2e-5, n=20, total=400) for k in range(400)]
    assert np.allclose(cfg.lrs(400), ref, rtol=1e-12, atol=0.0)


def test_concrete_values_equal_to_the_trainers_run(tmp_path):
    ds = json.loads(json.dumps(DS_AUTO))
    ds["scheduler"]["params"].update(total_num_steps=600, warmup_num_steps=30, warmup_min_lr=1e-7)
    cfg = load_config(_hf(tmp_path, ds), format="hf")
    ref = [reference("WarmupDecayLR", k, lo=1e-7, hi=2e-5, n=30, total=600) for k in range(600)]
    assert np.allclose(cfg.lrs(600), ref, rtol=1e-12, atol=0.0)


def test_a_llamafactory_recipe_naming_a_deepspeed_scheduler_is_read(tmp_path):
    recipe = "stage: sft\nfinetuning_type: full\nlearning_rate: 1.0e-5\nmax_steps: 400\nwarmup_steps: 20\n"
    recipe += "lr_scheduler_type: cosine\ndeepspeed: {ds}\n"
    cfg = load_config(_hf(tmp_path, DS_AUTO, recipe), format="llamafactory")
    ref = [reference("WarmupDecayLR", k, lo=0.0, hi=1e-5, n=20, total=400) for k in range(400)]
    assert cfg.format == "llamafactory" and np.allclose(cfg.lrs(400), ref, rtol=1e-12, atol=0.0)


def test_an_axolotl_config_with_an_inline_deepspeed_scheduler_is_read():
    data = {
        "base_model": "m",
        "datasets": [{"path": "d"}],
        "micro_batch_size": 2,
        "num_epochs": 1,
        "max_steps": 100,
        "warmup_steps": 10,
        "learning_rate": 2e-4,
        "lr_scheduler": "cosine",
        "deepspeed": {
            "scheduler": {"type": "WarmupLR", "params": {"warmup_num_steps": "auto", "warmup_type": "linear"}}
        },
    }
    cfg = load_config(data, format="axolotl", total_steps=100)
    # warmup_max_lr absent: WarmupLR climbs to the optimizer's lr, the Trainer's learning_rate
    ref = [reference("WarmupLR", k, lo=0.0, hi=2e-4, n=10, wtype="linear") for k in range(100)]
    assert cfg.format == "axolotl" and np.allclose(cfg.lrs(100), ref, rtol=1e-12, atol=0.0)


# -- a scheduler resumed mid-run (last_batch_iteration) ------------------------------------------


@pytest.mark.parametrize("last", [0, 7, 100])
@pytest.mark.parametrize("name", ["WarmupLR", "WarmupDecayLR", "WarmupCosineLR"])
def test_a_resumed_scheduler_starts_at_its_last_batch_iteration(name, last):
    n, total = 10, 150
    kw: dict = {"warmup_num_steps": n, "warmup_type": "linear", "last_batch_iteration": last}
    if name == "WarmupCosineLR":
        kw.update(total_num_steps=total, lr=2e-4, warmup_min_ratio=0.1, cos_min_ratio=0.05)
        ref = {"lr": 2e-4, "r0": 0.1, "c": 0.05}
    else:
        kw.update(warmup_min_lr=1e-6, warmup_max_lr=3e-4, optimizer_lr=5e-4)
        ref = {"lo": 1e-6, "hi": 3e-4, "opt": 5e-4}
        if name == "WarmupDecayLR":
            kw["total_num_steps"] = total
    s = DeepSpeedLR(name=name, **kw)
    ks = range(0, total + 20)
    want = [reference(name, k, n=n, wtype="linear", total=total, last=last, **ref) for k in ks]
    assert np.allclose(s(np.asarray(ks)), want, rtol=1e-12, atol=0.0)
    assert from_dict(json.loads(json.dumps(s.to_dict()))) == s


@settings(max_examples=60, deadline=None)
@given(
    last=st.integers(0, 400),
    n=st.integers(1, 60),
    total=st.integers(1, 300),
    name=st.sampled_from(["WarmupLR", "WarmupDecayLR", "WarmupCosineLR"]),
)
def test_a_resumed_scheduler_is_the_fresh_one_entered_last_plus_one_updates_in(last, n, total, name):
    kw: dict = {"name": name, "warmup_num_steps": n, "total_num_steps": total, "warmup_max_lr": 1.0}
    if name == "WarmupLR":
        del kw["total_num_steps"]
    fresh = DeepSpeedLR(**kw)
    resumed = DeepSpeedLR(**kw, last_batch_iteration=last, optimizer_lr=None if name == "WarmupCosineLR" else 0.7)
    ks = np.arange(1, 2 * (n + total))
    assert np.array_equal(resumed(ks), fresh(ks + last + 1))
    assert resumed(0) == (1.0 if name == "WarmupCosineLR" else 0.7)
    # the curve moves no more from its horizon on
    h = int(resumed.horizon)
    assert np.all(resumed(np.arange(h, h + 50)) == resumed(h))


def test_resumed_one_cycle_and_range_test_start_at_their_last_batch_iteration():
    cycle = {"cycle_min_lr": 1e-4, "cycle_max_lr": 1e-3, "cycle_first_step_size": 4, "decay_lr_rate": 0.5}
    cycle.update(decay_step_size=2, last_batch_iteration=2)
    cfg = load_config(
        {"optimizer": {"type": "SGD", "params": {"lr": 3e-3}}, "scheduler": {"type": "OneCycle", "params": cycle}}
    )
    # a fresh OneCycle runs update k at b = k; resumed at 2, update k >= 1 runs at b = k + 3
    scale = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.5, 0.25, 0]
    fresh = [1e-4 + 9e-4 * x for x in scale] + [1e-4 / (1 + 0.5 * d / 2) for d in range(1, 8)]
    assert np.allclose(cfg.lrs(10), [3e-3, *fresh[4:13]], rtol=1e-12, atol=0.0)
    assert "deepspeed-resumed" in [f.rule for f in cfg.findings]
    ramp = {"lr_range_test_min_lr": 1e-5, "lr_range_test_step_size": 10, "lr_range_test_step_rate": 2.0}
    ramp["last_batch_iteration"] = 7
    cfg = load_config(
        {"optimizer": {"type": "SGD", "params": {"lr": 4e-5}}, "scheduler": {"type": "LRRangeTest", "params": ramp}}
    )
    assert np.allclose(cfg.lrs(20), [4e-5] + [1e-5 * (1 + 2.0 * (k + 8) / 10) for k in range(1, 20)], rtol=1e-12)
    back = load_config(to_config(cfg, "deepspeed"))
    assert np.array_equal(back.lrs(20), cfg.lrs(20))


def test_a_resumed_ds_config_is_read_with_its_offset_named():
    params = {"warmup_min_lr": 0.0, "warmup_max_lr": 1e-3, "warmup_num_steps": 10, "total_num_steps": 100}
    data = {
        "optimizer": {"type": "AdamW", "params": {"lr": 1e-3}},
        "scheduler": {"type": "WarmupDecayLR", "params": {**params, "last_batch_iteration": 7}},
    }
    cfg = load_config(data)
    ref = [reference("WarmupDecayLR", k, lo=0.0, hi=1e-3, n=10, total=100, last=7, opt=1e-3) for k in range(92)]
    # read alone, the run is what the scheduler has left: 100 - 8 updates
    assert cfg.total_steps == 92 and np.allclose(cfg.lrs(92), ref, rtol=1e-12, atol=0.0)
    (note,) = [f for f in cfg.findings if f.rule == "deepspeed-resumed"]
    assert note.severity == "info" and note.evidence["offset"] == 8 and "k + 7" in note.message
    assert "first-update-at-zero" not in [f.rule for f in cfg.findings]  # the first update is at the optimizer's lr
    back = load_config(to_config(cfg, "deepspeed"))
    assert np.array_equal(back.lrs(92), cfg.lrs(92))


def test_a_resumed_scheduler_without_the_optimizers_lr_is_asked_for_it():
    params = {"warmup_max_lr": 1e-3, "warmup_num_steps": 10, "last_batch_iteration": 5}
    with pytest.raises(ConfigError, match="first update") as err:
        load_config({"scheduler": {"type": "WarmupLR", "params": params}})
    assert err.value.field == "optimizer.params.lr" and '"optimizer"' in err.value.fix
    optimizer = {"type": "AdamW", "params": {"lr": 2e-3}}
    cfg = load_config({"optimizer": optimizer, "scheduler": {"type": "WarmupLR", "params": params}}, total_steps=4)
    assert cfg.lrs(2).tolist() == pytest.approx([2e-3, 1e-3 * math.log(7) / math.log(10)], rel=1e-12)


@pytest.mark.parametrize("bad", ["auto", -5, 2.5, "7", True])
def test_a_last_batch_iteration_deepspeed_cannot_run_is_refused_by_name(bad):
    data = {"optimizer": {"type": "AdamW", "params": {"lr": 1e-3}}}
    data["scheduler"] = {"type": "WarmupLR", "params": {"last_batch_iteration": bad}}
    with pytest.raises(ConfigError) as err:
        load_config(data)
    assert err.value.field == "scheduler.params.last_batch_iteration" and err.value.value == bad
    assert "index of the last batch" in err.value.fix
    # what DeepSpeed runs is read: an integer, or a float that is one (JSON may write 7.0)
    for good in (7, 7.0):
        data["scheduler"]["params"]["last_batch_iteration"] = good
        assert load_config(data).schedule.last_batch_iteration == 7


def test_a_trainer_config_with_a_resumed_deepspeed_scheduler_runs_the_trainers_count(tmp_path):
    ds = json.loads(json.dumps(DS_AUTO))
    ds["scheduler"] = {
        "type": "WarmupCosineLR",
        "params": {"warmup_num_steps": "auto", "total_num_steps": "auto", "last_batch_iteration": 49},
    }
    cfg = load_config(_hf(tmp_path, ds), format="hf")
    # the Trainer runs max_steps 600 updates from 0; the scheduler is 50 iterations ahead of them
    ref = [reference("WarmupCosineLR", k, n=30, total=600, lr=2e-5, last=49) for k in range(600)]
    assert cfg.total_steps == 600 and np.allclose(cfg.lrs(600), ref, rtol=1e-12, atol=0.0)
    rules = {f.rule: f for f in cfg.findings}
    assert "deepspeed-resumed" in rules
    past = rules["deepspeed-cosine-past-total"]
    assert past.severity == "warning" and past.evidence["first_update_past"] == 551 and "0.19.3" in past.message


def test_a_run_past_warmup_cosine_total_num_steps_says_older_deepspeed_climbs_back():
    params = {"warmup_num_steps": 10, "total_num_steps": 100, "cos_min_ratio": 0.1}
    data = {
        "optimizer": {"type": "AdamW", "params": {"lr": 1e-3}},
        "scheduler": {"type": "WarmupCosineLR", "params": params},
    }
    # a run of total_num_steps updates is the same curve on every release: nothing to say
    assert "deepspeed-cosine-past-total" not in [f.rule for f in load_config(data).findings]
    assert "deepspeed-cosine-past-total" not in [f.rule for f in load_config(data, total_steps=101).findings]
    cfg = load_config(data, total_steps=150)
    (past,) = [f for f in cfg.findings if f.rule == "deepspeed-cosine-past-total"]
    # update k runs at iteration k - 1: iteration 100, the first past the end, is update 101
    assert past.evidence == {"total_num_steps": 100, "last_iteration": 148, "first_update_past": 101}
    # before 0.19.3 the progress was not clamped: (148 - 10 + 1) / 90 of a half cosine
    older = 1e-3 * (0.1 + 0.9 * (1 + math.cos(math.pi * 139 / 90)) / 2)
    assert f"{older:g}" in past.message and cfg.lrs(150)[-1] == pytest.approx(1e-4, rel=1e-12)
    params["total_num_steps"] = 10  # no decay window: earlier releases divide by zero after the warm-up
    (past,) = [f for f in load_config(data, total_steps=40).findings if f.rule == "deepspeed-cosine-past-total"]
    assert "ZeroDivisionError at update 11" in past.message


def test_axolotl_and_llamafactory_read_a_resumed_deepspeed_section_through_the_same_reader(tmp_path):
    params = {"warmup_num_steps": "auto", "warmup_type": "linear", "last_batch_iteration": 3}
    section = {"type": "WarmupLR", "params": params}
    data = {
        "base_model": "m",
        "datasets": [{"path": "d"}],
        "micro_batch_size": 2,
        "num_epochs": 1,
        "max_steps": 100,
        "warmup_steps": 10,
        "learning_rate": 2e-4,
        "lr_scheduler": "cosine",
        "deepspeed": {"scheduler": section},
    }
    # warmup_max_lr absent: WarmupLR climbs to the optimizer's lr, the Trainer's learning_rate, which also
    # trains the first update (the resumed scheduler writes no LR)
    ref = [reference("WarmupLR", k, lo=0.0, hi=2e-4, n=10, wtype="linear", last=3, opt=2e-4) for k in range(100)]
    cfg = load_config(data, format="axolotl", total_steps=100)
    assert np.allclose(cfg.lrs(100), ref, rtol=1e-12, atol=0.0)
    assert "deepspeed-resumed" in [f.rule for f in cfg.findings]
    recipe = "stage: sft\nfinetuning_type: full\nlearning_rate: 2.0e-4\nmax_steps: 100\nwarmup_steps: 10\n"
    cfg = load_config(_hf(tmp_path, {"scheduler": section}, recipe + "deepspeed: {ds}\n"), format="llamafactory")
    assert cfg.total_steps == 100 and np.allclose(cfg.lrs(100), ref, rtol=1e-12, atol=0.0)
