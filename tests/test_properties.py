"""Invariants of every schedule family and combinator, checked with hypothesis.

For every family: values are finite and >= 0; inside the promised range; continuous where the
family promises it (checked on fractional steps just before and after its phase starts);
monotone on the stretches where it declares a direction; constant from ``horizon`` on;
``schedule(k)`` bitwise equal to the matching element of ``schedule(np.array([...]))`` (and of
an evaluation that starts at another step); ``to_dict`` round trips (also through JSON and
``yaml.safe_load``); and bad constructor arguments raise ``ConfigError`` and nothing else.
Resume: a Scheduler run, saved with torch.save, loaded with weights_only=True into a fresh
one, continues with bitwise-identical LRs, for one example of every family.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lrkit import ConfigError, Scheduler
from lrkit.schedules import (
    COOLDOWN_SHAPES,
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
    SchedulerInterface,
    Sequence,
    Shift,
    StepDecay,
    Warmup,
    WarmupStableDecay,
    from_dict,
    schedule_names,
)
from lrkit.schedules.compat import (
    AXOLOTL_CURVES,
    HF_TYPES,
    MEGATRON_STYLES,
    NEMO_POLICIES,
    AxolotlLambda,
    HFLambda,
    MegatronLR,
    NemoLR,
    PeriodicCosine,
)

#: the framework families reproduce the framework's curve, quirks included (a cosine that
#: climbs back, a warm-up from 0, a cliff at the end): they promise only finite values >= 0,
#: plus what every family promises (bitwise scalar == vector, round trips, constant past horizon)
COMPAT_CLASSES = (PeriodicCosine, HFLambda, MegatronLR, NemoLR, AxolotlLambda)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class PropCustom(SchedulerInterface):
    """A user schedule in the guide's style: linear warm-up then cosine, floored."""

    def __init__(self, config=None, **kw):
        super().__init__(config, **kw)
        self.warmup_steps = int(self.config.get("warmup_steps", 10))
        self.total_steps = int(self.config.get("total_steps", 100))
        self.min_lr = float(self.config.get("min_lr", 0.0))

    def get_lr(self, step):
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        return max(self.base_lr * 0.5 * (1.0 + math.cos(math.pi * progress)), self.min_lr)


# -- what each family promises ------------------------------------------------------------------


@dataclass
class Promise:
    """Range, continuity and monotone stretches a schedule instance promises."""

    lo: float = 0.0
    hi: float = math.inf
    continuous: bool = False  # everywhere (checked around phase starts and at random points)
    continuous_at: list[float] = field(default_factory=list)  # extra points where it is continuous
    # half-open stretches [start, end) with +1 non-decreasing / -1 non-increasing; end None = for ever
    monotone: list[tuple[float, float | None, int]] = field(default_factory=list)


def _dir(a: float, b: float) -> int:
    return 1 if b >= a else -1


