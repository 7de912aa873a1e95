"""Arguments that do not fit a schedule constructor or a schedule factory: an ArgumentError (a
ConfigError that is also a TypeError) naming the keyword, the schedule, its fields and the
closest field -- not Python's bare "got an unexpected keyword argument"."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.errors import ArgumentError, ConfigError, RenamedFieldWarning
from lrkit.schedules import Constant, Cosine, OneCycle, Schedule, Warmup, register, warmup_cosine
from lrkit.schedules.base import _REGISTRY

DATACLASS_FAMILIES = sorted(
    (cls for cls in _REGISTRY.values() if dataclasses.is_dataclass(cls)), key=lambda c: c.type_name
)


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.init]


def _optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


@pytest.mark.parametrize("cls", DATACLASS_FAMILIES, ids=lambda c: c.type_name)
def test_every_family_refuses_an_unknown_keyword_naming_it_the_family_and_its_fields(cls) -> None:
    with pytest.raises(ArgumentError) as info:
        cls(not_a_field_xyz=3)
    err = info.value
    assert isinstance(err, ConfigError) and isinstance(err, TypeError)  # old `except TypeError` still catches it
    assert err.field == "not_a_field_xyz" and err.value == 3
    assert f"{cls.__name__} has no field 'not_a_field_xyz'" in str(err)
    assert all(name in (err.fix or "") for name in _fields(cls))


@pytest.mark.parametrize(
    ("make", "field", "suggested"),
    [
        (lambda: Cosine(peak_lr=1e-3, total_steps=100, warmup=10), "peak_lr", "peak"),
        (lambda: Warmup(Constant(1.0), warmup=3), "warmup", "warmup_steps"),
        (lambda: Cosine(1e-3, 100, ennd=0.0), "ennd", "end"),
        (lambda: Cosine(1e-3, 100, mn_lr=0), "mn_lr", None),  # nothing close: the fields are listed, no guess
        # an old (renamed) name misspelt suggests the current name, not the old one
        (lambda: OneCycle(max_valu=1.0, steps=10), "max_valu", "peak"),
    ],
    ids=["peak_lr", "warmup", "ennd", "mn_lr", "old-name-misspelt"],
)
def test_the_closest_field_is_suggested_when_there_is_one(make, field, suggested) -> None:
    with pytest.raises(ArgumentError) as info:
        make()
    assert info.value.field == field
    if suggested is None:
        assert "Did you mean" not in str(info.value)
    else:
        assert f"Did you mean {suggested!r}?" in str(info.value)


def test_other_argument_mistakes_are_argument_errors_too() -> None:
    with pytest.raises(ArgumentError, match=r"takes 3 positional fields \(peak, steps, end\), got 4"):
        Cosine(1e-3, 100, 0.0, 5)
    with pytest.raises(ArgumentError, match="'peak' twice") as info:
        Cosine(1e-3, 100, peak=1.0)
    assert info.value.field == "peak"


def test_old_names_keep_their_warning_and_an_unknown_one_beside_them_is_still_named() -> None:
    with pytest.warns(RenamedFieldWarning) as caught:
        s = OneCycle(max_value=2.0, total_steps=40)
    assert s == OneCycle(peak=2.0, steps=40) and {w.filename for w in caught} == {__file__}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenamedFieldWarning)
        with pytest.raises(ArgumentError) as info:
            OneCycle(max_value=2.0, steps=40, pct_strt=0.3)
    assert info.value.field == "pct_strt" and "Did you mean 'pct_start'?" in str(info.value)


def test_a_type_error_from_inside_a_constructor_is_not_reworded() -> None:
    # the arguments fit; the family's own rule raises TypeError: that one is not an argument mistake
    @register("test_kwargs_raises_inside")
    @dataclasses.dataclass(frozen=True)
    class RaisesInside(Schedule):
        value: float = 1.0

        def _validate(self) -> None:
            raise TypeError("from inside")

    try:
        with pytest.raises(TypeError, match="from inside") as info:
            RaisesInside(value=2.0)
        assert not isinstance(info.value, ConfigError)
    finally:
        del _REGISTRY["test_kwargs_raises_inside"]


def test_a_user_registered_family_gets_the_same_check() -> None:
    @register("test_kwargs_user_family")
    @dataclasses.dataclass(frozen=True)
    class Half(Schedule):
        steps: int = 10

        def _evaluate(self, t: np.ndarray) -> np.ndarray:
            return np.full_like(t, 0.5)

    try:
        assert Half(steps=3)(0) == 0.5
        with pytest.raises(ArgumentError, match="Did you mean 'steps'"):
            Half(step=3)
    finally:
        del _REGISTRY["test_kwargs_user_family"]


@pytest.mark.parametrize(
    ("call", "owner", "field", "suggested"),
    [
        (
            lambda: lrkit.linear_warmup_decay_schedule(_optimizer(), 100, peak_lr=1e-3),
            "linear_warmup_decay_schedule",
            "peak_lr",
            None,
        ),
        (lambda: lrkit.cosine_annealing_schedule(_optimizer(), 100, foo=1), "cosine_annealing_schedule", "foo", None),
        (
            lambda: lrkit.cosine_annealing_schedule(_optimizer(), 100, min_lr_rati=0.1),
            "cosine_annealing_schedule",
            "min_lr_rati",
            "min_lr_ratio",
        ),
        (lambda: lrkit.step_decay_schedule(_optimizer(), 10, gamma=0.5), "step_decay_schedule", "gamma", None),
        (lambda: lrkit.CyclicalLearningRate(_optimizer(), max_l=1.0), "CyclicalLearningRate", "max_l", "max_lr"),
        (lambda: lrkit.debug_lr_schedule(None, 10, evry=5), "debug_lr_schedule", "evry", "every"),
        (lambda: warmup_cosine(100, warmup=10), "warmup_cosine", "warmup", "warmup_steps"),
    ],
    ids=[
        "linear_warmup_decay",
        "cosine_annealing",
        "cosine_annealing-close",
        "step_decay",
        "cyclical",
        "debug",
        "warmup_cosine",
    ],
)
def test_the_factories_refuse_an_unknown_keyword_the_same_way(call, owner, field, suggested) -> None:
    with pytest.raises(ArgumentError) as info:
        call()
    assert isinstance(info.value, TypeError) and info.value.field == field
    assert f"{owner} has no argument {field!r}" in str(info.value)
    assert ("Did you mean" in str(info.value)) == (suggested is not None)
    if suggested:
        assert f"Did you mean {suggested!r}?" in str(info.value)


def test_a_factory_missing_a_required_argument_names_it() -> None:
    with pytest.raises(ArgumentError, match="needs 'total_steps'") as info:
        lrkit.linear_warmup_decay_schedule(_optimizer())  # type: ignore[call-arg]
    assert info.value.field == "total_steps"


def test_the_happy_path_is_unchanged() -> None:
    assert Cosine(1e-3, 100) == Cosine(peak=1e-3, steps=100, end=0.0)
    assert lrkit.cosine_annealing_schedule(_optimizer(), 100, 10, min_lr_ratio=0.1).get_last_lr() == pytest.approx(
        [0.01]
    )


def test_a_located_error_keeps_its_class() -> None:
    err = ArgumentError("x has no field 'y'.", field="y", value=1, fix="use z.")
    moved = err.at("training.schedule")
    assert type(moved) is ArgumentError and moved.field == "training.schedule.y"


@given(st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True))
def test_any_keyword_that_is_not_a_field_is_named(name: str) -> None:
    kwargs: dict[str, Any] = {"steps": 10}
    if name in _fields(Cosine):
        Cosine(**kwargs)  # a real field: built
        return
    with pytest.raises(ArgumentError) as info:
        Cosine(**kwargs, **{name: 1})
    assert info.value.field == name
