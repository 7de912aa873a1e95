"""lrkit's own YAML (the guide's shape) read into the schedule algebra.

Each native ``type`` becomes a factor schedule (peak 1.0, the optimizer's ``lr`` is the peak):

==================  ===========================================================================
type                schedule (``W`` warm-up, ``T`` total steps, ``f`` floor ratio)
==================  ===========================================================================
constant            ``Warmup(Constant(1), W)``
linear              ``Warmup(Linear(1, f, T - W), W)``
cosine_annealing    ``Warmup(Cosine(1, T - W, f), W)``
step                ``Warmup(StepDecay(1, step_size, gamma), W)``, clamped at ``f``
multistep           ``Warmup(MultiStep(1, milestones - W, gamma), W)`` (milestones absolute)
exponential         ``Warmup(Exponential(1, gamma, decay_steps, f), W)``
polynomial          ``Warmup(Polynomial(1, f, T - W, power), W)``
inverse_sqrt        ``Warmup(InverseSqrt(1, timescale or W, f), W)``
wsd                 ``WarmupStableDecay(1, W, T - W - D, D, f, decay_shape)``
one_cycle           ``OneCycle(1, T, ...)`` (peak = ``max_lr`` or the optimizer's lr)
cyclical            ``Cyclic(base_lr / max_lr, 1, ...)``
cosine_restarts     ``Warmup(CosineRestarts(1, period, ...), W)``
piecewise           ``PiecewiseConstant(boundaries, values)`` (values are factors of the peak)
sequence            ``Sequence(pieces, boundaries)`` (each piece a native scheduler)
schedule            the algebra dict under ``schedule:`` as is
<registered name>   ``from_dict({type: name, **keys})``, e.g. a ``SchedulerInterface`` subclass
==================  ===========================================================================

lrkit's warm-up never trains the first update at LR 0: update ``k < W`` runs at
``(k + 1) / W`` of the peak (from ``warmup_init_ratio`` when given).
``warmup_ratio`` gives ``W = ceil(ratio * T)`` (Hugging Face's rounding).

:func:`write_native` is the other direction (``to_config(..., "lrkit")``): the simplest native
config whose curve is the same on every update of the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lrkit.config import fields as F
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.schema import (
    SCHEDULER_ALIASES,
    SCHEDULER_TYPES,
    OptimizerSpec,
    SchedulerSpec,
    TrainingSpec,
    validate,
)
from lrkit.config.signature import Signature
from lrkit.config.torch_schedulers import one_cycle_from_torch
from lrkit.config.writing import agree, tidy
from lrkit.errors import ConfigError, did_you_mean
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
    PiecewiseConstant,
    Polynomial,
    Schedule,
    Sequence,
    StepDecay,
    Warmup,
    WarmupStableDecay,
    from_dict,
    schedule_names,
)
from lrkit.schedules.combinators import check_boundaries
from lrkit.schedules.compat import PeriodicCosine

__all__ = ["read_native", "looks_native", "scheduler_to_schedule", "write_native", "SIGNATURES"]


def looks_native(data: Mapping[str, Any]) -> bool:
    """lrkit's shape: ``training.scheduler`` / ``training.schedule``, or top-level ``scheduler``
    / ``schedule`` with a ``type``."""
    t = data.get("training")
    if isinstance(t, Mapping):
        return _holds_another_format(t) is None
    for key in ("scheduler", "schedule"):
        v = data.get(key)
        if isinstance(v, Mapping) and "type" in v and "name" not in v:
            return True
    return isinstance(data.get("type"), str) and "name" not in data


def _holds_another_format(section: Mapping[str, Any]) -> str | None:
    """The format a ``training:`` section is when it is another framework's whole config (a
    NeMo-Framework-Launcher file puts the NeMo config under ``training``), else ``None``."""
    from lrkit.config.detect import detect_format
    from lrkit.errors import ConfigError

    try:
        fmt = detect_format(section)
    except ConfigError:
        return None
    return None if fmt == "lrkit" else fmt


_ABOUT = "lrkit's own YAML: training.optimizer / training.scheduler {type: cosine_annealing, ...}"
SIGNATURES = (
    Signature(
        "lrkit", _ABOUT, ("native",), "read_native", lambda d: "lrkit" if looks_native(d) else None, precedence=20
    ),
)


class _Ctx:
    """What a scheduler needs from around it: peak LR, run length, where it is."""

    def __init__(self, peak: float, total: int | None, path: str) -> None:
        self.peak = peak
        self.total = total
        self.path = path


def _floor_ratio(spec: SchedulerSpec, ctx: _Ctx) -> float | None:
    if spec.min_lr_ratio is not None:
        return spec.min_lr_ratio
    if spec.min_lr is None:
        return None
    if spec.min_lr > ctx.peak:
        raise ConfigError(
            f"min_lr {spec.min_lr:g} is above the peak LR {ctx.peak:g}.",
            field="min_lr",
            value=spec.min_lr,
            fix=f"use a floor below the peak (often 10% of it: {ctx.peak / 10:g}), or min_lr_ratio.",
        )
    return spec.min_lr / ctx.peak


def _total(spec: SchedulerSpec, ctx: _Ctx, kind: str) -> int:
    total = spec.total_steps if spec.total_steps is not None else ctx.total
    if total is None:
        raise ConfigError(
            f"a {kind!r} schedule needs the run length.",
            field="total_steps",
            fix="add total_steps: <optimizer updates> to the scheduler, or pass total_steps (CLI: --total-steps).",
        )
    return total


def _warmup(spec: SchedulerSpec, ctx: _Ctx, total: int | None, *, must_leave: bool) -> int:
    value: float | None
    if spec.warmup_ratio is not None:
        if total is None:
            raise ConfigError(
                "warmup_ratio needs the run length.",
                field="warmup_ratio",
                value=spec.warmup_ratio,
                fix="give total_steps, or warmup_steps instead.",
            )
        w = math.ceil(spec.warmup_ratio * total)
        name, value = "warmup_ratio", spec.warmup_ratio
    else:
        w = spec.warmup_steps or 0
        name, value = "warmup_steps", spec.warmup_steps
    if must_leave and total is not None and w >= total:
        raise ConfigError(
            f"a warm-up of {w} steps leaves no room for the decay in a run of {total}.",
            field=name,
            value=value,
            fix=f"use a warm-up shorter than total_steps (5-10% of the run: {max(1, total // 20)}).",
        )
    return w


def _with_warmup(inner: Schedule, w: int, spec: SchedulerSpec) -> Schedule:
    if w == 0:
        return inner
    return Warmup(inner, w, init=spec.warmup_init_ratio or 0.0)


def _no_extra(spec: SchedulerSpec, kind: str, ctx: _Ctx) -> dict[str, Any]:
    extra = spec.extra
    allowed = SCHEDULER_TYPES[kind]
    for key, value in extra.items():
        if key not in allowed:
            options = (
                *allowed,
                "warmup_steps",
                "warmup_ratio",
                "total_steps",
                "min_lr",
                "min_lr_ratio",
                "warmup_init_ratio",
            )
            raise ConfigError(
                f"unknown key {key!r} for a {kind!r} scheduler.{did_you_mean(key, options)}",
                field=key,
                value=value,
                fix=f"{kind} takes: {', '.join(options)}.",
            )
    return extra


def _refuse_warmup(spec: SchedulerSpec, kind: str, ctx: _Ctx) -> None:
    if spec.warmup_steps or spec.warmup_ratio:
        raise ConfigError(
            f"a {kind!r} schedule has its own rise; it takes no warm-up.",
            field="warmup_steps" if spec.warmup_steps else "warmup_ratio",
            value=spec.warmup_steps or spec.warmup_ratio,
            fix="drop the warm-up (one_cycle: use pct_start; cyclical: it starts at base_lr).",
        )


def scheduler_to_schedule(data: Any, ctx: _Ctx) -> tuple[Schedule, dict[str, Any], float | None]:
    """A native scheduler mapping to (factor schedule, context facts, peak override)."""
    spec: SchedulerSpec = validate(SchedulerSpec, data, ctx.path)
    kind = spec.kind
    facts: dict[str, Any] = {"scheduler_type": kind}
    if kind not in SCHEDULER_TYPES:
        names = schedule_names()
        if spec.type in names:
            return _registered(spec, ctx), facts, None
        known = [*SCHEDULER_TYPES, *SCHEDULER_ALIASES, *names]
        raise ConfigError(
            f"unknown scheduler type {spec.type!r}.{did_you_mean(spec.type, known)}",
            field=F.join(ctx.path, "type"),
            value=spec.type,
            fix=f"use one of: {', '.join(SCHEDULER_TYPES)}, or a registered schedule name.",
        )
    with F.at_path(ctx.path):
        extra = _no_extra(spec, kind, ctx)
        sched, peak = _build(kind, spec, extra, ctx, facts)
        floor = _floor_ratio(spec, ctx) if peak is None else None
    if floor is not None:
        facts["min_lr"] = floor * ctx.peak
    return sched, facts, peak


#: families with their own rise or shape: no warm-up/floor window around them
_SPECIAL = ("one_cycle", "cyclical", "piecewise", "sequence", "schedule")
#: families whose decay spans the run after the warm-up, so they need its length
_NEEDS_TOTAL = ("linear", "cosine_annealing", "polynomial", "wsd")


@dataclass(frozen=True)
class _Window:
    """Where a warm-up-then-decay family sits: the run length, the warm-up, the floor ratio."""

    total: int | None
    warmup: int
    floor: float

    @property
    def decay(self) -> int:
        """Updates after the warm-up (only families in ``_NEEDS_TOTAL`` ask, and they have a total)."""
        assert self.total is not None
        return self.total - self.warmup


def _window(kind: str, spec: SchedulerSpec, ctx: _Ctx, facts: dict[str, Any]) -> _Window:
    """The run length, warm-up and floor a family is built in, recorded in ``facts``."""
    floor = _floor_ratio(spec, ctx) or 0.0
    needs_total = kind in _NEEDS_TOTAL
    total = _total(spec, ctx, kind) if needs_total else (spec.total_steps or ctx.total)
    w = _warmup(spec, ctx, total, must_leave=needs_total)
    facts["warmup_steps"] = w
    if needs_total:
        assert total is not None
        facts["declared_horizon"] = total
        facts["decay_steps"] = total - w
    return _Window(total, w, floor)


def _floored(inner: Schedule, floor: float) -> Schedule:
    return Floor(inner, floor) if floor else inner


def _polynomial(extra: dict[str, Any], win: _Window, facts: dict[str, Any]) -> Schedule:
    power = F.number(extra.get("power", 1.0), "power", low=0.0, low_open=True)
    return Polynomial(1.0, win.floor, win.decay, power)


def _step(extra: dict[str, Any], win: _Window, facts: dict[str, Any]) -> Schedule:
    if "step_size" not in extra:
        raise ConfigError("a 'step' scheduler needs step_size.", field="step_size", fix="add step_size: <updates>.")
    return _floored(StepDecay(1.0, extra["step_size"], extra.get("gamma", 0.1)), win.floor)


def _milestones(extra: dict[str, Any], w: int) -> list[int]:
    """A multistep's absolute milestones: given, in order (repeats allowed), after the warm-up."""
    ms = F.sequence(extra.get("milestones"), "milestones") if "milestones" in extra else None
    if not ms:
        raise ConfigError(
            "a 'multistep' scheduler needs milestones.", field="milestones", fix="add milestones: [30000, 60000]."
        )
    absolute = [F.steps(m, f"milestones[{i}]", minimum=1) for i, m in enumerate(ms)]
    # the order rule is MultiStep's own (a repeated milestone applies gamma twice, as in torch),
    # checked on the milestones as written so the message shows the user's numbers
    MultiStep(1.0, tuple(absolute))
    if absolute[0] <= w:
        raise ConfigError(
            f"milestone {absolute[0]} falls inside the warm-up of {w} steps.",
            field="milestones[0]",
            value=absolute[0],
            fix="milestones count from step 0; put them after the warm-up.",
        )
    return absolute


