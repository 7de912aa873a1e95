"""axolotl reader: curves against values worked out by hand from axolotl's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit.config import load_config
from lrkit.errors import ConfigError
from lrkit.schedules import OneCycle

BASE = {"base_model": "m", "datasets": [{"path": "d"}], "micro_batch_size": 1, "num_epochs": 1}


def cfg(**kw):
    return {**BASE, **kw}


def lr_at(r, *steps):
    return [r.lr_schedule(s) for s in steps]


def test_cosine_with_min_lr_ratio():
    r = load_config(cfg(learning_rate=1e-3, max_steps=100, warmup_steps=10, cosine_min_lr_ratio=0.2))
    assert r.format == "axolotl" and r.total_steps == 100
    # warm-up t/10; then 0.8 * (1 + cos(pi p)) / 2 + 0.2 with p = (t - 10) / 90
    got = lr_at(r, 0, 5, 10, 55, 100)
    assert got == pytest.approx([0.0, 5e-4, 1e-3, 6e-4, 2e-4], rel=1e-12, abs=1e-18)
    assert r.context["min_lr"] == pytest.approx(2e-4)


def test_min_lr_lambda_climbs_back_after_its_end():
    r = load_config(cfg(learning_rate=1.0, max_steps=100, warmup_steps=0, cosine_min_lr_ratio=0.2), total_steps=150)
    assert r.lr_schedule(100) == pytest.approx(0.2) and r.lr_schedule(145) > 0.5  # not clamped, as in axolotl
    assert "lr-rises-again" in {f.rule for f in r.findings}


def test_cosine_constant_lr_ratio_holds_the_floor():
    r = load_config(
        cfg(learning_rate=1.0, max_steps=100, warmup_steps=10, cosine_min_lr_ratio=0.1, cosine_constant_lr_ratio=0.6)
    )
    # C = int(100 * 0.6) = 60; p = (min(t, 60) - 10) / 50
    assert lr_at(r, 5, 35, 60, 80, 99) == pytest.approx([0.5, 0.9 * 0.5 + 0.1, 0.1, 0.1, 0.1], rel=1e-12)


def test_constant_ratio_without_min_ratio_is_ignored_like_axolotl():
    r = load_config(cfg(learning_rate=1.0, max_steps=100, warmup_steps=0, cosine_constant_lr_ratio=0.6))
    assert r.lr_schedule(100) == pytest.approx(0.0, abs=1e-15)  # transformers' cosine to 0
    assert "ignored-key" in {f.rule for f in r.findings}


def test_quadratic_warmup():
    r = load_config(cfg(learning_rate=1.0, max_steps=100, warmup_steps=10, lr_quadratic_warmup=True))
    assert lr_at(r, 5, 10, 55) == pytest.approx([0.25, 1.0, 0.5], rel=1e-12)


def test_quadratic_warmup_is_not_passed_to_rl_trainers():
    r = load_config(cfg(learning_rate=1.0, max_steps=100, warmup_steps=10, lr_quadratic_warmup=True, rl="dpo"))
    assert r.lr_schedule(5) == pytest.approx(0.5)
    assert any(f.source == "lr_quadratic_warmup" for f in r.findings)


def test_lr_scheduler_defaults_to_cosine():
    r = load_config(cfg(learning_rate=1.0, max_steps=100, warmup_steps=0))
    assert r.lr_schedule(50) == pytest.approx(0.5) and r.lr_schedule(100) == pytest.approx(0.0, abs=1e-15)


def test_warmup_ratio_truncates_unlike_transformers():
    r = load_config(cfg(learning_rate=1.0, lr_scheduler="linear", warmup_ratio=0.1), total_steps=95)
    assert r.context["warmup_steps"] == 9  # int(9.5); transformers would take ceil -> 10
    assert lr_at(r, 3, 9) == pytest.approx([3 / 9, 1.0])


@pytest.mark.parametrize(("total", "warmup"), [(1000, 30), (10_000, 100), (40, 2), (20, 0)])
def test_default_warmup_is_three_percent_capped_at_100(total, warmup):
    # min(int(0.03 * N), 100); a warm-up of exactly 1 becomes 2
    r = load_config(cfg(learning_rate=1.0), total_steps=total)
    assert r.context["warmup_steps"] == warmup


def test_warmup_of_one_becomes_two():
    r = load_config(cfg(learning_rate=1.0, lr_scheduler="constant_with_warmup", warmup_steps=1))
    assert r.context["warmup_steps"] == 2 and r.lr_schedule(1) == pytest.approx(0.5)


def test_constant_with_warmup_needs_no_run_length():
    r = load_config(cfg(learning_rate=2.0, lr_scheduler="constant_with_warmup", warmup_steps=4))
    assert r.total_steps is None and r.lr_schedule(2) == pytest.approx(1.0) and r.lr_schedule(10) == 2.0


def test_max_steps_with_ratio_reads_the_warmup_of_max_steps_and_says_so():
    r = load_config(cfg(learning_rate=1.0, max_steps=200, warmup_ratio=0.05))
    assert r.context["warmup_steps"] == 10
    assert "assumed-run-length" in {f.rule for f in r.findings}
    # a dataset shorter than max_steps: axolotl takes min(dataset steps, max_steps)
    short = load_config(cfg(learning_rate=1.0, max_steps=200, warmup_ratio=0.05), total_steps=100)
    assert short.context["warmup_steps"] == 5 and short.context["num_training_steps"] == 200


def test_preference_rl_takes_the_warmup_of_the_dataset_not_max_steps():
    with pytest.raises(ConfigError, match="--total-steps"):
        load_config(cfg(learning_rate=1.0, max_steps=50, warmup_ratio=0.1, rl="dpo"))
    r = load_config(cfg(learning_rate=1.0, max_steps=50, warmup_ratio=0.1, rl="dpo"), total_steps=1000)
    assert r.context["warmup_steps"] == 100 and r.context["num_training_steps"] == 50


def test_grpo_hands_the_ratio_to_transformers():
    # no total_num_steps: the default 0.03 becomes transformers' ceil(0.03 * max_steps)
    r = load_config(cfg(learning_rate=1.0, max_steps=300, rl="grpo"))
    assert r.context["warmup_steps"] == 9


def test_run_length_not_in_file_asks_for_total_steps():
    with pytest.raises(ConfigError, match="--total-steps") as err:
        load_config(cfg(learning_rate=1.0, warmup_steps=10))
    assert err.value.field == "num_epochs"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"warmup_steps": 10, "warmup_ratio": 0.1}, "warmup_ratio"),
        ({"warmup_steps": 0.1}, "warmup_steps"),
        ({"cosine_min_lr_ratio": 1.5}, "cosine_min_lr_ratio"),
        ({"lr_scheduler": "cosine_annealing"}, "lr_scheduler"),
        ({"rl": "ppo"}, "rl"),
    ],
)
def test_refuses_what_axolotl_refuses(extra, field):
    with pytest.raises(ConfigError) as err:
        load_config(cfg(learning_rate=1.0, max_steps=100, **extra))
    assert err.value.field == field and err.value.fix


def test_learning_rate_is_required():
    with pytest.raises(ConfigError) as err:
        load_config(cfg(max_steps=10), format="axolotl")
    assert err.value.field == "learning_rate"


def test_rex():
    r = load_config(cfg(learning_rate=1.0, lr_scheduler="rex", max_steps=10, warmup_steps=2))
    # RexLR steps once when built: update t runs at s = t + 1
    z = 7 / 8
    assert lr_at(r, 0, 1, 2, 9) == pytest.approx([0.5, 1.0, z / (0.1 + 0.9 * z), 0.0], rel=1e-12, abs=1e-15)


def test_one_cycle_takes_the_warmup_as_pct_start():
    r = load_config(cfg(learning_rate=1.0, lr_scheduler="one_cycle", max_steps=100, warmup_steps=20))
    ref = OneCycle(peak=1.0, steps=100, pct_start=0.2)
    t = np.arange(100)
    np.testing.assert_array_equal(r.lr_schedule(t), ref(t))


def test_string_learning_rate_and_peak():
    r = load_config(cfg(learning_rate="2e-5", max_steps=10, warmup_steps=0))
    assert r.peak_lr == 2e-5 and math.isclose(r.lr_schedule(0), 2e-5)


def test_jagged_restarts_dip_every_restart():
    r = load_config(
        cfg(
            learning_rate=1.0,
            lr_scheduler="constant",
            jagged_restart_steps=10,
            jagged_restart_warmup_steps=4,
            jagged_restart_anneal_steps=2,
        )
    )
    # the wrapper is built one step ahead: update t runs at its step s = t + 1; from s = 8 (R - A) on it
    # anneals over 2 steps to 0.001 at each multiple of 10 and warms back up over 4
    assert lr_at(r, 6, 7, 8, 9, 10, 13) == pytest.approx([1.0, 1.0, 0.5005, 0.001, 0.25075, 1.0], rel=1e-12)


def test_jagged_restarts_floor_is_the_min_lr_ratio_and_rl_ignores_them():
    r = load_config(cfg(learning_rate=1.0, lr_scheduler="constant", jagged_restart_steps=10, cosine_min_lr_ratio=0.2))
    assert r.lr_schedule(9) == pytest.approx(0.2)  # anneal_steps defaults to 1: s = 10 is the dip
    dpo = cfg(learning_rate=1.0, lr_scheduler="constant", jagged_restart_steps=10, rl="dpo")
    assert load_config(dpo).lr_schedule(9) == 1.0
    with pytest.raises(ConfigError) as err:
        load_config(cfg(learning_rate=1.0, lr_scheduler="rex", max_steps=100, jagged_restart_steps=10))
    assert err.value.field == "jagged_restart_steps"


def test_transformers_names_forced_through_axolotl_are_reported_as_ignored():
    r = load_config({"learning_rate": 1.0, "lr_scheduler": "constant", "lr_scheduler_type": "linear"}, format="axolotl")
    assert r.lr_schedule(50) == 1.0
    assert any(f.rule == "ignored-key" and f.source == "lr_scheduler_type" for f in r.findings)


_KEYS = [
    "learning_rate",
    "lr_scheduler",
    "max_steps",
    "warmup_steps",
    "warmup_ratio",
    "cosine_min_lr_ratio",
    "cosine_constant_lr_ratio",
    "lr_quadratic_warmup",
    "rl",
    "jagged_restart_steps",
    "lr_scheduler_kwargs",
    "streaming",
]
_VALUES = [
    None,
    0,
    1,
    -1,
    2,
    0.5,
    1.5,
    10**9,
    "cosine",
    "rex",
    "one_cycle",
    "dpo",
    "grpo",
    "linear",
    "x",
    True,
    [],
    {},
    {"num_cycles": 2},
    {"pct_start": 0.3},
    float("nan"),
    "1e-4",
]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_VALUES), max_size=5), st.sampled_from([None, 1, 7, 500])
)
def test_any_axolotl_shape_reads_or_says_why(changes, total):
    data = {**cfg(learning_rate=1e-4, max_steps=100), **changes}
    try:
        r = load_config(data, format="axolotl", total_steps=total)
        v = r.lr_schedule(np.arange(min(r.total_steps or 300, 3000)))
    except ConfigError as err:
        assert err.field and str(err)
        return
    assert np.all(np.isfinite(v)) and np.all(v >= 0)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"lr_scheduler": "one_cycle", "lr_scheduler_kwargs": {"pct_start": 2}}, "lr_scheduler_kwargs.pct_start"),
        ({"lr_scheduler": "cosine", "relora": True, "jagged_restart_steps": -5}, "jagged_restart_steps"),
    ],
)
def test_a_bad_value_names_its_key_once(extra, field):
    # the path was prefixed twice (lr_scheduler_kwargs.lr_scheduler_kwargs.pct_start)
    data = {"base_model": "m", "learning_rate": 1e-4, "max_steps": 100, **extra}
    with pytest.raises(ConfigError) as info:
        load_config(data, format="axolotl")
    assert info.value.field == field


# -- warmup_ratio outside [0, 1]: axolotl's schema takes any float and its trainer runs it --------


def _axolotl_then_transformers_warmup(ratio: float, total_num_steps: int | None, max_steps: int) -> int:
    """The warm-up axolotl's ``_configure_warmup_and_logging`` hands transformers (warmup_ratio given,
    warmup_steps not), then transformers' own ``TrainingArguments.get_warmup_steps`` of it."""
    from types import SimpleNamespace

    from transformers import TrainingArguments

    warmup_steps: float = 0
    if total_num_steps:
        warmup_steps = max(int(ratio * total_num_steps), 0)
    elif ratio > 0.0:
        warmup_steps = ratio
    if warmup_steps == 1:
        warmup_steps = 2
    return TrainingArguments.get_warmup_steps(SimpleNamespace(warmup_steps=warmup_steps), max_steps)


