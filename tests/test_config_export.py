"""to_config(): export to each format, read back, same curve; refusals name what cannot be expressed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrkit import lint
from lrkit.config import load_config, to_config
from lrkit.errors import ConfigError
from lrkit.schedules import (
    Constant,
    Cosine,
    Exponential,
    Floor,
    InverseSqrt,
    Linear,
    MultiStep,
    Polynomial,
    Sequence,
    StepDecay,
    Warmup,
    WarmupStableDecay,
    warmup_cosine,
    warmup_linear,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "src" / "lrkit" / "examples").iterdir())
FORMATS = ("lrkit", "nemo_rl", "megatron", "nemo_rl_megatron", "hf", "nemo", "deepspeed")


def same_curve(a, b, n, peak):
    steps = np.arange(n)
    x, y = a(steps), b(steps)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-12 * peak)))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_round_trip_where_expressible(path):
    """Over the run's updates: an export leaves out what would only start after the last one."""
    r = load_config(path)
    n = r.total_steps
    exported = 0
    for fmt in FORMATS:
        try:
            d = to_config(r, fmt)
        except ConfigError as err:
            assert err.field == "format" and "cannot be expressed" in str(err) and err.fix
            continue
        exported += 1
        back = load_config(d, format=fmt, total_steps=r.total_steps)
        assert same_curve(r.lr_schedule, back.lr_schedule, n, r.peak_lr) <= 1e-9, fmt
    assert exported >= 2  # lrkit always, plus the file's own format


@st.composite
def lrkit_schedules(draw):
    total = draw(st.integers(20, 3000))
    warm = draw(st.integers(0, total - 1))
    end = draw(st.sampled_from([0.0, 0.01, 0.1, 0.5]))
    kind = draw(st.sampled_from(["cosine", "linear", "constant", "wsd", "seq"]))
    if kind == "cosine":
        return warmup_cosine(total, warm, min_ratio=end), total
    if kind == "linear":
        return warmup_linear(total, warm, min_ratio=end), total
    if kind == "constant":
        return Warmup(Constant(1.0), warm), total
    if kind == "wsd":
        decay = draw(st.integers(1, total - warm))
        return WarmupStableDecay(
            1.0, warm, total - warm - decay, decay, end, draw(st.sampled_from(["linear", "cosine"]))
        ), total
    b = draw(st.integers(1, total - 1))
    gamma = draw(st.sampled_from([0.5, 0.9]))
    second = draw(
        st.sampled_from(
            [
                StepDecay(1.0, 7, gamma),
                MultiStep(1.0, (5, 40), gamma),
                Exponential(1.0, 0.99),
                Polynomial(1.0, 0.0, 50, 2.0),
                Cosine(1.0, 60, end),
            ]
        )
    )
    return Sequence((Linear(0.1, 1.0, b), second), (b,)), total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lrkit_schedules(),
    st.sampled_from(["lrkit", "nemo_rl", "megatron", "nemo_rl_megatron"]),
    st.sampled_from([1e-4, 3e-6]),
)
def test_round_trip_property(sched_total, fmt, peak):
    sched, total = sched_total
    try:
        d = to_config(sched, fmt, peak_lr=peak, total_steps=total)
    except ConfigError as err:
        assert "cannot be expressed" in str(err)
        assert fmt.startswith(("megatron", "nemo_rl_megatron")) and isinstance(sched, Sequence | WarmupStableDecay)
        return
    back = load_config(d, format=fmt)
    assert back.total_steps == total
    # over the run: pieces that would start after the last update are left out
    assert same_curve(lambda s: peak * sched(s), back.lr_schedule, total, peak) <= 1e-9


def test_absolute_schedule_splits_into_peak_and_factor():
    d = to_config(warmup_cosine(100, 10, peak=1.0) * 3e-4, "nemo_rl", total_steps=100)
    assert d["policy"]["optimizer"]["kwargs"]["lr"] == 3e-4
    assert d["policy"]["scheduler"][-1] == {"milestones": [10]}  # the floor after step 99 is never used
    assert d["grpo"] == {"max_num_steps": 100}


def test_without_a_run_length_the_nemo_rl_export_holds_the_floor_for_ever():
    s = warmup_cosine(100, 10, min_ratio=0.1)
    d = to_config(s, "nemo_rl", peak_lr=3e-4)
    assert d["policy"]["scheduler"][-1] == {"milestones": [10, 100]}
    back = load_config(d, format="nemo_rl", total_steps=5000)
    assert same_curve(s * 3e-4, back.lr_schedule, 5000, 3e-4) <= 1e-9


def test_lrkit_warmup_cosine_is_megatron_wsd():
    d = to_config(warmup_cosine(1000, 100, min_ratio=0.1), "megatron", peak_lr=3e-4, total_steps=1000)
    assert d["lr_decay_style"] == "WSD" and d["lr_warmup_iters"] == 99 and d["lr_wsd_decay_iters"] == 900
    assert d["lr_warmup_init"] == pytest.approx(3e-6)