def promise(s: Schedule) -> Promise:
    if isinstance(s, Constant):
        return Promise(s.value, s.value, True, monotone=[(0, None, 1), (0, None, -1)])
    if isinstance(s, Linear):
        return Promise(min(s.start, s.end), max(s.start, s.end), True, monotone=[(0, None, _dir(s.start, s.end))])
    if isinstance(s, Cosine):
        return Promise(min(s.peak, s.end), max(s.peak, s.end), True, monotone=[(0, None, _dir(s.peak, s.end))])
    if isinstance(s, Polynomial):
        # continuous for every power, but with power < 1/2 too steep at the end to check numerically
        return Promise(
            min(s.start, s.end), max(s.start, s.end), s.power >= 0.5, monotone=[(0, None, _dir(s.start, s.end))]
        )
    if isinstance(s, StepDecay | MultiStep):
        return Promise(0.0, s.start, False, monotone=[(0, None, -1)])
    if isinstance(s, Exponential):
        if s.gamma <= 1:
            return Promise(s.min_value, max(s.start, s.min_value), True, monotone=[(0, None, -1)])
        cap = math.inf if s.max_value is None else s.max_value
        return Promise(min(max(s.start, s.min_value), cap), cap, True, monotone=[(0, None, 1)])
    if isinstance(s, InverseSqrt):
        return Promise(min(s.min_value, s.peak), max(s.peak, s.min_value), True, monotone=[(0, None, -1)])
    if isinstance(s, PiecewiseConstant):
        return Promise(min(s.values), max(s.values), False)
    if isinstance(s, WarmupStableDecay):
        w = s.warmup_steps
        lo = min(s.end, s.peak, s.init + (s.peak - s.init) / w if w else s.peak)
        mono = [(w, None, _dir(s.peak, s.end))]
        if w:
            mono.append((0, w, _dir(s.init, s.peak)))
        # a cool-down of zero steps is a jump from the peak to the end
        return Promise(lo, max(s.peak, s.end, s.init), s.decay_steps > 0, monotone=mono)
    if isinstance(s, OneCycle):
        ends = s._phase_ends()
        initial = s.peak / s.div_factor
        final = initial / s.final_div_factor
        mono, start = [], 0.0
        for end, a, b in ends:
            mono.append((start, end, _dir(a, b)))
            start = end
        return Promise(final, s.peak, True, monotone=mono)
    if isinstance(s, Cyclic):
        return Promise(min(s.init, s.peak), max(s.init, s.peak), True)
    if isinstance(s, CosineRestarts):
        h = s.horizon
        return Promise(0.0, max(s.peak, s.end), False, continuous_at=[] if h is None else [h])
    if isinstance(s, Warmup):
        inner = promise(s.schedule)
        target = s.target if s.target is not None else s.schedule(0)
        w = s.warmup_steps
        first = s.init + (target - s.init) / w if w else target
        p = Promise(min(inner.lo, first, target), max(inner.hi, target, first), inner.continuous and s.target is None)
        p.monotone = [(a + w, None if b is None else b + w, d) for a, b, d in inner.monotone]
        if w:
            p.monotone.append((0, w, _dir(s.init, target)))
        p.continuous_at = [c + w for c in inner.continuous_at] + ([w] if w and s.target is None else [])
        return p
    if isinstance(s, Floor):
        inner = promise(s.schedule)
        return Promise(
            max(inner.lo, s.min_value),
            max(inner.hi, s.min_value),
            inner.continuous,
            inner.continuous_at,
            inner.monotone,
        )
    if isinstance(s, Scale):
        inner = promise(s.schedule)
        if s.factor == 0:  # 0 * an unbounded promise (the compat families') is 0, not nan
            return Promise(0.0, 0.0, True)
        return Promise(inner.lo * s.factor, inner.hi * s.factor, inner.continuous, inner.continuous_at, inner.monotone)
    if isinstance(s, Shift):
        inner = promise(s.schedule)
        mono = [
            (max(a - s.steps, 0), None if b is None else b - s.steps, d)
            for a, b, d in inner.monotone
            if b is None or b > s.steps
        ]
        return Promise(
            inner.lo, inner.hi, inner.continuous, [c - s.steps for c in inner.continuous_at if c > s.steps], mono
        )
    if isinstance(s, Sequence):
        parts = [promise(p) for p in s.pieces]
        return Promise(min(p.lo for p in parts), max(p.hi for p in parts), False)
    if isinstance(s, PropCustom):
        return Promise(0.0, s.base_lr, False)
    if isinstance(s, COMPAT_CLASSES):
        return Promise(0.0, math.inf, False)
    raise AssertionError(f"no promise for {type(s).__name__}")


# -- strategies ----------------------------------------------------------------------------------

val = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)
posval = st.floats(1e-3, 10.0)
nsteps = st.integers(0, 3000)
nsteps1 = st.integers(1, 3000)
gamma01 = st.floats(0.05, 1.0)


@st.composite
def milestones(draw, lo=0, hi=5000, max_size=6):
    return tuple(sorted(draw(st.lists(st.integers(lo, hi), max_size=max_size))))


@st.composite
def one_cycle(draw):
    n = draw(st.integers(4, 5000))
    three = draw(st.booleans())
    pct = draw(st.floats(0.05, 0.45 if three else 0.95))
    assume(pct * n - 1 > 0 and (n - 1) - (pct * n - 1) > 0)
    if three:
        assume(pct * n - 1 > 0 and pct * n - 1 < 2 * pct * n - 2 < n - 1)
    return OneCycle(
        draw(posval),
        n,
        pct,
        draw(st.sampled_from(["cos", "linear"])),
        draw(st.floats(1.0, 100.0)),
        draw(st.floats(1.0, 1e4)),
        three,
    )


