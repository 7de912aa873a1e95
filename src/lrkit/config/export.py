"""Express a schedule in a framework's config format: ``to_config(schedule, format)``.

- ``lrkit``: always (the algebra dict under ``training.scheduler.schedule``).
- ``nemo_rl``: a list of torch schedulers and a ``{milestones: [...]}`` entry for
  ``SequentialLR``. lrkit's warm-up ``(k + 1) / W`` is ``LinearLR(start_factor=1/W,
  total_iters=W - 1)``; a cosine that must hold its floor within the run gets a ``ConstantLR``
  after it (torch's cosine would climb back). With a run length, pieces that would only start
  after the last update are left out: the curve matches over the run's updates.
- ``megatron`` / ``nemo_rl_megatron``: Megatron's styles. An lrkit warm-up followed by a
  cosine or linear decay is Megatron's ``WSD`` with ``lr_warmup_iters = W - 1``,
  ``lr_warmup_init = peak / W`` and a cool-down over the whole decay, which reproduces it
  exactly; Megatron's own curves (read from a Megatron config) export as they are.
- ``hf`` / ``nemo``: the curves read from those frameworks, and a constant.

Whatever cannot be expressed exactly raises a :class:`ConfigError` naming the piece; reading
the result back (:func:`lrkit.config.load_config`) gives the same curve.
"""

from __future__ import annotations

from typing import Any

from lrkit.config import fields as F
from lrkit.config.detect import check_format
from lrkit.config.resolved import ResolvedConfig
from lrkit.errors import ConfigError
from lrkit.schedules import (
    Constant,
    Cosine,
    CosineRestarts,
    Cyclic,
    Exponential,
    Linear,
    MultiStep,
    OneCycle,
    PiecewiseConstant,
    Polynomial,
    Scale,
    Schedule,
    Sequence,
    StepDecay,
    Warmup,
    WarmupStableDecay,
)
from lrkit.schedules.compat import HFLambda, MegatronLR, NemoLR, PeriodicCosine

__all__ = ["to_config"]

#: ConstantLR/LinearLR length standing for "until the end of any run" (NeMo RL uses 1e10)
FOREVER = 10_000_000_000
_TS = "torch.optim.lr_scheduler."


def _split(target: Schedule | ResolvedConfig, peak_lr: float | None, total_steps: int | None):
    if isinstance(target, ResolvedConfig):
        return (
            target.schedule,
            target.peak_lr if peak_lr is None else peak_lr,
            total_steps or target.total_steps,
            target,
        )
    if not isinstance(target, Schedule):
        raise ConfigError(
            f"expected a schedule or a ResolvedConfig, got {type(target).__name__}.",
            field="schedule",
            value=target,
            fix="pass lrkit.load_config(...) or a schedule from lrkit.schedules.",
        )
    if peak_lr is None and isinstance(target, Scale):
        return target.schedule, target.factor, total_steps, None
    peak = 1.0 if peak_lr is None else F.number(peak_lr, "peak_lr", low=0.0, low_open=True)
    return target, peak, total_steps, None


def tidy(value: float) -> float:
    """``value`` rounded to 12 significant digits when that is within float noise of it
    (``0.09999999999999999`` -> ``0.1``, ``500.0`` stays a float here; callers write ints)."""
    if not isinstance(value, float) or value == 0 or value != value or value in (float("inf"), float("-inf")):
        return value
    short = float(f"{value:.12g}")
    return short if abs(short - value) <= 1e-12 * abs(value) else value