def _multistep(extra: dict[str, Any], win: _Window, facts: dict[str, Any]) -> Schedule:
    absolute = _milestones(extra, win.warmup)
    facts["milestones"] = absolute
    inner = MultiStep(1.0, tuple(m - win.warmup for m in absolute), extra.get("gamma", 0.1))
    return _floored(inner, win.floor)


def _exponential(extra: dict[str, Any], win: _Window, facts: dict[str, Any]) -> Schedule:
    if "gamma" not in extra:
        raise ConfigError(
            "an 'exponential' scheduler needs gamma.", field="gamma", fix="add gamma: 0.999 (per update)."
        )
    return Exponential(1.0, extra["gamma"], extra.get("decay_steps", 1), win.floor)


def _cosine_restarts(extra: dict[str, Any], win: _Window, facts: dict[str, Any]) -> Schedule:
    if "period" not in extra:
        raise ConfigError(
            "a 'cosine_restarts' scheduler needs period.", field="period", fix="add period: <updates per cycle>."
        )
    return CosineRestarts(
        1.0,
        extra["period"],
        extra.get("period_mult", 1.0),
        win.floor,
        extra.get("peak_decay", 1.0),
        extra.get("max_cycles"),
    )


#: the families a warm-up goes in front of: kind -> (scheduler keys, window, facts) -> the schedule after the warm-up
_DECAYS: dict[str, Callable[[dict[str, Any], _Window, dict[str, Any]], Schedule]] = {
    "constant": lambda extra, win, facts: Constant(1.0),
    "linear": lambda extra, win, facts: Linear(1.0, win.floor, win.decay),
    "cosine_annealing": lambda extra, win, facts: Cosine(1.0, win.decay, win.floor),
    "polynomial": _polynomial,
    "step": _step,
    "multistep": _multistep,
    "exponential": _exponential,
    "inverse_sqrt": lambda extra, win, facts: InverseSqrt(1.0, extra.get("timescale", max(win.warmup, 1)), win.floor),
    "cosine_restarts": _cosine_restarts,
}