@pytest.mark.parametrize(
    "sched,fmt,words",
    [
        (InverseSqrt(1.0, 10.0), "nemo_rl", "an inverse-square-root decay"),
        (Floor(Cosine(1.0, 10, 0.0), 0.2), "megatron", "held above a floor"),
        (warmup_cosine(100, 10), "hf", "a warm-up of 10 steps, then a cosine decay over 90 steps"),
        (warmup_cosine(100, 10), "nemo", "a warm-up of 10 steps"),
        (Constant(2.0), "nemo_rl", "outside [0, 1]"),
        (Linear(0.0, 1.0, 10), "nemo_rl", "starting at 0"),
    ],
)
def test_refusals_name_what_cannot_be_expressed(sched, fmt, words):
    with pytest.raises(ConfigError) as err:
        to_config(sched, fmt)
    assert words in str(err.value) and err.value.fix
    # the target format's words, not lrkit's class names
    assert not any(name in str(err.value) for name in ("InverseSqrt", "Floor", "Warmup", "Sequence", "(" + "warmup)"))


def test_unknown_format():
    with pytest.raises(ConfigError, match=r"did you mean|Did you mean"):
        to_config(Constant(1.0), "nemorl_")


# -- one writer per format, beside its reader: write, read back, same curve -----------------

#: a small config in each format's own shape (written for these tests), and its writer
PER_FORMAT = {
    "lrkit": (
        {
            "training": {
                "optimizer": {"type": "adamw", "lr": 3e-4},
                "scheduler": {"type": "cosine_annealing", "warmup_steps": 100, "total_steps": 1000, "min_lr": 3e-5},
            }
        },
        "lrkit.config.native:write_native",
    ),
    "nemo_rl": (
        {
            "policy": {
                "optimizer": {"name": "torch.optim.AdamW", "kwargs": {"lr": 5e-6}},
                "scheduler": [
                    {
                        "name": "torch.optim.lr_scheduler.LinearLR",
                        "kwargs": {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 50},
                    },
                    {"name": "torch.optim.lr_scheduler.ConstantLR", "kwargs": {"factor": 1.0, "total_iters": 10**10}},
                    {"milestones": [50]},
                ],
            },
            "grpo": {"max_num_steps": 500},
        },
        "lrkit.config.nemo_rl:write_nemo_rl",
    ),
    "nemo_rl_megatron": (
        {
            "policy": {
                "megatron_cfg": {
                    "enabled": True,
                    "optimizer": {"lr": 3e-4, "min_lr": 3e-5},
                    "scheduler": {
                        "lr_decay_style": "cosine",
                        "lr_warmup_iters": 50,
                        "lr_warmup_init": 3e-5,
                        "lr_decay_iters": 500,
                    },
                }
            },
            "grpo": {"max_num_steps": 500},
        },
        "lrkit.config.nemo_rl:write_nemo_rl_megatron",
    ),
    "megatron": (
        {
            "lr": 3e-4,
            "min_lr": 3e-5,
            "lr_decay_style": "cosine",
            "lr_warmup_iters": 50,
            "lr_decay_iters": 500,
            "train_iters": 500,
        },
        "lrkit.config.megatron:write_megatron",
    ),
    "hf": (
        {
            "learning_rate": 2e-5,
            "lr_scheduler_type": "cosine_with_min_lr",
            "warmup_steps": 30,
            "max_steps": 300,
            "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
        },
        "lrkit.config.hf:write_hf",
    ),
    "nemo": (
        {
            "model": {
                "optim": {
                    "name": "adamw",
                    "lr": 1e-4,
                    "sched": {"name": "CosineAnnealing", "warmup_steps": 20, "min_lr": 1e-5, "max_steps": 200},
                }
            },
            "trainer": {"max_steps": 200},
        },
        "lrkit.config.nemo:write_nemo",
    ),
    "deepspeed": (
        {
            "optimizer": {"type": "AdamW", "params": {"lr": 1e-4}},
            "scheduler": {
                "type": "WarmupCosineLR",
                "params": {"total_num_steps": 400, "warmup_num_steps": 40, "cos_min_ratio": 0.1},
            },
        },
        "lrkit.config.deepspeed:write_deepspeed",
    ),
}


def test_every_writable_format_has_a_round_trip_case():
    from lrkit.config import FORMATS as ALL

    readable_only = {
        "axolotl",
        "llamafactory",
        "llamafactory_v1",
        "llamafactory_mbridge",
    }  # read only: export to hf or lrkit
    assert set(PER_FORMAT) == set(ALL) - readable_only
    for fmt in readable_only & set(ALL):
        with pytest.raises(ConfigError, match="cannot be expressed"):
            to_config(Constant(1.0), fmt)


@pytest.mark.parametrize("fmt", sorted(PER_FORMAT))
def test_each_format_writes_what_its_reader_reads_back(fmt):
    import importlib

    data, where = PER_FORMAT[fmt]
    module, name = where.split(":")
    writer = getattr(importlib.import_module(module), name)
    r = load_config(data, format=fmt)
    assert r.format == fmt and r.total_steps
    args = (r.schedule, r.peak_lr, r.total_steps) + ((r,) if fmt == "lrkit" else ())
    written = writer(*args)
    assert written == to_config(r, fmt)  # to_config only picks the format's writer
    back = load_config(written, format=fmt)
    assert back.total_steps == r.total_steps and back.peak_lr == pytest.approx(r.peak_lr)
    assert same_curve(r.lr_schedule, back.lr_schedule, r.total_steps, r.peak_lr) <= 1e-9
    assert load_config(written).format == fmt  # and it is recognised as that format