@pytest.mark.parametrize(
    ("extra", "total", "warmup", "noted"),
    [
        ({"warmup_ratio": 1.5}, 100, 150, False),  # longer than the run: lrkit check says so, the reader reads it
        ({"warmup_ratio": -0.1}, 100, 0, True),  # max(int(-10), 0)
        ({"warmup_ratio": 1.5, "rl": "grpo", "max_steps": 100}, None, 1, True),  # warmup_steps=1.5: int(1.5)
        ({"warmup_ratio": 1.0, "rl": "grpo", "max_steps": 100}, None, 2, True),  # warmup_steps=1.0 -> 2
        ({"warmup_ratio": -0.5, "rl": "grpo", "max_steps": 100}, None, 0, True),  # not above 0: no warm-up
    ],
    ids=["above-1", "below-0", "grpo-above-1", "grpo-1", "grpo-below-0"],
)
def test_warmup_ratio_outside_0_1_is_read_as_axolotl_runs_it(extra, total, warmup, noted):
    r = load_config(cfg(learning_rate=1.0, **extra), total_steps=total)
    assert r.context["warmup_steps"] == warmup
    assert warmup == _axolotl_then_transformers_warmup(extra["warmup_ratio"], total, extra.get("max_steps", total))
    notes = [f for f in r.findings if f.rule == "ignored-key" and f.source == "warmup_ratio"]
    assert len(notes) == int(noted)


def test_one_cycle_with_a_warmup_longer_than_the_run_names_the_warmup_ratio():
    # pct_start = 150 / 100: torch's OneCycleLR raises; the user wrote warmup_ratio, not pct_start
    with pytest.raises(ConfigError) as err:
        load_config(cfg(learning_rate=1.0, lr_scheduler="one_cycle", warmup_ratio=1.5), total_steps=100)
    assert err.value.field == "warmup_ratio" and err.value.value == 1.5 and "pct_start" in (err.value.fix or "")


@settings(max_examples=60, deadline=None)
@given(
    ratio=st.floats(-2.0, 3.0, allow_nan=False).map(lambda x: round(x, 3)),
    total=st.integers(1, 5000),
    grpo=st.booleans(),
)
def test_warmup_ratio_matches_axolotl_then_transformers(ratio, total, grpo):
    extra = {"rl": "grpo", "max_steps": total} if grpo else {}
    r = load_config(cfg(learning_rate=1.0, lr_scheduler="linear", warmup_ratio=ratio, **extra), total_steps=total)
    assert r.context["warmup_steps"] == _axolotl_then_transformers_warmup(ratio, None if grpo else total, total)
