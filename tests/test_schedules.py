"""Concrete values of each family at the places that go wrong: phase starts, the last step of a
phase, past the end, zero-length phases, a one-step warm-up, float vs int arguments."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lrkit import ConfigError
from lrkit.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Floor,
    InverseSqrt,
    Linear,
    MultiStep,
    OneCycle,
    PiecewiseConstant,
    Polynomial,
    Scale,
    Schedule,
    Sequence,
    Shift,
    StepDecay,
    Warmup,
    WarmupStableDecay,
    as_schedule,
    cooldown_coefficient,
    from_dict,
    get_schedule_class,
    join,
    schedule_names,
    warmup_constant,
    warmup_cosine,
    warmup_linear,
)


def test_registry_names_the_families() -> None:
    names = set(schedule_names())
    assert {
        "constant",
        "linear",
        "cosine",
        "step",
        "multistep",
        "exponential",
        "polynomial",
        "inverse_sqrt",
        "piecewise_constant",
        "wsd",
        "one_cycle",
        "cyclic",
        "cosine_restarts",
        "sequence",
        "warmup",
        "floor",
        "scale",
        "shift",
    } <= names
    assert get_schedule_class("cosine") is Cosine
    with pytest.raises(ConfigError, match="Did you mean 'cosine'"):
        get_schedule_class("cosin")
    with pytest.raises(ConfigError):
        get_schedule_class(3)


def test_as_schedule_accepts_a_name_a_dict_or_a_schedule() -> None:
    assert as_schedule("constant") == Constant(1.0)
    assert as_schedule({"type": "cosine", "steps": 10}) == Cosine(1.0, 10)
    c = Cosine(1.0, 3)
    assert as_schedule(c) is c
    assert Cosine.from_dict({"steps": 10}) == Cosine(1.0, 10)  # type optional on a subclass
    with pytest.raises(ConfigError):
        Cosine.from_dict({"type": "linear"})
    with pytest.raises(ConfigError, match="missing 'type'"):
        from_dict({"steps": 3})
    with pytest.raises(ConfigError):
        from_dict({"type": "cosine"} | {"steps": 10, "peak": True})


def test_scalar_and_array_shapes() -> None:
    s = Cosine(1.0, 100)
    assert isinstance(s(3), float) and isinstance(s(np.int64(3)), float) and isinstance(s(3.0), float)
    assert s(np.arange(6).reshape(2, 3)).shape == (2, 3)
    assert np.allclose(s([0, 50, 100]), [1.0, 0.5, 0.0], rtol=0, atol=1e-15)
    assert s(np.array(7)).shape == ()
    assert s(np.array([], dtype=np.int64)).shape == (0,)


# -- primitives ---------------------------------------------------------------------------------


def test_linear_ends_exactly_and_holds() -> None:
    s = Linear(0.1, 1.0, 9)
    assert s(0) == 0.1 and s(9) == 1.0 and s(10**9) == 1.0
    assert s(3) == pytest.approx(0.4)
    assert Linear(1.0, 0.0, 0)(0) == 0.0  # a zero-length ramp is already at its end
    assert s.horizon == 9 and s.phase_starts() == [9] and s.phase_starts(5) == []


def test_cosine_values_and_floor() -> None:
    s = Cosine(1.0, 100, 0.1)
    assert s(0) == 1.0 and s(100) == 0.1 and s(1000) == 0.1
    assert s(50) == pytest.approx(0.55)
    assert Cosine(1.0, 0, 0.2)(0) == 0.2


def test_step_and_multistep_change_at_the_step() -> None:
    s = StepDecay(1.0, 10, 0.5)
    assert [s(k) for k in (0, 9, 10, 19, 20)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert s.horizon is None and s.phase_starts(25) == [10, 20]
    m = MultiStep(2.0, (5, 8), 0.1)
    assert [m(k) for k in (4, 5, 7, 8, 100)] == pytest.approx([2.0, 0.2, 0.2, 0.02, 0.02])
    assert m.horizon == 8 and m.phase_starts() == [5, 8]
    assert MultiStep(1.0, (0,), 0.5)(0) == 0.5
    assert MultiStep(1.0, [3, 3], 0.5)(3) == 0.25  # torch decays twice at a repeated milestone
    assert MultiStep(1.0, (), 0.5).horizon == 0


def test_exponential() -> None:
    assert Exponential(1.0, 0.5)(3) == 0.125
    assert Exponential(1.0, 0.5, decay_steps=2)(2) == 0.5
    assert Exponential(1.0, 0.5, min_value=0.2)(10) == 0.2
    ramp = Exponential(1e-7, 10.0, decay_steps=100, max_value=10.0)  # an LR range test's ramp
    assert ramp(0) == 1e-7 and ramp(100) == pytest.approx(1e-6) and ramp(10**7) == 10.0
    assert Exponential(0.0, 2.0)(10**6) == 0.0
    assert Exponential(1.0, 1.0).horizon == 0


def test_polynomial_and_inverse_sqrt() -> None:
    p = Polynomial(1.0, 0.1, 10, 2.0)
    assert p(0) == 1.0 and p(10) == 0.1 and p(11) == 0.1
    assert p(5) == pytest.approx(0.1 + 0.9 * 0.25)
    i = InverseSqrt(1.0, 100.0)
    assert i(0) == 1.0 and i(300) == pytest.approx(0.5)
    assert InverseSqrt(1.0, 1.0, min_value=0.3)(10**6) == 0.3


def test_inverse_sqrt_behind_warmup_is_megatrons() -> None:
    w = 100
    s = Warmup(InverseSqrt(1.0, timescale=w), w)
    for step in (100, 400, 10_000):
        assert s(step) == pytest.approx(math.sqrt(w / step), rel=1e-12)  # Megatron: peak * sqrt(W / step)


def test_piecewise_constant() -> None:
    s = PiecewiseConstant((10, 20), (1.0, 0.5, 0.1))
    assert [s(k) for k in (0, 9, 10, 19, 20, 10**6)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    assert s.horizon == 20


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt", "exponential", "square"])
def test_wsd_phases(shape: str) -> None:
    s = WarmupStableDecay(1.0, warmup_steps=10, stable_steps=20, decay_steps=30, end=0.1, decay_shape=shape)
    assert s(0) == pytest.approx(0.1)  # (0 + 1) / 10: never 0
    assert s(9) == 1.0 and s(10) == 1.0 and s(29) == 1.0 and s(30) == 1.0
    assert s(60) == pytest.approx(0.1, abs=1e-15) and s(10**6) == s(60)
    assert 0.1 < s(45) < 1.0
    assert s.phase_starts() == [10, 30, 60] and s.horizon == 60
    p = np.linspace(0, 1, 11)
    c = cooldown_coefficient(shape, p)
    assert c[0] == 1.0 and abs(c[-1]) < 1e-15 and np.all(np.diff(c) <= 0)


def test_wsd_aliases_and_zero_length_decay() -> None:
    assert WarmupStableDecay(decay_steps=10, decay_shape="minus_sqrt").decay_shape == "1-sqrt"
    s = WarmupStableDecay(1.0, 0, 5, 0, 0.2)
    assert s(4) == 1.0 and s(5) == 0.2  # the cool-down has no steps: the end from its start
    with pytest.raises(ConfigError):
        cooldown_coefficient("cubic", np.zeros(1))


def test_one_cycle_phase_boundaries() -> None:
    s = OneCycle(1.0, 100, pct_start=0.3)
    assert s(0) == pytest.approx(1 / 25)
    assert s(29) == 1.0  # the peak sits at pct_start * total - 1
    assert s(99) == pytest.approx(1 / 25 / 1e4)
    assert s(100) == s(99) == s(10**6)
    assert s.horizon == 99
    t = OneCycle(1.0, 100, pct_start=0.25, three_phase=True, anneal="linear")
    assert t(24) == 1.0 and t(48) == pytest.approx(1 / 25) and t(99) == pytest.approx(1 / 25 / 1e4)
    assert t.phase_starts() == [24, 48, 99]


def test_cyclic_modes() -> None:
    s = Cyclic(0.1, 1.0, 5)
    assert [s(k) for k in (0, 5, 10, 15)] == pytest.approx([0.1, 1.0, 0.1, 1.0])
    t2 = Cyclic(0.0, 1.0, 5, mode="triangular2")
    assert [t2(k) for k in (5, 15, 25)] == pytest.approx([1.0, 0.5, 0.25])
    ex = Cyclic(0.0, 1.0, 5, mode="exp_range", gamma=0.9)
    assert ex(5) == pytest.approx(0.9**5)
    assert Cyclic(0.0, 1.0, 3, 7).cycle_steps == 10


def test_cosine_restarts_cycle_starts_are_exact() -> None:
    s = CosineRestarts(1.0, 10, period_mult=2.0)
    starts = [0, 10, 30, 70, 150, 310, 630, 1270]
    assert all(s(b) == 1.0 for b in starts)
    assert all(s(b - 1) < 0.03 for b in starts[1:])  # the end of each cycle, just above 0
    assert s.phase_starts(700) == starts[1:7]
    d = CosineRestarts(1.0, 10, 1.0, end=0.1, peak_decay=0.5, max_cycles=3)
    assert d(10) == 0.5 and d(20) == 0.25 and d(30) == 0.1 and d(10**6) == 0.1
    assert d.horizon == 30 and d.phase_starts() == [10, 20, 30]


# -- combinators -------------------------------------------------------------------------------


def test_sequence_restarts_each_piece_and_join_is_the_same() -> None:
    s = Sequence([Linear(0.0, 1.0, 10), Cosine(1.0, 90)], [10])
    assert s(10) == 1.0 and s(100) == 0.0
    assert s.horizon == 100 and s.phase_starts() == [10, 100]
    assert join([Linear(0.0, 1.0, 10), Cosine(1.0, 90)], [10]) == s
    assert Sequence([Constant(0.5)], []).horizon == 0


def test_warmup_first_step_last_step_and_one_step_warmup() -> None:
    s = Warmup(Cosine(1.0, 100), 10)
    assert s(0) == 0.1 and s(9) == 1.0 and s(10) == 1.0
    assert s(9.5) == 1.0  # fractional steps: flat between W - 1 and W, never above the target
    assert Warmup(Cosine(1.0, 100), 1)(0) == 1.0  # a one-step warm-up trains at the target at once
    assert Warmup(Cosine(1.0, 100), 0)(5) == Cosine(1.0, 100)(5)
    assert Warmup(Constant(1.0), 4, init=0.2)(0) == pytest.approx(0.4)
    assert s.phase_starts() == [10, 110] and s.horizon == 110


def test_warmup_target_with_an_empty_decay() -> None:
    implicit = Warmup(Cosine(1.0, 0, 0.1), 5)
    assert implicit(4) == pytest.approx(0.1)  # warms up to the floor: what the target field is for
    explicit = Warmup(Cosine(1.0, 0, 0.1), 5, target=1.0)
    assert explicit(4) == 1.0 and explicit(5) == 0.1


def test_floor_scale_shift() -> None:
    c = Cosine(1.0, 10)
    assert Floor(c, 0.3)(10) == 0.3 and Floor(c, 0.3)(0) == 1.0
    assert Scale(c, 2.0)(0) == 2.0 and (c * 2.0) == Scale(c, 2.0) and (2.0 * c) == Scale(c, 2.0)
    assert Shift(c, 4)(0) == c(4) and Shift(c, 4).horizon == 6 and Shift(c, 40).horizon == 0
    assert Shift(Sequence([Constant(1.0), Constant(0.5)], [10]), 3).phase_starts() == [7]


def test_presets() -> None:
    s = warmup_cosine(100, 10, peak=2.0, min_ratio=0.1)
    assert s(0) == pytest.approx(0.2) and s(9) == 2.0 and s(100) == pytest.approx(0.2) and s(10**5) == s(100)
    assert warmup_linear(100, 0)(50) == pytest.approx(0.5)
    assert warmup_constant(4)(10) == 1.0
    assert warmup_cosine(10, 10)(9) == 1.0 and warmup_cosine(10, 10)(10) == 0.0
    with pytest.raises(ConfigError) as info:
        warmup_cosine(100, 200)
    assert info.value.field == "warmup_steps"
    with pytest.raises(ConfigError):
        warmup_cosine(100, 10, min_value=0.1, min_ratio=0.1)
    with pytest.raises(ConfigError):
        warmup_cosine(100, 10, min_value=2.0)


def test_float_arguments_with_whole_values_are_steps() -> None:
    assert Cosine(1.0, 1e3) == Cosine(1.0, 1000)
    assert isinstance(Cosine(1.0, 1e3).steps, int)
    assert from_dict({"type": "step", "step_size": 1.0e2}).step_size == 100
    with pytest.raises(ConfigError):
        Cosine(1.0, 10.5)


def test_peak_and_repr() -> None:
    s = warmup_cosine(100, 10)
    assert s.maximum(100) == 1.0
    assert repr(s).startswith("Warmup(schedule=Cosine(")
    assert isinstance(s, Schedule) and s.get_config() == s.to_dict()


@pytest.mark.parametrize(
    ("pieces", "boundaries", "field"),
    [(Cosine(1.0, 10), [5], "pieces"), ([Cosine(1.0, 10), Constant(0.1)], 5, "boundaries")],
)
def test_join_with_a_bare_schedule_or_step_is_a_config_error(pieces, boundaries, field) -> None:
    with pytest.raises(ConfigError) as info:
        join(pieces, boundaries)
    assert info.value.field == field


@pytest.mark.parametrize("name", ["cosine", "linear", "step", "exponential", "wsd", "cyclic"])
def test_a_bare_family_name_that_needs_a_length_is_a_config_error(name) -> None:
    # Cosine's placeholder steps=1 trained at LR 0 from the second update on
    with pytest.raises(ConfigError) as info:
        as_schedule(name)
    assert info.value.field == "schedule" and "arguments" in info.value.fix


def test_step_counts_beyond_float64_exactness_are_refused():
    from lrkit.schedules.base import MAX_STEPS

    assert Cosine(steps=MAX_STEPS).steps == MAX_STEPS
    with pytest.raises(ConfigError, match="2\\*\\*53"):
        Cosine(steps=10**30)


def test_families_with_a_peak_field_still_report_their_maximum():
    from lrkit.linter import lint
    from lrkit.schedules import Floor

    assert Cosine(peak=2.0, steps=10).maximum(10) == 2.0
    lint(Floor(Cosine(1.0, 100), 0.1), total_steps=100)  # crashed: the field hid the method


def test_plots_refuse_an_unknown_image_type_before_drawing(tmp_path):
    from lrkit.plot import check_image_path

    with pytest.raises(ConfigError, match="png"):
        check_image_path(tmp_path / "x.xyz")
    assert check_image_path(tmp_path / "x.SVG").name == "x.SVG"


@pytest.mark.parametrize(
    ("cls", "field"),
    [
        (Cosine, "steps"),
        (Linear, "steps"),
        (Polynomial, "steps"),
        (WarmupStableDecay, "decay_steps"),
        (OneCycle, "steps"),
    ],
)
def test_a_length_every_real_use_sets_is_required(cls, field) -> None:
    # the placeholder Cosine.steps=1 reached the floor after one update
    with pytest.raises(ConfigError) as info:
        cls()
    assert info.value.field == field and "required" in str(info.value)
    with pytest.raises(ConfigError) as info:
        from_dict({"type": cls.type_name})
    assert info.value.field == f"schedule.{field}"
    assert from_dict({"type": cls.type_name, field: 100}).to_dict()[field] == 100


# -- one vocabulary: the renamed fields, their old names still accepted ------------------------

# (family, {old name: value}, the same fields under their new names): every renamed field
RENAMED = [
    (StepDecay, {"value": 0.5, "step_size": 7}, {"start": 0.5, "step_size": 7}),
    (MultiStep, {"value": 0.5, "milestones": [5, 9]}, {"start": 0.5, "milestones": [5, 9]}),
    (Exponential, {"value": 0.5, "gamma": 0.9}, {"start": 0.5, "gamma": 0.9}),
    (OneCycle, {"max_value": 2.0, "total_steps": 40}, {"peak": 2.0, "steps": 40}),
    (Cyclic, {"base": 0.2, "max_value": 2.0, "step_size_up": 5}, {"init": 0.2, "peak": 2.0, "step_size_up": 5}),
]


def test_every_renamed_field_is_listed_here() -> None:
    from lrkit.schedules.base import _REGISTRY

    listed = {(cls, old) for cls, old_kw, new_kw in RENAMED for old in old_kw if old not in new_kw}
    declared = {(cls, old) for cls in _REGISTRY.values() for old in cls._renamed}
    assert listed == declared
    for cls, old in declared:
        fields = {f.name for f in dataclasses.fields(cls)}
        assert old not in fields and cls._renamed[old] in fields


@pytest.mark.parametrize(("cls", "old", "new"), RENAMED, ids=[c.__name__ for c, _, _ in RENAMED])
def test_a_config_with_the_old_names_gives_the_same_curve_and_a_warning(cls, old, new) -> None:
    t = np.arange(200)
    ref = cls(**new)
    renamed = [k for k in old if k not in new]
    with pytest.warns(DeprecationWarning) as caught:
        via_dict = from_dict({"type": cls.type_name, **old})
    assert [str(w.message).split("'")[1] for w in caught] == renamed  # one warning per old name
    for w in caught:
        assert f"now called {cls._renamed[str(w.message).split(chr(39))[1]]!r}" in str(w.message)
        assert w.filename == __file__  # points at the caller, not into lrkit
    with pytest.warns(DeprecationWarning) as caught:
        via_init = cls(**old)
    assert {w.filename for w in caught} == {__file__}
    with pytest.warns(DeprecationWarning):
        via_config = cls.from_config({"type": cls.type_name, **old})
    assert via_dict == via_init == via_config == ref
    assert np.array_equal(via_dict(t), ref(t))
    # written back with the new names only, and the round trip is exact
    out = via_dict.to_dict()
    assert not set(renamed) & set(out) and set(new) <= set(out)
    assert from_dict(out) == ref and cls.from_config(ref.get_config()) == ref
    # the old name still reads the field
    for o in renamed:
        with pytest.warns(DeprecationWarning):
            assert getattr(ref, o) == getattr(ref, cls._renamed[o])


@pytest.mark.parametrize(("cls", "old", "new"), RENAMED, ids=[c.__name__ for c, _, _ in RENAMED])
def test_old_and_new_name_for_one_field_is_an_error_naming_both(cls, old, new) -> None:
    o = next(k for k in old if k not in new)
    n = cls._renamed[o]
    with pytest.raises(ConfigError) as info:
        from_dict({"type": cls.type_name, **new, o: old[o]}, path="training.schedule")
    assert info.value.field == f"training.schedule.{n}" and repr(o) in str(info.value) and repr(n) in str(info.value)
    with pytest.raises(ConfigError) as info:
        cls(**new, **{o: old[o]})
    assert info.value.field == n and repr(o) in str(info.value)
    # the old keyword for a field already given by position
    position = [f.name for f in dataclasses.fields(cls)].index(n)
    args = [getattr(cls(**new), f.name) for f in dataclasses.fields(cls)][: position + 1]
    with pytest.raises(ConfigError, match=repr(o)):
        cls(*args, **{o: old[o]})


def test_old_names_in_a_native_config_and_an_inline_compare_spec() -> None:
    from lrkit.compare.spec import parse_schedule
    from lrkit.config import load_config

    with pytest.warns(DeprecationWarning) as caught:
        r = load_config(
            {
                "training": {
                    "optimizer": {"type": "adamw", "lr": 1e-3},
                    "scheduler": {"type": "schedule", "schedule": {"type": "cyclic", "base": 0.1, "max_value": 1.0}},
                }
            }
        )
    assert [str(w.message).split("'")[1] for w in caught] == ["base", "max_value"]
    assert {w.filename for w in caught} == {__file__}  # the user's line, not the config reader's
    assert r.schedule == Cyclic(init=0.1, peak=1.0)
    with pytest.warns(DeprecationWarning) as caught:
        spec = parse_schedule("{type: one_cycle, max_value: 1.0, total_steps: 50}", 50)
    assert [str(w.message).split("'")[1] for w in caught] == ["max_value", "total_steps"]
    assert {w.filename for w in caught} == {__file__}
    assert spec.schedule == OneCycle(1.0, 50).to_dict()


def test_renamed_fields_stay_out_of_evaluation() -> None:
    # the old names are translated when a schedule is built; its evaluation never looks at them
    s = OneCycle(1.0, 100)
    assert "__getattr__" not in type(s).__dict__ and "max_value" not in vars(s)
    assert s(np.arange(100)).shape == (100,)


def test_a_checkpoint_saved_with_the_old_names_resumes_without_a_warning() -> None:
    import warnings

    import torch

    from lrkit import Scheduler
    from lrkit.schedules.base import current_names

    schedule = Warmup(StepDecay(1.0, 10, 0.5), 5)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, schedule, group_schedules=[schedule])
    for _ in range(12):
        opt.step()
        sched.step()
    state = sched.state_dict()
    # as a checkpoint written before the rename has it
    inner = state["schedule"]["schedule"]
    state["schedule"]["schedule"] = {"value" if k == "start" else k: v for k, v in inner.items()}
    state["group_schedules"] = [state["schedule"]]
    assert current_names(state["schedule"]) == schedule.to_dict()
    fresh = Scheduler(
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), schedule, group_schedules=[schedule]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh.load_state_dict(state)
    assert fresh.get_last_lr() == sched.get_last_lr()