# -- a config lrkit writes from a clean one checks clean ------------------------------------

RUN = 10_000


def _families():
    from lrkit.schedules import CosineRestarts, Cyclic, InverseSqrt, OneCycle, PiecewiseConstant, warmup_constant

    return {
        "warmup_cosine": warmup_cosine(RUN, 500, min_ratio=0.1),
        "warmup_cosine_to_0": warmup_cosine(RUN, 100),
        "warmup_cosine_1pct": warmup_cosine(100_000, 1000, min_ratio=0.01),
        "warmup_linear": warmup_linear(RUN, 500, min_ratio=0.0),
        "warmup_constant": warmup_constant(500),
        "wsd_linear": WarmupStableDecay(1.0, 500, 7500, 2000, 0.0, "linear"),
        "wsd_cosine": WarmupStableDecay(1.0, 300, 7700, 2000, 0.1, "cosine"),
        "cosine": Cosine(1.0, RUN, 0.1),
        "linear": Linear(1.0, 0.1, RUN),
        "constant": Constant(1.0),
        "step": StepDecay(1.0, 3000, 0.5),
        "multistep": MultiStep(1.0, (5000, 8000), 0.1),
        "exponential": Exponential(1.0, 0.9997),
        "polynomial": Polynomial(1.0, 0.0, RUN, 2.0),
        "restarts": CosineRestarts(1.0, 2500),
        "one_cycle": OneCycle(steps=RUN),
        "cyclic": Cyclic(init=0.1, peak=1.0, step_size_up=1000),
        "inverse_sqrt": Warmup(InverseSqrt(timescale=500), 500),
        "piecewise": PiecewiseConstant((5000, 8000), (1.0, 0.3, 0.1)),
        "seq": Sequence((Linear(0.1, 1.0, 400), Cosine(1.0, RUN - 400, 0.1)), (400,)),
    }


def _loud(findings):
    return [f"{f.severity} {f.rule}: {f.message}" for f in findings if f.severity in ("warning", "error")]


def _export_findings(source, fmt):
    """The warning/error findings of ``source`` exported to ``fmt`` and read back, or None when
    the format cannot express it."""
    try:
        d = to_config(source, fmt)
    except ConfigError as err:
        assert err.field == "format" and err.fix
        return None
    back = load_config(d, format=fmt, total_steps=source.total_steps)
    assert same_curve(source.lr_schedule, back.lr_schedule, source.total_steps, source.peak_lr) <= 1e-9, fmt
    return _loud(lint(back))


@pytest.mark.parametrize("name", list(_families()))
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_exported_family_checks_as_clean_as_it_was(name, fmt):
    from lrkit.config.resolved import ResolvedConfig

    sched = _families()[name]
    d = to_config(sched, "lrkit", peak_lr=3e-4, total_steps=RUN if name != "warmup_cosine_1pct" else 100_000)
    source = load_config(d, format="lrkit")
    assert isinstance(source, ResolvedConfig)
    if _loud(lint(source)):
        pytest.skip(f"{name} is not clean to begin with: {_loud(lint(source))}")
    found = _export_findings(source, fmt)
    if found is not None:
        assert found == [], (name, fmt, yaml.safe_dump(to_config(source, fmt)))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_exported_clean_example_checks_clean(path, fmt):
    source = load_config(path)
    if _loud(lint(source)):
        return  # a flawed example: its findings are the point
    found = _export_findings(source, fmt)
    assert not found, (path.name, fmt, found)


def test_export_of_a_trillion_step_run_checks_a_sample_not_every_update():
    # the read-back comparison of a 1e12-step run tried to allocate one float per update (7 TiB)
    from lrkit.config import to_config
    from lrkit.schedules import warmup_cosine

    total = 10**12
    sched = warmup_cosine(total_steps=total, warmup_steps=total // 10, min_ratio=0.1)
    for fmt in ("lrkit", "megatron"):
        out = to_config(sched, fmt, peak_lr=1e-4, total_steps=total)
        assert out


@pytest.mark.parametrize(
    ("kw", "field"), [({"peak_lr": "x"}, "peak_lr"), ({"peak_lr": -1}, "peak_lr"), ({"total_steps": 0}, "total_steps")]
)
def test_to_config_of_a_loaded_config_checks_peak_lr_and_total_steps(kw, field):
    # the loaded-config path took them unchecked (a TypeError for "x", lr: -1.0 written, 0 replaced by the config's)
    from lrkit.config import load_config, to_config

    cfg = load_config({"lr": 3e-4, "lr_decay_style": "cosine", "train_iters": 100})
    with pytest.raises(ConfigError) as info:
        to_config(cfg, "megatron", **kw)
    assert info.value.field == field