@st.composite
def piecewise(draw):
    bs = sorted(set(draw(st.lists(st.integers(1, 5000), max_size=5))))
    return PiecewiseConstant(tuple(bs), tuple(draw(st.lists(val, min_size=len(bs) + 1, max_size=len(bs) + 1))))


primitive = st.one_of(
    st.builds(Constant, val),
    st.builds(Linear, val, val, nsteps),
    st.builds(Cosine, val, nsteps, val),
    st.builds(StepDecay, val, nsteps1, gamma01),
    st.builds(MultiStep, val, milestones(), gamma01),
    st.builds(Exponential, val, gamma01, nsteps1, st.floats(0.0, 1.0)),
    st.builds(lambda v, g, d: Exponential(v, g, d, max_value=20.0), posval, st.floats(1.0, 2.0), nsteps1),
    st.builds(Polynomial, val, val, nsteps, st.floats(0.1, 4.0)),
    st.builds(InverseSqrt, val, st.floats(1.0, 5000.0), st.floats(0.0, 1.0)),
    piecewise(),
    st.builds(WarmupStableDecay, val, nsteps, nsteps, nsteps, val, st.sampled_from(COOLDOWN_SHAPES), val),
    one_cycle(),
    st.builds(
        Cyclic,
        val,
        val,
        nsteps1,
        st.one_of(st.none(), nsteps1),
        st.sampled_from(["triangular", "triangular2", "exp_range"]),
        st.floats(0.99, 1.0),
    ),
    st.builds(
        CosineRestarts,
        val,
        nsteps1,
        st.sampled_from([1.0, 1.5, 2.0, 3.0]),
        val,
        st.floats(0.0, 1.0),
        st.one_of(st.none(), st.integers(1, 8)),
    ),
    st.builds(
        lambda w, t, m: PropCustom(warmup_steps=w, total_steps=w + t, min_lr=m),
        st.integers(1, 50),
        st.integers(1, 200),
        st.floats(0.0, 0.5),
    ),
)


def _combinators(children):
    return st.one_of(
        st.builds(lambda p, w, i: Warmup(p, w, i), children, nsteps, val),
        st.builds(lambda p, w, i, tg: Warmup(p, w, i, tg), children, nsteps, val, val),
        st.builds(Floor, children, val),
        st.builds(Scale, children, st.floats(0.0, 5.0)),
        st.builds(Shift, children, nsteps),
        st.lists(children, min_size=1, max_size=3).flatmap(
            lambda ps: st.lists(st.integers(1, 4000), min_size=len(ps) - 1, max_size=len(ps) - 1, unique=True).map(
                lambda bs: Sequence(tuple(ps), tuple(sorted(bs)))
            )
        ),
    )


