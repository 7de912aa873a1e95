"""torch LR scheduler classes, named in a config, as schedule-algebra pieces.

Nothing here imports torch or the named class: known class names are translated into the
closed forms torch itself uses (``_get_closed_form_lr``), which is also what ``SequentialLR``
switches to at a milestone. Values are factors of the optimizer's base LR (``peak``), so
absolute arguments (``eta_min``, ``max_lr``, ``base_lr``) are divided by it.

======================================  =====================================================
class                                   piece (``s`` = steps since the piece started)
======================================  =====================================================
LinearLR(start_factor, end_factor, n)   ``Linear(start, end, n)``
ConstantLR(factor, n)                   ``factor`` until ``n``, then 1
CosineAnnealingLR(T_max, eta_min)       ``PeriodicCosine``: climbs back after ``T_max``
StepLR(step_size, gamma)                ``StepDecay``
MultiStepLR(milestones, gamma)          ``MultiStep``
ExponentialLR(gamma)                    ``Exponential``
PolynomialLR(total_iters, power)        ``Polynomial(1, 0, total_iters, power)``
CosineAnnealingWarmRestarts(T_0, ...)   ``CosineRestarts``
OneCycleLR / CyclicLR                   ``OneCycle`` / ``Cyclic`` (alone only)
lrkit.Scheduler(schedule, min_lr...)    its schedule, floored
======================================  =====================================================
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.config.writing import cannot, describe
from lrkit.errors import ConfigError, did_you_mean
from lrkit.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Floor,
    Linear,
    MultiStep,
    OneCycle,
    PiecewiseConstant,
    Polynomial,
    Schedule,
    Sequence,
    StepDecay,
    Warmup,
    WarmupStableDecay,
    as_schedule,
)
from lrkit.schedules.compat import PeriodicCosine

__all__ = ["translate", "short_name", "KNOWN", "ALONE_ONLY", "to_torch", "torch_entry", "FOREVER"]

_PREFIXES = ("torch.optim.lr_scheduler.", "torch.optim.", "lr_scheduler.")
_ARGS: dict[str, tuple[str, ...]] = {
    "LinearLR": ("start_factor", "end_factor", "total_iters"),
    "ConstantLR": ("factor", "total_iters"),
    "CosineAnnealingLR": ("T_max", "eta_min"),
    "StepLR": ("step_size", "gamma"),
    "MultiStepLR": ("milestones", "gamma"),
    "ExponentialLR": ("gamma",),
    "PolynomialLR": ("total_iters", "power"),
    "CosineAnnealingWarmRestarts": ("T_0", "T_mult", "eta_min"),
    "OneCycleLR": (
        "max_lr",
        "total_steps",
        "epochs",
        "steps_per_epoch",
        "pct_start",
        "anneal_strategy",
        "cycle_momentum",
        "base_momentum",
        "max_momentum",
        "div_factor",
        "final_div_factor",
        "three_phase",
    ),
    "CyclicLR": (
        "base_lr",
        "max_lr",
        "step_size_up",
        "step_size_down",
        "mode",
        "gamma",
        "scale_mode",
        "cycle_momentum",
        "base_momentum",
        "max_momentum",
    ),
    "lrkit.Scheduler": ("schedule", "min_lr", "min_lr_ratio", "controller"),
}
KNOWN = tuple(_ARGS)
#: classes that cannot sit inside a SequentialLR: they overwrite the optimizer's initial_lr
ALONE_ONLY = ("OneCycleLR", "CyclicLR")
_UNPREVIEWABLE = {
    "LambdaLR": "its curve is an arbitrary Python function",
    "MultiplicativeLR": "its curve is an arbitrary Python function",
    "ReduceLROnPlateau": "it reacts to a metric (use lrkit's controller: {type: plateau} to model it)",
    "ChainedScheduler": "it multiplies other schedulers' recursive updates",
    "SequentialLR": "NeMo RL builds the SequentialLR itself from the list and its milestones entry",
}


def short_name(name: str) -> str:
    """``torch.optim.lr_scheduler.LinearLR -> LinearLR``; ``lrkit.scheduler.Scheduler -> lrkit.Scheduler``."""
    if name in ("lrkit.Scheduler", "lrkit.scheduler.Scheduler"):
        return "lrkit.Scheduler"
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def translate(name: Any, kwargs: Any, path: str, *, peak: float) -> tuple[Schedule, dict[str, Any]]:
    """One torch scheduler as ``(factor piece, facts)``; ``path`` locates ``{name, kwargs}``.

    facts carry what the linter wants to know about the piece (``T_max``, ``total_iters``...).
    """
    name = F.string(name, F.join(path, "name"))
    short = short_name(name)
    if short not in _ARGS:
        why = _UNPREVIEWABLE.get(short)
        if why:
            raise ConfigError(
                f"lrkit cannot preview {name!r}: {why}.",
                field=F.join(path, "name"),
                value=name,
                fix="use one of the closed-form torch schedulers (" + ", ".join(KNOWN[:-1]) + ") or lrkit.Scheduler.",
            )
        raise ConfigError(
            f"lrkit does not know the scheduler class {name!r} and cannot preview arbitrary classes "
            f"(it never imports them).{did_you_mean(short, KNOWN)}",
            field=F.join(path, "name"),
            value=name,
            fix="use torch.optim.lr_scheduler.<" + "|".join(KNOWN[:-1]) + "> or lrkit.Scheduler.",
        )
    kw_path = F.join(path, "kwargs")
    kw = dict(F.mapping(kwargs if kwargs is not None else {}, kw_path))
    F.check_keys(kw, _ARGS[short], kw_path, what=short)
    with F.at_path(kw_path):
        sched = _piece(short, kw, peak)
    return sched, {"name": name, "kwargs": kw}


def _linear_lr(kw: dict[str, Any], peak: float) -> Schedule:
    start = F.number(
        kw.get("start_factor", 1.0 / 3),
        "start_factor",
        low=0.0,
        high=1.0,
        low_open=True,
        fix="torch needs 0 < start_factor <= 1.",
    )
    end = F.number(kw.get("end_factor", 1.0), "end_factor", low=0.0, high=1.0, fix="torch needs 0 <= end_factor <= 1.")
    n = F.steps(kw.get("total_iters", 5), "total_iters", minimum=1, fix="use total_iters >= 1 (torch divides by it).")
    return Linear(start, end, n)


def _constant_lr(kw: dict[str, Any], peak: float) -> Schedule:
    # torch accepts 0 <= factor <= 1 (a factor of 0 divides by zero only if total_iters is reached)
    factor = F.number(
        kw.get("factor", 1.0 / 3), "factor", low=0.0, high=1.0, fix="use 0 <= factor <= 1 (torch's range)."
    )
    n = F.steps(kw.get("total_iters", 5), "total_iters", minimum=1, fix="use total_iters >= 1.")
    return PiecewiseConstant((n,), (factor, 1.0)) if factor != 1.0 else Constant(1.0)


def _cosine_annealing_lr(kw: dict[str, Any], peak: float) -> Schedule:
    if "T_max" not in kw:
        raise ConfigError("CosineAnnealingLR needs T_max.", field="T_max", fix="add T_max: <steps of the decay>.")
    t_max = F.steps(kw["T_max"], "T_max", minimum=1, fix="use T_max >= 1 (torch divides by it).")
    return PeriodicCosine(1.0, float(t_max), _eta(kw, peak), 0.5)


def _step_lr(kw: dict[str, Any], peak: float) -> Schedule:
    if "step_size" not in kw:
        raise ConfigError("StepLR needs step_size.", field="step_size", fix="add step_size: <steps>.")
    return StepDecay(
        1.0, F.steps(kw["step_size"], "step_size", minimum=1), F.number(kw.get("gamma", 0.1), "gamma", low=0.0)
    )


def _multi_step_lr(kw: dict[str, Any], peak: float) -> Schedule:
    ms = [
        F.steps(m, f"milestones[{i}]", minimum=1)
        for i, m in enumerate(F.sequence(kw.get("milestones", []), "milestones"))
    ]
    if any(b < a for a, b in itertools.pairwise(ms)):
        raise ConfigError(
            f"milestones out of order: {ms}.", field="milestones", value=ms, fix=f"sort them: {sorted(ms)}."
        )
    return MultiStep(1.0, tuple(ms), F.number(kw.get("gamma", 0.1), "gamma", low=0.0))


def _exponential_lr(kw: dict[str, Any], peak: float) -> Schedule:
    if "gamma" not in kw:
        raise ConfigError("ExponentialLR needs gamma.", field="gamma", fix="add gamma: 0.999.")
    return Exponential(1.0, F.number(kw["gamma"], "gamma", low=0.0, low_open=True))


def _polynomial_lr(kw: dict[str, Any], peak: float) -> Schedule:
    n = F.steps(kw.get("total_iters", 5), "total_iters", minimum=1, fix="use total_iters >= 1.")
    return Polynomial(1.0, 0.0, n, F.number(kw.get("power", 1.0), "power", low=0.0, low_open=True))


def _warm_restarts(kw: dict[str, Any], peak: float) -> Schedule:
    if "T_0" not in kw:
        raise ConfigError(
            "CosineAnnealingWarmRestarts needs T_0.", field="T_0", fix="add T_0: <steps of the first cycle>."
        )
    return CosineRestarts(
        1.0,
        F.steps(kw["T_0"], "T_0", minimum=1),
        float(F.steps(kw.get("T_mult", 1), "T_mult", minimum=1, fix="torch needs an integer T_mult >= 1.")),
        _eta(kw, peak),
    )


def _one_cycle_total(kw: dict[str, Any]) -> int:
    """``total_steps``, else ``epochs * steps_per_epoch`` (torch's rule)."""
    if kw.get("total_steps") is not None:
        return F.steps(kw["total_steps"], "total_steps", minimum=2)
    if kw.get("epochs") is not None and kw.get("steps_per_epoch") is not None:
        epochs = F.steps(kw["epochs"], "epochs", minimum=1)
        return epochs * F.steps(kw["steps_per_epoch"], "steps_per_epoch", minimum=1)
    raise ConfigError(
        "OneCycleLR needs total_steps (or epochs and steps_per_epoch).",
        field="total_steps",
        fix="add total_steps: <updates>.",
    )


def one_cycle_from_torch(
    kw: Mapping[str, Any], steps: int, *, peak: float = 1.0, pct_start: float = 0.3, path: str = ""
) -> OneCycle:
    """torch's ``OneCycleLR`` keyword arguments (``pct_start``, ``anneal_strategy``, ``div_factor``,
    ``final_div_factor``, ``three_phase``, torch's defaults) as a :class:`OneCycle` of ``steps``
    updates peaking at ``peak``; each value checked under its own key (``path`` prefixes it). The
    one place the readers that take these arguments (torch schedulers, the lrkit format, axolotl)
    turn them into the algebra; ``pct_start`` is the default where a framework sets its own."""

    def at(key: str) -> str:
        return F.join(path, key)

    pct = F.number(kw.get("pct_start", pct_start), at("pct_start"), low=0.0, high=1.0)
    anneal = F.choice(kw.get("anneal_strategy", "cos"), at("anneal_strategy"), ("cos", "linear"))
    div = F.number(kw.get("div_factor", 25.0), at("div_factor"), low=0.0, low_open=True)
    final = F.number(kw.get("final_div_factor", 1e4), at("final_div_factor"), low=0.0, low_open=True)
    three = F.boolean(kw.get("three_phase", False), at("three_phase"))
    if not path:
        return OneCycle(peak, steps, pct, anneal, div, final, three)
    with F.at_path(path):  # OneCycle's own cross-field rule (a zero-length phase) names pct_start
        return OneCycle(peak, steps, pct, anneal, div, final, three)


def _one_cycle_lr(kw: dict[str, Any], peak: float) -> Schedule:
    if "max_lr" not in kw:
        raise ConfigError("OneCycleLR needs max_lr.", field="max_lr", fix="add max_lr: <peak LR>.")
    max_lr = F.number(kw["max_lr"], "max_lr", low=0.0, low_open=True)
    return one_cycle_from_torch(kw, _one_cycle_total(kw), peak=max_lr / peak)


def _cyclic_lr(kw: dict[str, Any], peak: float) -> Schedule:
    for key in ("base_lr", "max_lr"):
        if key not in kw:
            raise ConfigError(f"CyclicLR needs {key}.", field=key, fix=f"add {key}: <LR>.")
    base = F.number(kw["base_lr"], "base_lr", low=0.0)
    top = F.number(kw["max_lr"], "max_lr", low=0.0)
    return Cyclic(
        base / peak,
        top / peak,
        kw.get("step_size_up", 2000),
        kw.get("step_size_down"),
        kw.get("mode", "triangular"),
        kw.get("gamma", 1.0),
    )


def _lrkit_scheduler(kw: dict[str, Any], peak: float) -> Schedule:
    if "schedule" not in kw:
        raise ConfigError("lrkit.Scheduler needs schedule.", field="schedule", fix="add schedule: {type: ..., ...}.")
    sched = as_schedule(kw["schedule"], field="schedule")
    if kw.get("min_lr") is not None and kw.get("min_lr_ratio") is not None:
        raise ConfigError("min_lr and min_lr_ratio are both set.", field="min_lr_ratio", fix="keep one of them.")
    if kw.get("min_lr") is not None:
        return Floor(sched, F.number(kw["min_lr"], "min_lr", low=0.0) / peak)
    if kw.get("min_lr_ratio") is not None:
        return Floor(sched, F.number(kw["min_lr_ratio"], "min_lr_ratio", low=0.0, high=1.0))
    return sched


#: class short name -> (its kwargs, the optimizer's LR) -> factor piece; the same names as ``_ARGS``
_PIECES: dict[str, Callable[[dict[str, Any], float], Schedule]] = {
    "LinearLR": _linear_lr,
    "ConstantLR": _constant_lr,
    "CosineAnnealingLR": _cosine_annealing_lr,
    "StepLR": _step_lr,
    "MultiStepLR": _multi_step_lr,
    "ExponentialLR": _exponential_lr,
    "PolynomialLR": _polynomial_lr,
    "CosineAnnealingWarmRestarts": _warm_restarts,
    "OneCycleLR": _one_cycle_lr,
    "CyclicLR": _cyclic_lr,
    "lrkit.Scheduler": _lrkit_scheduler,
}
if set(_PIECES) != set(_ARGS):  # pragma: no cover - a class added to one table and not the other
    raise ImportError(f"torch_schedulers: _PIECES and _ARGS differ: {sorted(set(_PIECES) ^ set(_ARGS))}")


def _piece(short: str, kw: dict[str, Any], peak: float) -> Schedule:
    return _PIECES[short](kw, peak)


def _eta(kw: Mapping[str, Any], peak: float) -> float:
    eta = F.number(kw.get("eta_min", 0.0), "eta_min", low=0.0)
    if eta > peak:
        raise ConfigError(
            f"eta_min {eta:g} is above the optimizer's lr {peak:g}: the cosine would climb instead of decay.",
            field="eta_min",
            value=eta,
            fix="use an eta_min below the optimizer's lr.",
        )
    return eta / peak


# -- the inverse: schedule-algebra pieces as torch schedulers (to_config(..., 'nemo_rl')) ----------

#: ConstantLR/LinearLR length standing for "until the end of any run" (NeMo RL uses 1e10)
FOREVER = 10_000_000_000
_TS = "torch.optim.lr_scheduler."
#: a list of ``(start step, {name, kwargs})``: what SequentialLR runs from each start
Entries = list[tuple[int, dict[str, Any]]]


def torch_entry(name: str, **kwargs: Any) -> dict[str, Any]:
    """``{name: torch.optim.lr_scheduler.<name>, kwargs: {...}}``."""
    return {"name": _TS + name, "kwargs": kwargs}


def _factor(value: float, what: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise cannot(
            f"{what} (a factor {value:g} of the peak outside [0, 1])",
            "nemo_rl",
            "torch's LinearLR/ConstantLR factors must lie in [0, 1]; use lrkit.Scheduler as policy.scheduler.",
        )
    return value


def _sequence_entries(s: Sequence, peak: float, length: int | None) -> Entries:
    out: Entries = []
    starts = (0, *s.boundaries)
    for i, piece in enumerate(s.pieces):
        end = s.boundaries[i] if i < len(s.boundaries) else None
        plen = None if end is None else end - starts[i]
        if length is not None:
            plen = min(plen, length - starts[i]) if plen is not None else length - starts[i]
            if plen <= 0:
                break
        out += [(starts[i] + b, e) for b, e in to_torch(piece, peak, plen)]
    return out


def _warmup_entries(s: Warmup, peak: float, length: int | None) -> Entries:
    # lrkit's warm-up (k + 1) / W: LinearLR from the first value, reaching the target at W - 1
    w = s.warmup_steps
    if w == 0:
        return to_torch(s.schedule, peak, length)
    target = s.target if s.target is not None else float(s.schedule(0))
    first = s.init + (target - s.init) / w
    if w == 1:
        head = torch_entry("ConstantLR", factor=_factor(first, "the warm-up"), total_iters=FOREVER)
    else:
        if first <= 0:
            raise cannot("a warm-up whose first value is 0", "nemo_rl")
        head = torch_entry(
            "LinearLR",
            start_factor=_factor(first, "the warm-up"),
            end_factor=_factor(target, "the warm-up"),
            total_iters=w - 1,
        )
    rest = None if length is None else length - w
    tail = [] if rest is not None and rest <= 0 else [(w + b, e) for b, e in to_torch(s.schedule, peak, rest)]
    return [(0, head), *tail]


def _constant_entries(s: Constant, peak: float, length: int | None) -> Entries:
    v = _factor(s.value, "a constant")
    if v == 1.0:
        return [(0, torch_entry("ConstantLR", factor=1.0, total_iters=1))]
    return [(0, torch_entry("ConstantLR", factor=v, total_iters=FOREVER))]


def _linear_entries(s: Linear, peak: float, length: int | None) -> Entries:
    if s.steps == 0:
        return to_torch(Constant(s.end), peak, length)
    if s.start == 0:
        raise cannot("a linear piece starting at 0", "nemo_rl", "torch's LinearLR needs start_factor > 0.")
    head = torch_entry(
        "LinearLR",
        start_factor=_factor(s.start, "a linear piece"),
        end_factor=_factor(s.end, "a linear piece"),
        total_iters=s.steps,
    )
    return [(0, head)]


def _periodic_cosine_entries(s: PeriodicCosine, peak: float, length: int | None) -> Entries:
    if s.cycles != 0.5 or s.offset != 0 or s.peak != 1.0 or s.steps != int(s.steps):
        raise cannot("this periodic cosine", "nemo_rl")
    return [(0, torch_entry("CosineAnnealingLR", T_max=int(s.steps), eta_min=s.end * peak))]


def _cosine_entries(s: Cosine, peak: float, length: int | None) -> Entries:
    # torch's cosine climbs back after T_max: a ConstantLR holds lrkit's floor when the run gets there
    if s.peak != 1.0:
        raise cannot(
            f"a cosine starting at {s.peak:g} of the peak",
            "nemo_rl",
            "torch's CosineAnnealingLR starts at the optimizer's LR; put a piece before it or rescale.",
        )
    if s.steps == 0:
        return to_torch(Constant(s.end), peak, length)
    out = [(0, torch_entry("CosineAnnealingLR", T_max=s.steps, eta_min=s.end * peak))]
    if length is None or length > s.steps + 1:
        floor = torch_entry("ConstantLR", factor=_factor(s.end, "the cosine's floor"), total_iters=FOREVER)
        out.append((s.steps, floor))
    return out


def _piecewise_entries(s: PiecewiseConstant, peak: float, length: int | None) -> Entries:
    bs = (0, *s.boundaries)
    return [(b, e) for b, v in zip(bs, s.values, strict=True) for _, e in to_torch(Constant(v), peak, None)]


def _wsd_entries(s: WarmupStableDecay, peak: float, length: int | None) -> Entries:
    """Its warm-up, stable and decay phases as a sequence of the pieces above."""
    parts: list[Schedule] = []
    bounds: list[int] = []
    if s.warmup_steps:
        parts.append(Warmup(Constant(s.peak), s.warmup_steps, s.init, target=s.peak))
        bounds.append(s.warmup_steps)
    if s.stable_steps:
        parts.append(Constant(s.peak))
        bounds.append(s.warmup_steps + s.stable_steps)
    decay = Linear(s.peak, s.end, s.decay_steps) if s.decay_shape == "linear" else Cosine(s.peak, s.decay_steps, s.end)
    parts.append(decay)
    if len(parts) == 1:
        return to_torch(decay, peak, length)
    return to_torch(Sequence(tuple(parts), tuple(bounds[: len(parts) - 1])), peak, length)


def _closed_form_entry(s: Schedule, peak: float) -> dict[str, Any] | None:
    """The torch class whose closed form is ``s`` as it is (no split into pieces), if any."""
    if isinstance(s, StepDecay) and s.start == 1.0:
        return torch_entry("StepLR", step_size=s.step_size, gamma=s.gamma)
    if isinstance(s, MultiStep) and s.start == 1.0 and all(m > 0 for m in s.milestones):
        return torch_entry("MultiStepLR", milestones=list(s.milestones), gamma=s.gamma)
    if isinstance(s, Exponential) and (s.start, s.decay_steps, s.min_value, s.max_value) == (1.0, 1, 0, None):
        return torch_entry("ExponentialLR", gamma=s.gamma)
    if isinstance(s, Polynomial) and s.start == 1.0 and s.end == 0.0 and s.steps > 0:
        return torch_entry("PolynomialLR", total_iters=s.steps, power=s.power)
    if (
        isinstance(s, CosineRestarts)
        and s.peak == 1.0
        and s.peak_decay == 1.0
        and s.max_cycles is None
        and float(s.period_mult).is_integer()
    ):
        return torch_entry("CosineAnnealingWarmRestarts", T_0=s.period, T_mult=int(s.period_mult), eta_min=s.end * peak)
    return None


def to_torch(s: Schedule, peak: float, length: int | None) -> Entries:
    """The inverse of :func:`translate`: ``[(start, torch scheduler entry)]`` whose SequentialLR gives
    ``peak * s`` on the updates ``[0, length)`` (``length`` None: for ever).

    Raises the ``nemo_rl`` format's :func:`~lrkit.config.writing.cannot` error for a piece torch
    cannot express (OneCycleLR and CyclicLR go alone: :func:`lrkit.config.nemo_rl.write_nemo_rl`).
    """
    if isinstance(s, Sequence):
        return _sequence_entries(s, peak, length)
    if isinstance(s, Warmup):
        return _warmup_entries(s, peak, length)
    if isinstance(s, Constant):
        return _constant_entries(s, peak, length)
    if isinstance(s, Linear):
        return _linear_entries(s, peak, length)
    if isinstance(s, PeriodicCosine):
        return _periodic_cosine_entries(s, peak, length)
    if isinstance(s, Cosine):
        return _cosine_entries(s, peak, length)
    if isinstance(s, PiecewiseConstant):
        return _piecewise_entries(s, peak, length)
    entry = _closed_form_entry(s, peak)
    if entry is not None:
        return [(0, entry)]
    if isinstance(s, WarmupStableDecay) and s.decay_shape in ("linear", "cosine"):
        return _wsd_entries(s, peak, length)
    if isinstance(s, OneCycle | Cyclic):
        raise cannot(
            f"{describe(s)} inside a sequence", "nemo_rl", "give it alone (OneCycleLR/CyclicLR) or use lrkit.Scheduler."
        )
    raise cannot(
        f"{describe(s)} (as a piece)",
        "nemo_rl",
        "use lrkit.Scheduler as policy.scheduler: {name: lrkit.Scheduler, kwargs: {schedule: ...}}.",
    )