def _build(
    kind: str, spec: SchedulerSpec, extra: dict[str, Any], ctx: _Ctx, facts: dict[str, Any]
) -> tuple[Schedule, float | None]:
    """A native family to (factor schedule, peak override)."""
    if kind in _SPECIAL:
        return _special(kind, spec, extra, ctx, facts)
    win = _window(kind, spec, ctx, facts)
    if kind == "wsd":
        assert win.total is not None
        return _wsd(spec, extra, win.total, win.warmup, win.floor, facts), None
    if kind not in _DECAYS:  # pragma: no cover - SCHEDULER_TYPES and the table list the same families
        raise ConfigError(f"unhandled scheduler type {kind!r}.", field="type", value=kind)
    return _with_warmup(_DECAYS[kind](extra, win, facts), win.warmup, spec), None


def _wsd(
    spec: SchedulerSpec, extra: dict[str, Any], total: int, w: int, floor: float, facts: dict[str, Any]
) -> Schedule:
    if "decay_steps" in extra and "decay_ratio" in extra:
        raise ConfigError("give decay_steps or decay_ratio, not both.", field="decay_ratio", fix="drop one of them.")
    if "decay_steps" in extra:
        d = F.steps(extra["decay_steps"], "decay_steps", minimum=1)
    else:
        ratio = F.number(extra.get("decay_ratio", 0.1), "decay_ratio", low=0.0, high=1.0, low_open=True)
        d = max(1, round(ratio * total))
    stable = total - w - d
    if "stable_steps" in extra:
        s = F.steps(extra["stable_steps"], "stable_steps")
        if s != stable:
            raise ConfigError(
                f"warm-up {w} + stable {s} + decay {d} = {w + s + d}, but total_steps is {total}.",
                field="stable_steps",
                value=s,
                fix=f"drop stable_steps (it follows from the others) or make it {stable}.",
            )
    if stable < 0:
        raise ConfigError(
            f"warm-up {w} plus decay {d} is longer than the run of {total}.",
            field="decay_steps",
            value=d,
            fix="shorten the decay or the warm-up.",
        )
    facts.update(stable_steps=stable, cooldown_steps=d, decay_steps=d)
    shape = extra.get("decay_shape", "1-sqrt")
    return WarmupStableDecay(1.0, w, stable, d, floor, shape, spec.warmup_init_ratio or 0.0)


