"""to_config(): export to each format, read back, same curve; refusals name what cannot be expressed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
FORMATS = ("lrkit", "nemo_rl", "megatron", "nemo_rl_megatron", "hf", "nemo")


def same_curve(a, b, n, peak):
    steps = np.arange(n)
    x, y = a(steps), b(steps)
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(x), 1e-12 * peak)))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_round_trip_where_expressible(path):
    r = load_config(path)
    n = r.total_steps + 300
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
        return WarmupStableDecay(1.0, warm, total - warm - decay, decay, end, draw(st.sampled_from(["linear", "cosine"]))), total
    b = draw(st.integers(1, total - 1))
    gamma = draw(st.sampled_from([0.5, 0.9]))
    second = draw(st.sampled_from([StepDecay(1.0, 7, gamma), MultiStep(1.0, (5, 40), gamma), Exponential(1.0, 0.99),
                                   Polynomial(1.0, 0.0, 50, 2.0), Cosine(1.0, 60, end)]))
    return Sequence((Linear(0.1, 1.0, b), second), (b,)), total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lrkit_schedules(), st.sampled_from(["lrkit", "nemo_rl", "megatron", "nemo_rl_megatron"]), st.sampled_from([1e-4, 3e-6]))
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
    assert same_curve(lambda s: peak * sched(s), back.lr_schedule, total + 200, peak) <= 1e-9


def test_absolute_schedule_splits_into_peak_and_factor():
    d = to_config(warmup_cosine(100, 10, peak=1.0) * 3e-4, "nemo_rl", total_steps=100)
    assert d["policy"]["optimizer"]["kwargs"]["lr"] == 3e-4
    assert d["policy"]["scheduler"][-1] == {"milestones": [10, 100]}
    assert d["grpo"] == {"max_num_steps": 100}


def test_lrkit_warmup_cosine_is_megatron_wsd():
    d = to_config(warmup_cosine(1000, 100, min_ratio=0.1), "megatron", peak_lr=3e-4, total_steps=1000)
    assert d["lr_decay_style"] == "WSD" and d["lr_warmup_iters"] == 99 and d["lr_wsd_decay_iters"] == 900
    assert d["lr_warmup_init"] == pytest.approx(3e-6)


@pytest.mark.parametrize(
    "sched,fmt,words",
    [
        (InverseSqrt(1.0, 10.0), "nemo_rl", "InverseSqrt"),
        (Floor(Cosine(1.0, 10, 0.0), 0.2), "megatron", "Floor"),
        (warmup_cosine(100, 10), "hf", "Warmup"),
        (warmup_cosine(100, 10), "nemo", "Warmup"),
        (Constant(2.0), "nemo_rl", "outside [0, 1]"),
        (Linear(0.0, 1.0, 10), "nemo_rl", "starting at 0"),
    ],
)
def test_refusals_name_what_cannot_be_expressed(sched, fmt, words):
    with pytest.raises(ConfigError) as err:
        to_config(sched, fmt)
    assert words in str(err.value) and err.value.fix


def test_unknown_format():
    with pytest.raises(ConfigError, match="did you mean|Did you mean"):
        to_config(Constant(1.0), "nemorl_")