def describe(s: Schedule) -> str:
    """A schedule in words a user of any framework reads (no lrkit class names)."""
    if isinstance(s, Scale):
        return describe(s.schedule)
    if isinstance(s, Warmup):
        return f"a warm-up of {s.warmup_steps} steps, then {describe(s.schedule)}"
    if isinstance(s, Sequence):
        parts = ", ".join(describe(p) for p in s.pieces)
        at = ", ".join(str(b) for b in s.boundaries)
        return f"{len(s.pieces)} pieces ({parts}) switching at step{'s' if len(s.boundaries) > 1 else ''} {at}"
    if isinstance(s, Constant):
        return "a constant LR" if s.value == 1.0 else f"a constant {tidy(s.value):g} of the peak"
    if isinstance(s, Linear):
        return f"a linear ramp from {tidy(s.start):g} to {tidy(s.end):g} of the peak over {s.steps} steps"
    if isinstance(s, PeriodicCosine):
        return f"torch's CosineAnnealingLR (T_max={tidy(float(s.steps)):g}, climbing back after it)"
    if isinstance(s, Cosine):
        return f"a cosine decay over {s.steps} steps to {tidy(s.end):g} of the peak"
    if isinstance(s, MegatronLR):
        return f"Megatron's {s.style} schedule"
    if isinstance(s, HFLambda):
        return f"Hugging Face's {s.name} schedule"
    if isinstance(s, NemoLR):
        return f"NeMo's {s.policy}"
    words = {
        "step": "a step decay",
        "multistep": "a multi-step decay",
        "exponential": "an exponential decay",
        "polynomial": "a polynomial decay",
        "inverse_sqrt": "an inverse-square-root decay",
        "wsd": "a warmup-stable-decay curve",
        "one_cycle": "a one-cycle curve",
        "cyclic": "a cyclical LR",
        "cosine_restarts": "a cosine with warm restarts",
        "piecewise_constant": "a piecewise-constant LR",
        "floor": "a curve held above a floor (min_value)",
        "shift": "a curve shifted in steps",
    }
    return words.get(s.type_name, f"a {s.type_name.replace('_', ' ')} curve")


def _cannot(what: str, fmt: str, fix: str = "") -> ConfigError:
    return ConfigError(
        f"{what} cannot be expressed exactly in the {fmt} format.",
        field="format",
        value=fmt,
        fix=fix or "export to lrkit's own format (always exact), or change the schedule.",
    )


def to_config(
    schedule: Schedule | ResolvedConfig,
    format: str,
    *,
    peak_lr: float | None = None,
    total_steps: int | None = None,
) -> dict[str, Any]:
    """The config dict of ``format`` whose curve is ``peak_lr * schedule``.

    Args:
        schedule: a factor schedule (with ``peak_lr``), an absolute one (``Scale(s, peak)`` is
            split into both), or a :class:`ResolvedConfig`.
        format: one of :data:`lrkit.config.FORMATS`.
        peak_lr: the optimizer's LR; default the config's, or 1.0 (values are then LRs).
        total_steps: the run length to write where the format has one.
    """
    fmt = check_format(format)
    sched, peak, total, resolved = _split(schedule, peak_lr, total_steps)
    if total is not None:
        total = F.steps(total, "total_steps", minimum=1)
    if fmt == "lrkit":
        return _lrkit(sched, peak, total, resolved)
    if fmt == "nemo_rl":
        return _nemo_rl(sched, peak, total)
    if fmt in ("megatron", "nemo_rl_megatron"):
        return _megatron(sched, peak, total, fmt)
    if fmt == "hf":
        return _hf(sched, peak, total)
    if fmt != "nemo":
        raise _cannot(
            "a schedule",
            fmt,
            "export to hf (LLaMA-Factory v0 reads those keys as they are; axolotl names the type lr_scheduler) or to lrkit's own format.",
        )
    return _nemo(sched, peak, total)


# -- lrkit ---------------------------------------------------------------------------------


def _lrkit(sched: Schedule, peak: float, total: int | None, resolved: ResolvedConfig | None) -> dict[str, Any]:
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
    candidates = [c for c in (_native(plain, peak, total),) if c is not None]
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


def _native(s: Schedule, peak: float, total: int | None) -> dict[str, Any] | None:
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
    return _agree(sched, peak, back.lr_schedule, horizon)


def _agree(want: Schedule, peak: float, got: Schedule, horizon: int) -> bool:
    """Whether ``got`` equals ``peak * want`` (to 1e-9 of the peak) on the updates ``[0, horizon)``;
    past a few million updates on a sample holding both curves' phase boundaries."""
    import numpy as np

    from lrkit.linter.curve import sample_steps

    steps = np.union1d(sample_steps(want, horizon), sample_steps(got, horizon))
    expected = peak * np.asarray(want(steps), dtype=float)
    actual = np.asarray(got(steps), dtype=float)
    return bool(np.all(np.abs(expected - actual) <= 1e-9 * max(abs(peak), 1e-300)))


def _end_of(s: Schedule) -> int:
    """The step from which ``s`` no longer changes, or 10000 for a curve that keeps moving."""
    h = s.horizon
    return int(h) if h is not None and h != float("inf") else 10_000


# -- NeMo RL (torch schedulers) ---------------------------------------------------------------