def _one_cycle(
    spec: SchedulerSpec, extra: dict[str, Any], ctx: _Ctx, facts: dict[str, Any]
) -> tuple[Schedule, float | None]:
    _refuse_warmup(spec, "one_cycle", ctx)
    total = _total(spec, ctx, "one_cycle")
    peak = F.opt_number(extra.get("max_lr"), "max_lr", low=0.0, low_open=True)
    facts["declared_horizon"] = total
    return one_cycle_from_torch(extra, total), peak


def _cyclical(
    spec: SchedulerSpec, extra: dict[str, Any], ctx: _Ctx, facts: dict[str, Any]
) -> tuple[Schedule, float | None]:
    _refuse_warmup(spec, "cyclical", ctx)
    top = F.opt_number(extra.get("max_lr"), "max_lr", low=0.0, low_open=True)
    peak = top if top is not None else ctx.peak
    base = F.number(extra.get("base_lr", peak / 10), "base_lr", low=0.0)
    if base > peak:
        raise ConfigError(
            f"base_lr {base:g} is above max_lr {peak:g}.",
            field="base_lr",
            value=base,
            fix="swap them: base_lr is the bottom of the cycle.",
        )
    if "step_size" in extra and "step_size_up" in extra:
        raise ConfigError("give step_size or step_size_up, not both.", field="step_size_up", fix="drop one.")
    up = extra.get("step_size_up", extra.get("step_size", 2000))
    down, mode, gamma = extra.get("step_size_down"), extra.get("mode", "triangular"), extra.get("gamma", 1.0)
    return Cyclic(base / peak, 1.0, up, down, mode, gamma), peak