@st.composite
def _valid(draw, cls, **fields):
    """``cls(**drawn fields)``, skipping draws the family refuses (as its framework would)."""
    kwargs = {k: draw(v) for k, v in fields.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        assume(False)


@st.composite
def _hf(draw):
    w = draw(st.integers(0, 300))
    n = w + draw(st.integers(1, 3000))
    d = draw(st.integers(0, n - w))
    return draw(
        _valid(
            HFLambda,
            name=st.sampled_from(HF_TYPES),
            warmup_steps=st.just(w),
            training_steps=st.just(n),
            num_cycles=st.sampled_from([0.5, 1.0, 1.5, 3.0]),
            power=st.floats(0.5, 3.0),
            lr_init=st.just(1.0),
            lr_end=st.floats(0.0, 0.5),
            timescale=st.one_of(st.none(), st.floats(1.0, 1000.0)),
            min_lr_rate=st.floats(0.0, 1.0),
            warmup_lr_rate=st.one_of(st.none(), st.floats(0.0, 1.0)),
            num_stable_steps=st.just(n - w - d),
            num_decay_steps=st.just(d),
            warmup_type=st.sampled_from(["linear", "cosine", "1-sqrt"]),
            decay_type=st.sampled_from(["linear", "cosine", "1-sqrt"]),
        )
    )


@st.composite
def _megatron(draw):
    peak = draw(posval)
    w = float(draw(st.integers(0, 500)))
    d = w + draw(st.integers(0, 3000))
    return draw(
        _valid(
            MegatronLR,
            style=st.sampled_from(MEGATRON_STYLES),
            max_lr=st.just(peak),
            min_lr=st.floats(0.0, peak),
            init_lr=st.floats(0.0, peak),
            warmup_steps=st.just(w),
            decay_steps=st.just(d),
            wsd_decay_steps=st.just(max(1.0, (d - w) / 2)),
            wsd_style=st.sampled_from(["linear", "cosine", "exponential", "minus_sqrt"]),
            increment=st.sampled_from([1.0, 2.0, 32.0]),
        )
    )


@st.composite
def _nemo(draw):
    m = draw(st.integers(1, 3000))
    w = draw(st.integers(0, m))
    return draw(
        _valid(
            NemoLR,
            policy=st.sampled_from(NEMO_POLICIES),
            max_steps=st.just(m),
            warmup_steps=st.just(w),
            hold_steps=st.sampled_from([0, w + (m - w) // 3]),
            constant_steps=st.sampled_from([0, (m - w) // 4]),
            min_lr=st.floats(0.0, 0.9),
            power=st.floats(0.5, 3.0),
            cycle=st.just(False),
            d_model=st.floats(1.0, 1024.0),
            decay_rate=st.floats(0.1, 1.0),
        )
    )


@st.composite
def _axolotl(draw):
    w = draw(st.integers(0, 300))
    return draw(
        _valid(
            AxolotlLambda,
            name=st.sampled_from(AXOLOTL_CURVES),
            warmup_steps=st.just(w),
            training_steps=st.just(w + draw(st.integers(0, 3000))),
            min_lr_ratio=st.floats(0.0, 1.0),
            constant_lr_ratio=st.floats(0.0, 1.0),
        )
    )


compat = st.one_of(
    st.builds(
        PeriodicCosine, val, st.floats(1.0, 3000.0), val, st.sampled_from([0.5, 1.0, 2.0]), st.floats(0.0, 100.0)
    ),
    _hf(),
    _megatron(),
    _nemo(),
    _axolotl(),
)

schedules = st.recursive(st.one_of(primitive, compat), _combinators, max_leaves=4)
step_lists = st.lists(st.integers(0, 20_000), min_size=1, max_size=20)
FAR = [10**6, 10**9 + 7, 2**52]


def _values(s: Schedule, steps) -> np.ndarray:
    return s(np.asarray(steps, dtype=np.float64))


# -- the invariants -----------------------------------------------------------------------------


@SETTINGS
@given(schedules, step_lists)
def test_finite_nonnegative_and_in_range(s: Schedule, ks: list[int]) -> None:
    v = _values(s, ks + FAR)
    assert np.all(np.isfinite(v)) and np.all(v >= 0)
    p = promise(s)
    tol = 1e-12 * max(1.0, abs(p.hi) if math.isfinite(p.hi) else 1.0)
    assert np.all(v >= p.lo - tol), (s, v.min(), p.lo)
    assert np.all(v <= p.hi + tol), (s, v.max(), p.hi)


@SETTINGS
@given(schedules, step_lists, st.integers(0, 5000))
def test_scalar_equals_vectorized_bitwise(s: Schedule, ks: list[int], offset: int) -> None:
    vec = s(np.asarray(ks))
    for k, v in zip(ks, vec, strict=True):
        scalar = s(k)
        assert isinstance(scalar, float)
        assert scalar == v and math.copysign(1.0, scalar) == math.copysign(1.0, v)
    # a block that starts elsewhere (what a resumed Scheduler evaluates) gives the same bits
    block = s(np.arange(offset, offset + 64))
    again = s(np.arange(offset + 7, offset + 64))
    assert np.array_equal(block[7:], again)
    assert s(np.asarray(ks, dtype=np.int32)).tolist() == vec.tolist()
    assert s(np.asarray(ks).reshape(-1, 1)).shape == (len(ks), 1)


@SETTINGS
@given(schedules)
def test_dict_round_trip_through_json_and_yaml(s: Schedule) -> None:
    d = s.to_dict()
    assert d["type"] in schedule_names()
    for data in (d, json.loads(json.dumps(d)), yaml.safe_load(yaml.safe_dump(d))):
        back = from_dict(data)
        assert back == s
        assert back.to_dict() == d
        steps = np.arange(0, 3000, 37)
        assert np.array_equal(back(steps), s(steps))
    assert type(s).__name__ in repr(s)


@SETTINGS
@given(schedules, st.lists(st.integers(0, 10**6), min_size=1, max_size=10))
def test_constant_from_horizon_on(s: Schedule, extra: list[int]) -> None:
    h = s.horizon
    if h is None:
        return
    assert h >= 0
    at = s(float(h))
    later = s(np.asarray([h + x for x in extra] + [h + 0.5, h + 10**9], dtype=np.float64))
    assert np.all(later == at), (s, h, at, later)


@SETTINGS
@given(schedules)
def test_monotone_where_declared(s: Schedule) -> None:
    for start, end, direction in promise(s).monotone:
        stop = end if end is not None else start + 5000
        ts = np.arange(math.ceil(start), math.ceil(stop), dtype=np.float64)
        if end is not None and end - 1e-6 > start:
            ts = np.append(ts, end - 1e-6)
        if ts.size < 2:
            continue
        d = np.diff(s(ts)) * direction
        assert np.all(d >= -1e-12 * max(1.0, promise(s).hi if math.isfinite(promise(s).hi) else 1.0)), (
            s,
            start,
            end,
            direction,
        )


@SETTINGS
@given(schedules, st.lists(st.floats(0.0, 8000.0), max_size=5))
def test_continuous_where_promised(s: Schedule, random_points: list[float]) -> None:
    p = promise(s)
    points = list(p.continuous_at)
    if p.continuous:
        points += [b for b in s.phase_starts(8000)] + random_points
    scale = max(1.0, abs(p.hi) if math.isfinite(p.hi) else 1.0)
    eps = 1e-10
    for b in points:
        here = s(float(b))
        for other in (b - eps, b + eps):
            if other < 0:
                continue
            # slopes are bounded by a family's range per step (its shortest phase is >= 1
            # step; (1 - p) ** power with power >= 1/2 is the steepest), so 1e-10 of a step
            # moves a continuous value by far less than 1e-4 * scale
            assert abs(s(other) - here) <= 1e-4 * scale, (s, b, other, here, s(other))


@SETTINGS
@given(schedules, st.integers(0, 20_000))
def test_phase_starts_sorted_and_bounded(s: Schedule, until: int) -> None:
    bs = s.phase_starts(until)
    assert bs == sorted(bs)
    assert all(0 <= b <= until for b in bs)


# -- combinator semantics ---------------------------------------------------------------------


@SETTINGS
@given(st.lists(primitive, min_size=2, max_size=4), st.data())
def test_sequence_pieces_see_their_own_clock(pieces, data) -> None:
    bs = sorted(
        data.draw(st.lists(st.integers(1, 3000), min_size=len(pieces) - 1, max_size=len(pieces) - 1, unique=True))
    )
    seq = Sequence(tuple(pieces), tuple(bs))
    starts = [0, *bs]
    ends = [*bs, None]
    for piece, a, b in zip(pieces, starts, ends, strict=True):
        ks = np.arange(a, (b if b is not None else a + 100), max(1, ((b or a + 100) - a) // 17))
        assert np.array_equal(seq(ks), piece(ks - a))


@SETTINGS
@given(primitive, nsteps, val, st.integers(0, 20_000))
def test_floor_scale_shift_are_what_they_say(s: Schedule, n: int, x: float, k: int) -> None:
    assert Floor(s, x)(k) == max(s(k), x)
    assert Scale(s, x)(k) == x * s(k)
    assert Shift(s, n)(k) == s(k + n)


@SETTINGS
@given(primitive, st.integers(1, 500), val)
def test_warmup_never_starts_at_zero_and_reaches_target(s: Schedule, w: int, init: float) -> None:
    wu = Warmup(s, w, init)
    target = s(0)
    assert wu(0) == pytest.approx(init + (target - init) / w, rel=1e-12, abs=1e-12 * max(init, target))
    if target > 0:
        assert wu(0) > 0
    assert wu(w - 1) == target  # exactly: the last warm-up update runs at the target
    assert wu(w) == target


# -- bad arguments: ConfigError and nothing else ------------------------------------------------

FAMILY_CLASSES = [
    Constant,
    Linear,
    Cosine,
    StepDecay,
    MultiStep,
    Exponential,
    Polynomial,
    InverseSqrt,
    PiecewiseConstant,
    WarmupStableDecay,
    OneCycle,
    Cyclic,
    CosineRestarts,
    Warmup,
    Floor,
    Scale,
    Shift,
    Sequence,
    *COMPAT_CLASSES,
]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.one_of(st.integers(-5, 5), st.floats(-1, 1), st.text(max_size=2)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just({"type": "nope"}),
    st.just({"type": "cosine", "steps": -1}),
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(FAMILY_CLASSES), st.data())
def test_bad_arguments_raise_config_error_only(cls, data) -> None:
    fields = [f.name for f in dataclasses.fields(cls)]
    name = data.draw(st.sampled_from(fields))
    bad = data.draw(junk)
    kwargs = {name: bad}
    if cls in (Warmup, Floor, Scale, Shift) and name != "schedule":
        kwargs["schedule"] = Constant(1.0)
    for build in (lambda: cls(**kwargs), lambda: from_dict({"type": cls.type_name, **kwargs})):
        try:
            s = build()
        except ConfigError as err:
            assert err.field, err
            continue
        # the value was acceptable after all: the schedule must then be usable (a growing
        # StepDecay may overflow to inf far out; numpy's warning about it is not the point here)
        with np.errstate(all="ignore"):
            v = s(np.arange(0, 50))
        assert v.shape == (50,)


@pytest.mark.parametrize(
    ("cls", "kwargs", "field_name"),
    [
        (Linear, {"steps": -1}, "steps"),
        (Linear, {"steps": 2.5}, "steps"),
        (Linear, {"start": float("nan")}, "start"),
        (Cosine, {"peak": -1.0}, "peak"),
        (Cosine, {"steps": "100"}, "steps"),
        (StepDecay, {"step_size": 0}, "step_size"),
        (MultiStep, {"milestones": [30, 10]}, "milestones"),
        (MultiStep, {"milestones": "10,20"}, "milestones"),
        (Exponential, {"gamma": 0.0}, "gamma"),
        (Exponential, {"max_value": 0.5, "min_value": 1.0}, "max_value"),
        (Polynomial, {"steps": 10, "power": 0}, "power"),
        (InverseSqrt, {"timescale": 0}, "timescale"),
        (PiecewiseConstant, {"boundaries": [10], "values": [1.0]}, "values"),
        (WarmupStableDecay, {"decay_steps": 10, "decay_shape": "cosin"}, "decay_shape"),
        (OneCycle, {"steps": 0}, "steps"),
        (OneCycle, {"steps": 10, "pct_start": 0.1}, "pct_start"),
        (OneCycle, {"steps": 100, "three_phase": "yes"}, "three_phase"),
        (Cyclic, {"mode": "triangle"}, "mode"),
        (CosineRestarts, {"period_mult": 0.5}, "period_mult"),
        (CosineRestarts, {"max_cycles": 0}, "max_cycles"),
        (Sequence, {"pieces": [], "boundaries": []}, "pieces"),
        (Sequence, {"pieces": [Constant(), Constant()], "boundaries": []}, "boundaries"),
        (Sequence, {"pieces": [Constant(), Constant(), Constant()], "boundaries": [5, 5]}, "boundaries"),
        (Warmup, {"schedule": None}, "schedule"),
        (Warmup, {"schedule": Constant(), "warmup_steps": -3}, "warmup_steps"),
    ],
)
def test_config_error_names_field_value_and_fix(cls, kwargs, field_name) -> None:
    with pytest.raises(ConfigError) as info:
        cls(**kwargs)
    err = info.value
    assert err.field == field_name
    assert isinstance(err, ValueError)
    assert field_name in str(err)


def test_from_dict_errors_carry_the_dotted_path() -> None:
    with pytest.raises(ConfigError) as info:
        from_dict({"type": "warmup", "warmup_steps": 10, "schedule": {"type": "cosine", "stepz": 5}})
    assert info.value.field == "schedule.schedule.stepz"
    assert "steps" in str(info.value)  # did-you-mean
    with pytest.raises(ConfigError) as info:
        from_dict({"type": "sequence", "pieces": [{"type": "constant"}, {"type": "cosin"}], "boundaries": [3]})
    assert info.value.field == "schedule.pieces[1].type"
    assert "cosine" in str(info.value)


def test_steps_must_be_counts() -> None:
    for bad in (-1, float("nan"), float("inf"), np.array([0, -2])):
        with pytest.raises(ConfigError):
            Cosine(1.0, 10)(bad)
    with pytest.raises(ConfigError):
        Cosine(1.0, 10)(np.array(["a"]))


# -- resume: every family through a real checkpoint ------------------------------------------

EXAMPLES: dict[str, Schedule] = {
    "constant": Constant(1.0),
    "linear": Linear(1.0, 0.1, 97),
    "cosine": Cosine(1.0, 120, 0.05),
    "step": StepDecay(1.0, 17, 0.7),
    "multistep": MultiStep(1.0, (20, 50, 50, 90), 0.5),
    "exponential": Exponential(1.0, 0.97, 3, 0.01),
    "polynomial": Polynomial(1.0, 0.01, 150, 0.5),
    "inverse_sqrt": InverseSqrt(1.0, 13.0, 0.01),
    "piecewise_constant": PiecewiseConstant((10, 40), (1.0, 0.3, 0.1)),
    "wsd": WarmupStableDecay(1.0, 10, 50, 40, 0.01, "1-sqrt"),
    "one_cycle": OneCycle(1.0, 150, 0.3, "cos", 25.0, 1e4, True),
    "cyclic": Cyclic(0.1, 1.0, 13, 7, "exp_range", 0.995),
    "cosine_restarts": CosineRestarts(1.0, 11, 2.0, 0.01, 0.8, 4),
    "sequence": Sequence((Linear(0.01, 1.0, 10), Cosine(1.0, 100, 0.0), Constant(0.0)), (10, 110)),
    "warmup": Warmup(Cosine(1.0, 137, 0.1), 13),
    "floor": Floor(Cosine(1.0, 90), 0.2),
    "scale": Scale(Cosine(1.0, 90), 0.5),
    "shift": Shift(Cosine(1.0, 190), 40),
    "PropCustom": PropCustom(warmup_steps=9, total_steps=120, min_lr=0.01),
    "periodic_cosine": PeriodicCosine(1.0, 50.0, 0.05),
    "hf_lambda": HFLambda("cosine_with_min_lr", 10, 120, min_lr_rate=0.1),
    "megatron": MegatronLR("WSD", 1.0, 0.05, 0.0, 10.0, 120.0, 40.0, "minus_sqrt"),
    "nemo": NemoLR("WarmupHoldPolicy", 120, 10, 30, 0, 0.05),
    "axolotl_lambda": AxolotlLambda("rex", 10, 120, 0.05),
}


def test_examples_cover_every_registered_family() -> None:
    from lrkit.schedules import base

    core = ("lrkit.schedules.primitives", "lrkit.schedules.combinators", "lrkit.schedules.cyclic")
    ours = {n for n, c in base._REGISTRY.items() if c.__module__ in core or c in COMPAT_CLASSES}
    assert ours <= set(EXAMPLES), ours - set(EXAMPLES)


@pytest.mark.parametrize("name", list(EXAMPLES))
@pytest.mark.parametrize("tensor_lr", [False, True])
def test_resume_continues_bitwise(name: str, tensor_lr: bool, optimizer_factory) -> None:
    schedule = EXAMPLES[name]
    n_first, n_after = 71, 90

    def run(opt, sched, n):
        out = []
        for _ in range(n):
            out.append([float(g["lr"]) for g in opt.param_groups])
            opt.step()
            sched.step()
        return out

    opt = optimizer_factory(2, [0.1, 0.03], tensor_lr=tensor_lr)
    sched = Scheduler(opt, schedule, min_lr_ratio=0.05)
    run(opt, sched, n_first)
    buf = io.BytesIO()
    torch.save({"scheduler": sched.state_dict(), "optimizer": opt.state_dict()}, buf)
    expected = run(opt, sched, n_after)

    buf.seek(0)
    ckpt = torch.load(buf, weights_only=True)
    opt2 = optimizer_factory(2, [0.1, 0.03], tensor_lr=tensor_lr)
    sched2 = Scheduler(opt2, from_dict(schedule.to_dict()), min_lr_ratio=0.05)
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    assert run(opt2, sched2, n_after) == expected
    assert sched2.last_epoch == sched.last_epoch


@SETTINGS
@given(st.builds(WarmupStableDecay, val, nsteps, nsteps, nsteps, val, st.sampled_from(COOLDOWN_SHAPES), val))
def test_wsd_holds_the_peak_through_the_stable_phase(s: WarmupStableDecay) -> None:
    w, st_, d = s.warmup_steps, s.stable_steps, s.decay_steps
    stable = s(np.arange(w, w + st_))
    assert np.all(stable == s.peak)
    if w:
        assert s(w - 1) == s.peak
    assert s(w + st_ + d) == s.end or abs(s(w + st_ + d) - s.end) <= 1e-15 * max(1.0, s.peak)