def _ts(name: str, **kwargs: Any) -> dict[str, Any]:
    return {"name": _TS + name, "kwargs": kwargs}


def _factor(value: float, what: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise _cannot(
            f"{what} (a factor {value:g} of the peak outside [0, 1])",
            "nemo_rl",
            "torch's LinearLR/ConstantLR factors must lie in [0, 1]; use lrkit.Scheduler as policy.scheduler.",
        )
    return value


def _pieces(s: Schedule, peak: float, length: int | None) -> list[tuple[int, dict[str, Any]]]:
    """``[(start, torch scheduler entry)]`` for ``s`` run for ``length`` steps (None: for ever)."""
    if isinstance(s, Sequence):
        out: list[tuple[int, dict[str, Any]]] = []
        starts = (0, *s.boundaries)
        for i, piece in enumerate(s.pieces):
            end = s.boundaries[i] if i < len(s.boundaries) else None
            plen = None if end is None else end - starts[i]
            if length is not None:
                plen = min(plen, length - starts[i]) if plen is not None else length - starts[i]
                if plen <= 0:
                    break
            out += [(starts[i] + b, e) for b, e in _pieces(piece, peak, plen)]
        return out
    if isinstance(s, Warmup):
        w = s.warmup_steps
        if w == 0:
            return _pieces(s.schedule, peak, length)
        target = s.target if s.target is not None else float(s.schedule(0))
        first = s.init + (target - s.init) / w
        if w == 1:
            head = _ts("ConstantLR", factor=_factor(first, "the warm-up"), total_iters=FOREVER)
        else:
            if first <= 0:
                raise _cannot("a warm-up whose first value is 0", "nemo_rl")
            head = _ts(
                "LinearLR",
                start_factor=_factor(first, "the warm-up"),
                end_factor=_factor(target, "the warm-up"),
                total_iters=w - 1,
            )
        rest = None if length is None else length - w
        tail = [] if rest is not None and rest <= 0 else [(w + b, e) for b, e in _pieces(s.schedule, peak, rest)]
        return [(0, head), *tail]
    if isinstance(s, Constant):
        v = _factor(s.value, "a constant")
        return [
            (
                0,
                _ts("ConstantLR", factor=1.0, total_iters=1)
                if v == 1.0
                else _ts("ConstantLR", factor=v, total_iters=FOREVER),
            )
        ]
    if isinstance(s, Linear):
        if s.steps == 0:
            return _pieces(Constant(s.end), peak, length)
        if s.start == 0:
            raise _cannot("a linear piece starting at 0", "nemo_rl", "torch's LinearLR needs start_factor > 0.")
        head = _ts(
            "LinearLR",
            start_factor=_factor(s.start, "a linear piece"),
            end_factor=_factor(s.end, "a linear piece"),
            total_iters=s.steps,
        )
        return [(0, head)]
    if isinstance(s, Cosine | PeriodicCosine):
        if isinstance(s, PeriodicCosine):
            if s.cycles != 0.5 or s.offset != 0 or s.peak != 1.0 or s.steps != int(s.steps):
                raise _cannot("this periodic cosine", "nemo_rl")
            return [(0, _ts("CosineAnnealingLR", T_max=int(s.steps), eta_min=s.end * peak))]
        if s.peak != 1.0:
            raise _cannot(
                f"a cosine starting at {s.peak:g} of the peak",
                "nemo_rl",
                "torch's CosineAnnealingLR starts at the optimizer's LR; put a piece before it or rescale.",
            )
        if s.steps == 0:
            return _pieces(Constant(s.end), peak, length)
        out = [(0, _ts("CosineAnnealingLR", T_max=s.steps, eta_min=s.end * peak))]
        if length is None or length > s.steps + 1:
            out.append((s.steps, _ts("ConstantLR", factor=_factor(s.end, "the cosine's floor"), total_iters=FOREVER)))
        return out
    if isinstance(s, PiecewiseConstant):
        bs = (0, *s.boundaries)
        return [(b, e) for b, v in zip(bs, s.values, strict=True) for _, e in _pieces(Constant(v), peak, None)]
    if isinstance(s, StepDecay) and s.value == 1.0:
        return [(0, _ts("StepLR", step_size=s.step_size, gamma=s.gamma))]
    if isinstance(s, MultiStep) and s.value == 1.0 and all(m > 0 for m in s.milestones):
        return [(0, _ts("MultiStepLR", milestones=list(s.milestones), gamma=s.gamma))]
    if (
        isinstance(s, Exponential)
        and s.value == 1.0
        and s.decay_steps == 1
        and s.min_value == 0
        and s.max_value is None
    ):
        return [(0, _ts("ExponentialLR", gamma=s.gamma))]
    if isinstance(s, Polynomial) and s.start == 1.0 and s.end == 0.0 and s.steps > 0:
        return [(0, _ts("PolynomialLR", total_iters=s.steps, power=s.power))]
    if (
        isinstance(s, CosineRestarts)
        and s.peak == 1.0
        and s.peak_decay == 1.0
        and s.max_cycles is None
        and float(s.period_mult).is_integer()
    ):
        return [(0, _ts("CosineAnnealingWarmRestarts", T_0=s.period, T_mult=int(s.period_mult), eta_min=s.end * peak))]
    if isinstance(s, WarmupStableDecay) and s.decay_shape in ("linear", "cosine"):
        parts: list[Schedule] = []
        bounds: list[int] = []
        if s.warmup_steps:
            parts.append(Warmup(Constant(s.peak), s.warmup_steps, s.init, target=s.peak))
            bounds.append(s.warmup_steps)
        if s.stable_steps:
            parts.append(Constant(s.peak))
            bounds.append(s.warmup_steps + s.stable_steps)
        decay = (
            Linear(s.peak, s.end, s.decay_steps) if s.decay_shape == "linear" else Cosine(s.peak, s.decay_steps, s.end)
        )
        parts.append(decay)
        if len(parts) == 1:
            return _pieces(decay, peak, length)
        seq = Sequence(tuple(parts), tuple(bounds[: len(parts) - 1]))
        return _pieces(seq, peak, length)
    if isinstance(s, OneCycle | Cyclic):
        raise _cannot(
            f"{describe(s)} inside a sequence", "nemo_rl", "give it alone (OneCycleLR/CyclicLR) or use lrkit.Scheduler."
        )
    raise _cannot(
        f"{describe(s)} (as a piece)",
        "nemo_rl",
        "use lrkit.Scheduler as policy.scheduler: {name: lrkit.Scheduler, kwargs: {schedule: ...}}.",
    )


def _nemo_rl(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"policy": {"optimizer": {"name": "torch.optim.AdamW", "kwargs": {"lr": peak}}}}
    if total is not None:
        out["grpo"] = {"max_num_steps": total}
    if isinstance(sched, OneCycle) and sched.max_value > 0:
        out["policy"]["scheduler"] = _ts(
            "OneCycleLR",
            max_lr=sched.max_value * peak,
            total_steps=sched.total_steps,
            pct_start=sched.pct_start,
            anneal_strategy=sched.anneal,
            div_factor=sched.div_factor,
            final_div_factor=sched.final_div_factor,
            three_phase=sched.three_phase,
            cycle_momentum=False,
        )
        return out
    if isinstance(sched, Cyclic):
        out["policy"]["scheduler"] = _ts(
            "CyclicLR",
            base_lr=sched.base * peak,
            max_lr=sched.max_value * peak,
            step_size_up=sched.step_size_up,
            step_size_down=sched.step_size_down,
            mode=sched.mode,
            gamma=sched.gamma,
            cycle_momentum=False,
        )
        return out
    # over the run's updates the curve matches; pieces that would start after the last update
    # (a floor after a cosine that ends with the run) are left out: the run never reaches them
    pieces = _pieces(sched, peak, total)
    # a piece that never runs (its start at or after the next start) is dropped
    kept: list[tuple[int, dict[str, Any]]] = []
    for start, entry in pieces:
        while kept and kept[-1][0] >= start:
            kept.pop()
        kept.append((start, entry))
    if len(kept) == 1:
        out["policy"]["scheduler"] = kept[0][1]
    else:
        out["policy"]["scheduler"] = [e for _, e in kept] + [{"milestones": [s for s, _ in kept[1:]]}]
    return out


# -- Megatron ------------------------------------------------------------------------------


def _megatron_from_list(sched: Schedule, peak: float, total: int | None) -> dict[str, Any] | None:
    """A NeMo RL-style list -- a linear warm-up to the peak over ``W`` steps, then one cosine,
    linear or constant piece from the peak -- as Megatron's warm-up + decay, when the two agree on
    every update of the run (torch's cosine climbs back after ``T_max``, Megatron holds min_lr:
    they may differ only after the run). ``None`` when the shape does not fit."""
    if not (isinstance(sched, Sequence) and len(sched.pieces) == 2):
        return None
    (warm, decay), (w,) = sched.pieces, sched.boundaries
    if not (isinstance(warm, Linear) and warm.steps == w and warm.end == 1.0 and 0.0 <= warm.start < 1.0 and w > 0):
        return None
    args: dict[str, Any] = {"lr": peak, "lr_warmup_iters": w, "lr_warmup_init": tidy(warm.start * peak)}
    if isinstance(decay, Constant) and decay.value == 1.0:
        return {**args, "min_lr": 0.0, "lr_decay_style": "constant", "lr_decay_iters": total or w}
    if isinstance(decay, PeriodicCosine) and decay.cycles == 0.5 and decay.offset == 0 and decay.peak == 1.0:
        style, steps, end = "cosine", decay.steps, decay.end
    elif isinstance(decay, Cosine) and decay.peak == 1.0:
        style, steps, end = "cosine", decay.steps, decay.end
    elif isinstance(decay, Linear) and decay.start == 1.0:
        style, steps, end = "linear", decay.steps, decay.end
    else:
        return None
    if not float(steps).is_integer() or steps <= 0:
        return None
    return {**args, "min_lr": tidy(end * peak), "lr_decay_style": style, "lr_decay_iters": w + int(steps)}


def _megatron_args(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    listed = _megatron_from_list(sched, peak, total)
    if listed is not None:
        if _same_over_run(sched, peak, listed, total):
            return listed
        raise _cannot(
            f"{describe(sched)}",
            "megatron",
            "Megatron holds min_lr after lr_decay_iters while this curve climbs back inside the run; "
            "set T_max to the steps left after the warm-up, then convert.",
        )
    if isinstance(sched, MegatronLR):
        inc = sched.increment
        w, d = sched.warmup_steps / inc, sched.decay_steps / inc
        if not (float(w).is_integer() and float(d).is_integer()):
            raise _cannot("a Megatron curve with fractional iteration counts", "megatron")
        args = {
            "lr": sched.max_lr * peak,
            "min_lr": sched.min_lr * peak,
            "lr_decay_style": sched.style,
            "lr_warmup_iters": int(w),
            "lr_warmup_init": sched.init_lr * peak,
            "lr_decay_iters": int(d),
        }
        if sched.style == "WSD":
            args["lr_wsd_decay_style"] = sched.wsd_style
            args["lr_wsd_decay_iters"] = sched.wsd_decay_steps / inc  # type: ignore[operator]
        return args
    inner, w, init = sched, 0, 0.0
    if isinstance(sched, Warmup):
        inner, w, init = sched.schedule, sched.warmup_steps, sched.init
        target = sched.target if sched.target is not None else float(inner(0))
        if target != 1.0:
            raise _cannot("a warm-up to a value other than the peak", "megatron")
    if isinstance(inner, Constant) and inner.value == 1.0:
        style, d, end, shape = "constant", None, 0.0, None
    elif isinstance(inner, Cosine) and inner.peak == 1.0:
        style, d, end, shape = "cosine", inner.steps, inner.end, "cosine"
    elif isinstance(inner, Linear) and inner.start == 1.0:
        style, d, end, shape = "linear", inner.steps, inner.end, "linear"
    else:
        raise _cannot(
            describe(sched),
            "megatron",
            "Megatron's lr_decay_style expresses a linear warm-up from lr_warmup_init, then one constant, "
            "linear, cosine, inverse-square-root or WSD decay to min_lr; export to lrkit instead.",
        )
    args: dict[str, Any] = {"lr": peak, "min_lr": end * peak}
    if w == 0:
        args.update(
            lr_decay_style=style,
            lr_warmup_iters=0,
            lr_warmup_init=0.0,
            lr_decay_iters=d if d is not None else (total or 1),
        )
        return args
    # lrkit's warm-up (k + 1) / W reaches the peak at update W - 1 and holds it at W: Megatron's
    # warm-up of W - 1 iterations from peak / W, then a WSD whose cool-down starts at W.
    first = init + (1.0 - init) / w
    args.update(lr_warmup_iters=w - 1, lr_warmup_init=first * peak)
    if style == "constant":
        args.update(lr_decay_style="constant", lr_decay_iters=total or w)
    else:
        args.update(lr_decay_style="WSD", lr_decay_iters=w + d, lr_wsd_decay_style=shape, lr_wsd_decay_iters=d)
        if d == 0:
            raise _cannot("a decay of zero length", "megatron")
    return args


def _same_over_run(sched: Schedule, peak: float, args: dict[str, Any], total: int | None) -> bool:
    """Whether Megatron ``args`` give ``peak * sched`` on every update of the run (for ever when
    the run length is unknown, checked to twice the decay's end)."""

    from lrkit.config import load_config

    horizon = total if total is not None else 2 * int(args.get("lr_decay_iters") or 1) + 2
    res = load_config({**args, "train_iters": horizon}, format="megatron", total_steps=horizon)
    return _agree(sched, peak, res.lr_schedule, horizon)


def _megatron(sched: Schedule, peak: float, total: int | None, fmt: str) -> dict[str, Any]:
    args = _megatron_args(sched, peak, total)
    if fmt == "megatron":
        if total is not None:
            args["train_iters"] = total
        return args
    opt = {"optimizer": "adam", "lr": args.pop("lr"), "min_lr": args.pop("min_lr")}
    out: dict[str, Any] = {"policy": {"megatron_cfg": {"enabled": True, "optimizer": opt, "scheduler": args}}}
    if total is not None:
        out["grpo"] = {"max_num_steps": total}
    return out


# -- Hugging Face and NeMo -----------------------------------------------------------------


def _hf(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    if isinstance(sched, Constant) and sched.value == 1.0:
        out: dict[str, Any] = {"learning_rate": peak, "lr_scheduler_type": "constant"}
        if total is not None:
            out["max_steps"] = total
        return out
    if not isinstance(sched, HFLambda):
        raise _cannot(
            describe(sched),
            "hf",
            "transformers' curves warm up from 0; export to lrkit, or use lrkit.Scheduler in the Trainer.",
        )
    out = {
        "learning_rate": peak if sched.name != "polynomial" else sched.lr_init,
        "lr_scheduler_type": sched.name,
        "warmup_steps": sched.warmup_steps,
    }
    if sched.training_steps is not None:
        out["max_steps"] = sched.training_steps
    kw: dict[str, Any] = {}
    if (
        sched.name
        in ("cosine", "cosine_with_restarts", "cosine_with_min_lr", "cosine_warmup_with_min_lr", "warmup_stable_decay")
        and sched.num_cycles != 0.5
    ):
        kw["num_cycles"] = sched.num_cycles
    if sched.name == "polynomial":
        kw.update(lr_end=sched.lr_end, power=sched.power)
    if sched.name == "inverse_sqrt" and sched.timescale is not None:
        kw["timescale"] = sched.timescale
    if sched.name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        kw["min_lr_rate"] = sched.min_lr_rate
        if sched.warmup_lr_rate is not None:
            kw["warmup_lr_rate"] = sched.warmup_lr_rate
    if sched.name == "warmup_stable_decay":
        kw.update(
            num_decay_steps=sched.num_decay_steps,
            num_stable_steps=sched.num_stable_steps,
            warmup_type=sched.warmup_type,
            decay_type=sched.decay_type,
            min_lr_ratio=sched.min_lr_rate,
        )
    if kw:
        out["lr_scheduler_kwargs"] = kw
    return out


def _nemo(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    if not isinstance(sched, NemoLR):
        raise _cannot(describe(sched), "nemo", "NeMo's policies warm up as (k + 1) / (W + 1); export to lrkit instead.")
    s: dict[str, Any] = {
        "name": sched.policy,
        "max_steps": sched.max_steps,
        "warmup_steps": sched.warmup_steps,
        "min_lr": sched.min_lr * peak,
    }
    if sched.hold_steps:
        s["hold_steps"] = sched.hold_steps - sched.warmup_steps
    if sched.constant_steps:
        s["constant_steps"] = sched.constant_steps
    if sched.policy.startswith("Polynomial"):
        s.update(power=sched.power, cycle=sched.cycle)
    if sched.policy == "NoamAnnealing":
        s["d_model"] = sched.d_model
    if sched.policy == "NoamHoldAnnealing":
        s["decay_rate"] = sched.decay_rate
    out: dict[str, Any] = {"model": {"optim": {"name": "adamw", "lr": peak, "sched": s}}}
    if total is not None:
        out["trainer"] = {"max_steps": total}
    return out