def _piecewise(
    spec: SchedulerSpec, extra: dict[str, Any], ctx: _Ctx, facts: dict[str, Any]
) -> tuple[Schedule, float | None]:
    if "values" not in extra:
        raise ConfigError(
            "a 'piecewise' scheduler needs values.", field="values", fix="add values: [1.0, 0.1] (factors of the peak)."
        )
    _refuse_warmup(spec, "piecewise", ctx)
    bs = extra.get("boundaries", [])
    facts["milestones"] = list(bs) if isinstance(bs, list) else bs
    values = tuple(F.sequence(extra["values"], "values"))
    return PiecewiseConstant(tuple(F.sequence(bs, "boundaries")), values), None


def _algebra(
    spec: SchedulerSpec, extra: dict[str, Any], ctx: _Ctx, facts: dict[str, Any]
) -> tuple[Schedule, float | None]:
    data = extra.get("schedule")
    if data is None:
        raise ConfigError(
            "needs schedule: {type: ..., ...}.", field="schedule", fix="give the algebra dict under schedule:."
        )
    return from_dict(data, path="schedule"), None


def _special(
    kind: str, spec: SchedulerSpec, extra: dict[str, Any], ctx: _Ctx, facts: dict[str, Any]
) -> tuple[Schedule, float | None]:
    """Families with their own rise or shape (see ``_SPECIAL``): (factor schedule, peak override)."""
    if kind == "sequence":
        return _sequence(spec, extra, ctx, facts), None
    build = {"one_cycle": _one_cycle, "cyclical": _cyclical, "piecewise": _piecewise, "schedule": _algebra}[kind]
    return build(spec, extra, ctx, facts)


def _sequence_boundaries(extra: dict[str, Any], n_pieces: int) -> list[int]:
    """The absolute steps where pieces 1.. start: one per piece after the first, strictly increasing."""
    raw = F.sequence(extra.get("boundaries", []), "boundaries")
    bs = [F.steps(b, f"boundaries[{i}]", minimum=1) for i, b in enumerate(raw)]
    check_boundaries(bs, n_pieces)  # the Sequence's own rule, before the pieces are built from them
    return bs


def _sequence_piece(piece: Any, i: int, start: int, end: int | None, ctx: _Ctx) -> tuple[Schedule, dict[str, Any]]:
    """Piece ``i`` over ``[start, end)`` (``end`` None: to an unknown end of the run), and its facts."""
    length = None if end is None else end - start
    if length is not None and length <= 0:
        raise ConfigError(
            f"piece {i} starts at {start}, at or after the end of the run ({end}).",
            field=f"boundaries[{i - 1}]",
            value=start,
            fix="move the boundary before total_steps.",
        )
    sched, pfacts, peak = scheduler_to_schedule(piece, _Ctx(ctx.peak, length, f"pieces[{i}]"))
    if peak is not None:
        raise ConfigError(
            "a piece cannot set its own max_lr inside a sequence.",
            field=f"pieces[{i}].max_lr",
            value=peak,
            fix="give values relative to the optimizer's lr.",
        )
    kwargs = dict(piece) if isinstance(piece, Mapping) else piece
    return sched, {"name": pfacts.get("scheduler_type"), "start": start, "kwargs": kwargs}


def _sequence(spec: SchedulerSpec, extra: dict[str, Any], ctx: _Ctx, facts: dict[str, Any]) -> Schedule:
    _refuse_warmup(spec, "sequence", ctx)
    pieces = F.sequence(extra.get("pieces", []), "pieces")
    if not pieces:
        raise ConfigError(
            "a 'sequence' needs pieces.", field="pieces", fix="add pieces: [{type: ...}, ...] and boundaries."
        )
    bs = _sequence_boundaries(extra, len(pieces))
    total = spec.total_steps or ctx.total
    starts, ends = [0, *bs], [*bs, total]
    built = [_sequence_piece(p, i, starts[i], ends[i], ctx) for i, p in enumerate(pieces)]
    facts["milestones"] = bs
    facts["pieces"] = [info for _, info in built]
    if total is not None:
        facts["declared_horizon"] = total
    return Sequence(tuple(sched for sched, _ in built), tuple(bs))


def _registered(spec: SchedulerSpec, ctx: _Ctx) -> Schedule:
    data = {"type": spec.type, **spec.extra}
    for key in ("warmup_steps", "warmup_ratio", "total_steps", "min_lr", "min_lr_ratio", "warmup_init_ratio"):
        value = getattr(spec, key)
        if value is not None:
            data[key] = value
    if "total_steps" not in data and ctx.total is not None:
        from lrkit.schedules import get_schedule_class
        from lrkit.schedules.custom import SchedulerInterface

        if issubclass(get_schedule_class(spec.type), SchedulerInterface):
            data["total_steps"] = ctx.total
    return from_dict(data, path=ctx.path)


def _is_algebra_dict(data: Mapping[str, Any]) -> bool:
    """A bare ``{type: cosine, steps: 100}`` whose keys are exactly a registered family's
    fields is a schedule of the algebra (peak 1.0), not a native scheduler."""
    import dataclasses

    from lrkit.schedules import get_schedule_class

    try:
        cls = get_schedule_class(data["type"])
    except ConfigError:
        return False
    if not dataclasses.is_dataclass(cls):
        return False
    names = {f.name for f in dataclasses.fields(cls)}
    keys = set(data) - {"type"}
    return bool(keys) and keys <= names


def _training_body(data: Mapping[str, Any]) -> tuple[Any, str]:
    """lrkit's keys and where they sit: under ``training:``/``lrkit:`` (that prefix), or at the top
    level (prefix ``""``; a bare ``{type: ...}`` becomes a scheduler or an algebra schedule)."""
    prefix = "training" if isinstance(data.get("training"), Mapping) else ""
    body: Any = data["training"] if prefix else data
    if "lrkit" in data and isinstance(data["lrkit"], Mapping) and not prefix:
        body, prefix = data["lrkit"], "lrkit"
    if not prefix and isinstance(body.get("type"), str):
        body = {"schedule": dict(body)} if _is_algebra_dict(body) else {"scheduler": dict(body)}
    elif not prefix:
        # lrkit's keys at the top level of a bigger file: the other sections (model:, data:...)
        # belong to the rest of the training program
        body = {k: v for k, v in body.items() if k in TrainingSpec.model_fields}
    if prefix:
        # lrkit's keys beside `training:` rather than in it would be silently dropped
        stray = [k for k in data if k != prefix and k in TrainingSpec.model_fields]
        if stray:
            raise ConfigError(
                f"{stray[0]!r} is at the top level of the file, beside {prefix}:, where lrkit does not read it.",
                field=stray[0],
                value=data[stray[0]],
                fix=f"move it under {prefix}: ({prefix}.{stray[0]}).",
            )
    return body, prefix


def _schedule_of(
    spec: TrainingSpec, body: Any, prefix: str, peak: float, run_total: int | None
) -> tuple[Schedule, dict[str, Any], float | None]:
    """The ``schedule:`` (algebra) or ``scheduler:`` (native) section: (factor schedule, context, peak override)."""
    sched_path = F.join(prefix, "scheduler")
    if spec.scheduler is not None and spec.schedule is not None:
        raise ConfigError(
            "give scheduler: or schedule:, not both.",
            field=F.join(prefix, "schedule"),
            fix="keep one of them.",
        )
    if spec.schedule is not None:
        return from_dict(spec.schedule, path=F.join(prefix, "schedule")), {}, None
    if spec.scheduler is None:
        raise ConfigError(
            "no scheduler found.",
            field=sched_path,
            fix="add scheduler: {type: cosine_annealing, warmup_steps: ..., total_steps: ...}.",
        )
    ctx = _Ctx(peak, spec.scheduler.total_steps or run_total, sched_path)
    return scheduler_to_schedule(body["scheduler"], ctx)


def _optimizer_data(opt: OptimizerSpec | None) -> dict[str, Any] | None:
    if opt is None:
        return None
    optimizer: dict[str, Any] = {"type": opt.type, "lr": opt.lr, **opt.kwargs}
    if opt.param_groups:
        optimizer["param_groups"] = [g.model_dump(exclude_none=True) for g in opt.param_groups]
    return optimizer


def _check_controller(controller: Mapping[str, Any], prefix: str) -> None:
    """Validated now (torch-free) so `lrkit check` reports a bad controller, not build() later."""
    from lrkit.feedback import controller_from_dict

    try:
        controller_from_dict(controller)
    except ConfigError as err:
        raise err.at(F.join(prefix, "controller")) from None


def read_native(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """Read lrkit's own config (already parsed and resolved) into a :class:`ResolvedConfig`."""
    body, prefix = _training_body(data)
    spec: TrainingSpec = validate(TrainingSpec, body, prefix)
    opt: OptimizerSpec | None = spec.optimizer
    file_total = spec.total_steps or spec.max_steps
    schedule, context, peak_override = _schedule_of(
        spec, body, prefix, opt.lr if opt is not None else 1.0, file_total or total_steps
    )
    peak = peak_override if peak_override is not None else (opt.lr if opt is not None else 1.0)
    declared = (spec.scheduler.total_steps if spec.scheduler is not None else None) or file_total
    if declared is not None:
        context.setdefault("declared_horizon", declared)
    if spec.controller is not None:
        _check_controller(spec.controller, prefix)
    return ResolvedConfig(
        schedule=schedule,
        peak_lr=peak,
        # the run: the caller's length, else the file's training.total_steps, else the scheduler's own
        total_steps=total_steps if total_steps is not None else (file_total or declared),
        format="lrkit",
        source=source,
        findings=(),
        context=context,
        optimizer=_optimizer_data(opt),
        raw=dict(data),
        controller=dict(spec.controller) if spec.controller is not None else None,
    )


# -- writing lrkit's own format (to_config(..., 'lrkit')) ---------------------------------------


def write_native(
    sched: Schedule, peak: float, total: int | None, resolved: ResolvedConfig | None = None
) -> dict[str, Any]:
    """The simplest lrkit config with the same LR on every update of the run: a native
    ``cosine_annealing`` / ``linear`` / ``constant`` scheduler when one gives it, else the algebra
    dict, with torch's periodic cosine written as lrkit's cosine where they agree over the run,
    integral step counts as integers and float noise rounded off (each candidate is read back and
    compared before it is used)."""
    peak = tidy(peak)
    opt: dict[str, Any] = {"type": "adamw", "lr": peak}
    if resolved is not None and resolved.optimizer and resolved.format == "lrkit":
        opt = {**resolved.optimizer, "lr": peak}
    plain = _simplify(sched)
    candidates = [c for c in (_native_scheduler(plain, peak, total),) if c is not None]
    candidates += [{"type": "schedule", "schedule": _tidy_dict(x.to_dict())} for x in (plain, sched)]
    scheduler = {"type": "schedule", "schedule": sched.to_dict()}
    for cand in candidates:
        if _same_as(cand, opt, sched, peak, total):
            scheduler = cand
            break
    training: dict[str, Any] = {"optimizer": opt, "scheduler": scheduler}
    if total is not None and scheduler.get("total_steps") != total:
        training["total_steps"] = total
    if resolved is not None and resolved.controller:
        training["controller"] = dict(resolved.controller)
    return {"training": training}


#: keys of an algebra dict that count steps (an integral float is written as an int)
_STEP_KEYS = frozenset(
    {
        "steps",
        "warmup_steps",
        "boundaries",
        "period",
        "step_size",
        "decay_steps",
        "total_steps",
        "milestones",
        "stable_steps",
        "step_size_up",
        "step_size_down",
        "max_cycles",
        "increment",
        "training_steps",
        "max_steps",
        "constant_steps",
        "hold_steps",
        "num_stable_steps",
        "num_decay_steps",
        "wsd_decay_steps",
    }
)
#: keys that name what a curve is: written even at their default, so the dict reads on its own
_NAME_KEYS = frozenset({"name", "style", "policy", "decay_shape", "mode"})


def _defaults(type_name: Any) -> dict[str, Any]:
    """The constructor defaults of the algebra family ``type_name`` (empty when unknown)."""
    import dataclasses

    from lrkit.schedules import get_schedule_class

    try:
        cls = get_schedule_class(str(type_name))
    except (ConfigError, KeyError, ValueError):
        return {}
    if not dataclasses.is_dataclass(cls):
        return {}
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def _tidy_dict(d: Any, key: str = "") -> Any:
    """An algebra dict without the keys at their defaults, step counts as ints, float noise off."""
    if isinstance(d, dict):
        defaults = _defaults(d["type"]) if "type" in d else {}
        return {
            k: _tidy_dict(v, k)
            for k, v in d.items()
            if k == "type" or k in _NAME_KEYS or k not in defaults or defaults[k] != v
        }
    if isinstance(d, list | tuple):
        return [_tidy_dict(v, key) for v in d]
    if isinstance(d, float):
        if key in _STEP_KEYS and d.is_integer():
            return int(d)
        return tidy(d)
    return d


def _simplify(s: Schedule) -> Schedule:
    """``s`` with torch's periodic cosine (climbing back after ``steps``) as lrkit's cosine (holding
    its floor): the same up to ``steps``; the caller checks that the run never goes past it."""
    if isinstance(s, PeriodicCosine):
        if s.cycles == 0.5 and s.offset == 0 and float(s.steps).is_integer() and s.steps > 0:
            return Cosine(s.peak, int(s.steps), tidy(s.end))
        return s
    if isinstance(s, Sequence):
        return Sequence(tuple(_simplify(p) for p in s.pieces), s.boundaries)
    if isinstance(s, Warmup):
        return Warmup(_simplify(s.schedule), s.warmup_steps, s.init, target=s.target)
    return s


def _native_scheduler(s: Schedule, peak: float, total: int | None) -> dict[str, Any] | None:
    """lrkit's native scheduler for its own warm-up + cosine / linear / constant shapes."""
    inner, w = s, 0
    if isinstance(s, Warmup) and s.init == 0 and (s.target is None or s.target == 1.0):
        inner, w = s.schedule, s.warmup_steps
    out: dict[str, Any]
    if isinstance(inner, Constant) and inner.value == 1.0:
        out = {"type": "constant"}
    elif isinstance(inner, Cosine | Linear) and total is not None and w + inner.steps == total:
        top = inner.peak if isinstance(inner, Cosine) else inner.start
        if top != 1.0:
            return None
        out = {"type": "cosine_annealing" if isinstance(inner, Cosine) else "linear", "total_steps": total}
        if inner.end:
            out["min_lr"] = tidy(inner.end * peak)
    else:
        return None
    if w:
        out["warmup_steps"] = w
    return out


def _same_as(scheduler: dict[str, Any], opt: dict[str, Any], sched: Schedule, peak: float, total: int | None) -> bool:
    """Whether lrkit reads ``scheduler`` as ``peak * sched`` on every update of the run."""

    from lrkit.config import load_config

    training: dict[str, Any] = {"optimizer": opt, "scheduler": scheduler}
    if total is not None:
        training["total_steps"] = total
    try:
        back = load_config({"training": training}, format="lrkit", total_steps=total)
    except ConfigError:
        return False
    horizon = total if total is not None else 2 * max(_end_of(sched), 1) + 2
    return agree(sched, peak, back.lr_schedule, horizon)


def _end_of(s: Schedule) -> int:
    """The step from which ``s`` no longer changes, or 10000 for a curve that keeps moving."""
    h = s.horizon
    return int(h) if h is not None and h != float("inf") else 10_000
